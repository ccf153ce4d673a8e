//! Integration tests: the real router, each test with its own database.

mod helpers;

mod access;
mod concurrency;
mod csv_contract;
mod live;
mod performance;
mod properties;
mod scorecards;
mod security;
mod server;
mod startup;
mod workflows;
