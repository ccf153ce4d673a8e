//! The rows of the scorecard page's workflow table, written by hand rather than by the
//! template loop.
//!
//! A page holds up to 100 rows and is rendered on every load by every participant, and
//! the rows are nearly all of it. A row is a few values (the id, what people typed, two
//! amounts) between runs of fixed markup; each run depends only on a handful of choices
//! (tiers, verdict, overrides, flags), so every variant of it is built once per process
//! and a row is a dozen plain copies into a reused `String`, which then goes to the page
//! in one write. A row is about a kilobyte, so that last copy is cheap, unlike the many
//! small writes through `fmt::Write` a template loop makes. Only what people typed (name,
//! team, owner, metric) is escaped.
//!
//! The markup is the template loop's, without indentation between cells;
//! `templates/scorecard.html` holds the table's head and says where these rows go.

use std::fmt;
use std::sync::LazyLock;

use super::model::{Tier, Verdict};
use super::money::{Currency, Shown};
use super::report::{Report, Row};
use super::rules::{Flag, Flags};
use crate::web::escape::{Escaped, checked, push_checked, push_escaped};
use crate::web::page;

/// The rows shown on one page, with the Edit link on edit pages only.
pub struct TableRows<'a> {
    pub report: &'a Report,
    /// Positions (in list order) of the rows to write.
    pub shown: &'a [usize],
    /// The page's link base (`/s/{token}`), on edit pages only.
    pub edit_base: Option<&'a Escaped>,
}

impl TableRows<'_> {
    /// Appends every row to the page.
    pub fn push_into(&self, html: &mut String) {
        let markup = &*MARKUP;
        let currency = self.report.scorecard().currency;
        let edit_link = self.edit_link();
        for &index in self.shown {
            let row = self.report.row(index);
            push_row(html, markup, row, currency, edit_link.as_deref());
        }
    }

    /// Writes every row to any writer, one row at a time.
    pub fn write<W: fmt::Write + ?Sized>(&self, out: &mut W) -> fmt::Result {
        let markup = &*MARKUP;
        let currency = self.report.scorecard().currency;
        let edit_link = self.edit_link();
        let mut html = String::with_capacity(ROW_BYTES);
        for &index in self.shown {
            html.clear();
            let row = self.report.row(index);
            push_row(&mut html, markup, row, currency, edit_link.as_deref());
            out.write_str(&html)?;
        }
        Ok(())
    }

    /// From the end of the leakage to the workflow id in the Edit link.
    fn edit_link(&self) -> Option<String> {
        self.edit_base
            .map(|base| ["</td><td><a href=\"", base.as_html(), "/workflows/"].concat())
    }
}

impl fmt::Display for TableRows<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f)
    }
}

impl askama::FastWritable for TableRows<'_> {
    /// Rendered by `PageHtml`, the rows go straight into the page's buffer.
    fn write_into(
        &self,
        dest: &mut dyn fmt::Write,
        values: &dyn askama::Values,
    ) -> askama::Result<()> {
        match page::lent(values) {
            Some(mut html) => {
                self.push_into(&mut html);
                Ok(())
            }
            None => Ok(self.write(dest)?),
        }
    }
}

/// Every text a person typed is escaped by `push_row` itself.
impl askama::filters::HtmlSafe for TableRows<'_> {}

/// Room for a row with long texts; a longer one grows the buffer.
pub const ROW_BYTES: usize = 1280;

fn push_row(
    html: &mut String,
    markup: &Markup,
    row: Row<'_>,
    currency: Currency,
    edit_link: Option<&str>,
) {
    let (w, e) = (row.workflow, row.eval);
    let f = &w.fields;
    // The name goes into the page twice on edit pages: checked once.
    let name = checked(&f.name);
    let mut id = itoa::Buffer::new();
    let id = id.format(w.id);
    let (has_team, has_owner, has_metric) = (
        !f.team.is_empty(),
        !f.owner.is_empty(),
        !f.metric.is_empty(),
    );

    html.push_str("<tr id=\"wf-");
    html.push_str(id);
    html.push_str(&markup.name_cell[verdict_index(e.verdict)]);
    push_checked(html, name);
    if has_team {
        html.push_str("</strong><br><span class=\"muted\">");
        push_escaped(html, &f.team);
    }
    html.push_str(&markup.spend_cell[usize::from(has_team) * 2 + usize::from(e.in_value_zone)]);
    push_amount(html, e.spend.shown(currency));
    html.push_str(
        &markup.owner_cell[usize::from(f.volumes.is_some()) * 2 + usize::from(has_owner)],
    );
    if has_owner {
        push_escaped(html, &f.owner);
    }
    html.push_str(&markup.metric_cell[usize::from(has_metric)]);
    if has_metric {
        push_escaped(html, &f.metric);
    }
    html.push_str(
        &markup.tier_to_flags[tier_to_flags_index(
            f.current_tier,
            e.recommended_tier,
            f.tier_override.is_some(),
            e.verdict,
            f.verdict_override.is_some(),
        )],
    );
    html.push_str(&markup.flags_to_leakage[flags_to_leakage_index(e.flags, e.leakage.0 > 0)]);
    push_amount(html, e.leakage.shown(currency));
    match edit_link {
        None => html.push_str("</td></tr>\n"),
        Some(link) => {
            html.push_str(link);
            html.push_str(id);
            html.push_str("/edit\" aria-label=\"Edit ");
            push_checked(html, name);
            html.push_str("\">Edit</a></td></tr>\n");
        }
    }
}

