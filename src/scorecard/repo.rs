//! Every SQL statement about scorecards and workflows.
//!
//! Each function runs one statement on whatever executor it is given (the read pool, or a
//! write transaction), so handlers compose them inside one transaction and a second
//! database backend replaces only this file.

use std::sync::LazyLock;

use sqlx::{FromRow, SqliteConnection, SqliteExecutor};

use super::model::{
    Answers, Override, Scorecard, Tier, Verdict, Volumes, Workflow, WorkflowFields, name_key,
};
use super::money::{Currency, Money, Ratio};
use crate::db::{CHUNKS, chunk_statements, execute_chunked};
use crate::error::AppError;

/// Which capability a token grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkKind {
    Edit,
    View,
}

#[derive(FromRow)]
struct ScorecardRow {
    id: i64,
    name: String,
    currency: String,
    small_ratio_ppm: i64,
    edit_token: String,
    view_token: String,
    revision: i64,
    walk_workflow_id: Option<i64>,
}

impl TryFrom<ScorecardRow> for Scorecard {
    type Error = AppError;
    fn try_from(r: ScorecardRow) -> Result<Scorecard, AppError> {
        Ok(Scorecard {
            id: r.id,
            name: r.name,
            currency: Currency::parse(&r.currency).map_err(AppError::corrupt)?,
            small_ratio: Ratio::from_ppm(r.small_ratio_ppm)
                .ok_or_else(|| AppError::corrupt("small_ratio_ppm out of range"))?,
            edit_token: r.edit_token,
            view_token: r.view_token,
            revision: r.revision,
            walk_workflow_id: r.walk_workflow_id,
        })
    }
}

const SCORECARD_COLUMNS: &str =
    "id, name, currency, small_ratio_ppm, edit_token, view_token, revision, walk_workflow_id";

pub async fn insert_scorecard(
    db: impl SqliteExecutor<'_>,
    name: &str,
    currency: Currency,
    edit_token: &str,
    view_token: &str,
) -> Result<i64, AppError> {
    let id = sqlx::query(
        "insert into scorecards (name, currency, edit_token, view_token) values (?, ?, ?, ?)",
    )
    .bind(name)
    .bind(currency.code)
    .bind(edit_token)
    .bind(view_token)
    .execute(db)
    .await?
    .last_insert_rowid();
    Ok(id)
}

/// Every scorecard, oldest first.
pub async fn all_scorecards(db: impl SqliteExecutor<'_>) -> Result<Vec<Scorecard>, AppError> {
    let rows: Vec<ScorecardRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {SCORECARD_COLUMNS} from scorecards order by id"
    )))
    .fetch_all(db)
    .await?;
    rows.into_iter().map(Scorecard::try_from).collect()
}

/// Whether any scorecard uses this token, as edit or view link.
pub async fn token_in_use(db: impl SqliteExecutor<'_>, token: &str) -> Result<bool, AppError> {
    Ok(find_id_by_token(db, token).await?.is_some())
}

/// The id of the scorecard a token opens, as edit or view link.
pub async fn find_id_by_token(
    db: impl SqliteExecutor<'_>,
    token: &str,
) -> Result<Option<i64>, AppError> {
    Ok(
        sqlx::query_scalar("select id from scorecards where edit_token = ?1 or view_token = ?1")
            .bind(token)
            .fetch_optional(db)
            .await?,
    )
}

pub async fn get_scorecard(
    db: impl SqliteExecutor<'_>,
    id: i64,
) -> Result<Option<Scorecard>, AppError> {
    let row: Option<ScorecardRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {SCORECARD_COLUMNS} from scorecards where id = ?"
    )))
    .bind(id)
    .fetch_optional(db)
    .await?;
    row.map(Scorecard::try_from).transpose()
}

