//! Turning what people type (a form, a CSV row) into a valid workflow.
//!
//! Both the HTML form and the CSV import give a set of columns, each present or absent.
//! `apply` parses the present ones onto a base (the stored workflow, or a blank one),
//! then checks the rules that span several fields, and returns either the new fields or
//! every problem at once, each tied to the column the user should change.

use super::model::{
    Override, Tier, Verdict, Volumes, WorkflowFields, parse_name, parse_text, parse_yes_no,
};
use super::money::{Currency, Money};
use crate::catalog::{CATALOG_CURRENCY, Catalog, MAX_TOKENS};

/// The columns of the CSV contract, which are also the form's field names, in export
/// order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Column {
    Name,
    Team,
    Description,
    MonthlySpend,
    CurrentTier,
    Owner,
    Metric,
    NextStep,
    KillCriteria,
    Stakes,
    Ambiguity,
    BusinessCase,
    SensitiveData,
    Defended,
    TierOverride,
    TierOverrideReason,
    VerdictOverride,
    VerdictOverrideReason,
    Model,
    MonthlyInputTokens,
    MonthlyOutputTokens,
    TargetModel,
}

impl Column {
    pub const ALL: [Column; 22] = [
        Column::Name,
        Column::Team,
        Column::Description,
        Column::MonthlySpend,
        Column::CurrentTier,
        Column::Owner,
        Column::Metric,
        Column::NextStep,
        Column::KillCriteria,
        Column::Stakes,
        Column::Ambiguity,
        Column::BusinessCase,
        Column::SensitiveData,
        Column::Defended,
        Column::TierOverride,
        Column::TierOverrideReason,
        Column::VerdictOverride,
        Column::VerdictOverrideReason,
        Column::Model,
        Column::MonthlyInputTokens,
        Column::MonthlyOutputTokens,
        Column::TargetModel,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Column::Name => "name",
            Column::Team => "team",
            Column::Description => "description",
            Column::MonthlySpend => "monthly_spend",
            Column::CurrentTier => "current_tier",
            Column::Owner => "owner",
            Column::Metric => "metric",
            Column::NextStep => "next_step",
            Column::KillCriteria => "kill_criteria",
            Column::Stakes => "stakes",
            Column::Ambiguity => "ambiguity",
            Column::BusinessCase => "business_case",
            Column::SensitiveData => "sensitive_data",
            Column::Defended => "defended",
            Column::TierOverride => "tier_override",
            Column::TierOverrideReason => "tier_override_reason",
            Column::VerdictOverride => "verdict_override",
            Column::VerdictOverrideReason => "verdict_override_reason",
            Column::Model => "model",
            Column::MonthlyInputTokens => "monthly_input_tokens",
            Column::MonthlyOutputTokens => "monthly_output_tokens",
            Column::TargetModel => "target_model",
        }
    }

    pub fn parse(name: &str) -> Option<Column> {
        Column::ALL.into_iter().find(|c| c.as_str() == name)
    }
}

/// The present columns of one form post or CSV row, as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawWorkflow {
    cells: [Option<String>; Column::ALL.len()],
}

impl RawWorkflow {
    pub fn set(&mut self, column: Column, value: impl Into<String>) {
        self.cells[column as usize] = Some(value.into());
    }

    pub fn get(&self, column: Column) -> Option<&str> {
        self.cells[column as usize].as_deref()
    }

    /// A present cell with something in it.
    fn filled(&self, column: Column) -> Option<&str> {
        self.get(column).map(str::trim).filter(|v| !v.is_empty())
    }
}

/// Problems found in one form post or row, each with the column to change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors(pub Vec<(Column, String)>);

impl FieldErrors {
    pub fn add(&mut self, column: Column, message: impl Into<String>) {
        self.0.push((column, message.into()));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn get(&self, column: Column) -> Option<&str> {
        self.0
            .iter()
            .find(|(c, _)| *c == column)
            .map(|(_, m)| m.as_str())
    }
}

/// What parsing needs to know about the scorecard.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    pub currency: Currency,
    pub catalog: &'a Catalog,
}

