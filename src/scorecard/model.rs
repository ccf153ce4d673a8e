//! The scorecard's domain types: tiers, verdicts, workflows and scorecards as stored.
//!
//! Computed values (recommended tier, verdict, flags, money) are not here: they live in
//! `rules`, derived on every read.

use serde::Serialize;

use super::money::{Currency, Money, Ratio};

/// Where a workflow's model runs. Ordered by cost: `None < Small < Frontier`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    /// No model at all: rules, plain automation, or stop doing it.
    None,
    /// A small or open-source model run in-house.
    Small,
    /// A frontier model by API.
    Frontier,
}

impl Tier {
    pub const ALL: [Tier; 3] = [Tier::Frontier, Tier::Small, Tier::None];

    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Frontier => "frontier",
            Tier::Small => "small",
            Tier::None => "none",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Tier::Frontier => "frontier model by API",
            Tier::Small => "small / open-source model in-house",
            Tier::None => "no model",
        }
    }

    pub fn parse(text: &str) -> Result<Tier, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "frontier" => Ok(Tier::Frontier),
            "small" => Ok(Tier::Small),
            "none" => Ok(Tier::None),
            _ => Err(format!(
                "{:?} is not a tier: use frontier, small or none",
                text.trim()
            )),
        }
    }
}

/// The Investable Bet Gate's forced decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Fund,
    Pause,
    Kill,
}

impl Verdict {
    pub const ALL: [Verdict; 3] = [Verdict::Fund, Verdict::Pause, Verdict::Kill];

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Fund => "fund",
            Verdict::Pause => "pause",
            Verdict::Kill => "kill",
        }
    }

    pub fn parse(text: &str) -> Result<Verdict, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "fund" => Ok(Verdict::Fund),
            "pause" => Ok(Verdict::Pause),
            "kill" => Ok(Verdict::Kill),
            _ => Err(format!(
                "{:?} is not a verdict: use fund, pause or kill",
                text.trim()
            )),
        }
    }
}

/// Parses the yes/no answers of forms and CSV: `yes|no|true|false|1|0`, any case.
pub fn parse_yes_no(text: &str) -> Result<bool, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "yes" | "true" | "1" => Ok(true),
        "no" | "false" | "0" => Ok(false),
        _ => Err(format!("{:?} is not yes or no", text.trim())),
    }
}

pub fn yes_no(value: bool) -> &'static str {
    if value { "yes" } else { "no" }
}

/// A facilitator's override of a computed value, always with its reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override<T> {
    pub value: T,
    pub reason: String,
}

/// The four routing answers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Answers {
    /// Does a better answer change a real number?
    pub stakes: bool,
    /// Is the work open-ended rather than well-bounded?
    pub ambiguity: bool,
    /// Is there a business case for automating this at all?
    pub business_case: bool,
    /// Does it handle data that must stay in-house?
    pub sensitive_data: bool,
}

/// Monthly token volumes priced from the catalog, in place of an entered spend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Volumes {
    pub model: String,
    pub input_tokens: i64,
    pub output_tokens: i64,
    /// A `small` model the workflow would move to; prices its cost at the small tier.
    pub target_model: Option<String>,
}

/// A workflow's fields as stored, after validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkflowFields {
    pub name: String,
    pub team: String,
    pub description: String,
    /// The entered monthly spend; ignored (kept at 0) when `volumes` is set.
    pub monthly_spend: Money,
    pub volumes: Option<Volumes>,
    pub current_tier: Tier,
    pub owner: String,
    pub metric: String,
    pub next_step: String,
    pub kill_criteria: String,
    pub answers: Answers,
    pub defended: bool,
    pub tier_override: Option<Override<Tier>>,
    pub verdict_override: Option<Override<Verdict>>,
}

impl WorkflowFields {
    /// A new workflow before any column or field is applied: empty text, `no`, spend 0.
    pub fn blank(current_tier: Tier) -> WorkflowFields {
        WorkflowFields {
            name: String::new(),
            team: String::new(),
            description: String::new(),
            monthly_spend: Money::ZERO,
            volumes: None,
            current_tier,
            owner: String::new(),
            metric: String::new(),
            next_step: String::new(),
            kill_criteria: String::new(),
            answers: Answers::default(),
            defended: false,
            tier_override: None,
            verdict_override: None,
        }
    }

