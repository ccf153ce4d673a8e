//! The SQLite database: a read pool, a single-connection write pool and the embedded
//! migrations.
//!
//! SQLite allows one writer at a time. With several pooled writers, concurrent form posts
//! race for the lock, and a deferred transaction that reads before it writes cannot wait
//! for it: it fails with "database is locked" whatever the busy timeout. So every write
//! goes through one connection, in transactions begun `IMMEDIATE`, and queue in the pool
//! instead; reads run in parallel on their own pool thanks to WAL.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Sqlite, Transaction};

/// How long a connection waits for a lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Readers run in parallel; a few are plenty for a 2-core box serving a workshop.
const READ_CONNECTIONS: u32 = 8;

/// The page size of a new database (an existing one keeps its own). An edit changes a
/// few hundred bytes in each of several pages (its row, the name index, the history and
/// its indexes), and every changed page goes whole to the write-ahead log and, at the
/// checkpoint, to the disk: with SQLite's default 4 KB pages a busy room wrote about
/// 15 KB per edit, with 1 KB pages under 5 KB. A workflow's row as typed in a workshop
/// (a few hundred bytes) fits in a page; long texts go on to further pages, as rows
/// longer than 4 KB always did.
const PAGE_SIZE: u32 = 1024;

/// How often committed pages are copied from the write-ahead log into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);

#[derive(Clone, Debug)]
pub struct Database {
    read: SqlitePool,
    write: SqlitePool,
    /// One connection of its own for checkpoints (see `checkpoints`).
    checkpoint: SqlitePool,
}

/// A write transaction, begun `IMMEDIATE` on the single writer connection.
pub type WriteTx = Transaction<'static, Sqlite>;

impl Database {
    /// Opens (creating if missing) the database at `url`, applies the migrations, and
    /// returns both pools.
    pub async fn connect(url: &str, synchronous: Synchronous) -> Result<Database, sqlx::Error> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(synchronous.into())
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true)
            .page_size(PAGE_SIZE)
            // Commits never checkpoint: `checkpoints` does, beside them.
            .pragma("wal_autocheckpoint", "0");
        // An in-process SQLite connection cannot drop like a network one; testing it
        // before each use would cost a round trip to its thread on every request.
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            // Form posts queue for the writer; give them as long as SQLite would.
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!().run(&write).await?;
        let read = SqlitePoolOptions::new()
            .max_connections(READ_CONNECTIONS)
            .test_before_acquire(false)
            .connect_with(options.clone().read_only(true))
            .await?;
        let checkpoint = SqlitePoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            .connect_with(options)
            .await?;
        tokio::spawn(checkpoints(checkpoint.clone()));
        Ok(Database {
            read,
            write,
            checkpoint,
        })
    }

    /// The pool for reads that need no transaction.
    pub fn reader(&self) -> &SqlitePool {
        &self.read
    }

    /// Begins a write transaction. It holds SQLite's write lock from its first statement,
    /// so what it reads stays true until it commits.
    pub async fn begin_write(&self) -> Result<WriteTx, sqlx::Error> {
        self.write.begin_with("BEGIN IMMEDIATE").await
    }

    /// Writes a consistent copy of the live database to `path` (which must not exist),
    /// without stopping writers: SQLite's `VACUUM INTO` reads one snapshot.
    pub async fn backup_to(&self, path: &Path) -> Result<(), sqlx::Error> {
        sqlx::query("vacuum into ?")
            .bind(path.to_string_lossy().into_owned())
            .execute(&self.write)
            .await
            .map(|_| ())
    }

    /// Checks that the database answers: used by the readiness probe.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("select 1")
            .execute(&self.read)
            .await
            .map(|_| ())
    }

    pub async fn close(&self) {
        self.checkpoint.close().await;
        self.write.close().await;
        self.read.close().await;
    }
}

