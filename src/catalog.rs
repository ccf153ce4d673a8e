//! The model price catalog: USD prices per token for chat models, bundled into the binary
//! from a public snapshot (`catalog/model-prices.json`), used to estimate a workflow's
//! spend from its monthly token volumes.
//!
//! Prices are held exactly, in units of 10⁻¹⁸ USD per token, so an estimate is the exact
//! product rounded half up to the cent once.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::scorecard::model::WorkflowFields;
use crate::scorecard::money::{Currency, MAX_MINOR, Money, div_round_half_up, parse_scaled};
use crate::scorecard::rules::{Pricing, SpendKind};

const SNAPSHOT: &str = include_str!("../catalog/model-prices.json");

/// Price units per USD: prices are stored in 10⁻¹⁸ USD.
const UNITS_PER_USD: i128 = 1_000_000_000_000_000_000;

/// The most tokens a month a workflow may declare for each direction: ten trillion, far
/// above any real workload and safely inside exact arithmetic.
pub const MAX_TOKENS: i64 = 10_000_000_000_000;

/// The catalog's currency: estimates exist only for scorecards kept in it.
pub const CATALOG_CURRENCY: &str = "USD";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelPrice {
    pub provider: String,
    /// 10⁻¹⁸ USD per input token.
    pub input: i128,
    /// 10⁻¹⁸ USD per output token.
    pub output: i128,
}

#[derive(Debug, Clone)]
pub struct Catalog {
    models: BTreeMap<String, ModelPrice>,
}

#[derive(Deserialize)]
struct Snapshot {
    models: BTreeMap<String, SnapshotModel>,
}

#[derive(Deserialize)]
struct SnapshotModel {
    input_cost_per_token: f64,
    output_cost_per_token: f64,
    litellm_provider: String,
}

impl Catalog {
    /// The catalog shipped in the binary. The snapshot is checked by a unit test, so a
    /// failure here is a build defect, not a user's mistake.
    pub fn bundled() -> Catalog {
        Catalog::from_json(SNAPSHOT).expect("the bundled price snapshot is valid")
    }

    pub fn from_json(json: &str) -> Result<Catalog, String> {
        let snapshot: Snapshot = serde_json::from_str(json).map_err(|e| e.to_string())?;
        let mut models = BTreeMap::new();
        for (name, m) in snapshot.models {
            let input = price_units(m.input_cost_per_token)
                .ok_or_else(|| format!("{name}: input price {}", m.input_cost_per_token))?;
            let output = price_units(m.output_cost_per_token)
                .ok_or_else(|| format!("{name}: output price {}", m.output_cost_per_token))?;
            models.insert(
                name,
                ModelPrice {
                    provider: m.litellm_provider,
                    input,
                    output,
                },
            );
        }
        Ok(Catalog { models })
    }

    pub fn get(&self, model: &str) -> Option<&ModelPrice> {
        self.models.get(model)
    }

    pub fn contains(&self, model: &str) -> bool {
        self.models.contains_key(model)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.models.keys().map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.models.len()
    }

    pub fn is_empty(&self) -> bool {
        self.models.is_empty()
    }

    /// The monthly cost of `model` for the given volumes, in US cents; `None` for a model
    /// the catalog does not list.
    pub fn monthly_cost(
        &self,
        model: &str,
        input_tokens: i64,
        output_tokens: i64,
    ) -> Option<Money> {
        let price = self.get(model)?;
        let units =
            i128::from(input_tokens) * price.input + i128::from(output_tokens) * price.output;
        let cents = div_round_half_up(units, UNITS_PER_USD / 100);
        // Bounded like any entered amount, so totals cannot overflow.
        Some(Money(
            i64::try_from(cents).unwrap_or(MAX_MINOR).min(MAX_MINOR),
        ))
    }

    /// Resolves a workflow's spend: entered, or estimated from its volumes. A model the
    /// catalog no longer lists prices at zero rather than failing the whole page.
    pub fn pricing(&self, fields: &WorkflowFields) -> Pricing {
        match &fields.volumes {
            None => Pricing::entered(fields.monthly_spend),
            Some(v) => Pricing {
                spend: self
                    .monthly_cost(&v.model, v.input_tokens, v.output_tokens)
                    .unwrap_or(Money::ZERO),
                kind: SpendKind::Estimated,
                target_cost: v
                    .target_model
                    .as_deref()
                    .and_then(|t| self.monthly_cost(t, v.input_tokens, v.output_tokens)),
            },
        }
    }

    /// Whether estimates can be made in a scorecard's currency.
    pub fn prices_in(currency: Currency) -> bool {
        currency.code == CATALOG_CURRENCY
    }
}

/// Converts a JSON price to exact 10⁻¹⁸ USD units. Rust prints an `f64` as the shortest
/// decimal that reads back to the same number, which is the literal the snapshot holds,
/// so the conversion goes through that text rather than through float arithmetic.
fn price_units(price: f64) -> Option<i128> {
    if !price.is_finite() {
        return None;
    }
    parse_scaled(&format!("{price}"), 18).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scorecard::model::{Tier, Volumes};

    #[test]
    fn the_bundled_snapshot_parses_with_every_model_priced() {
        let c = Catalog::bundled();
        assert!(c.len() > 1000, "{} models", c.len());
        assert!(c.contains("gpt-4o-mini"));
        assert!(!c.contains("no-such-model"));
    }

    #[test]
    fn prices_convert_exactly() {
        assert_eq!(price_units(2.5e-6), Some(2_500_000_000_000));
        assert_eq!(price_units(3.75e-8), Some(37_500_000_000));
        assert_eq!(price_units(0.0), Some(0));
        assert_eq!(price_units(-1.0), None);
    }

    #[test]
    fn estimates_are_exact_and_round_half_up_to_the_cent() {
        let c = Catalog::bundled();
        // gpt-4o: 2.5e-6 in, 1e-5 out. 10M in + 2M out = 25 + 20 = 45 USD.
        assert_eq!(
            c.monthly_cost("gpt-4o", 10_000_000, 2_000_000),
            Some(Money(4_500))
        );
        // 2,000 input tokens at 2.5e-6 = 0.005 USD → half a cent rounds up.
        assert_eq!(c.monthly_cost("gpt-4o", 2_000, 0), Some(Money(1)));
        assert_eq!(c.monthly_cost("gpt-4o", 1_999, 0), Some(Money(0)));
        assert_eq!(c.monthly_cost("nope", 1, 1), None);
        assert!(c.monthly_cost("gpt-4o", MAX_TOKENS, MAX_TOKENS).is_some());
    }

    #[test]
    fn a_workflow_with_volumes_is_priced_from_the_catalog_with_its_target() {
        let c = Catalog::bundled();
        let mut w = WorkflowFields::blank(Tier::Frontier);
        w.monthly_spend = Money(99);
        assert_eq!(c.pricing(&w), Pricing::entered(Money(99)));
        w.volumes = Some(Volumes {
            model: "gpt-4o".into(),
            input_tokens: 10_000_000,
            output_tokens: 2_000_000,
            target_model: Some("gpt-4o-mini".into()),
        });
        let p = c.pricing(&w);
        assert_eq!(p.kind, SpendKind::Estimated);
        assert_eq!(p.spend, Money(4_500));
        // gpt-4o-mini: 1.5e-7 in, 6e-7 out → 1.5 + 1.2 = 2.70 USD.
        assert_eq!(p.target_cost, Some(Money(270)));
    }
}
