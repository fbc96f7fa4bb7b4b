pub mod dashboard;
pub mod episode;
pub mod login;
pub mod maintenance;
pub mod process;
pub mod upload;
mod widgets;
pub mod workers;