/// Copies committed pages from the write-ahead log into the database file every
/// `CHECKPOINT_EVERY`, until the database closes.
///
/// By default SQLite checkpoints inside the commit that fills the log past 1,000 pages:
/// that commit, and every form post queued behind it, waits for the copy and an fsync.
/// Here the writer only appends to the log, and a connection of its own copies in the
/// background without waiting for readers or the writer (a passive checkpoint), so the
/// log is restarted from the beginning once it has all been copied. It also bounds how
/// much of the log waits for its fsync when writes are few.
async fn checkpoints(pool: SqlitePool) {
    let mut every = tokio::time::interval(CHECKPOINT_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        if let Err(error) = sqlx::query("pragma wal_checkpoint(passive)")
            .execute(&pool)
            .await
        {
            if pool.is_closed() {
                return;
            }
            tracing::warn!(%error, "checkpoint failed; the next one tries again");
        }
    }
}

/// The file behind a SQLite URL, or `None` for an in-memory database.
pub fn file_of(url: &str) -> Result<Option<PathBuf>, sqlx::Error> {
    let options = SqliteConnectOptions::from_str(url)?;
    let file = options.get_filename();
    Ok((!file.as_os_str().is_empty() && file != Path::new(":memory:")).then(|| file.to_path_buf()))
}

/// Runs SQLite's full integrity check on the database file at `path`, read-only. Returns
/// `Ok(None)` when it is sound, or what is wrong.
pub async fn integrity_of(path: &Path) -> Result<Option<String>, sqlx::Error> {
    use sqlx::Connection;
    let options = SqliteConnectOptions::new().filename(path).read_only(true);
    let mut conn = sqlx::SqliteConnection::connect_with(&options).await?;
    let rows: Vec<String> = sqlx::query_scalar("pragma integrity_check")
        .fetch_all(&mut conn)
        .await?;
    conn.close().await?;
    Ok((rows != ["ok"]).then(|| rows.join("; ")))
}

/// SQLite's `synchronous` setting: `normal` is safe in WAL mode against application
/// crashes; `full` also survives power loss at some cost per commit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Synchronous {
    #[default]
    Normal,
    Full,
}

impl From<Synchronous> for SqliteSynchronous {
    fn from(s: Synchronous) -> Self {
        match s {
            Synchronous::Normal => SqliteSynchronous::Normal,
            Synchronous::Full => SqliteSynchronous::Full,
        }
    }
}

/// The sizes in which `execute_chunked` sends rows: 50 rows go as 32 + 16 + 2.
pub const CHUNKS: [usize; 6] = [32, 16, 8, 4, 2, 1];

/// For each of `CHUNKS`, the text that writes that many rows, as `make` writes it.
/// Built once: each text is one cached, prepared statement.
pub fn chunk_statements(make: impl Fn(usize) -> String) -> [String; CHUNKS.len()] {
    CHUNKS.map(make)
}

/// A query on SQLite, as `execute_chunked` binds it.
pub type SqliteQuery<'q> = sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments>;

