//! The computed scorecard: a snapshot's evaluated workflows totalled, on every request.
//! The page, the JSON and the CSV export all start from a `Report`.

use std::sync::Arc;

use serde::Serialize;

use super::model::{Scorecard, Tier, Verdict, Workflow};
use super::money::{Money, Share};
use super::rules::{self, Counts, Evaluation, Flags, SpendKind, Totals};
use super::snapshot::Snapshot;

/// One workflow with what the rules make of it.
#[derive(Clone, Copy)]
pub struct Row<'a> {
    pub workflow: &'a Workflow,
    pub eval: &'a Evaluation,
}

pub struct Report {
    pub snapshot: Arc<Snapshot>,
    pub totals: Totals,
}

impl Report {
    /// Totals the snapshot's evaluated workflows: run on every request.
    pub fn compute(snapshot: Arc<Snapshot>) -> Report {
        let totals = rules::totals(snapshot.evaluations());
        Report { snapshot, totals }
    }

    pub fn scorecard(&self) -> &Scorecard {
        &self.snapshot.scorecard
    }

    pub fn len(&self) -> usize {
        self.snapshot.len()
    }

    pub fn is_empty(&self) -> bool {
        self.snapshot.is_empty()
    }

    /// The row at a position in list order (highest spend first).
    pub fn row(&self, index: usize) -> Row<'_> {
        let (workflow, eval) = self.snapshot.row(index);
        Row { workflow, eval }
    }

    /// Every row in list order.
    pub fn rows(&self) -> impl ExactSizeIterator<Item = Row<'_>> + '_ {
        self.snapshot
            .evaluated()
            .map(|(workflow, eval)| Row { workflow, eval })
    }

    pub fn money(&self, m: Money) -> String {
        m.to_decimal(self.scorecard().currency)
    }

    /// `scorecard.json` in chunks: the summary, then the workflows a few hundred at a time,
    /// so a large scorecard is never held whole in memory.
    pub fn into_json_chunks(self) -> JsonChunks {
        JsonChunks {
            report: self,
            next: 0,
            started: false,
        }
    }

    fn summary_json(&self) -> SummaryJson<'_> {
        let t = &self.totals;
        let share = |m: Money| t.share_of_total(m).map(Share::to_decimal);
        SummaryJson {
            name: &self.scorecard().name,
            currency: self.scorecard().currency.code,
            small_to_frontier_ratio: self.scorecard().small_ratio.to_string(),
            total_spend: self.money(t.total_spend),
            earning: self.money(t.earning),
            earning_share: share(t.earning),
            at_risk: self.money(t.at_risk),
            at_risk_share: share(t.at_risk),
            leakage: self.money(t.leakage),
            leakage_share: share(t.leakage),
            frontier_spend: self.money(t.frontier_spend),
            frontier_value_zone_share: t.frontier_value_zone_share().map(Share::to_decimal),
            projected_spend: self.money(t.projected_spend()),
            counts: t.counts,
            overrides: t.overrides,
            score: t.score,
            level: t.level().map(|l| l.label()),
        }
    }

    fn row_json<'a>(&'a self, row: Row<'a>) -> WorkflowJson<'a> {
        let f = &row.workflow.fields;
        let e = &row.eval;
        let v = f.volumes.as_ref();
        WorkflowJson {
            id: row.workflow.id,
            version: row.workflow.version,
            name: &f.name,
            team: &f.team,
            description: &f.description,
            monthly_spend: self.money(e.spend),
            spend_kind: e.spend_kind,
            model: v.map(|v| v.model.as_str()),
            monthly_input_tokens: v.map(|v| v.input_tokens),
            monthly_output_tokens: v.map(|v| v.output_tokens),
            target_model: v.and_then(|v| v.target_model.as_deref()),
            current_tier: f.current_tier,
            owner: &f.owner,
            metric: &f.metric,
            next_step: &f.next_step,
            kill_criteria: &f.kill_criteria,
            stakes: f.answers.stakes,
            ambiguity: f.answers.ambiguity,
            business_case: f.answers.business_case,
            sensitive_data: f.answers.sensitive_data,
            defended: f.defended,
            tier_override: f.tier_override.as_ref().map(|o| o.value),
            tier_override_reason: f.tier_override.as_ref().map(|o| o.reason.as_str()),
            verdict_override: f.verdict_override.as_ref().map(|o| o.value),
            verdict_override_reason: f.verdict_override.as_ref().map(|o| o.reason.as_str()),
            routed_tier: e.routed_tier,
            recommended_tier: e.recommended_tier,
            gated_verdict: e.gated_verdict,
            verdict: e.verdict,
            flags: e.flags,
            in_value_zone: e.in_value_zone,
            cost_at_recommended_tier: self.money(e.cost_at_recommended),
            earning: self.money(e.earning),
            at_risk: self.money(e.at_risk),
            leakage: self.money(e.leakage),
        }
    }
}

/// How many workflows go into one chunk of `scorecard.json` (about 80 KB).
const JSON_ROWS_PER_CHUNK: usize = 100;

/// The chunks of `scorecard.json`, in order; see `Report::into_json_chunks`. Joined, they
/// are one JSON object: the summary's fields, then `workflows`.
pub struct JsonChunks {
    report: Report,
    next: usize,
    started: bool,
}

