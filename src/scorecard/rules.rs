//! The rules of the scorecard: routing, the Investable Bet Gate, flags, money and the
//! score, exactly as the product design states them.
//!
//! Pure functions with no I/O: the HTML page, the JSON and the CSV all read their numbers
//! from here, and the tests below pin every rule.

use serde::Serialize;

use super::model::{Answers, Tier, Verdict, WorkflowFields};
use super::money::{Money, Ratio, Share, div_round_half_up};

/// Where a workflow's spend figure comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SpendKind {
    /// Typed in by a person.
    Entered,
    /// Priced from the catalog for the workflow's token volumes.
    Estimated,
}

/// A workflow's monthly spend, resolved before the rules run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pricing {
    pub spend: Money,
    pub kind: SpendKind,
    /// The target model's price for the same volumes, when a target model is named.
    pub target_cost: Option<Money>,
}

impl Pricing {
    pub fn entered(spend: Money) -> Pricing {
        Pricing {
            spend,
            kind: SpendKind::Entered,
            target_cost: None,
        }
    }
}

/// A warning shown on a workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Flag {
    #[serde(rename = "no owner")]
    NoOwner,
    #[serde(rename = "no metric")]
    NoMetric,
    #[serde(rename = "no next step")]
    NoNextStep,
    #[serde(rename = "over-tier")]
    OverTier,
    #[serde(rename = "under-tier")]
    UnderTier,
    #[serde(rename = "sensitive data on frontier API")]
    SensitiveOnFrontier,
}

impl Flag {
    pub fn label(self) -> &'static str {
        match self {
            Flag::NoOwner => "no owner",
            Flag::NoMetric => "no metric",
            Flag::NoNextStep => "no next step",
            Flag::OverTier => "over-tier",
            Flag::UnderTier => "under-tier",
            Flag::SensitiveOnFrontier => "sensitive data on frontier API",
        }
    }

    /// A short CSS-safe name for styling.
    pub fn class(self) -> &'static str {
        match self {
            Flag::NoOwner => "no-owner",
            Flag::NoMetric => "no-metric",
            Flag::NoNextStep => "no-next-step",
            Flag::OverTier => "over-tier",
            Flag::UnderTier => "under-tier",
            Flag::SensitiveOnFrontier => "sensitive",
        }
    }
}

impl Flag {
    /// Every flag, in the order they are shown.
    pub const ALL: [Flag; 6] = [
        Flag::NoOwner,
        Flag::NoMetric,
        Flag::NoNextStep,
        Flag::OverTier,
        Flag::UnderTier,
        Flag::SensitiveOnFrontier,
    ];

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A workflow's flags as a set: computed for every row on every load, so it allocates
/// nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flags(u8);

impl Flags {
    pub fn insert(&mut self, flag: Flag) {
        self.0 |= flag.bit();
    }