/// Sets the small-to-frontier ratio (used when re-creating a scorecard from an export).
pub async fn set_ratio(db: impl SqliteExecutor<'_>, id: i64, ratio: Ratio) -> Result<(), AppError> {
    sqlx::query("update scorecards set small_ratio_ppm = ? where id = ?")
        .bind(ratio.ppm())
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn update_settings(
    db: impl SqliteExecutor<'_>,
    id: i64,
    name: &str,
    currency: Currency,
    ratio: Ratio,
) -> Result<(), AppError> {
    sqlx::query(
        "update scorecards set name = ?, currency = ?, small_ratio_ppm = ?,
         updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') where id = ?",
    )
    .bind(name)
    .bind(currency.code)
    .bind(ratio.ppm())
    .bind(id)
    .execute(db)
    .await?;
    Ok(())
}

/// Bumps the scorecard's revision, returning the row as it now stands: every change does
/// this.
pub async fn bump_revision(db: impl SqliteExecutor<'_>, id: i64) -> Result<Scorecard, AppError> {
    let row: ScorecardRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "update scorecards set revision = revision + 1,
         updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') where id = ?
         returning {SCORECARD_COLUMNS}"
    )))
    .bind(id)
    .fetch_one(db)
    .await?;
    Scorecard::try_from(row)
}

/// A scorecard's revision; `None` when there is no such scorecard.
pub async fn revision(db: impl SqliteExecutor<'_>, id: i64) -> Result<Option<i64>, AppError> {
    Ok(
        sqlx::query_scalar("select revision from scorecards where id = ?")
            .bind(id)
            .fetch_optional(db)
            .await?,
    )
}

pub async fn set_token(
    db: impl SqliteExecutor<'_>,
    id: i64,
    kind: LinkKind,
    token: &str,
) -> Result<(), AppError> {
    let sql = match kind {
        LinkKind::Edit => "update scorecards set edit_token = ? where id = ?",
        LinkKind::View => "update scorecards set view_token = ? where id = ?",
    };
    sqlx::query(sql).bind(token).bind(id).execute(db).await?;
    Ok(())
}

/// Multiplies every entered spend by `10^shift`, or divides when `shift` is negative: a
/// change between currencies with different minor units keeps the amounts as written.
/// Returns false, changing nothing, if an amount would lose digits or overflow.
pub async fn rescale_spend(
    tx: &mut sqlx::SqliteConnection,
    scorecard_id: i64,
    shift: i32,
) -> Result<bool, AppError> {
    if shift == 0 {
        return Ok(true);
    }
    let factor = 10_i64.pow(shift.unsigned_abs());
    let blocked: i64 = if shift < 0 {
        sqlx::query_scalar(
            "select count(*) from workflows where scorecard_id = ? and monthly_spend % ? != 0",
        )
        .bind(scorecard_id)
        .bind(factor)
        .fetch_one(&mut *tx)
        .await?
    } else {
        sqlx::query_scalar(
            "select count(*) from workflows where scorecard_id = ? and monthly_spend > ?",
        )
        .bind(scorecard_id)
        .bind(super::money::MAX_MINOR / factor)
        .fetch_one(&mut *tx)
        .await?
    };
    if blocked > 0 {
        return Ok(false);
    }
    let sql = if shift < 0 {
        "update workflows set monthly_spend = monthly_spend / ? where scorecard_id = ?"
    } else {
        "update workflows set monthly_spend = monthly_spend * ? where scorecard_id = ?"
    };
    sqlx::query(sql)
        .bind(factor)
        .bind(scorecard_id)
        .execute(&mut *tx)
        .await?;
    Ok(true)
}

#[derive(FromRow)]
struct WorkflowRow {
    id: i64,
    version: i64,
    decided: bool,
    name: String,
    team: String,
    description: String,
    monthly_spend: i64,
    model: Option<String>,
    monthly_input_tokens: Option<i64>,
    monthly_output_tokens: Option<i64>,
    target_model: Option<String>,
    current_tier: String,
    owner: String,
    metric: String,
    next_step: String,
    kill_criteria: String,
    stakes: bool,
    ambiguity: bool,
    business_case: bool,
    sensitive_data: bool,
    defended: bool,
    tier_override: Option<String>,
    tier_override_reason: String,
    verdict_override: Option<String>,
    verdict_override_reason: String,
}

