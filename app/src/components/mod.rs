pub mod deep_clean;
pub mod format;
pub mod session;
pub mod sidebar;