#[inline(always)]
fn push_amount(html: &mut String, amount: Shown) {
    // Writing into a `String` never fails.
    let _ = amount.write_to(html);
}

/// Every variant of each run of fixed markup in a row, indexed by the choices it
/// depends on (see the `_index` functions).
struct Markup {
    /// From the end of the row's id to the start of the name, by verdict.
    name_cell: Vec<String>,
    /// From the end of the name or team to the spend, by team shown and value zone.
    spend_cell: Vec<String>,
    /// From the end of the spend to the owner, by estimated and owner named.
    owner_cell: Vec<String>,
    /// From the end of the owner to the metric, by metric named.
    metric_cell: Vec<String>,
    /// From the end of the metric to the flags, by tiers, verdict and overrides.
    tier_to_flags: Vec<String>,
    /// The flags and the start of the leakage cell, by flags and leakage.
    flags_to_leakage: Vec<String>,
}

static MARKUP: LazyLock<Markup> = LazyLock::new(Markup::build);

const NONE: &str = "<span class=\"missing\">none</span>";
const ESTIMATED: &str = "<br><span class=\"tag\">estimated</span>";
const VALUE_ZONE: &str = " <span class=\"tag vz\" title=\"High stakes, high ambiguity, with a business case\">value zone</span>";
const OVERRIDE: &str =
    " <span class=\"tag\" title=\"Overridden by the facilitator\">override</span>";

impl Markup {
    /// Put together with `concat`, which copies each piece once: this runs once per
    /// process, but should not cost more than a few page loads.
    fn build() -> Markup {
        let cell = "</td><td data-label=";
        let name_cell = Verdict::ALL.map(|v| {
            let open = "\"><td data-label=\"Workflow\"><strong class=\"wf-name\">";
            ["\" class=\"verdict-", v.as_str(), open].concat()
        });
        let mut spend_cell = Vec::new();
        for has_team in [false, true] {
            for in_value_zone in [false, true] {
                spend_cell.push(
                    [
                        if has_team { "</span>" } else { "</strong>" },
                        if in_value_zone { VALUE_ZONE } else { "" },
                        cell,
                        "\"Monthly spend\" class=\"num\">",
                    ]
                    .concat(),
                );
            }
        }
        let mut owner_cell = Vec::new();
        for estimated in [false, true] {
            for has_owner in [false, true] {
                owner_cell.push(
                    [
                        if estimated { ESTIMATED } else { "" },
                        cell,
                        "\"Owner\">",
                        if has_owner { "" } else { NONE },
                    ]
                    .concat(),
                );
            }
        }
        let metric_cell = [false, true]
            .map(|has_metric| [cell, "\"Metric\">", if has_metric { "" } else { NONE }].concat());
        let mut tier_to_flags = vec![String::new(); 3 * 3 * 2 * 3 * 2];
        for current in Tier::ALL {
            for recommended in Tier::ALL {
                for tier_override in [false, true] {
                    for verdict in Verdict::ALL {
                        for verdict_override in [false, true] {
                            let (c, r, v) =
                                (current.as_str(), recommended.as_str(), verdict.as_str());
                            let index = tier_to_flags_index(
                                current,
                                recommended,
                                tier_override,
                                verdict,
                                verdict_override,
                            );
                            tier_to_flags[index] = [
                                cell,
                                "\"Tier\"><span class=\"tier tier-",
                                c,
                                "\">",
                                c,
                                "</span> → <span class=\"tier tier-",
                                r,
                                "\">",
                                r,
                                "</span>",
                                if tier_override { OVERRIDE } else { "" },
                                cell,
                                "\"Verdict\"><span class=\"verdict v-",
                                v,
                                "\">",
                                v,
                                "</span>",
                                if verdict_override { OVERRIDE } else { "" },
                                cell,
                                "\"Flags\">",
                            ]
                            .concat();
                        }
                    }
                }
            }
        }
        let mut flags_to_leakage = vec![String::new(); 2 << Flag::ALL.len()];
        for bits in 0..1_usize << Flag::ALL.len() {
            let mut flags = Flags::default();
            let mut shown = Vec::new();
            for (i, flag) in Flag::ALL.into_iter().enumerate() {
                if bits & (1 << i) != 0 {
                    flags.insert(flag);
                    shown.extend([
                        "<span class=\"flag flag-",
                        flag.class(),
                        "\">",
                        flag.label(),
                        "</span> ",
                    ]);
                }
            }
            for leaks in [false, true] {
                let leakage = if leaks { " leak\">" } else { "\">" };
                shown.extend([cell, "\"Leakage\" class=\"num", leakage]);
                flags_to_leakage[flags_to_leakage_index(flags, leaks)] = shown.concat();
                shown.truncate(shown.len() - 3);
            }
        }
        Markup {
            name_cell: name_cell.into(),
            spend_cell,
            owner_cell,
            metric_cell: metric_cell.into(),
            tier_to_flags,
            flags_to_leakage,
        }
    }
}

