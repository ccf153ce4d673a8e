//! The CSV import without I/O: `csv::parse` then `csv::plan` on the input bytes.
//!
//! Never panics; a plan with nothing stored adds one valid workflow per row; planning the
//! same file again over what it added updates every row to the same fields.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use scorecard::catalog::Catalog;
use scorecard::scorecard::csv::{self, Change};
use scorecard::scorecard::input::Context;
use scorecard::scorecard::model::{NAME_MAX_CHARS, Workflow};
use scorecard::scorecard::money::Currency;

fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(Catalog::bundled)
}

fuzz_target!(|data: &[u8]| {
    let Ok(parsed) = csv::parse(data) else {
        return;
    };
    let ctx = Context {
        currency: Currency::USD,
        catalog: catalog(),
    };
    let Ok(changes) = csv::plan(&parsed, &[], ctx) else {
        return;
    };
    assert_eq!(changes.len(), parsed.rows.len());
    let stored: Vec<Workflow> = changes
        .into_iter()
        .enumerate()
        .map(|(i, change)| match change {
            Change::Add(fields) => {
                let chars = fields.name.chars().count();
                assert!((1..=NAME_MAX_CHARS).contains(&chars), "{fields:?}");
                Workflow {
                    id: i as i64 + 1,
                    version: 1,
                    decided: false,
                    fields,
                }
            }
            Change::Update { .. } => panic!("an update with nothing stored"),
        })
        .collect();
    let again = csv::plan(&parsed, &stored, ctx).expect("the same file plans again");
    for (change, workflow) in again.iter().zip(&stored) {
        assert_eq!(
            change,
            &Change::Update {
                id: workflow.id,
                fields: workflow.fields.clone()
            }
        );
    }
});
