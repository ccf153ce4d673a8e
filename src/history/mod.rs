//! The history of a scorecard: every change with who, when, and each field's before and
//! after; a deleted workflow can be restored from it.

pub mod handlers;
pub mod model;
pub mod repo;
