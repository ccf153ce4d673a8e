//! The `scorecard` binary: settings, logging, database, bind, serve.

use std::process::ExitCode;

use clap::Parser;
use scorecard::config::{Cli, Command};

/// Prints what a command did, or passes its error on.
fn report(result: Result<String, String>) -> Result<(), String> {
    result.map(|done| println!("scorecard: {done}"))
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            scorecard::telemetry::init(cli.config.log_format);
            scorecard::app::run(cli.config).await
        }
        Command::Healthcheck => scorecard::app::healthcheck(&cli.config).await,
        Command::Backup { file } => report(scorecard::ops::backup(&cli.config, &file).await),
        Command::Restore { file } => report(scorecard::ops::restore(&cli.config, &file).await),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("scorecard: {message}");
            ExitCode::FAILURE
        }
    }
}
