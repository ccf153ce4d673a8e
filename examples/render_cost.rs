//! The work of computing and rendering a scorecard, for the instruction-count benchmark
//! (`bench/instructions.sh` runs it under callgrind).
//!
//! `cargo run --release --example render_cost -- N [page|json]` builds a scorecard of N
//! synthetic workflows in memory, then `measure_pages` evaluates every workflow under the
//! rules, computes the report and renders every page of the table (`page`, the default),
//! or `measure_json` does the same for the JSON. Only the `measure_*` function is
//! counted, so the instructions per workflow row are the count divided by N.
//!
//! The server evaluates a workflow once per change (when it enters the in-memory
//! snapshot) and totals and renders on every request; the count includes both, as if
//! every workflow had just changed.

use std::sync::Arc;

use scorecard::catalog::Catalog;
use scorecard::scorecard::model::{
    Answers, Override, Scorecard, Tier, Verdict, Workflow, WorkflowFields,
};
use scorecard::scorecard::money::{Currency, Money, Ratio};
use scorecard::scorecard::report::Report;
use scorecard::scorecard::snapshot::Snapshot;
use scorecard::scorecard::views::{PAGE_SIZE, ScorecardPage};
use scorecard::web::participant::{Participant, ParticipantView};

/// A varied, realistic workflow: every verdict, flag and tier occurs across the set.
fn workflow(i: usize) -> Workflow {
    let tiers = [Tier::Frontier, Tier::Small, Tier::None];
    let mut fields = WorkflowFields::blank(tiers[i % 3]);
    fields.name = format!("Workflow {i:05}: summarise the claims backlog");
    fields.team = format!("Team {}", i % 17);
    fields.description = "Drafts first replies & routes <urgent> cases".into();
    fields.monthly_spend = Money(((i * 7919) % 5_000_000) as i64);
    fields.owner = if i.is_multiple_of(5) {
        String::new()
    } else {
        format!("Owner {}", i % 41)
    };
    fields.metric = if i.is_multiple_of(7) {
        String::new()
    } else {
        "Minutes per case".into()
    };
    fields.next_step = if i.is_multiple_of(4) {
        String::new()
    } else {
        "Move to the small model".into()
    };
    fields.answers = Answers {
        stakes: i.is_multiple_of(2),
        ambiguity: i.is_multiple_of(3),
        business_case: !i.is_multiple_of(11),
        sensitive_data: i.is_multiple_of(6),
    };
    fields.defended = !i.is_multiple_of(9);
    if i.is_multiple_of(13) {
        fields.tier_override = Some(Override {
            value: Tier::Small,
            reason: "benchmark".into(),
        });
    }
    if i.is_multiple_of(29) {
        fields.verdict_override = Some(Override {
            value: Verdict::Pause,
            reason: "benchmark".into(),
        });
    }
    Workflow {
        id: i as i64 + 1,
        version: 1,
        decided: false,
        fields,
    }
}

fn snapshot(n: usize) -> Snapshot {
    let scorecard = Scorecard {
        id: 1,
        name: "Benchmark".into(),
        currency: Currency::USD,
        small_ratio: Ratio::DEFAULT,
        edit_token: "e".repeat(43),
        view_token: "v".repeat(43),
        revision: 1,
        walk_workflow_id: None,
    };
    Snapshot::new(
        scorecard,
        (0..n).map(workflow).collect(),
        &Catalog::bundled(),
    )
}

/// The snapshot with every workflow evaluated afresh: what a load or a change of ratio
/// does.
fn evaluated(snapshot: &Snapshot) -> Arc<Snapshot> {
    Arc::new(snapshot.with_scorecard(snapshot.scorecard.clone()))
}

/// Computes the report and renders every page of the table; returns the bytes produced.
#[inline(never)]
fn measure_pages(snapshot: &Snapshot) -> usize {
    let report = Report::compute(evaluated(snapshot));
    let pages = report.len().div_ceil(PAGE_SIZE).max(1);
    let mut bytes = 0;
    // The edit link's page, as a participant sees it: every row has its Edit link.
    let base = format!("/s/{}", report.scorecard().edit_token);
    let participant = Participant {
        id: Some("p".into()),
        name: Some("Ada".into()),
    };
    for page in 1..=pages {
        let you = ParticipantView::new(&participant, base.clone());
        let view = ScorecardPage::new(&report, base.clone(), Some(you), None, page, "");
        bytes += view.to_html().map_or(0, |html| html.len());
    }
    bytes
}

/// Computes the report and serialises it as `scorecard.json`.
#[inline(never)]
fn measure_json(snapshot: &Snapshot) -> usize {
    let report = Report::compute(evaluated(snapshot));
    report.into_json_chunks().map(|chunk| chunk.len()).sum()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let mode = args.next().unwrap_or_else(|| "page".into());
    let snapshot = snapshot(n);
    let bytes = match mode.as_str() {
        "json" => measure_json(&snapshot),
        _ => measure_pages(&snapshot),
    };
    println!("{n} workflows, {mode}: {bytes} bytes");
}
