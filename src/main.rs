//! The `scorecard` binary: settings, logging, database, bind, serve.

use std::process::ExitCode;

use clap::Parser;
use scorecard::config::{Cli, Command};

/// Prints what a command did, or passes its error on.
fn report(result: Result<String, String>) -> Result<(), String> {
    result.map(|done| println!("scorecard: {done}"))
}

/// Reads one line from standard input and prints its argon2 hash.
fn hash_password() -> Result<(), String> {
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
    let password = line.trim_end_matches(['\r', '\n']);
    if password.is_empty() {
        return Err(
            "give the password on standard input, such as: scorecard hash-password < password.txt"
                .into(),
        );
    }
    println!("{}", scorecard::web::admin::hash(password)?);
    Ok(())
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
        Command::HashPassword => hash_password(),
        Command::Export { file } => {
            // The JSON itself may go to standard output, so the summary goes to stderr.
            scorecard::ops::export(&cli.config, file.as_deref())
                .await
                .map(|done| eprintln!("scorecard: {done}"))
        }
        Command::Import { file } => report(scorecard::ops::import(&cli.config, &file).await),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("scorecard: {message}");
            ExitCode::FAILURE
        }
    }
}
