//! Counting a silent vote.

use crate::scorecard::model::Verdict;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ballot {
    pub participant: String,
    pub voter_name: String,
    pub verdict: Verdict,
}

/// The distribution of a vote and what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tally {
    pub fund: usize,
    pub pause: usize,
    pub kill: usize,
    /// The verdict with the most votes; `None` for a tie or no votes.
    pub majority: Option<Verdict>,
    /// Voters who chose other than the majority (everyone, when there is none).
    pub dissent: Vec<(String, Verdict)>,
}

impl Tally {
    pub fn of(ballots: &[Ballot]) -> Tally {
        let count = |v: Verdict| ballots.iter().filter(|b| b.verdict == v).count();
        let (fund, pause, kill) = (
            count(Verdict::Fund),
            count(Verdict::Pause),
            count(Verdict::Kill),
        );
        let top = fund.max(pause).max(kill);
        let leaders: Vec<Verdict> = Verdict::ALL
            .into_iter()
            .filter(|v| top > 0 && count(*v) == top)
            .collect();
        let majority = (leaders.len() == 1).then(|| leaders[0]);
        let dissent = ballots
            .iter()
            .filter(|b| Some(b.verdict) != majority)
            .map(|b| (b.voter_name.clone(), b.verdict))
            .collect();
        Tally {
            fund,
            pause,
            kill,
            majority,
            dissent,
        }
    }

    pub fn total(&self) -> usize {
        self.fund + self.pause + self.kill
    }

    /// More than one verdict was chosen.
    pub fn disagreement(&self) -> bool {
        [self.fund, self.pause, self.kill]
            .iter()
            .filter(|n| **n > 0)
            .count()
            > 1
    }

    /// One line for the history: the distribution, the result and every dissent.
    pub fn summary(&self) -> String {
        let result = match self.majority {
            Some(v) => format!("result: {}", v.as_str()),
            None if self.total() == 0 => "no votes".to_string(),
            None => "result: split, no majority".to_string(),
        };
        let mut line = format!(
            "fund {}, pause {}, kill {}; {result}",
            self.fund, self.pause, self.kill
        );
        if !self.dissent.is_empty() && self.majority.is_some() {
            let names: Vec<String> = self
                .dissent
                .iter()
                .map(|(name, v)| format!("{name} ({})", v.as_str()))
                .collect();
            line.push_str(&format!("; dissent: {}", names.join(", ")));
        }
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ballot(name: &str, verdict: Verdict) -> Ballot {
        Ballot {
            participant: name.to_lowercase(),
            voter_name: name.into(),
            verdict,
        }
    }

    #[test]
    fn the_majority_wins_and_every_other_voter_dissents() {
        let t = Tally::of(&[
            ballot("Ada", Verdict::Fund),
            ballot("Bo", Verdict::Fund),
            ballot("Cy", Verdict::Kill),
        ]);
        assert_eq!((t.fund, t.pause, t.kill), (2, 0, 1));
        assert_eq!(t.majority, Some(Verdict::Fund));
        assert!(t.disagreement());
        assert_eq!(t.dissent, vec![("Cy".to_string(), Verdict::Kill)]);
        assert_eq!(
            t.summary(),
            "fund 2, pause 0, kill 1; result: fund; dissent: Cy (kill)"
        );
    }

    #[test]
    fn a_tie_has_no_majority_and_unanimity_no_disagreement() {
        let tie = Tally::of(&[ballot("Ada", Verdict::Fund), ballot("Bo", Verdict::Pause)]);
        assert_eq!(tie.majority, None);
        assert!(tie.summary().contains("split"));
        let same = Tally::of(&[ballot("Ada", Verdict::Kill), ballot("Bo", Verdict::Kill)]);
        assert!(!same.disagreement());
        assert!(same.dissent.is_empty());
        let none = Tally::of(&[]);
        assert_eq!(none.majority, None);
        assert_eq!(none.summary(), "fund 0, pause 0, kill 0; no votes");
    }
}