impl Iterator for JsonChunks {
    type Item = Vec<u8>;

    fn next(&mut self) -> Option<Vec<u8>> {
        let report = &self.report;
        if self.next > report.len() {
            return None;
        }
        let end = (self.next + JSON_ROWS_PER_CHUNK).min(report.len());
        // A workflow is about 800 bytes of JSON: sized so the chunk never grows.
        let mut out = Vec::with_capacity(1024 + (end - self.next) * 1024);
        if !self.started {
            self.started = true;
            // The summary as an object, left open for the workflows.
            push_json(&mut out, &report.summary_json());
            out.pop();
            out.extend_from_slice(b",\"workflows\":[");
        }
        for index in self.next..end {
            if index > 0 {
                out.push(b',');
            }
            push_json(&mut out, &report.row_json(report.row(index)));
        }
        if end == report.len() {
            out.extend_from_slice(b"]}");
            // Nothing follows.
            self.next = report.len() + 1;
        } else {
            self.next = end;
        }
        Some(out)
    }
}

/// Appends one value of this module's JSON types. Serialising them into memory cannot
/// fail: they hold only strings, numbers, booleans and maps with string keys.
fn push_json(out: &mut Vec<u8>, value: &impl Serialize) {
    let _ = serde_json::to_writer(out, value);
}

/// `scorecard.json`: the contract of the product design, field for field. The summary,
/// followed by `workflows`, one `WorkflowJson` each.
#[derive(Serialize)]
pub struct SummaryJson<'a> {
    pub name: &'a str,
    pub currency: &'a str,
    pub small_to_frontier_ratio: String,
    pub total_spend: String,
    pub earning: String,
    pub earning_share: Option<String>,
    pub at_risk: String,
    pub at_risk_share: Option<String>,
    pub leakage: String,
    pub leakage_share: Option<String>,
    pub frontier_spend: String,
    pub frontier_value_zone_share: Option<String>,
    pub projected_spend: String,
    pub counts: Counts,
    pub overrides: u32,
    pub score: Option<u32>,
    pub level: Option<&'static str>,
}

#[derive(Serialize)]
pub struct WorkflowJson<'a> {
    pub id: i64,
    pub version: i64,
    pub name: &'a str,
    pub team: &'a str,
    pub description: &'a str,
    /// The spend the rules use: entered, or estimated from volumes (see `spend_kind`).
    pub monthly_spend: String,
    pub spend_kind: SpendKind,
    pub model: Option<&'a str>,
    pub monthly_input_tokens: Option<i64>,
    pub monthly_output_tokens: Option<i64>,
    pub target_model: Option<&'a str>,
    pub current_tier: Tier,
    pub owner: &'a str,
    pub metric: &'a str,
    pub next_step: &'a str,
    pub kill_criteria: &'a str,
    pub stakes: bool,
    pub ambiguity: bool,
    pub business_case: bool,
    pub sensitive_data: bool,
    pub defended: bool,
    pub tier_override: Option<Tier>,
    pub tier_override_reason: Option<&'a str>,
    pub verdict_override: Option<Verdict>,
    pub verdict_override_reason: Option<&'a str>,
    /// The tier the routing rules give, before any override.
    pub routed_tier: Tier,
    pub recommended_tier: Tier,
    /// The gate's verdict before any override.
    pub gated_verdict: Verdict,
    pub verdict: Verdict,
    pub flags: Flags,
    pub in_value_zone: bool,
    pub cost_at_recommended_tier: String,
    pub earning: String,
    pub at_risk: String,
    pub leakage: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scorecard::fixtures::{self, fields, scorecard, workflow};
    use crate::scorecard::model::Tier;

    fn report(n: usize) -> Report {
        let workflows = (0..n)
            .map(|i| {
                let name = format!("W{i:04} \"quoted\"");
                workflow(i as i64 + 1, fields(Tier::Small, &name, i as i64 * 100))
            })
            .collect();
        fixtures::report(scorecard("Chunks", 1), workflows)
    }

    fn joined(n: usize) -> (usize, serde_json::Value) {
        let chunks: Vec<Vec<u8>> = report(n).into_json_chunks().collect();
        let bytes = chunks.concat();
        let json = serde_json::from_slice(&bytes).expect("the chunks join into one JSON value");
        (chunks.len(), json)
    }

    #[test]
    fn scorecard_json_comes_in_chunks_that_join_into_the_whole_document() {
        for n in [0, 1, JSON_ROWS_PER_CHUNK, JSON_ROWS_PER_CHUNK + 1, 250] {
            let (chunks, json) = joined(n);
            assert_eq!(
                chunks,
                1 + n.saturating_sub(1) / JSON_ROWS_PER_CHUNK,
                "n = {n}"
            );
            let rows = json["workflows"].as_array().expect("a workflows array");
            assert_eq!(rows.len(), n);
            assert_eq!(json["name"], "Chunks");
            // Highest spend first, every row whole.
            if n > 0 {
                assert_eq!(rows[0]["name"], format!("W{:04} \"quoted\"", n - 1));
                assert_eq!(rows[n - 1]["monthly_spend"], "0.00");
            }
        }
    }
}
