//! The `scorecard` binary: settings, logging, database, bind, serve.

use std::process::ExitCode;

use clap::Parser;
use scorecard::config::{Cli, Command};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            scorecard::telemetry::init(cli.config.log_format);
            scorecard::app::run(cli.config).await
        }
        Command::Healthcheck => scorecard::app::healthcheck(&cli.config).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("scorecard: {message}");
            ExitCode::FAILURE
        }
    }
}