const WORKFLOW_COLUMNS: &str =
    "id, version, decided, name, team, description, monthly_spend, model,
    monthly_input_tokens, monthly_output_tokens, target_model, current_tier, owner, metric,
    next_step, kill_criteria, stakes, ambiguity, business_case, sensitive_data, defended,
    tier_override, tier_override_reason, verdict_override, verdict_override_reason";

impl TryFrom<WorkflowRow> for Workflow {
    type Error = AppError;
    fn try_from(r: WorkflowRow) -> Result<Workflow, AppError> {
        let tier_override = r
            .tier_override
            .map(|t| Tier::parse(&t))
            .transpose()
            .map_err(AppError::corrupt)?
            .map(|value| Override {
                value,
                reason: r.tier_override_reason,
            });
        let verdict_override = r
            .verdict_override
            .map(|v| Verdict::parse(&v))
            .transpose()
            .map_err(AppError::corrupt)?
            .map(|value| Override {
                value,
                reason: r.verdict_override_reason,
            });
        Ok(Workflow {
            id: r.id,
            version: r.version,
            decided: r.decided,
            fields: WorkflowFields {
                name: r.name,
                team: r.team,
                description: r.description,
                monthly_spend: Money(r.monthly_spend),
                volumes: r.model.map(|model| Volumes {
                    model,
                    input_tokens: r.monthly_input_tokens.unwrap_or(0),
                    output_tokens: r.monthly_output_tokens.unwrap_or(0),
                    target_model: r.target_model,
                }),
                current_tier: Tier::parse(&r.current_tier).map_err(AppError::corrupt)?,
                owner: r.owner,
                metric: r.metric,
                next_step: r.next_step,
                kill_criteria: r.kill_criteria,
                answers: Answers {
                    stakes: r.stakes,
                    ambiguity: r.ambiguity,
                    business_case: r.business_case,
                    sensitive_data: r.sensitive_data,
                },
                defended: r.defended,
                tier_override,
                verdict_override,
            },
        })
    }
}

/// Every workflow of a scorecard, in insertion order (the page sorts by spend, which for
/// estimated workflows is only known after pricing).
pub async fn list_workflows(
    db: impl SqliteExecutor<'_>,
    scorecard_id: i64,
) -> Result<Vec<Workflow>, AppError> {
    let rows: Vec<WorkflowRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {WORKFLOW_COLUMNS} from workflows where scorecard_id = ? order by id"
    )))
    .bind(scorecard_id)
    .fetch_all(db)
    .await?;
    rows.into_iter().map(Workflow::try_from).collect()
}

pub async fn get_workflow(
    db: impl SqliteExecutor<'_>,
    scorecard_id: i64,
    id: i64,
) -> Result<Option<Workflow>, AppError> {
    let row: Option<WorkflowRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {WORKFLOW_COLUMNS} from workflows where scorecard_id = ? and id = ?"
    )))
    .bind(scorecard_id)
    .bind(id)
    .fetch_optional(db)
    .await?;
    row.map(Workflow::try_from).transpose()
}

/// The id of the workflow with this name, ignoring case.
pub async fn find_workflow_by_name(
    db: impl SqliteExecutor<'_>,
    scorecard_id: i64,
    name: &str,
) -> Result<Option<i64>, AppError> {
    Ok(
        sqlx::query_scalar("select id from workflows where scorecard_id = ? and name_key = ?")
            .bind(scorecard_id)
            .bind(name_key(name))
            .fetch_optional(db)
            .await?,
    )
}