    pub fn has_override(&self) -> bool {
        self.tier_override.is_some() || self.verdict_override.is_some()
    }
}

/// A stored workflow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workflow {
    pub id: i64,
    /// Bumped by every save; a save made on an older version is a conflict.
    pub version: i64,
    /// Whether the room has decided it in the gate walk.
    pub decided: bool,
    pub fields: WorkflowFields,
}

/// A scorecard's settings and share links.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scorecard {
    pub id: i64,
    pub name: String,
    pub currency: Currency,
    pub small_ratio: Ratio,
    pub edit_token: String,
    pub view_token: String,
    /// Bumped by every change; live pages compare it to catch up.
    pub revision: i64,
    /// The workflow the gate walk is on.
    pub walk_workflow_id: Option<i64>,
}

/// The most workflows one scorecard holds: far beyond any workshop, and a bound on what
/// one scorecard can make the server keep in memory.
pub const MAX_WORKFLOWS: usize = 20_000;

/// The maximum length of a workflow or scorecard name, in characters.
pub const NAME_MAX_CHARS: usize = 200;

/// Trims a name and checks its length: required, 1–200 characters.
pub fn parse_name(text: &str) -> Result<String, String> {
    let name = text.trim();
    let chars = name.chars().count();
    if chars == 0 {
        return Err("enter a name".into());
    }
    if chars > NAME_MAX_CHARS {
        return Err(format!(
            "the name is {chars} characters long: keep it to {NAME_MAX_CHARS}"
        ));
    }
    if name.chars().any(char::is_control) {
        return Err("the name cannot contain control characters such as line breaks".into());
    }
    Ok(name.to_string())
}

/// The key under which names are unique within a scorecard: case is ignored.
pub fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// The most characters kept in a free-text field (description, metric, and so on).
pub const TEXT_MAX_CHARS: usize = 5000;

/// Trims free text and bounds its length.
pub fn parse_text(text: &str) -> Result<String, String> {
    let text = text.trim();
    let chars = text.chars().count();
    if chars > TEXT_MAX_CHARS {
        return Err(format!(
            "this is {chars} characters long: keep it to {TEXT_MAX_CHARS}"
        ));
    }
    Ok(text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_verdicts_and_answers_parse_in_any_case() {
        assert_eq!(Tier::parse("FRONTIER"), Ok(Tier::Frontier));
        assert_eq!(Tier::parse(" small "), Ok(Tier::Small));
        assert_eq!(Tier::parse("None"), Ok(Tier::None));
        assert!(
            Tier::parse("large")
                .unwrap_err()
                .contains("frontier, small or none")
        );
        assert_eq!(Verdict::parse("Kill"), Ok(Verdict::Kill));
        assert!(Verdict::parse("maybe").is_err());
        for yes in ["yes", "YES", "true", "1"] {
            assert_eq!(parse_yes_no(yes), Ok(true));
        }
        for no in ["no", "False", "0"] {
            assert_eq!(parse_yes_no(no), Ok(false));
        }
        assert!(parse_yes_no("y").is_err());
        assert!(parse_yes_no("").is_err());
    }

    #[test]
    fn tiers_are_ordered_by_cost() {
        assert!(Tier::Frontier > Tier::Small && Tier::Small > Tier::None);
    }

    #[test]
    fn names_are_trimmed_bounded_and_compared_without_case() {
        assert_eq!(parse_name("  Triage  "), Ok("Triage".into()));
        assert!(parse_name("   ").is_err());
        assert!(parse_name(&"x".repeat(201)).is_err());
        assert!(parse_name(&"é".repeat(200)).is_ok());
        assert!(parse_name("a\nb").is_err());
        assert_eq!(name_key("Ticket Triage"), name_key("TICKET triage "));
        assert_eq!(name_key("Ärger"), name_key("ärger"));
    }
}
