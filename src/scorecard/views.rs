//! The scorecard's pages: one askama struct each, filled with display-ready text so the
//! templates stay simple.

use askama::Template;

use super::csv::RowError;
use super::input::{Column, FieldErrors, RawWorkflow};
use super::model::{Tier, Verdict};
use super::money::{Money, Share, Shown};
use super::report::Report;
use super::rules::Level;
use super::service::{SettingsErrors, SettingsForm};
use super::table::{ROW_BYTES, TableRows};
use crate::web::escape::Escaped;
use crate::web::page::PageHtml;
use crate::web::participant::ParticipantView;

#[derive(Template)]
#[template(path = "landing.html")]
pub struct LandingPage {
    pub name: String,
    pub currency: String,
    pub errors: SettingsErrors,
    /// The instance asks for its admin password to create scorecards.
    pub locked: bool,
}

impl LandingPage {
    pub fn error(&self, field: &str) -> &str {
        field_error(&self.errors, field)
    }
}

fn field_error<'a>(errors: &'a SettingsErrors, field: &str) -> &'a str {
    errors
        .iter()
        .find(|(f, _)| *f == field)
        .map_or("", |(_, m)| m.as_str())
}

/// Rows per page of the workflow table; totals always cover every workflow.
pub const PAGE_SIZE: usize = 100;

/// What the scorecard page takes besides its rows, in bytes, with room to spare: the
/// page is written into a buffer sized for it and its rows, so it does not grow and copy
/// itself while rendering.
const PAGE_BYTES: usize = 8 * 1024;

/// The scorecard page. Rows render straight from the report, without copying.
#[derive(Template)]
#[template(path = "scorecard.html")]
pub struct ScorecardPage<'a> {
    pub report: &'a Report,
    pub name: &'a str,
    pub revision: i64,
    pub participant: Option<ParticipantView>,
    /// In every link of the page, so escaped once.
    pub base: Escaped,
    pub can_edit: bool,
    pub notice: Option<String>,
    pub score: Option<u32>,
    pub level: &'static str,
    pub level_class: &'static str,
    pub earning_share: String,
    pub at_risk_share: String,
    pub leakage_share: String,
    pub frontier_value_zone_share: String,
    /// Positions (in list order) of the rows on this page.
    pub shown: Vec<usize>,
    /// Rows matching the filter, over all pages.
    pub matching: usize,
    pub page: usize,
    pub pages: usize,
    pub filter: String,
}

impl<'a> ScorecardPage<'a> {
    /// `participant` is shown on edit links only; its absence makes the page read-only.
    /// `page` counts from 1; `filter` keeps rows whose name, team or owner contains it.
    pub fn new(
        report: &'a Report,
        base: String,
        participant: Option<ParticipantView>,
        notice: Option<String>,
        page: usize,
        filter: &str,
    ) -> ScorecardPage<'a> {
        let can_edit = participant.is_some();
        let t = &report.totals;
        let share = |m| t.share_of_total(m).map_or("—".to_string(), Share::percent);
        let level = t.level();
        let needle = filter.trim().to_lowercase();
        // Without a filter every row matches, and only this page's need listing.
        let matches: Option<Vec<usize>> =
            (!needle.is_empty()).then(|| report.snapshot.search(&needle).collect());
        let matching = matches.as_ref().map_or(report.len(), Vec::len);
        let pages = matching.div_ceil(PAGE_SIZE).max(1);
        let page = page.clamp(1, pages);
        let first = (page - 1) * PAGE_SIZE;
        let shown = match &matches {
            Some(matches) => matches
                .iter()
                .skip(first)
                .take(PAGE_SIZE)
                .copied()
                .collect(),
            None => (first..matching.min(first + PAGE_SIZE)).collect(),
        };
        ScorecardPage {
            report,
            name: &report.scorecard().name,
            revision: report.scorecard().revision,
            participant,
            base: Escaped::new(&base),
            can_edit,
            notice,
            score: t.score,
            level: level.map_or("No workflows yet", |l| l.label()),
            level_class: level.map_or("none", |l| match l {
                Level::Tokenmaxxing => "low",
                Level::TieredInName => "mid",
                Level::PortfolioManaged => "good",
                Level::OwnedOutcomes => "top",
            }),
            earning_share: share(t.earning),
            at_risk_share: share(t.at_risk),
            leakage_share: share(t.leakage),
            frontier_value_zone_share: t
                .frontier_value_zone_share()
                .map_or("—".to_string(), Share::percent),
            matching,
            shown,
            page,
            pages,
            filter: filter.trim().to_string(),
        }
    }

    /// An amount in the scorecard's currency, for people.
    pub fn money(&self, m: impl std::borrow::Borrow<Money>) -> Shown {
        m.borrow().shown(self.report.scorecard().currency)
    }

    /// The page as HTML: what the handler sends and the benchmark measures.
    pub fn to_html(&self) -> askama::Result<String> {
        let page = PageHtml::with_capacity(PAGE_BYTES + self.shown.len() * ROW_BYTES);
        self.render_into_with_values(&mut &page, &page)?;
        Ok(page.into_string())
    }

    /// The rows of the workflow table, written without the template loop (see `table`).
    pub fn table_rows(&self) -> TableRows<'_> {
        TableRows {
            report: self.report,
            shown: &self.shown,
            edit_base: self.can_edit.then_some(&self.base),
        }
    }

    /// The query string for another page, keeping the filter.
    pub fn page_query(&self, page: usize) -> String {
        let mut query = String::from("?page=");
        query.push_str(itoa::Buffer::new().format(page));
        if !self.filter.is_empty() {
            query.push_str("&q=");
            query.push_str(&urlencode(&self.filter));
        }
        query
    }
}

