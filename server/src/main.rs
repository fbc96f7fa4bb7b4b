//! `ewg`: the EWG Studio server and its command-line tools.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    ewg::cli::main().await
}
