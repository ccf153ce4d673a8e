//! The CSV contract: export, and an all-or-nothing import.
//!
//! Import is split in two: `parse` reads the file and `plan` decides, without touching
//! the database, what each row would do to the stored workflows. Only a plan with no
//! error is written, in one transaction, so a bad file changes nothing.
//!
//! Cells that a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, tab
//! or carriage return) are exported behind a `'`, and import takes it off again, so a
//! round trip gives back the same text.

use std::collections::HashMap;

use serde::Serialize;

use super::input::{self, Column, Context, RawWorkflow};
use super::model::{Workflow, WorkflowFields, name_key};
use super::money::Currency;
use super::report::Report;

/// One problem in an import, with the file's line number (the header is line 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    pub line: u64,
    /// The column to change, when the problem is in one cell.
    pub column: Option<&'static str>,
    pub message: String,
}

/// A file read into rows, before any rule is checked.
#[derive(Debug)]
pub struct Parsed {
    pub columns: Vec<Column>,
    pub rows: Vec<(u64, RawWorkflow)>,
}

/// What an import would do.
#[derive(Debug, PartialEq, Eq)]
pub enum Change {
    Add(WorkflowFields),
    Update { id: i64, fields: WorkflowFields },
}

const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Whether a cell could be read as a formula, looking past any quotes already guarding it.
fn looks_like_formula(cell: &str) -> bool {
    cell.trim_start_matches('\'').starts_with(FORMULA_STARTS)
}

pub fn neutralise(cell: &str) -> String {
    if looks_like_formula(cell) {
        format!("'{cell}")
    } else {
        cell.to_string()
    }
}

pub fn restore(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if looks_like_formula(cell) => rest,
        _ => cell,
    }
}

/// The scorecard as CSV, every column, in page order.
pub fn export(report: &Report) -> Result<Vec<u8>, csv::Error> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(Column::ALL.iter().map(|c| c.as_str()))?;
    for row in report.rows() {
        let record = Column::ALL
            .map(|c| neutralise(&cell(&row.workflow.fields, c, report.scorecard().currency)));
        out.write_record(&record)?;
    }
    out.into_inner().map_err(|e| e.into_error().into())
}

/// One field as text, the way the CSV and the edit form write it.
pub fn cell(f: &WorkflowFields, column: Column, currency: Currency) -> String {
    let yes_no = |b: bool| super::model::yes_no(b).to_string();
    let v = f.volumes.as_ref();
    match column {
        Column::Name => f.name.clone(),
        Column::Team => f.team.clone(),
        Column::Description => f.description.clone(),
        // An estimated spend is derived from the volumes, so it is not exported as typed.
        Column::MonthlySpend => match v {
            Some(_) => String::new(),
            None => f.monthly_spend.to_decimal(currency),
        },
        Column::CurrentTier => f.current_tier.as_str().into(),
        Column::Owner => f.owner.clone(),
        Column::Metric => f.metric.clone(),
        Column::NextStep => f.next_step.clone(),
        Column::KillCriteria => f.kill_criteria.clone(),
        Column::Stakes => yes_no(f.answers.stakes),
        Column::Ambiguity => yes_no(f.answers.ambiguity),
        Column::BusinessCase => yes_no(f.answers.business_case),
        Column::SensitiveData => yes_no(f.answers.sensitive_data),
        Column::Defended => yes_no(f.defended),
        Column::TierOverride => f
            .tier_override
            .as_ref()
            .map_or(String::new(), |o| o.value.as_str().into()),
        Column::TierOverrideReason => f
            .tier_override
            .as_ref()
            .map_or(String::new(), |o| o.reason.clone()),
        Column::VerdictOverride => f
            .verdict_override
            .as_ref()
            .map_or(String::new(), |o| o.value.as_str().into()),
        Column::VerdictOverrideReason => f
            .verdict_override
            .as_ref()
            .map_or(String::new(), |o| o.reason.clone()),
        Column::Model => v.map_or(String::new(), |v| v.model.clone()),
        Column::MonthlyInputTokens => v.map_or(String::new(), |v| v.input_tokens.to_string()),
        Column::MonthlyOutputTokens => v.map_or(String::new(), |v| v.output_tokens.to_string()),
        Column::TargetModel => v.and_then(|v| v.target_model.clone()).unwrap_or_default(),
    }
}

