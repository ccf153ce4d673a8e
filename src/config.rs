//! Settings: every one a command-line flag and an environment variable, with a default
//! that works on a laptop.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::db::Synchronous;

#[derive(Debug, Parser)]
#[command(
    name = "scorecard",
    version,
    about = "The AI Operating Model Scorecard: owners, metrics, routing and the Investable Bet Gate for every AI workflow",
    long_about = None
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub config: Config,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the web application (the default).
    Serve,
    /// Ask a running server whether it is alive: exits 0 if /healthz answers 200. For
    /// container health checks, with no curl needed.
    Healthcheck,
    /// Write a consistent, integrity-checked copy of the database to FILE, while the
    /// server runs.
    Backup {
        /// The new backup file; it must not exist yet.
        file: PathBuf,
    },
    /// Write every scorecard (settings, share links, workflows) as JSON to FILE, or to
    /// standard output.
    Export {
        /// The new file; standard output when omitted.
        file: Option<PathBuf>,
    },
    /// Add every scorecard of an export FILE, keeping its share links; all or nothing.
    Import {
        /// A file made by `scorecard export`.
        file: PathBuf,
    },
    /// Read a password from standard input and print its argon2 hash, for
    /// SCORECARD_ADMIN_PASSWORD_HASH.
    HashPassword,
    /// Replace the database with the backup in FILE (stop the server first).
    Restore {
        /// A backup made by `scorecard backup`.
        file: PathBuf,
    },
}

#[derive(Debug, Clone, Parser)]
pub struct Config {
    /// Address and port to listen on.
    #[arg(long, env = "SCORECARD_BIND", default_value = "127.0.0.1:3000")]
    pub bind: SocketAddr,

    /// Folder for the SQLite database, created if missing.
    #[arg(long, env = "SCORECARD_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,

    /// Database URL, such as sqlite:///var/lib/scorecard/scorecard.db; overrides --data-dir.
    #[arg(long, env = "SCORECARD_DATABASE_URL")]
    pub database_url: Option<String>,

    /// The address people reach this server at, such as https://scorecard.example.com;
    /// share links are built on it. Without it, links use the address the browser used.
    #[arg(long, env = "SCORECARD_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Log format: human-readable text or one JSON object per line.
    #[arg(long, env = "SCORECARD_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// SQLite durability: `normal` survives a crash of the app; `full` also a power cut.
    #[arg(long, env = "SCORECARD_SQLITE_SYNCHRONOUS", value_enum, default_value_t = Synchronous::Normal)]
    pub sqlite_synchronous: Synchronous,

    /// An argon2 hash (from `scorecard hash-password`) of the admin password that creating
    /// a scorecard then requires. Off when unset: anyone who reaches the server can create.
    #[arg(long, env = "SCORECARD_ADMIN_PASSWORD_HASH")]
    pub admin_password_hash: Option<String>,

    /// A file holding the admin password (or its hash), such as a container secret.
    #[arg(long, env = "SCORECARD_ADMIN_PASSWORD_FILE")]
    pub admin_password_file: Option<PathBuf>,

    /// Seconds a request may take to start its answer (live event streams, which answer at
    /// once and then stream, are never cut).
    #[arg(long, env = "SCORECARD_REQUEST_TIMEOUT", default_value_t = 30)]
    pub request_timeout_secs: u64,

    /// For the benchmark only: serve uploaded bytes from memory at /_bench/mirror.
    #[arg(long, env = "SCORECARD_BENCH_MIRROR", hide = true)]
    pub bench_mirror: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

impl Config {
    /// The database URL in force: the explicit one, or a file in the data folder.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}", self.data_dir.join("scorecard.db").display()),
        }
    }

    /// Creates the data folder when the database lives there (no explicit URL).
    pub fn create_data_dir(&self) -> Result<(), String> {
        if self.database_url.is_some() {
            return Ok(());
        }
        std::fs::create_dir_all(&self.data_dir).map_err(|e| {
            format!(
                "cannot create the data folder {}: {e}; choose a writable folder with --data-dir or SCORECARD_DATA_DIR",
                self.data_dir.display()
            )
        })
    }

    /// The public base URL without a trailing slash, if one was given.
    pub fn public_base(&self) -> Option<&str> {
        self.public_url.as_deref().map(|u| u.trim_end_matches('/'))
    }

    /// Settings for tests and tools: a database at `url`, everything else default.
    pub fn for_database(url: impl Into<String>) -> Config {
        Config {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir: PathBuf::from("./data"),
            database_url: Some(url.into()),
            public_url: None,
            log_format: LogFormat::Text,
            sqlite_synchronous: Synchronous::Normal,
            bench_mirror: false,
            request_timeout_secs: 30,
            admin_password_hash: None,
            admin_password_file: None,
        }
    }
}