pub async fn count_workflows(
    db: impl SqliteExecutor<'_>,
    scorecard_id: i64,
) -> Result<i64, AppError> {
    Ok(
        sqlx::query_scalar("select count(*) from workflows where scorecard_id = ?")
            .bind(scorecard_id)
            .fetch_one(db)
            .await?,
    )
}

/// Whether any workflow's spend is estimated from catalog volumes.
pub async fn has_estimated_spend(
    db: impl SqliteExecutor<'_>,
    scorecard_id: i64,
) -> Result<bool, AppError> {
    let n: i64 = sqlx::query_scalar(
        "select count(*) from workflows where scorecard_id = ? and model is not null",
    )
    .bind(scorecard_id)
    .fetch_one(db)
    .await?;
    Ok(n > 0)
}

/// A workflow's fields as stored, column by column: the one place that says how fields
/// map to columns, for every statement that binds them.
struct Columns<'a> {
    name: &'a str,
    name_key: String,
    team: &'a str,
    description: &'a str,
    /// 0 when the spend is estimated from volumes.
    monthly_spend: i64,
    model: Option<&'a str>,
    monthly_input_tokens: Option<i64>,
    monthly_output_tokens: Option<i64>,
    target_model: Option<&'a str>,
    current_tier: &'static str,
    owner: &'a str,
    metric: &'a str,
    next_step: &'a str,
    kill_criteria: &'a str,
    stakes: bool,
    ambiguity: bool,
    business_case: bool,
    sensitive_data: bool,
    defended: bool,
    tier_override: Option<&'static str>,
    tier_override_reason: &'a str,
    verdict_override: Option<&'static str>,
    verdict_override_reason: &'a str,
}

/// The columns of `Columns`, in its order.
const FIELD_COLUMNS: [&str; 23] = [
    "name",
    "name_key",
    "team",
    "description",
    "monthly_spend",
    "model",
    "monthly_input_tokens",
    "monthly_output_tokens",
    "target_model",
    "current_tier",
    "owner",
    "metric",
    "next_step",
    "kill_criteria",
    "stakes",
    "ambiguity",
    "business_case",
    "sensitive_data",
    "defended",
    "tier_override",
    "tier_override_reason",
    "verdict_override",
    "verdict_override_reason",
];