/// Reads a CSV file: UTF-8 with a header row naming known columns, `name` among them.
pub fn parse(bytes: &[u8]) -> Result<Parsed, Vec<RowError>> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let header_error = |message: String| {
        vec![RowError {
            line: 1,
            column: None,
            message,
        }]
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(header_error(
            "the file is empty: it needs a header row naming the columns, then one row per workflow".into(),
        ));
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(bytes);
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => return Err(header_error(describe(&e))),
    };
    let mut columns = Vec::with_capacity(headers.len());
    let mut unknown = Vec::new();
    let mut repeated = Vec::new();
    for name in headers.iter() {
        let name = name.trim().to_ascii_lowercase();
        match Column::parse(&name) {
            Some(c) if columns.contains(&c) => repeated.push(name),
            Some(c) => columns.push(c),
            None => unknown.push(name),
        }
    }
    let mut errors = Vec::new();
    if !unknown.is_empty() {
        errors.push(RowError {
            line: 1,
            column: None,
            message: format!(
                "unknown column{} {}: remove or rename {}; the columns are {}",
                if unknown.len() > 1 { "s" } else { "" },
                quoted(&unknown),
                if unknown.len() > 1 { "them" } else { "it" },
                Column::ALL.map(Column::as_str).join(", ")
            ),
        });
    }
    if !repeated.is_empty() {
        errors.push(RowError {
            line: 1,
            column: None,
            message: format!(
                "column {} appears more than once: keep one",
                quoted(&repeated)
            ),
        });
    }
    if !columns.contains(&Column::Name) {
        errors.push(RowError {
            line: 1,
            column: None,
            message: "the header has no \"name\" column: every row needs the workflow's name"
                .into(),
        });
    }
    if !errors.is_empty() {
        return Err(errors);
    }

    let lines = LineIndex::new(bytes);
    let mut rows = Vec::new();
    for record in reader.records() {
        match record {
            Ok(record) => {
                let line = record.position().map_or(0, |p| lines.line_at(p.byte()));
                let mut raw = RawWorkflow::default();
                for (column, value) in columns.iter().zip(record.iter()) {
                    raw.set(*column, restore(value));
                }
                rows.push((line, raw));
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| lines.line_at(p.byte()));
                errors.push(RowError {
                    line,
                    column: None,
                    message: describe(&e),
                });
                if !matches!(
                    e.kind(),
                    csv::ErrorKind::UnequalLengths { .. } | csv::ErrorKind::Utf8 { .. }
                ) {
                    break;
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(Parsed { columns, rows })
    } else {
        Err(errors)
    }
}

/// Line numbers by byte offset. The reader's own line count lags by one after a CRLF
/// line end (it reports where the `\n` of the previous line sits), so lines are counted
/// here from the bytes.
struct LineIndex<'a> {
    bytes: &'a [u8],
    newlines: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        // Lines end in LF or CRLF; a file without a single LF is from classic Mac OS, whose
        // lines end in a lone CR.
        let end = if bytes.contains(&b'\n') { b'\n' } else { b'\r' };
        let newlines = bytes
            .iter()
            .enumerate()
            .filter_map(|(i, b)| (*b == end).then_some(i))
            .collect();
        LineIndex { bytes, newlines }
    }

    /// The 1-based line of the first character of the record starting at `offset`.
    fn line_at(&self, offset: u64) -> u64 {
        let mut at = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(self.bytes.len());
        while matches!(self.bytes.get(at), Some(b'\r' | b'\n')) {
            at += 1;
        }
        self.newlines.partition_point(|&n| n < at) as u64 + 1
    }
}

fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("{n:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn describe(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Utf8 { .. } => {
            "this line is not UTF-8 text: save the file as CSV UTF-8 and upload it again".into()
        }
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!(
            "this row has {len} cells but the header has {expected_len}: check for a missing or extra comma"
        ),
        _ => format!("the file could not be read as CSV: {e}"),
    }
}

