//! Scorecards, workflows and reports for the unit tests of this module's parts.

use std::sync::Arc;

use super::model::{Scorecard, Tier, Workflow, WorkflowFields};
use super::money::{Currency, Money, Ratio};
use super::report::Report;
use super::snapshot::Snapshot;
use crate::catalog::Catalog;

/// The id of every scorecard made here.
pub const SCORECARD_ID: i64 = 1;

/// A USD scorecard with the default ratio at `revision`.
pub fn scorecard(name: &str, revision: i64) -> Scorecard {
    Scorecard {
        id: SCORECARD_ID,
        name: name.into(),
        currency: Currency::USD,
        small_ratio: Ratio::DEFAULT,
        edit_token: "e".into(),
        view_token: "v".into(),
        revision,
        walk_workflow_id: None,
    }
}

/// A blank workflow on `tier` with a name and an entered spend in minor units.
pub fn fields(tier: Tier, name: &str, spend: i64) -> WorkflowFields {
    WorkflowFields {
        name: name.into(),
        monthly_spend: Money(spend),
        ..WorkflowFields::blank(tier)
    }
}

/// A stored workflow at version 1.
pub fn workflow(id: i64, fields: WorkflowFields) -> Workflow {
    Workflow {
        id,
        version: 1,
        decided: false,
        fields,
    }
}

/// The report of `workflows` on `scorecard`.
pub fn report(scorecard: Scorecard, workflows: Vec<Workflow>) -> Report {
    let snapshot = Snapshot::new(scorecard, workflows, &Catalog::bundled());
    Report::compute(Arc::new(snapshot))
}