impl<'a> Columns<'a> {
    fn of(f: &'a WorkflowFields) -> Columns<'a> {
        let v = f.volumes.as_ref();
        Columns {
            name: &f.name,
            name_key: name_key(&f.name),
            team: &f.team,
            description: &f.description,
            monthly_spend: if v.is_some() {
                0
            } else {
                f.monthly_spend.minor()
            },
            model: v.map(|v| v.model.as_str()),
            monthly_input_tokens: v.map(|v| v.input_tokens),
            monthly_output_tokens: v.map(|v| v.output_tokens),
            target_model: v.and_then(|v| v.target_model.as_deref()),
            current_tier: f.current_tier.as_str(),
            owner: &f.owner,
            metric: &f.metric,
            next_step: &f.next_step,
            kill_criteria: &f.kill_criteria,
            stakes: f.answers.stakes,
            ambiguity: f.answers.ambiguity,
            business_case: f.answers.business_case,
            sensitive_data: f.answers.sensitive_data,
            defended: f.defended,
            tier_override: f.tier_override.as_ref().map(|o| o.value.as_str()),
            tier_override_reason: f.tier_override.as_ref().map_or("", |o| o.reason.as_str()),
            verdict_override: f.verdict_override.as_ref().map(|o| o.value.as_str()),
            verdict_override_reason: f
                .verdict_override
                .as_ref()
                .map_or("", |o| o.reason.as_str()),
        }
    }
}

/// Binds a workflow's fields in the order of `FIELD_COLUMNS`; with `keeping name`, all
/// but the leading name columns (see `NAME_COLUMNS`).
macro_rules! bind_fields {
    ($query:expr, $f:expr) => {{
        let c = Columns::of($f);
        bind_fields!(@rest $query.bind(c.name).bind(c.name_key), c)
    }};
    ($query:expr, $f:expr, keeping name) => {{
        let c = Columns::of($f);
        bind_fields!(@rest $query, c)
    }};
    (@rest $query:expr, $c:ident) => {{
        $query
            .bind($c.team)
            .bind($c.description)
            .bind($c.monthly_spend)
            .bind($c.model)
            .bind($c.monthly_input_tokens)
            .bind($c.monthly_output_tokens)
            .bind($c.target_model)
            .bind($c.current_tier)
            .bind($c.owner)
            .bind($c.metric)
            .bind($c.next_step)
            .bind($c.kill_criteria)
            .bind($c.stakes)
            .bind($c.ambiguity)
            .bind($c.business_case)
            .bind($c.sensitive_data)
            .bind($c.defended)
            .bind($c.tier_override)
            .bind($c.tier_override_reason)
            .bind($c.verdict_override)
            .bind($c.verdict_override_reason)
    }};
}

/// Adds a workflow, returning it as stored.
pub async fn insert_workflow(
    db: impl SqliteExecutor<'_>,
    scorecard_id: i64,
    fields: &WorkflowFields,
) -> Result<Workflow, AppError> {
    let query = sqlx::query_as::<_, WorkflowRow>(sqlx::AssertSqlSafe(INSERT_WORKFLOW.as_str()));
    let row = bind_fields!(query, fields)
        .bind(scorecard_id)
        .fetch_one(db)
        .await?;
    Workflow::try_from(row)
}

/// Saves a workflow's fields and bumps its version, returning it as stored; `None` when
/// no such workflow exists in this scorecard.
pub async fn update_workflow(
    db: impl SqliteExecutor<'_>,
    scorecard_id: i64,
    id: i64,
    fields: &WorkflowFields,
) -> Result<Option<Workflow>, AppError> {
    let query = sqlx::query_as::<_, WorkflowRow>(sqlx::AssertSqlSafe(UPDATE_WORKFLOW.as_str()));
    let row = bind_fields!(query, fields)
        .bind(id)
        .bind(scorecard_id)
        .fetch_optional(db)
        .await?;
    row.map(Workflow::try_from).transpose()
}

/// Stores each workflow's fields and version as given, one statement per workflow in the
/// order given (a workflow may appear more than once: the last is what stays). Rows go in
/// chunks of `CHUNKS`, each run of renames and each run of rows keeping their names
/// chunked on its own. Returns how many rows it changed: each must exist in its
/// scorecard.
pub async fn update_workflows(
    conn: &mut SqliteConnection,
    workflows: &[SavedRow<'_>],
) -> Result<u64, AppError> {
    let mut written = 0;
    // Runs of rows that keep their names, and of rows that change them, in order.
    for run in workflows.chunk_by(|a, b| a.renamed == b.renamed) {
        let statements = if run[0].renamed {
            &*UPDATE_WORKFLOWS
        } else {
            &*UPDATE_WORKFLOWS_KEEPING_NAME
        };
        written += execute_chunked(conn, run, statements, |query, row| {
            let fields = &row.workflow.fields;
            let query = if row.renamed {
                bind_fields!(query, fields)
            } else {
                bind_fields!(query, fields, keeping name)
            };
            query
                .bind(row.workflow.version)
                .bind(row.workflow.id)
                .bind(row.scorecard_id)
        })
        .await?;
    }
    Ok(written)
}

/// A workflow as `update_workflows` stores it.
pub struct SavedRow<'a> {
    pub scorecard_id: i64,
    pub workflow: &'a Workflow,
    /// Its name changed: otherwise the name columns, and the unique index on them, are
    /// left as they are (rewriting an index entry costs a page write even when its
    /// value is the same).
    pub renamed: bool,
}

/// The leading columns of `FIELD_COLUMNS` that hold the name.
const NAME_COLUMNS: usize = 2;

/// For each of `CHUNKS`, that many copies of the statement that saves one workflow.
static UPDATE_WORKFLOWS: LazyLock<[String; CHUNKS.len()]> =
    LazyLock::new(|| update_statements(&FIELD_COLUMNS));

/// `UPDATE_WORKFLOWS` for workflows that keep their names.
static UPDATE_WORKFLOWS_KEEPING_NAME: LazyLock<[String; CHUNKS.len()]> =
    LazyLock::new(|| update_statements(&FIELD_COLUMNS[NAME_COLUMNS..]));

fn update_statements(columns: &[&str]) -> [String; CHUNKS.len()] {
    let one = format!(
        "update or rollback workflows set {}, version = ?,
            updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
         where id = ? and scorecard_id = ?;",
        set_columns(columns)
    );
    chunk_statements(|size| one.repeat(size))
}

/// `insert_workflow`'s statement: the fields, then the scorecard.
static INSERT_WORKFLOW: LazyLock<String> = LazyLock::new(|| {
    format!(
        "insert into workflows ({}, scorecard_id) values ({}) returning {WORKFLOW_COLUMNS}",
        FIELD_COLUMNS.join(", "),
        ["?"; FIELD_COLUMNS.len() + 1].join(", ")
    )
});

/// `update_workflow`'s statement: the fields, then the workflow and its scorecard.
static UPDATE_WORKFLOW: LazyLock<String> = LazyLock::new(|| {
    format!(
        "update workflows set {}, version = version + 1,
            updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
         where id = ? and scorecard_id = ?
         returning {WORKFLOW_COLUMNS}",
        set_columns(&FIELD_COLUMNS)
    )
});

/// `column = ?` for each of `columns`, in order, for `bind_fields!`.
fn set_columns(columns: &[&str]) -> String {
    columns
        .iter()
        .map(|c| format!("{c} = ?"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A scorecard's revision moving from `from` to `to`.
#[derive(Debug, Clone, Copy)]
pub struct RevisionChange {
    pub id: i64,
    pub from: i64,
    pub to: i64,
}

/// Sets each scorecard's revision where it still is `from`. Returns how many it set:
/// fewer than given means a revision had moved.
pub async fn move_revisions(
    conn: &mut SqliteConnection,
    revisions: &[RevisionChange],
) -> Result<u64, AppError> {
    let mut written = 0;
    for r in revisions {
        written += sqlx::query(
            "update or rollback scorecards set revision = ?,
                updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
             where id = ? and revision = ?",
        )
        .bind(r.to)
        .bind(r.id)
        .bind(r.from)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    }
    Ok(written)
}

/// Marks a workflow decided (or not) in the gate walk.
pub async fn set_decided(
    db: impl SqliteExecutor<'_>,
    scorecard_id: i64,
    id: i64,
    decided: bool,
) -> Result<bool, AppError> {
    let result = sqlx::query("update workflows set decided = ? where id = ? and scorecard_id = ?")
        .bind(decided)
        .bind(id)
        .bind(scorecard_id)
        .execute(db)
        .await?;
    Ok(result.rows_affected() == 1)
}

/// Moves the gate walk's shared position.
pub async fn set_walk_position(
    db: impl SqliteExecutor<'_>,
    scorecard_id: i64,
    workflow_id: i64,
) -> Result<(), AppError> {
    sqlx::query("update scorecards set walk_workflow_id = ? where id = ?")
        .bind(workflow_id)
        .bind(scorecard_id)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn delete_workflow(
    db: impl SqliteExecutor<'_>,
    scorecard_id: i64,
    id: i64,
) -> Result<bool, AppError> {
    let result = sqlx::query("delete from workflows where id = ? and scorecard_id = ?")
        .bind(id)
        .bind(scorecard_id)
        .execute(db)
        .await?;
    Ok(result.rows_affected() == 1)
}