fn verdict_index(verdict: Verdict) -> usize {
    match verdict {
        Verdict::Fund => 0,
        Verdict::Pause => 1,
        Verdict::Kill => 2,
    }
}

fn tier_index(tier: Tier) -> usize {
    match tier {
        Tier::Frontier => 0,
        Tier::Small => 1,
        Tier::None => 2,
    }
}

fn tier_to_flags_index(
    current: Tier,
    recommended: Tier,
    tier_override: bool,
    verdict: Verdict,
    verdict_override: bool,
) -> usize {
    let tiers = tier_index(current) * 3 + tier_index(recommended);
    let tiers = tiers * 2 + usize::from(tier_override);
    (tiers * 3 + verdict_index(verdict)) * 2 + usize::from(verdict_override)
}

fn flags_to_leakage_index(flags: Flags, leaks: bool) -> usize {
    let bits = Flag::ALL
        .into_iter()
        .enumerate()
        .fold(0, |bits, (i, flag)| {
            bits | usize::from(flags.contains(flag)) << i
        });
    bits * 2 + usize::from(leaks)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scorecard::fixtures::{self, scorecard, workflow};
    use crate::scorecard::model::{Answers, Override, Volumes, Workflow, WorkflowFields};

    fn report(workflows: Vec<Workflow>) -> Report {
        fixtures::report(scorecard("Rows", 1), workflows)
    }

    /// The rows' HTML, checked to be the same written into the page or through a writer.
    fn rows_html(report: &Report, edit_base: Option<&Escaped>) -> String {
        let shown: Vec<usize> = (0..report.len()).collect();
        let rows = TableRows {
            report,
            shown: &shown,
            edit_base,
        };
        let mut page = String::new();
        rows.push_into(&mut page);
        assert_eq!(rows.to_string(), page);
        page
    }

    /// Nothing filled in: killed, every flag about what is missing, no money.
    fn bare() -> Workflow {
        let mut fields = WorkflowFields::blank(Tier::Small);
        fields.name = "Bare".into();
        workflow(7, fields)
    }

    /// Everything shown at once: text to escape, a team, the value zone, an estimated
    /// spend, both overrides, flags and leakage.
    fn full() -> Workflow {
        let mut fields = WorkflowFields::blank(Tier::Frontier);
        fields.name = "Claims <b>\"triage\"</b> & 'more'".into();
        fields.team = "Ops & <Claims>".into();
        fields.owner = "Ada \"A\" O'Neil".into();
        fields.metric = "Minutes < 5".into();
        fields.next_step = "Move".into();
        fields.defended = true;
        fields.volumes = Some(Volumes {
            model: "gpt-4o".into(),
            input_tokens: 1_000_000_000,
            output_tokens: 100_000_000,
            target_model: None,
        });
        fields.answers = Answers {
            stakes: true,
            ambiguity: true,
            business_case: true,
            sensitive_data: true,
        };
        fields.tier_override = Some(Override {
            value: Tier::Small,
            reason: "cheaper".into(),
        });
        fields.verdict_override = Some(Override {
            value: Verdict::Pause,
            reason: "wait".into(),
        });
        workflow(42, fields)
    }

    // The page's CSS, script and browser tests depend on this markup (the template loop's,
    // without the indentation between cells).

    #[test]
    fn a_row_with_nothing_filled_in_shows_none_and_the_flags() {
        let html = rows_html(&report(vec![bare()]), None);
        let expected = concat!(
            "<tr id=\"wf-7\" class=\"verdict-kill\">",
            "<td data-label=\"Workflow\"><strong class=\"wf-name\">Bare</strong></td>",
            "<td data-label=\"Monthly spend\" class=\"num\">USD 0.00</td>",
            "<td data-label=\"Owner\"><span class=\"missing\">none</span></td>",
            "<td data-label=\"Metric\"><span class=\"missing\">none</span></td>",
            "<td data-label=\"Tier\"><span class=\"tier tier-small\">small</span> → ",
            "<span class=\"tier tier-none\">none</span></td>",
            "<td data-label=\"Verdict\"><span class=\"verdict v-kill\">kill</span></td>",
            "<td data-label=\"Flags\"><span class=\"flag flag-no-owner\">no owner</span> ",
            "<span class=\"flag flag-no-metric\">no metric</span> ",
            "<span class=\"flag flag-no-next-step\">no next step</span> ",
            "<span class=\"flag flag-over-tier\">over-tier</span> </td>",
            "<td data-label=\"Leakage\" class=\"num\">USD 0.00</td>",
            "</tr>\n",
        );
        assert_eq!(html, expected);
    }

    #[test]
    fn a_row_with_everything_shows_it_with_typed_text_escaped() {
        let html = rows_html(&report(vec![full()]), None);
        let expected = concat!(
            "<tr id=\"wf-42\" class=\"verdict-pause\">",
            "<td data-label=\"Workflow\"><strong class=\"wf-name\">",
            "Claims &#60;b&#62;&#34;triage&#34;&#60;/b&#62; &#38; &#39;more&#39;</strong>",
            "<br><span class=\"muted\">Ops &#38; &#60;Claims&#62;</span> ",
            "<span class=\"tag vz\" title=\"High stakes, high ambiguity, with a business case\">",
            "value zone</span></td>",
            "<td data-label=\"Monthly spend\" class=\"num\">USD 3,500.00",
            "<br><span class=\"tag\">estimated</span></td>",
            "<td data-label=\"Owner\">Ada &#34;A&#34; O&#39;Neil</td>",
            "<td data-label=\"Metric\">Minutes &#60; 5</td>",
            "<td data-label=\"Tier\"><span class=\"tier tier-frontier\">frontier</span> → ",
            "<span class=\"tier tier-small\">small</span> ",
            "<span class=\"tag\" title=\"Overridden by the facilitator\">override</span></td>",
            "<td data-label=\"Verdict\"><span class=\"verdict v-pause\">pause</span> ",
            "<span class=\"tag\" title=\"Overridden by the facilitator\">override</span></td>",
            "<td data-label=\"Flags\"><span class=\"flag flag-over-tier\">over-tier</span> ",
            "<span class=\"flag flag-sensitive\">sensitive data on frontier API</span> </td>",
            "<td data-label=\"Leakage\" class=\"num leak\">USD 3,150.00</td>",
            "</tr>\n",
        );
        assert_eq!(html, expected);
    }

    #[test]
    fn on_an_edit_link_each_row_ends_with_an_edit_link_named_after_the_workflow() {
        let html = rows_html(
            &report(vec![bare(), full()]),
            Some(&Escaped::new("/s/abc&x")),
        );
        assert!(html.contains(concat!(
            "<td data-label=\"Leakage\" class=\"num\">USD 0.00</td>",
            "<td><a href=\"/s/abc&#38;x/workflows/7/edit\" aria-label=\"Edit Bare\">",
            "Edit</a></td></tr>\n",
        )));
        assert!(html.contains(concat!(
            "<a href=\"/s/abc&#38;x/workflows/42/edit\" aria-label=\"Edit Claims &#60;b&#62;",
            "&#34;triage&#34;&#60;/b&#62; &#38; &#39;more&#39;\">Edit</a>",
        )));
        assert_eq!(html.matches("<tr ").count(), 2);
        // A view link has no Edit link.
        assert!(!rows_html(&report(vec![bare()]), None).contains("/edit"));
    }

    #[test]
    fn rows_come_in_the_order_asked_for() {
        let mut second = bare();
        second.id = 8;
        second.fields.name = "Second".into();
        let report = report(vec![bare(), second]);
        let shown = [1, 0];
        let rows = TableRows {
            report: &report,
            shown: &shown,
            edit_base: None,
        };
        let html = rows.to_string();
        let first = html.find("wf-8").unwrap();
        assert!(first < html.find("wf-7").unwrap());
    }
}