/// Parses `raw` onto `base` (a stored workflow being updated, or `None` for a new one).
/// Absent columns keep the base's value; for a new workflow they mean empty text, `no`,
/// or a spend of 0.
pub fn apply(
    raw: &RawWorkflow,
    base: Option<&WorkflowFields>,
    ctx: Context<'_>,
) -> Result<WorkflowFields, FieldErrors> {
    let mut errors = FieldErrors::default();
    let mut f = match base {
        Some(b) => b.clone(),
        None => {
            // Placeholder until the column is read; a new workflow must give one.
            if raw.filled(Column::CurrentTier).is_none() {
                errors.add(
                    Column::CurrentTier,
                    "choose the tier this workflow uses today: frontier, small or none",
                );
            }
            WorkflowFields::blank(Tier::Frontier)
        }
    };

    if base.is_none() && raw.get(Column::Name).is_none() {
        errors.add(Column::Name, "enter a name");
    }
    if let Some(v) = raw.get(Column::Name) {
        match parse_name(v) {
            Ok(name) => f.name = name,
            Err(m) => errors.add(Column::Name, m),
        }
    }
    for (column, slot) in [
        (Column::Team, &mut f.team),
        (Column::Description, &mut f.description),
        (Column::Owner, &mut f.owner),
        (Column::Metric, &mut f.metric),
        (Column::NextStep, &mut f.next_step),
        (Column::KillCriteria, &mut f.kill_criteria),
    ] {
        if let Some(v) = raw.get(column) {
            match parse_text(v) {
                Ok(text) => *slot = text,
                Err(m) => errors.add(column, m),
            }
        }
    }
    if let Some(v) = raw
        .get(Column::CurrentTier)
        .filter(|v| !v.trim().is_empty())
    {
        match Tier::parse(v) {
            Ok(t) => f.current_tier = t,
            Err(m) => errors.add(Column::CurrentTier, m),
        }
    } else if raw.get(Column::CurrentTier).is_some() && base.is_some() {
        errors.add(
            Column::CurrentTier,
            "the current tier cannot be empty: use frontier, small or none",
        );
    }
    for (column, slot) in [
        (Column::Stakes, &mut f.answers.stakes),
        (Column::Ambiguity, &mut f.answers.ambiguity),
        (Column::BusinessCase, &mut f.answers.business_case),
        (Column::SensitiveData, &mut f.answers.sensitive_data),
        (Column::Defended, &mut f.defended),
    ] {
        // An empty cell is `no`, as an absent column is for a new workflow.
        if let Some(v) = raw.get(column) {
            let v = v.trim();
            match if v.is_empty() {
                Ok(false)
            } else {
                parse_yes_no(v)
            } {
                Ok(b) => *slot = b,
                Err(m) => errors.add(column, format!("{m}: answer yes or no")),
            }
        }
    }

    f.tier_override = merge_override(
        raw,
        (Column::TierOverride, Column::TierOverrideReason),
        f.tier_override.take(),
        Tier::parse,
        &mut errors,
    );
    f.verdict_override = merge_override(
        raw,
        (Column::VerdictOverride, Column::VerdictOverrideReason),
        f.verdict_override.take(),
        Verdict::parse,
        &mut errors,
    );

    apply_spend(raw, &mut f, ctx, &mut errors);

    if errors.is_empty() {
        Ok(f)
    } else {
        Err(errors)
    }
}

/// An override's value and reason merge column by column; an override needs a reason,
/// and clearing the override drops its reason.
fn merge_override<T: Copy>(
    raw: &RawWorkflow,
    (value_column, reason_column): (Column, Column),
    base: Option<Override<T>>,
    parse: fn(&str) -> Result<T, String>,
    errors: &mut FieldErrors,
) -> Option<Override<T>> {
    let value = match raw.get(value_column).map(str::trim) {
        Some("") => None,
        Some(v) => match parse(v) {
            Ok(t) => Some(t),
            Err(m) => {
                errors.add(value_column, m);
                return base;
            }
        },
        None => base.as_ref().map(|o| o.value),
    };
    let reason = match raw.get(reason_column) {
        Some(r) => match parse_text(r) {
            Ok(r) => r,
            Err(m) => {
                errors.add(reason_column, m);
                return base;
            }
        },
        None => base.map(|o| o.reason).unwrap_or_default(),
    };
    let value = value?;
    if reason.is_empty() {
        errors.add(
            reason_column,
            "give a reason for the override, or remove the override",
        );
        return None;
    }
    Some(Override { value, reason })
}

