pub mod deep_clean;
mod deep_clean_report;
pub mod format;
pub mod guard;
pub mod session;
pub mod sidebar;