/// Percent-encodes a query value.
fn urlencode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// One input of the workflow form.
pub struct FieldView {
    pub name: &'static str,
    pub label: &'static str,
    pub hint: &'static str,
    /// How the template draws it: text, textarea, money, tokens, model, yesno, tier,
    /// tier_override or verdict_override.
    pub kind: &'static str,
    pub value: String,
    pub error: String,
}

pub struct Section {
    pub title: &'static str,
    pub intro: &'static str,
    pub fields: Vec<FieldView>,
}

#[derive(Template)]
#[template(path = "workflow_form.html")]
pub struct WorkflowFormPage {
    pub scorecard_name: String,
    pub participant: Option<ParticipantView>,
    pub base: String,
    pub title: String,
    pub action: String,
    pub workflow_id: Option<i64>,
    pub version: Option<i64>,
    pub currency: &'static str,
    pub notice: Option<String>,
    pub has_errors: bool,
    pub sections: Vec<Section>,
    pub models: Vec<String>,
    pub tiers: [Tier; 3],
    pub verdicts: [Verdict; 3],
}

/// One input: (column, label, hint, kind).
type InputSpec = (Column, &'static str, &'static str, &'static str);

/// Every input of the workflow form, in sections of (title, intro, inputs).
const FORM_LAYOUT: &[(&str, &str, &[InputSpec])] = &[
    (
        "The workflow",
        "",
        &[
            (
                Column::Name,
                "Name",
                "Unique on this scorecard, such as \"Summarise support tickets\"",
                "text",
            ),
            (Column::Team, "Team", "", "text"),
            (Column::Description, "Description", "", "textarea"),
            (
                Column::CurrentTier,
                "Current tier",
                "What it runs on today",
                "tier",
            ),
        ],
    ),
    (
        "Monthly spend",
        "Enter the monthly spend, or leave it empty and give token volumes and a model from the price catalog to estimate it.",
        &[
            (
                Column::MonthlySpend,
                "Monthly spend",
                "A plain amount, such as 12500.50",
                "money",
            ),
            (
                Column::Model,
                "Model",
                "Estimate from the price catalog (USD scorecards)",
                "model",
            ),
            (
                Column::MonthlyInputTokens,
                "Monthly input tokens",
                "",
                "tokens",
            ),
            (
                Column::MonthlyOutputTokens,
                "Monthly output tokens",
                "",
                "tokens",
            ),
            (
                Column::TargetModel,
                "Target model",
                "A small model it would move to: prices the small tier",
                "model",
            ),
        ],
    ),
    (
        "Accountability",
        "",
        &[
            (
                Column::Owner,
                "Owner",
                "A named person accountable for the outcome",
                "text",
            ),
            (
                Column::Metric,
                "Metric",
                "The measure that proves it works",
                "text",
            ),
            (Column::NextStep, "Next step", "", "text"),
            (
                Column::KillCriteria,
                "Kill criteria",
                "What would make us stop",
                "textarea",
            ),
            (
                Column::Defended,
                "Is the named owner actively defending this spend?",
                "",
                "yesno",
            ),
        ],
    ),
    (
        "Routing questions",
        "",
        &[
            (
                Column::Stakes,
                "Does a better answer change a real number?",
                "Stakes",
                "yesno",
            ),
            (
                Column::Ambiguity,
                "Is the work open-ended rather than well-bounded?",
                "Ambiguity",
                "yesno",
            ),
            (
                Column::BusinessCase,
                "Is there a business case for automating this at all?",
                "Business case",
                "yesno",
            ),
            (
                Column::SensitiveData,
                "Does it handle data that must stay in-house?",
                "Sensitive data",
                "yesno",
            ),
        ],
    ),
    (
        "Overrides",
        "Only when the facilitator decides against the computed value; a reason is required.",
        &[
            (
                Column::TierOverride,
                "Recommended tier",
                "",
                "tier_override",
            ),
            (
                Column::TierOverrideReason,
                "Reason for the tier override",
                "",
                "text",
            ),
            (Column::VerdictOverride, "Verdict", "", "verdict_override"),
            (
                Column::VerdictOverrideReason,
                "Reason for the verdict override",
                "",
                "text",
            ),
        ],
    ),
];

impl WorkflowFormPage {
    pub fn sections(values: &RawWorkflow, errors: &FieldErrors) -> Vec<Section> {
        FORM_LAYOUT
            .iter()
            .map(|(title, intro, fields)| Section {
                title,
                intro,
                fields: fields
                    .iter()
                    .map(|(column, label, hint, kind)| FieldView {
                        name: column.as_str(),
                        label,
                        hint,
                        kind,
                        value: values.get(*column).unwrap_or_default().to_string(),
                        error: errors.get(*column).unwrap_or_default().to_string(),
                    })
                    .collect(),
            })
            .collect()
    }
}

/// Defaults of the form for a new workflow: answers `no`, nothing else chosen.
pub fn new_workflow_values() -> RawWorkflow {
    let mut raw = RawWorkflow::default();
    for c in [
        Column::Stakes,
        Column::Ambiguity,
        Column::BusinessCase,
        Column::SensitiveData,
        Column::Defended,
    ] {
        raw.set(c, "no");
    }
    raw
}

#[derive(Template)]
#[template(path = "settings.html")]
pub struct SettingsPage {
    pub scorecard_name: String,
    pub participant: Option<ParticipantView>,
    pub base: String,
    pub form: SettingsForm,
    pub errors: SettingsErrors,
    pub edit_url: String,
    pub view_url: String,
    pub notice: Option<String>,
}

impl SettingsPage {
    pub fn error(&self, field: &str) -> &str {
        field_error(&self.errors, field)
    }
}

#[derive(Template)]
#[template(path = "import_errors.html")]
pub struct ImportErrorsPage {
    pub scorecard_name: String,
    pub base: String,
    pub errors: Vec<RowError>,
}

/// One field on the conflict page.
pub struct ConflictRow {
    pub field: &'static str,
    pub yours: String,
    pub current: String,
    pub differs: bool,
}

/// A save made on a stale version: the user's values beside the current ones, with a way
/// to apply theirs over the newer version or keep what is stored.
#[derive(Template)]
#[template(path = "conflict.html")]
pub struct ConflictPage {
    pub scorecard_name: String,
    pub participant: Option<ParticipantView>,
    pub base: String,
    pub action: String,
    pub workflow_id: i64,
    pub current_version: i64,
    pub rows: Vec<ConflictRow>,
}

impl ConflictPage {
    pub fn new(
        access: &crate::web::access::Access,
        participant: Option<ParticipantView>,
        current: &super::model::Workflow,
        yours: &RawWorkflow,
    ) -> ConflictPage {
        let currency = access.scorecard.currency;
        let base = access.base();
        ConflictPage {
            scorecard_name: access.scorecard.name.clone(),
            participant,
            action: format!("{base}/workflows/{}", current.id),
            base,
            workflow_id: current.id,
            current_version: current.version,
            rows: Column::ALL
                .into_iter()
                .map(|c| {
                    let mine = yours.get(c).unwrap_or_default().trim().to_string();
                    let theirs = super::csv::cell(&current.fields, c, currency);
                    ConflictRow {
                        field: c.as_str(),
                        differs: mine != theirs,
                        yours: mine,
                        current: theirs,
                    }
                })
                .collect(),
        }
    }

    pub fn differences(&self) -> usize {
        self.rows.iter().filter(|r| r.differs).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scorecard::fixtures::{self, fields, scorecard, workflow};
    use crate::web::participant::Participant;

    fn report(workflows: usize) -> Report {
        let workflows = (0..workflows)
            .map(|i| {
                let name = format!("Workflow {i:03} <{i}>");
                workflow(
                    i as i64 + 1,
                    fields(Tier::Frontier, &name, i as i64 * 1_000),
                )
            })
            .collect();
        fixtures::report(scorecard("Pages <&>", 3), workflows)
    }

    #[test]
    fn the_page_sent_is_the_page_the_template_renders() {
        let report = report(150);
        let participant = Participant {
            id: None,
            name: Some("Ada".into()),
        };
        for (participant, page) in [
            (None, 1),
            (None, 2),
            (Some(ParticipantView::new(&participant, "/s/e")), 1),
        ] {
            let base = if participant.is_some() {
                "/s/e"
            } else {
                "/v/v"
            };
            let view = ScorecardPage::new(&report, base.into(), participant, None, page, "");
            let html = view.to_html().unwrap();
            assert_eq!(html, view.render().unwrap());
            let rows = if page == 1 { 100 } else { 50 };
            assert_eq!(html.matches("<tr id=\"wf-").count(), rows);
            let top = "<strong class=\"wf-name\">Workflow 149 &#60;149&#62;</strong>";
            assert_eq!(html.contains(top), page == 1);
        }
    }
}
