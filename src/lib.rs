//! The AI Operating Model Scorecard, as a library the binary and the tests share.

pub mod app;
/// The model price catalog used to estimate spend from token volumes.
pub mod catalog;
/// Settings: flags and environment variables.
pub mod config;
/// SQLite pools, migrations and write transactions.
pub mod db;
/// The one error type and its policy.
pub mod error;
/// The history of changes, and restoring deleted workflows.
pub mod history;
/// Live updates to open pages over server-sent events.
pub mod live;
/// Operations commands: backup, restore, whole-instance export and import.
pub mod ops;
/// The scorecard domain: model, rules, storage, CSV, pages.
pub mod scorecard;
/// Logging set-up.
pub mod telemetry;
/// Silent votes on verdicts.
pub mod vote;
/// The gate walk: one workflow per screen, the room following along.
pub mod walk;
/// Cross-cutting HTTP: access to scorecards by link, layers, health, assets, common pages.
pub mod web;
