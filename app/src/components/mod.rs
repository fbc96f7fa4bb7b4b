pub mod deep_clean;
pub mod format;
pub mod guard;
pub mod session;
pub mod sidebar;
