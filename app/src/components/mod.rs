pub mod deep_clean;
pub mod deep_clean_button;
mod deep_clean_report;
pub mod format;
pub mod guard;
pub mod session;
pub mod sidebar;