/// Decides what every row does to the stored workflows, or reports every bad row.
pub fn plan(
    parsed: &Parsed,
    existing: &[Workflow],
    ctx: Context<'_>,
) -> Result<Vec<Change>, Vec<RowError>> {
    let by_key: HashMap<String, &Workflow> = existing
        .iter()
        .map(|w| (name_key(&w.fields.name), w))
        .collect();
    // The line on which each name was first seen in this file.
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut changes = Vec::with_capacity(parsed.rows.len());
    let mut errors = Vec::new();
    for (line, raw) in &parsed.rows {
        let name = raw.get(Column::Name).unwrap_or_default();
        let key = name_key(name);
        if !key.is_empty() {
            if let Some(first) = seen.get(&key) {
                errors.push(RowError {
                    line: *line,
                    column: Some(Column::Name.as_str()),
                    message: format!(
                        "{:?} is already on line {first}: give each workflow one row",
                        name.trim()
                    ),
                });
                continue;
            }
            seen.insert(key.clone(), *line);
        }
        let base = by_key.get(&key).copied();
        // The name matches without regard to case and identifies the workflow: a file
        // typed in lowercase does not respell the stored name.
        let mut raw = raw.clone();
        if let Some(w) = base {
            raw.set(Column::Name, w.fields.name.clone());
        }
        match input::apply(&raw, base.map(|w| &w.fields), ctx) {
            Ok(fields) => changes.push(match base {
                Some(w) => Change::Update { id: w.id, fields },
                None => Change::Add(fields),
            }),
            Err(field_errors) => errors.extend(field_errors.0.into_iter().map(
                |(column, message)| RowError {
                    line: *line,
                    column: Some(column.as_str()),
                    message,
                },
            )),
        }
    }
    if errors.is_empty() {
        Ok(changes)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;

    fn ctx(catalog: &Catalog) -> Context<'_> {
        Context {
            currency: Currency::USD,
            catalog,
        }
    }

    #[test]
    fn formula_cells_are_neutralised_and_restored() {
        for text in [
            "=1+1", "+44 20", "-5", "@SUM(A1)", "\tx", "\rx", "'=x", "''@y",
        ] {
            let out = neutralise(text);
            assert!(out.starts_with('\''), "{text:?} → {out:?}");
            assert_eq!(restore(&out), text);
        }
        for text in ["plain", "'quoted", "", "a=b"] {
            assert_eq!(neutralise(text), text);
            assert_eq!(restore(text), text);
        }
    }

    #[test]
    fn unknown_and_missing_columns_are_named() {
        let errors = parse(b"name,colour,size\nx,red,1\n").unwrap_err();
        assert_eq!(errors[0].line, 1);
        assert!(
            errors[0].message.contains("\"colour\", \"size\""),
            "{}",
            errors[0].message
        );
        let errors = parse(b"team\nx\n").unwrap_err();
        assert!(errors[0].message.contains("\"name\""));
        assert!(parse(b"").is_err());
        assert!(parse(b"name,Name\nx,y\n").is_err());
    }

    #[test]
    fn headers_ignore_case_order_and_a_byte_order_mark() {
        let parsed = parse(b"\xEF\xBB\xBFCurrent_Tier, name \r\nsmall,Triage\r\n").unwrap();
        assert_eq!(parsed.columns, vec![Column::CurrentTier, Column::Name]);
        assert_eq!(parsed.rows[0].0, 2);
        assert_eq!(parsed.rows[0].1.get(Column::Name), Some("Triage"));
    }

    #[test]
    fn every_bad_row_is_reported_with_its_line() {
        let catalog = Catalog::bundled();
        let file = b"name,current_tier,monthly_spend\nGood,small,10\nBad tier,large,10\n,small,1\nBad spend,none,-3\ngood,small,2\n";
        let parsed = parse(file).unwrap();
        let errors = plan(&parsed, &[], ctx(&catalog)).unwrap_err();
        let lines: Vec<u64> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![3, 4, 5, 6], "{errors:?}");
        assert_eq!(errors[0].column, Some("current_tier"));
        assert!(errors[3].message.contains("line 2"));
    }

    #[test]
    fn ragged_rows_and_bad_encoding_are_reported_by_line() {
        let errors = parse(b"name,current_tier\na,small\nb\nc,small,extra\n").unwrap_err();
        assert_eq!(
            errors.iter().map(|e| e.line).collect::<Vec<_>>(),
            vec![3, 4]
        );
        let errors = parse(b"name,current_tier\n\xff\xfe,small\n").unwrap_err();
        assert!(errors[0].message.contains("UTF-8"));
    }

    #[test]
    fn lines_are_counted_in_files_from_classic_mac_os_too() {
        let catalog = Catalog::bundled();
        // Lines end in a lone CR; the second row's quoted cell spans two of them.
        let file = b"name,current_tier,next_step\rGood,small,\"one\rtwo\"\rBad,large,x\r";
        let parsed = parse(file).unwrap();
        assert_eq!(parsed.rows[0].0, 2);
        assert_eq!(parsed.rows[0].1.get(Column::NextStep), Some("one\rtwo"));
        let errors = plan(&parsed, &[], ctx(&catalog)).unwrap_err();
        assert_eq!(errors.iter().map(|e| e.line).collect::<Vec<_>>(), vec![4]);
        // With LF line ends, a CR inside a cell is not a line end.
        let file = b"name,current_tier,next_step\nGood,small,\"one\rtwo\"\nBad,large,x\n";
        let errors = plan(&parse(file).unwrap(), &[], ctx(&catalog)).unwrap_err();
        assert_eq!(errors.iter().map(|e| e.line).collect::<Vec<_>>(), vec![3]);
    }
}