    pub fn contains(self, flag: Flag) -> bool {
        self.0 & flag.bit() != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The flags present, in display order.
    pub fn iter(self) -> impl Iterator<Item = Flag> {
        Flag::ALL.into_iter().filter(move |f| self.contains(*f))
    }
}

impl Serialize for Flags {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

impl<const N: usize> From<[Flag; N]> for Flags {
    fn from(flags: [Flag; N]) -> Flags {
        let mut set = Flags::default();
        for f in flags {
            set.insert(f);
        }
        set
    }
}

/// Routing: the tier the answers call for, first rule that matches.
pub fn route(answers: &Answers) -> Tier {
    if !answers.business_case {
        Tier::None
    } else if in_value_zone(answers) {
        Tier::Frontier
    } else {
        Tier::Small
    }
}

/// The value zone: stakes high, ambiguity high, and a business case. Answers alone decide
/// it, never an override.
pub fn in_value_zone(answers: &Answers) -> bool {
    answers.stakes && answers.ambiguity && answers.business_case
}

/// The Investable Bet Gate, first rule that matches.
pub fn gate(fields: &WorkflowFields) -> Verdict {
    if !fields.answers.business_case || fields.owner.is_empty() || fields.metric.is_empty() {
        Verdict::Kill
    } else if !fields.defended || fields.next_step.is_empty() {
        Verdict::Pause
    } else {
        Verdict::Fund
    }
}

/// Everything computed for one workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Evaluation {
    pub spend: Money,
    pub spend_kind: SpendKind,
    /// The tier the routing rules give, before any override.
    pub routed_tier: Tier,
    /// The final recommended tier: the override when there is one.
    pub recommended_tier: Tier,
    /// The gate's verdict before any override.
    pub gated_verdict: Verdict,
    /// The final verdict: the override when there is one.
    pub verdict: Verdict,
    pub in_value_zone: bool,
    pub flags: Flags,
    /// The tier the workflow runs on today, as entered.
    pub current_tier: Tier,
    /// The facilitator overrode the tier or the verdict.
    pub overridden: bool,
    pub cost_at_recommended: Money,
    pub earning: Money,
    pub at_risk: Money,
    pub leakage: Money,
}

/// Applies every rule to one workflow.
pub fn evaluate(fields: &WorkflowFields, pricing: Pricing, ratio: Ratio) -> Evaluation {
    let routed_tier = route(&fields.answers);
    let recommended_tier = fields
        .tier_override
        .as_ref()
        .map_or(routed_tier, |o| o.value);
    let gated_verdict = gate(fields);
    let verdict = fields
        .verdict_override
        .as_ref()
        .map_or(gated_verdict, |o| o.value);
    let current = fields.current_tier;
    let over_tier = current > recommended_tier;

    let mut flags = Flags::default();
    if fields.owner.is_empty() {
        flags.insert(Flag::NoOwner);
    }
    if fields.metric.is_empty() {
        flags.insert(Flag::NoMetric);
    }
    if fields.next_step.is_empty() {
        flags.insert(Flag::NoNextStep);
    }
    if over_tier {
        flags.insert(Flag::OverTier);
    }
    if current < recommended_tier {
        flags.insert(Flag::UnderTier);
    }
    if fields.answers.sensitive_data && current == Tier::Frontier {
        flags.insert(Flag::SensitiveOnFrontier);
    }

    let spend = pricing.spend;
    let cost_at_recommended = match (over_tier, recommended_tier) {
        (false, _) => spend,
        (true, Tier::None) => Money::ZERO,
        // Over-tier with `small` recommended means the workflow runs on `frontier`.
        (true, _) => pricing.target_cost.unwrap_or_else(|| ratio.apply(spend)),
    };
    let leakage = match verdict {
        Verdict::Kill => spend,
        // A target model dearer than today's spend saves nothing rather than leaking less
        // than nothing.
        Verdict::Fund | Verdict::Pause => (spend - cost_at_recommended).max(Money::ZERO),
    };
    let kept = spend - leakage;
    let (earning, at_risk) = match verdict {
        Verdict::Fund => (kept, Money::ZERO),
        Verdict::Pause => (Money::ZERO, kept),
        Verdict::Kill => (Money::ZERO, Money::ZERO),
    };

    Evaluation {
        spend,
        spend_kind: pricing.kind,
        routed_tier,
        recommended_tier,
        gated_verdict,
        verdict,
        in_value_zone: in_value_zone(&fields.answers),
        flags,
        current_tier: current,
        overridden: fields.has_override(),
        cost_at_recommended,
        earning,
        at_risk,
        leakage,
    }
}

/// The maturity level named by a score.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Tokenmaxxing,
    TieredInName,
    PortfolioManaged,
    OwnedOutcomes,
}

impl Level {
    pub fn of(score: u32) -> Level {
        match score {
            0..=39 => Level::Tokenmaxxing,
            40..=69 => Level::TieredInName,
            70..=89 => Level::PortfolioManaged,
            _ => Level::OwnedOutcomes,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Level::Tokenmaxxing => "Tokenmaxxing",
            Level::TieredInName => "Tiered in name",
            Level::PortfolioManaged => "Portfolio-managed",
            Level::OwnedOutcomes => "Owned outcomes",
        }
    }
}

/// Fund / pause / kill counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub fund: u32,
    pub pause: u32,
    pub kill: u32,
}

/// The scorecard's totals and score.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Totals {
    pub workflows: u32,
    pub total_spend: Money,
    pub earning: Money,
    pub at_risk: Money,
    pub leakage: Money,
    pub frontier_spend: Money,
    /// Frontier spend on workflows in the value zone.
    pub frontier_value_zone_spend: Money,
    pub counts: Counts,
    pub overrides: u32,
    /// 0–100, or `None` for a scorecard with no workflows.
    pub score: Option<u32>,
}