/// Writes `items` in as few statements as `CHUNKS` allows: each chunk runs the statement
/// made for its size (from `chunk_statements`), with `bind` binding each item in turn.
/// Returns the rows written in all.
pub async fn execute_chunked<'q, T>(
    conn: &mut sqlx::SqliteConnection,
    items: &'q [T],
    statements: &'q [String; CHUNKS.len()],
    bind: impl Fn(SqliteQuery<'q>, &'q T) -> SqliteQuery<'q>,
) -> Result<u64, sqlx::Error> {
    let mut written = 0;
    let mut rest = items;
    while !rest.is_empty() {
        // The last size is 1, so some size always fits.
        let at = CHUNKS
            .iter()
            .position(|&size| size <= rest.len())
            .unwrap_or(CHUNKS.len() - 1);
        let (chunk, tail) = rest.split_at(CHUNKS[at]);
        let mut query = sqlx::query(sqlx::AssertSqlSafe(statements[at].as_str()));
        for item in chunk {
            query = bind(query, item);
        }
        written += query.execute(&mut *conn).await?.rows_affected();
        rest = tail;
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    /// The rebuild of `workflows` (migration 3) on a database that has rows, votes and
    /// history: everything stays, and the rules still hold.
    #[tokio::test]
    async fn rebuilding_the_workflows_table_keeps_every_row_vote_and_rule() {
        use sqlx::{Connection, Row};

        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("older.db").display());
        let options = SqliteConnectOptions::from_str(&url)
            .unwrap()
            .create_if_missing(true)
            .foreign_keys(true);
        let mut conn = sqlx::SqliteConnection::connect_with(&options)
            .await
            .unwrap();
        sqlx::migrate!().run_to(2, &mut conn).await.unwrap();
        sqlx::raw_sql(
            "insert into scorecards (id, name, edit_token, view_token) values (1, 'Q3', 'e', 'v');
             insert into workflows (id, scorecard_id, name, name_key, current_tier, stakes,
                 tier_override, verdict_override, verdict_override_reason, version, decided)
             values (7, 1, 'Triage', 'triage', 'small', 1, null, 'kill', 'no owner', 4, 1);
             insert into votes (id, scorecard_id, workflow_id, opened_by) values (3, 1, 7, 'Ada');
             insert into ballots (vote_id, participant, voter_name, verdict)
             values (3, 'p1', 'Grace', 'fund');",
        )
        .execute(&mut conn)
        .await
        .unwrap();
        let row = "select name, current_tier, stakes, tier_override, verdict_override,
                       verdict_override_reason, version, decided, created_at
                   from workflows where id = 7";
        let stored = sqlx::query(row).fetch_one(&mut conn).await.unwrap();
        let read = |r: &sqlx::sqlite::SqliteRow| -> Vec<String> {
            (0..r.len())
                .map(|i| {
                    r.try_get::<Option<String>, _>(i)
                        .map(|v| v.unwrap_or_else(|| "NULL".into()))
                        .or_else(|_| r.try_get::<i64, _>(i).map(|v| v.to_string()))
                        .unwrap()
                })
                .collect()
        };
        let before = read(&stored);
        conn.close().await.unwrap();

        let db = Database::connect(&url, Synchronous::Normal).await.unwrap();
        let mut tx = db.begin_write().await.unwrap();
        let after = read(&sqlx::query(row).fetch_one(&mut *tx).await.unwrap());
        assert_eq!(before, after);
        let votes: i64 = sqlx::query_scalar("select count(*) from votes where workflow_id = 7")
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        assert_eq!(votes, 1, "the rebuild deleted the votes on its rows");
        let enforced: i64 = sqlx::query_scalar("pragma foreign_keys")
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        assert_eq!(enforced, 1, "foreign keys are enforced again afterwards");
        let page: i64 = sqlx::query_scalar("pragma page_size")
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        assert_eq!(page, 4096, "an existing database keeps its page size");
        for refused in [
            "update workflows set current_tier = 'large' where id = 7",
            "update workflows set tier_override = '' where id = 7",
            "update workflows set verdict_override = 'maybe' where id = 7",
            "update workflows set stakes = 2 where id = 7",
            "update workflows set scorecard_id = 99 where id = 7",
        ] {
            let result = sqlx::query(refused).execute(&mut *tx).await;
            assert!(result.is_err(), "allowed: {refused}");
        }
        sqlx::query(
            "update workflows set tier_override = 'none', verdict_override = null where id = 7",
        )
        .execute(&mut *tx)
        .await
        .unwrap();
        tx.commit().await.unwrap();
        db.close().await;
    }

    #[tokio::test]
    async fn committed_pages_reach_the_database_file_in_the_background() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("checkpoints.db");
        let url = format!("sqlite://{}", file.display());
        let db = Database::connect(&url, Synchronous::Normal).await.unwrap();
        let size = || std::fs::metadata(&file).unwrap().len();
        let before = size();
        let page: i64 = sqlx::query_scalar("pragma page_size")
            .fetch_one(db.reader())
            .await
            .unwrap();
        assert_eq!(page, i64::from(PAGE_SIZE), "a new database has small pages");

        // About 600 KB: less than SQLite's own checkpoint threshold (1,000 pages).
        let mut tx = db.begin_write().await.unwrap();
        sqlx::query("create table filler (data blob not null)")
            .execute(&mut *tx)
            .await
            .unwrap();
        sqlx::query(
            "with recursive n(i) as (select 1 union all select i + 1 from n where i < 150)
             insert into filler select zeroblob(4000) from n",
        )
        .execute(&mut *tx)
        .await
        .unwrap();
        tx.commit().await.unwrap();

        let deadline = Instant::now() + Duration::from_secs(10);
        while size() < before + 500_000 {
            assert!(
                Instant::now() < deadline,
                "the database file stayed at {} bytes: nothing was checkpointed",
                size()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        db.close().await;
    }
}
