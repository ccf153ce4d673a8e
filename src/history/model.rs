//! What a change records, computed from the workflow's fields before and after it.
//!
//! Fields are compared and kept as the CSV writes them, so the history reads like the
//! spreadsheet people know and a snapshot restores through the same parser as an import.

use serde::{Deserialize, Serialize};

use crate::scorecard::csv::cell;
use crate::scorecard::input::{Column, RawWorkflow};
use crate::scorecard::model::WorkflowFields;
use crate::scorecard::money::Currency;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: String,
    pub before: String,
    pub after: String,
}

/// The fields that differ between `before` and `after` (either may be absent, for an
/// addition or a deletion).
pub fn diff(
    before: Option<&WorkflowFields>,
    after: Option<&WorkflowFields>,
    currency: Currency,
) -> Vec<FieldChange> {
    let text =
        |f: Option<&WorkflowFields>, c: Column| f.map(|f| cell(f, c, currency)).unwrap_or_default();
    Column::ALL
        .into_iter()
        .filter_map(|c| {
            let (b, a) = (text(before, c), text(after, c));
            (b != a).then(|| FieldChange {
                field: c.as_str().to_string(),
                before: b,
                after: a,
            })
        })
        .collect()
}

/// Every field of a workflow, to bring it back later.
pub fn snapshot(fields: &WorkflowFields, currency: Currency) -> String {
    let map: serde_json::Map<String, serde_json::Value> = Column::ALL
        .into_iter()
        .map(|c| (c.as_str().to_string(), cell(fields, c, currency).into()))
        .collect();
    serde_json::Value::Object(map).to_string()
}

/// A snapshot read back as a form would post it.
pub fn from_snapshot(json: &str) -> Option<RawWorkflow> {
    let map: serde_json::Map<String, serde_json::Value> = serde_json::from_str(json).ok()?;
    let mut raw = RawWorkflow::default();
    for (key, value) in map {
        if let (Some(column), Some(text)) = (Column::parse(&key), value.as_str()) {
            raw.set(column, text);
        }
    }
    Some(raw)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;
    use crate::scorecard::input::{Context, apply};
    use crate::scorecard::model::Tier;
    use crate::scorecard::money::Money;

    #[test]
    fn a_diff_names_each_changed_field_with_before_and_after() {
        let mut before = WorkflowFields::blank(Tier::Frontier);
        before.name = "Triage".into();
        let mut after = before.clone();
        after.owner = "Ada".into();
        after.monthly_spend = Money(1050);
        let d = diff(Some(&before), Some(&after), Currency::USD);
        assert_eq!(
            d,
            vec![
                FieldChange {
                    field: "monthly_spend".into(),
                    before: "0.00".into(),
                    after: "10.50".into()
                },
                FieldChange {
                    field: "owner".into(),
                    before: "".into(),
                    after: "Ada".into()
                },
            ]
        );
        assert!(diff(Some(&before), Some(&before), Currency::USD).is_empty());
        assert!(
            diff(None, Some(&after), Currency::USD)
                .iter()
                .any(|c| c.field == "name")
        );
    }

    #[test]
    fn a_snapshot_restores_the_same_workflow() {
        let catalog = Catalog::bundled();
        let mut fields = WorkflowFields::blank(Tier::Small);
        fields.name = "Letters, \"quoted\"".into();
        fields.answers.stakes = true;
        fields.monthly_spend = Money(123_456);
        let raw = from_snapshot(&snapshot(&fields, Currency::USD)).unwrap();
        let ctx = Context {
            currency: Currency::USD,
            catalog: &catalog,
        };
        assert_eq!(apply(&raw, None, ctx).unwrap(), fields);
        assert!(from_snapshot("not json").is_none());
    }
}
