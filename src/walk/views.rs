//! The gate walk page.

use askama::Template;

use crate::scorecard::input::FieldErrors;
use crate::scorecard::model::{Tier, Verdict};
use crate::scorecard::report::{Report, Row};
use crate::vote::model::Tally;
use crate::web::participant::ParticipantView;

pub struct Question {
    pub column: &'static str,
    pub text: &'static str,
    pub short: &'static str,
    pub answer: bool,
}

/// The silent vote on the workflow, as this participant may see it.
pub struct VoteView {
    pub id: i64,
    pub revealed: bool,
    pub opened_by: String,
    /// Who has voted (not what) while the vote is open.
    pub voters: Vec<String>,
    pub my_choice: Option<&'static str>,
    /// After the reveal: (verdict, count, percent) and every ballot.
    pub distribution: Vec<(&'static str, usize, u32)>,
    pub ballots: Vec<(String, &'static str)>,
    pub result: String,
    pub disagreement: bool,
}

impl VoteView {
    pub fn new(
        id: i64,
        revealed: bool,
        opened_by: String,
        ballots: &[crate::vote::model::Ballot],
        me: Option<&str>,
    ) -> VoteView {
        let tally = Tally::of(ballots);
        let total = tally.total().max(1);
        let percent = |n: usize| ((n * 100 + total / 2) / total) as u32;
        VoteView {
            id,
            revealed,
            opened_by,
            voters: ballots.iter().map(|b| b.voter_name.clone()).collect(),
            my_choice: me
                .and_then(|me| ballots.iter().find(|b| b.participant == me))
                .map(|b| b.verdict.as_str()),
            distribution: if revealed {
                vec![
                    ("fund", tally.fund, percent(tally.fund)),
                    ("pause", tally.pause, percent(tally.pause)),
                    ("kill", tally.kill, percent(tally.kill)),
                ]
            } else {
                Vec::new()
            },
            ballots: if revealed {
                ballots
                    .iter()
                    .map(|b| (b.voter_name.clone(), b.verdict.as_str()))
                    .collect()
            } else {
                Vec::new()
            },
            result: if revealed {
                tally.summary()
            } else {
                String::new()
            },
            disagreement: revealed && tally.disagreement(),
        }
    }
}

#[derive(Template)]
#[template(path = "walk.html")]
pub struct WalkPage {
    pub scorecard_name: String,
    pub base: String,
    pub can_edit: bool,
    pub can_vote: bool,
    pub participant: Option<ParticipantView>,
    pub revision: i64,
    pub position: usize,
    pub total: usize,
    pub decided_count: usize,
    pub prev_id: Option<i64>,
    pub next_id: Option<i64>,
    pub id: i64,
    pub version: i64,
    pub decided: bool,
    pub name: String,
    pub team: String,
    pub description: String,
    pub spend: String,
    pub estimated: bool,
    pub current_tier: &'static str,
    pub questions: Vec<Question>,
    pub defended: bool,
    pub owner: String,
    pub metric: String,
    pub next_step: String,
    pub kill_criteria: String,
    pub routed_tier: &'static str,
    pub recommended_tier: &'static str,
    pub tier_override: String,
    pub tier_override_reason: String,
    pub gated_verdict: &'static str,
    pub verdict: &'static str,
    pub verdict_override: String,
    pub verdict_override_reason: String,
    pub in_value_zone: bool,
    pub flags: Vec<(&'static str, &'static str)>,
    pub earning: String,
    pub at_risk: String,
    pub leakage: String,
    pub vote: Option<VoteView>,
    pub errors: Vec<(String, String)>,
    pub tiers: [Tier; 3],
    pub verdicts: [Verdict; 3],
}

impl WalkPage {
    pub fn new(
        report: &Report,
        index: usize,
        base: String,
        participant: Option<ParticipantView>,
        can_vote: bool,
        vote: Option<VoteView>,
        errors: &FieldErrors,
    ) -> WalkPage {
        let Row { workflow, eval } = report.row(index);
        let f = &workflow.fields;
        let c = report.scorecard().currency;
        let a = &f.answers;
        WalkPage {
            scorecard_name: report.scorecard().name.clone(),
            base,
            can_edit: participant.is_some(),
            can_vote,
            participant,
            revision: report.scorecard().revision,
            position: index + 1,
            total: report.len(),
            decided_count: report.rows().filter(|r| r.workflow.decided).count(),
            prev_id: index.checked_sub(1).map(|i| report.row(i).workflow.id),
            next_id: (index + 1 < report.len()).then(|| report.row(index + 1).workflow.id),
            id: workflow.id,
            version: workflow.version,
            decided: workflow.decided,
            name: f.name.clone(),
            team: f.team.clone(),
            description: f.description.clone(),
            spend: eval.spend.display(c),
            estimated: eval.spend_kind == crate::scorecard::rules::SpendKind::Estimated,
            current_tier: f.current_tier.as_str(),
            questions: vec![
                Question {
                    column: "stakes",
                    text: "Does a better answer change a real number?",
                    short: "Stakes",
                    answer: a.stakes,
                },
                Question {
                    column: "ambiguity",
                    text: "Is the work open-ended rather than well-bounded?",
                    short: "Ambiguity",
                    answer: a.ambiguity,
                },
                Question {
                    column: "business_case",
                    text: "Is there a business case for automating this at all?",
                    short: "Business case",
                    answer: a.business_case,
                },
                Question {
                    column: "sensitive_data",
                    text: "Does it handle data that must stay in-house?",
                    short: "Sensitive data",
                    answer: a.sensitive_data,
                },
            ],
            defended: f.defended,
            owner: f.owner.clone(),
            metric: f.metric.clone(),
            next_step: f.next_step.clone(),
            kill_criteria: f.kill_criteria.clone(),
            routed_tier: eval.routed_tier.as_str(),
            recommended_tier: eval.recommended_tier.as_str(),
            tier_override: f
                .tier_override
                .as_ref()
                .map_or(String::new(), |o| o.value.as_str().into()),
            tier_override_reason: f
                .tier_override
                .as_ref()
                .map_or(String::new(), |o| o.reason.clone()),
            gated_verdict: eval.gated_verdict.as_str(),
            verdict: eval.verdict.as_str(),
            verdict_override: f
                .verdict_override
                .as_ref()
                .map_or(String::new(), |o| o.value.as_str().into()),
            verdict_override_reason: f
                .verdict_override
                .as_ref()
                .map_or(String::new(), |o| o.reason.clone()),
            in_value_zone: eval.in_value_zone,
            flags: eval.flags.iter().map(|f| (f.label(), f.class())).collect(),
            earning: eval.earning.display(c),
            at_risk: eval.at_risk.display(c),
            leakage: eval.leakage.display(c),
            vote,
            errors: errors
                .0
                .iter()
                .map(|(col, m)| (col.as_str().to_string(), m.clone()))
                .collect(),
            tiers: Tier::ALL,
            verdicts: Verdict::ALL,
        }
    }
}