impl Totals {
    pub fn share_of_total(&self, part: Money) -> Option<Share> {
        Share::of(part.0, self.total_spend.0)
    }

    /// The share of frontier spend that sits in the value zone; `None` without frontier
    /// spend.
    pub fn frontier_value_zone_share(&self) -> Option<Share> {
        Share::of(self.frontier_value_zone_spend.0, self.frontier_spend.0)
    }

    /// Projected monthly spend after the gate: what is earning plus what is at risk.
    pub fn projected_spend(&self) -> Money {
        self.earning + self.at_risk
    }

    pub fn level(&self) -> Option<Level> {
        self.score.map(Level::of)
    }
}

/// Adds up the evaluated workflows of a scorecard. An evaluation carries everything this
/// needs, so totalling reads one compact array and no workflow. It runs on every request
/// over every workflow, so the loop only adds: no sum can overflow an `i64` (amounts are
/// at most `MAX_MINOR`, a scorecard holds at most `MAX_WORKFLOWS`).
pub fn totals<'a>(evals: impl IntoIterator<Item = &'a Evaluation>) -> Totals {
    let (mut workflows, mut overrides) = (0_u32, 0_u32);
    let [mut total, mut earning, mut at_risk, mut leakage] = [0_i64; 4];
    let (mut frontier, mut frontier_value_zone) = (0_i64, 0_i64);
    let mut by_verdict = [0_u32; 3];
    // The four score components (owned, measured, on the recommended tier, funded),
    // weighted by spend and, separately, by count.
    let mut by_spend = [0_i64; 4];
    let mut by_count = [0_i64; 4];
    for eval in evals {
        let spend = eval.spend.0;
        workflows += 1;
        total += spend;
        earning += eval.earning.0;
        at_risk += eval.at_risk.0;
        leakage += eval.leakage.0;
        let on_frontier = i64::from(eval.current_tier == Tier::Frontier);
        frontier += spend * on_frontier;
        frontier_value_zone += spend * on_frontier * i64::from(eval.in_value_zone);
        by_verdict[eval.verdict as usize] += 1;
        overrides += u32::from(eval.overridden);
        let met = [
            !eval.flags.contains(Flag::NoOwner),
            !eval.flags.contains(Flag::NoMetric),
            eval.current_tier == eval.recommended_tier,
            eval.verdict == Verdict::Fund,
        ];
        for (i, ok) in met.into_iter().enumerate() {
            by_spend[i] += spend * i64::from(ok);
            by_count[i] += i64::from(ok);
        }
    }
    let score = (workflows > 0).then(|| {
        let (sum, whole): (i128, i128) = if total > 0 {
            (
                by_spend.iter().map(|&s| i128::from(s)).sum(),
                i128::from(total),
            )
        } else {
            (
                by_count.iter().map(|&c| i128::from(c)).sum(),
                i128::from(workflows),
            )
        };
        // The mean of four shares, times 100: 100 × sum / (4 × whole).
        div_round_half_up(100 * sum, 4 * whole) as u32
    });
    Totals {
        workflows,
        total_spend: Money(total),
        earning: Money(earning),
        at_risk: Money(at_risk),
        leakage: Money(leakage),
        frontier_spend: Money(frontier),
        frontier_value_zone_spend: Money(frontier_value_zone),
        counts: Counts {
            fund: by_verdict[Verdict::Fund as usize],
            pause: by_verdict[Verdict::Pause as usize],
            kill: by_verdict[Verdict::Kill as usize],
        },
        overrides,
        score,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scorecard::model::Override;

    fn answers(stakes: bool, ambiguity: bool, business_case: bool) -> Answers {
        Answers {
            stakes,
            ambiguity,
            business_case,
            sensitive_data: false,
        }
    }

    /// A workflow that passes the gate: owned, measured, defended, with a next step.
    fn funded(current: Tier, a: Answers) -> WorkflowFields {
        WorkflowFields {
            name: "w".into(),
            owner: "Ada".into(),
            metric: "hours saved".into(),
            next_step: "review in March".into(),
            defended: true,
            answers: a,
            ..WorkflowFields::blank(current)
        }
    }

    #[test]
    fn routing_takes_the_first_rule_that_matches() {
        let table = [
            // stakes, ambiguity, business case → tier
            (true, true, false, Tier::None),
            (false, false, false, Tier::None),
            (true, true, true, Tier::Frontier),
            (true, false, true, Tier::Small),
            (false, true, true, Tier::Small),
            (false, false, true, Tier::Small),
        ];
        for (s, a, b, tier) in table {
            assert_eq!(
                route(&answers(s, a, b)),
                tier,
                "stakes={s} ambiguity={a} case={b}"
            );
        }
    }

    #[test]
    fn the_value_zone_needs_stakes_ambiguity_and_a_business_case() {
        assert!(in_value_zone(&answers(true, true, true)));
        assert!(!in_value_zone(&answers(true, true, false)));
        assert!(!in_value_zone(&answers(true, false, true)));
        assert!(!in_value_zone(&answers(false, true, true)));
    }

    #[test]
    fn the_gate_kills_then_pauses_then_funds() {
        let ok = funded(Tier::Small, answers(false, false, true));
        assert_eq!(gate(&ok), Verdict::Fund);
        type Change = fn(&mut WorkflowFields);
        let cases: [(Change, Verdict); 6] = [
            (|w| w.answers.business_case = false, Verdict::Kill),
            (|w| w.owner.clear(), Verdict::Kill),
            (|w| w.metric.clear(), Verdict::Kill),
            (|w| w.defended = false, Verdict::Pause),
            (|w| w.next_step.clear(), Verdict::Pause),
            // Kill outranks pause when both apply.
            (
                |w| {
                    w.owner.clear();
                    w.defended = false
                },
                Verdict::Kill,
            ),
        ];
        for (i, (change, verdict)) in cases.into_iter().enumerate() {
            let mut w = ok.clone();
            change(&mut w);
            assert_eq!(gate(&w), verdict, "case {i}");
        }
    }

    #[test]
    fn flags_name_every_gap_and_tier_mismatch() {
        let mut w = WorkflowFields::blank(Tier::Frontier);
        w.answers = Answers {
            stakes: false,
            ambiguity: false,
            business_case: true,
            sensitive_data: true,
        };
        let e = evaluate(&w, Pricing::entered(Money(100)), Ratio::DEFAULT);
        assert_eq!(
            e.flags.iter().collect::<Vec<_>>(),
            vec![
                Flag::NoOwner,
                Flag::NoMetric,
                Flag::NoNextStep,
                Flag::OverTier,
                Flag::SensitiveOnFrontier
            ]
        );
        let under = funded(Tier::None, answers(true, true, true));
        let e = evaluate(&under, Pricing::entered(Money(100)), Ratio::DEFAULT);
        assert_eq!(e.flags, Flags::from([Flag::UnderTier]));
        let fit = funded(Tier::Small, answers(false, true, true));
        assert!(
            evaluate(&fit, Pricing::entered(Money(1)), Ratio::DEFAULT)
                .flags
                .is_empty()
        );
        let mut sensitive_small = fit.clone();
        sensitive_small.answers.sensitive_data = true;
        let e = evaluate(&sensitive_small, Pricing::entered(Money(1)), Ratio::DEFAULT);
        assert!(e.flags.is_empty(), "sensitive data in-house is fine");
    }

    #[test]
    fn money_follows_the_verdict_and_the_recommended_tier() {
        let r = Ratio::DEFAULT;
        let s = Money(10_000);
        // (current tier, answers, verdict-shaping change, earning, at risk, leakage)
        let fund_fit = funded(Tier::Frontier, answers(true, true, true));
        let e = evaluate(&fund_fit, Pricing::entered(s), r);
        assert_eq!((e.earning, e.at_risk, e.leakage), (s, Money(0), Money(0)));

        // Funded but over-tier on frontier where small suffices: 90% leaks.
        let fund_over = funded(Tier::Frontier, answers(true, false, true));
        let e = evaluate(&fund_over, Pricing::entered(s), r);
        assert_eq!(e.cost_at_recommended, Money(1_000));
        assert_eq!(
            (e.earning, e.at_risk, e.leakage),
            (Money(1_000), Money(0), Money(9_000))
        );

        // Paused and over-tier: the small-tier cost is at risk, the rest leaks.
        let mut pause_over = fund_over.clone();
        pause_over.defended = false;
        let e = evaluate(&pause_over, Pricing::entered(s), r);
        assert_eq!(
            (e.earning, e.at_risk, e.leakage),
            (Money(0), Money(1_000), Money(9_000))
        );

        // Killed: all of it leaks, whatever the tier.
        let mut killed = fund_fit.clone();
        killed.owner.clear();
        let e = evaluate(&killed, Pricing::entered(s), r);
        assert_eq!((e.earning, e.at_risk, e.leakage), (Money(0), Money(0), s));

        // Over-tier towards `none`: the recommended cost is 0.
        let mut to_none = funded(Tier::Small, answers(true, true, true));
        to_none.tier_override = Some(Override {
            value: Tier::None,
            reason: "rules engine does it".into(),
        });
        to_none.verdict_override = Some(Override {
            value: Verdict::Pause,
            reason: "decide next quarter".into(),
        });
        let e = evaluate(&to_none, Pricing::entered(s), r);
        assert_eq!(e.cost_at_recommended, Money(0));
        assert_eq!((e.earning, e.at_risk, e.leakage), (Money(0), Money(0), s));

        // Under-tier workflows cost what they cost.
        let under = funded(Tier::Small, answers(true, true, true));
        let e = evaluate(&under, Pricing::entered(s), r);
        assert_eq!((e.cost_at_recommended, e.earning), (s, s));
    }

    #[test]
    fn the_small_tier_cost_rounds_half_up_and_a_target_model_replaces_the_ratio() {
        let w = funded(Tier::Frontier, answers(false, false, true));
        let e = evaluate(&w, Pricing::entered(Money(15)), Ratio::DEFAULT);
        assert_eq!(e.cost_at_recommended, Money(2));
        assert_eq!(e.leakage, Money(13));
        let priced = Pricing {
            spend: Money(50_000),
            kind: SpendKind::Estimated,
            target_cost: Some(Money(700)),
        };
        let e = evaluate(&w, priced, Ratio::DEFAULT);
        assert_eq!(e.spend_kind, SpendKind::Estimated);
        assert_eq!(
            (e.cost_at_recommended, e.earning, e.leakage),
            (Money(700), Money(700), Money(49_300))
        );
        // A target model is ignored where the workflow is not over-tier.
        let fit = funded(Tier::Small, answers(false, false, true));
        let e = evaluate(&fit, priced, Ratio::DEFAULT);
        assert_eq!((e.earning, e.leakage), (Money(50_000), Money(0)));
    }

    #[test]
    fn overrides_drive_everything_downstream_but_not_the_value_zone() {
        let mut w = funded(Tier::Frontier, answers(true, true, true));
        w.tier_override = Some(Override {
            value: Tier::Small,
            reason: "a fine-tuned model does it".into(),
        });
        let e = evaluate(&w, Pricing::entered(Money(1_000)), Ratio::DEFAULT);
        assert_eq!(
            (e.routed_tier, e.recommended_tier),
            (Tier::Frontier, Tier::Small)
        );
        assert!(e.in_value_zone);
        assert!(e.flags.contains(Flag::OverTier));
        assert_eq!(e.leakage, Money(900));

        let mut k = funded(Tier::Small, answers(false, false, true));
        k.verdict_override = Some(Override {
            value: Verdict::Kill,
            reason: "vendor contract ends".into(),
        });
        let e = evaluate(&k, Pricing::entered(Money(1_000)), Ratio::DEFAULT);
        assert_eq!((e.gated_verdict, e.verdict), (Verdict::Fund, Verdict::Kill));
        assert_eq!(e.leakage, Money(1_000));
    }

    fn total_of(rows: &[(WorkflowFields, i64)]) -> Totals {
        let evals: Vec<Evaluation> = rows
            .iter()
            .map(|(w, s)| evaluate(w, Pricing::entered(Money(*s)), Ratio::DEFAULT))
            .collect();
        totals(&evals)
    }

    #[test]
    fn totals_add_up_exactly_and_count_verdicts_and_overrides() {
        let fund = funded(Tier::Frontier, answers(true, true, true));
        let over = funded(Tier::Frontier, answers(false, false, true));
        let mut pause = funded(Tier::Small, answers(false, false, true));
        pause.next_step.clear();
        let mut kill = funded(Tier::Frontier, answers(true, true, false));
        kill.verdict_override = Some(Override {
            value: Verdict::Kill,
            reason: "r".into(),
        });
        let t = total_of(&[(fund, 5_000), (over, 1_005), (pause, 300), (kill, 2_000)]);
        assert_eq!(t.total_spend, Money(8_305));
        assert_eq!(t.earning, Money(5_000 + 101));
        assert_eq!(t.at_risk, Money(300));
        assert_eq!(t.leakage, Money(904 + 2_000));
        assert_eq!(t.earning + t.at_risk + t.leakage, t.total_spend);
        assert_eq!(t.frontier_spend, Money(8_005));
        assert_eq!(t.frontier_value_zone_spend, Money(5_000));
        assert_eq!(
            t.frontier_value_zone_share().unwrap().to_decimal(),
            "0.6246"
        );
        assert_eq!(
            t.counts,
            Counts {
                fund: 2,
                pause: 1,
                kill: 1
            }
        );
        assert_eq!(t.overrides, 1);
        assert_eq!(t.projected_spend(), Money(5_401));
    }

    #[test]
    fn the_score_is_the_spend_weighted_mean_of_four_shares() {
        // One perfect workflow (75 spend) and one with nothing (25 spend, no business case,
        // on frontier): ownership 75%, measurement 75%, routing fit 75%, gate 75%.
        let good = funded(Tier::Small, answers(false, false, true));
        let bad = WorkflowFields::blank(Tier::Frontier);
        let t = total_of(&[(good.clone(), 75), (bad.clone(), 25)]);
        assert_eq!(t.score, Some(75));
        assert_eq!(t.level(), Some(Level::PortfolioManaged));
        // Half up: 4 shares summing to 2.5/4 of the spend → 62.5 → 63.
        let mut owned_only = bad.clone();
        owned_only.owner = "Bo".into();
        let t = total_of(&[(good.clone(), 1), (owned_only, 1), (bad.clone(), 2)]);
        // ownership 2/4, measurement 1/4, fit 1/4, gate 1/4 → 5/16 = 31.25 → 31
        assert_eq!(t.score, Some(31));
        let t = total_of(&[(good.clone(), 5), (bad.clone(), 3)]);
        // each share 5/8 → 62.5 → 63
        assert_eq!(t.score, Some(63));
    }

    #[test]
    fn with_no_spend_the_score_weighs_by_count_and_with_no_workflows_there_is_none() {
        let good = funded(Tier::Small, answers(false, false, true));
        let bad = WorkflowFields::blank(Tier::Frontier);
        let t = total_of(&[(good, 0), (bad, 0)]);
        assert_eq!(t.score, Some(50));
        let empty = total_of(&[]);
        assert_eq!(empty.score, None);
        assert_eq!(empty.level(), None);
        assert_eq!(empty.share_of_total(Money(0)), None);
        assert_eq!(empty.frontier_value_zone_share(), None);
    }

    #[test]
    fn levels_have_their_boundaries() {
        let table = [
            (0, Level::Tokenmaxxing),
            (39, Level::Tokenmaxxing),
            (40, Level::TieredInName),
            (69, Level::TieredInName),
            (70, Level::PortfolioManaged),
            (89, Level::PortfolioManaged),
            (90, Level::OwnedOutcomes),
            (100, Level::OwnedOutcomes),
        ];
        for (score, level) in table {
            assert_eq!(Level::of(score), level, "{score}");
        }
        assert_eq!(Level::TieredInName.label(), "Tiered in name");
    }

    #[test]
    fn the_largest_scorecard_of_the_largest_amounts_totals_without_overflow() {
        use crate::scorecard::model::MAX_WORKFLOWS;
        use crate::scorecard::money::MAX_MINOR;
        let w = funded(Tier::Small, answers(false, false, true));
        let e = evaluate(&w, Pricing::entered(Money(MAX_MINOR)), Ratio::DEFAULT);
        let t = totals((0..MAX_WORKFLOWS).map(|_| &e));
        assert_eq!(t.total_spend, Money(MAX_MINOR * MAX_WORKFLOWS as i64));
        assert_eq!(t.score, Some(100));
    }
}