/// The spend is either entered or estimated from a catalog model's token volumes.
fn apply_spend(
    raw: &RawWorkflow,
    f: &mut WorkflowFields,
    ctx: Context<'_>,
    errors: &mut FieldErrors,
) {
    let spend_given = raw.filled(Column::MonthlySpend).is_some();
    if let Some(v) = raw.get(Column::MonthlySpend) {
        if v.trim().is_empty() {
            f.monthly_spend = Money::ZERO;
        } else {
            match Money::parse(v, ctx.currency) {
                Ok(m) => f.monthly_spend = m,
                Err(m) => errors.add(Column::MonthlySpend, m),
            }
        }
    }

    let base = f.volumes.take();
    let model = match raw.get(Column::Model) {
        Some(m) => Some(m.trim().to_string()).filter(|m| !m.is_empty()),
        None => base.as_ref().map(|v| v.model.clone()),
    };
    let target = match raw.get(Column::TargetModel) {
        Some(m) => Some(m.trim().to_string()).filter(|m| !m.is_empty()),
        None => base.as_ref().and_then(|v| v.target_model.clone()),
    };
    let mut tokens = |column: Column, stored: Option<i64>| -> i64 {
        match raw.get(column).map(str::trim) {
            None => stored.unwrap_or(0),
            Some("") => 0,
            Some(v) => match v.parse::<i64>() {
                Ok(n) if (0..=MAX_TOKENS).contains(&n) => n,
                _ => {
                    errors.add(
                        column,
                        format!(
                            "{v:?} is not a token count: enter a whole number from 0 to {MAX_TOKENS}"
                        ),
                    );
                    0
                }
            },
        }
    };
    let input = tokens(
        Column::MonthlyInputTokens,
        base.as_ref().map(|v| v.input_tokens),
    );
    let output = tokens(
        Column::MonthlyOutputTokens,
        base.as_ref().map(|v| v.output_tokens),
    );

    let Some(model) = model else {
        let volumes_given = [Column::MonthlyInputTokens, Column::MonthlyOutputTokens]
            .into_iter()
            .any(|c| raw.filled(c).is_some_and(|v| v != "0"));
        if volumes_given || target.is_some() {
            errors.add(
                Column::Model,
                "choose the model the token volumes run on, or clear the volumes and target model",
            );
        }
        return;
    };
    if ctx.currency.code != CATALOG_CURRENCY {
        errors.add(
            Column::Model,
            format!(
                "catalog prices are in {CATALOG_CURRENCY} and this scorecard is in {}: enter the monthly spend instead",
                ctx.currency.code
            ),
        );
        return;
    }
    if spend_given {
        errors.add(
            Column::MonthlySpend,
            "leave the monthly spend empty when a model is given: it is estimated from the token volumes",
        );
    }
    if !ctx.catalog.contains(&model) {
        errors.add(
            Column::Model,
            format!("{model:?} is not in the price catalog: pick a model from the list"),
        );
    }
    if let Some(t) = &target
        && !ctx.catalog.contains(t)
    {
        errors.add(
            Column::TargetModel,
            format!("{t:?} is not in the price catalog: pick a model from the list"),
        );
    }
    f.monthly_spend = Money::ZERO;
    f.volumes = Some(Volumes {
        model,
        input_tokens: input,
        output_tokens: output,
        target_model: target,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(catalog: &Catalog) -> Context<'_> {
        Context {
            currency: Currency::USD,
            catalog,
        }
    }

    fn raw(cells: &[(Column, &str)]) -> RawWorkflow {
        let mut r = RawWorkflow::default();
        for (c, v) in cells {
            r.set(*c, *v);
        }
        r
    }

    #[test]
    fn a_new_workflow_needs_a_name_and_a_current_tier_and_defaults_the_rest() {
        let catalog = Catalog::bundled();
        let f = apply(
            &raw(&[
                (Column::Name, " Triage "),
                (Column::CurrentTier, "Frontier"),
            ]),
            None,
            ctx(&catalog),
        )
        .unwrap();
        assert_eq!(f.name, "Triage");
        assert_eq!(f.current_tier, Tier::Frontier);
        assert_eq!(f.monthly_spend, Money::ZERO);
        assert!(!f.answers.business_case && !f.defended);

        let errors = apply(&raw(&[(Column::Name, "")]), None, ctx(&catalog)).unwrap_err();
        assert!(errors.get(Column::Name).is_some());
        assert!(errors.get(Column::CurrentTier).is_some());
    }

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let catalog = Catalog::bundled();
        let errors = apply(
            &raw(&[
                (Column::Name, "x"),
                (Column::CurrentTier, "huge"),
                (Column::MonthlySpend, "12.345"),
                (Column::Stakes, "maybe"),
                (Column::VerdictOverride, "fund"),
            ]),
            None,
            ctx(&catalog),
        )
        .unwrap_err();
        for column in [
            Column::CurrentTier,
            Column::MonthlySpend,
            Column::Stakes,
            Column::VerdictOverrideReason,
        ] {
            assert!(errors.get(column).is_some(), "{column:?}: {errors:?}");
        }
    }

    #[test]
    fn an_update_changes_only_the_columns_given() {
        let catalog = Catalog::bundled();
        let base = apply(
            &raw(&[
                (Column::Name, "Triage"),
                (Column::CurrentTier, "small"),
                (Column::Owner, "Ada"),
                (Column::MonthlySpend, "100"),
                (Column::TierOverride, "none"),
                (Column::TierOverrideReason, "rules do it"),
            ]),
            None,
            ctx(&catalog),
        )
        .unwrap();
        let updated = apply(
            &raw(&[(Column::MonthlySpend, "250.5")]),
            Some(&base),
            ctx(&catalog),
        )
        .unwrap();
        assert_eq!(updated.monthly_spend, Money(25_050));
        assert_eq!(updated.owner, "Ada");
        assert_eq!(updated.tier_override, base.tier_override);
        // Clearing an override drops its reason.
        let cleared = apply(
            &raw(&[(Column::TierOverride, "")]),
            Some(&base),
            ctx(&catalog),
        )
        .unwrap();
        assert_eq!(cleared.tier_override, None);
    }

    #[test]
    fn spend_comes_from_an_amount_or_from_a_catalog_model_never_both() {
        let catalog = Catalog::bundled();
        let f = apply(
            &raw(&[
                (Column::Name, "x"),
                (Column::CurrentTier, "frontier"),
                (Column::Model, "gpt-4o"),
                (Column::MonthlyInputTokens, "1000000"),
                (Column::TargetModel, "gpt-4o-mini"),
            ]),
            None,
            ctx(&catalog),
        )
        .unwrap();
        let v = f.volumes.unwrap();
        assert_eq!((v.input_tokens, v.output_tokens), (1_000_000, 0));
        assert_eq!(v.target_model.as_deref(), Some("gpt-4o-mini"));

        let cases: [(&[(Column, &str)], Column); 5] = [
            (
                &[(Column::Model, "gpt-4o"), (Column::MonthlySpend, "5")],
                Column::MonthlySpend,
            ),
            (&[(Column::Model, "gpt-99")], Column::Model),
            (
                &[(Column::Model, "gpt-4o"), (Column::TargetModel, "tiny-9")],
                Column::TargetModel,
            ),
            (&[(Column::MonthlyInputTokens, "500")], Column::Model),
            (
                &[
                    (Column::Model, "gpt-4o"),
                    (Column::MonthlyOutputTokens, "-1"),
                ],
                Column::MonthlyOutputTokens,
            ),
        ];
        for (cells, column) in cases {
            let mut r = raw(cells);
            r.set(Column::Name, "x");
            r.set(Column::CurrentTier, "frontier");
            let errors = apply(&r, None, ctx(&catalog)).unwrap_err();
            assert!(errors.get(column).is_some(), "{cells:?}: {errors:?}");
        }
    }

    #[test]
    fn estimates_need_a_scorecard_in_the_catalog_currency() {
        let catalog = Catalog::bundled();
        let eur = Context {
            currency: Currency::parse("EUR").unwrap(),
            catalog: &catalog,
        };
        let errors = apply(
            &raw(&[
                (Column::Name, "x"),
                (Column::CurrentTier, "small"),
                (Column::Model, "gpt-4o"),
            ]),
            None,
            eur,
        )
        .unwrap_err();
        assert!(errors.get(Column::Model).unwrap().contains("EUR"));
    }
}
