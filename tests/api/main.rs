//! Integration tests: the real router, each test with its own database.

mod helpers;

mod access;
mod csv_contract;
mod scorecards;
mod server;
mod startup;
mod workflows;
