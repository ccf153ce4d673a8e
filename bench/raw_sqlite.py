#!/usr/bin/env python3
"""Raw SQLite commits/s for the same kind of transaction as one workflow edit in the app.

    python3 bench/raw_sqlite.py SOURCE_DB WORK_DIR [COUNT] [SECONDS]

Copies SOURCE_DB (a live database is fine: the copy uses SQLite's backup API) into
WORK_DIR, which should be on the same disk as the server's data folder, then runs up to
COUNT edits (default 3000), stopping early after SECONDS (default 10), one after another
on one connection, first one per transaction:

    BEGIN IMMEDIATE
    SELECT the workflow                              (the app reads it for the diff)
    UPDATE workflows SET metric = ?, monthly_spend = ?, version = version + 1, ...
    INSERT INTO changes (...)                        (the history row)
    UPDATE scorecards SET revision = revision + 1 ... (the live revision)
    COMMIT

then GROUP (50) per transaction, as the app commits a burst (the revision bumped once by
50), in WAL mode with synchronous=NORMAL and busy_timeout=5000, the app's settings. Prints
one machine-readable line: RESULT commits=.. seconds=.. commits_per_s=.. p50_us=..
p99_us=.. group=50 grouped_edits=.. grouped_edits_per_s=..
"""
import json
import os
import sqlite3
import sys
import time


def main():
    source, work = sys.argv[1], sys.argv[2]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 3000
    seconds = float(sys.argv[4]) if len(sys.argv) > 4 else 10.0
    copy = os.path.join(work, "raw-copy.db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(copy + suffix):
            os.remove(copy + suffix)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(copy)
    src.backup(dst)
    src.close()
    dst.close()

    db = sqlite3.connect(copy, isolation_level=None)  # we issue BEGIN/COMMIT ourselves
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA busy_timeout=5000")
    db.execute("PRAGMA foreign_keys=ON")
    rows = db.execute("SELECT id, scorecard_id, name FROM workflows ORDER BY id").fetchall()
    if not rows:
        sys.exit("no workflows in " + source)

    one = edits(db, rows, count, seconds, 1)
    grouped = edits(db, rows, count, seconds, GROUP)
    db.close()
    print(f"RESULT commits={one['edits']} seconds={one['seconds']:.3f} "
          f"commits_per_s={one['per_s']:.0f} p50_us={one['p50_us']:.0f} p99_us={one['p99_us']:.0f} "
          f"group={GROUP} grouped_edits={grouped['edits']} grouped_edits_per_s={grouped['per_s']:.0f}")


# Edits per transaction in the grouped run: the app commits every edit that queued while
# the commit before ran, so under 50 writers a group holds up to about 50.
GROUP = 50


def edits(db, rows, count, seconds, group):
    """Runs up to `count` edits, `group` per transaction, stopping after `seconds`."""
    latencies = []
    done = 0
    started = time.perf_counter()
    deadline = started + seconds
    while done < count:
        t0 = time.perf_counter()
        db.execute("BEGIN IMMEDIATE")
        for i in range(done, done + group):
            edit(db, rows, i)
        sid = rows[0][1]
        db.execute(
            "UPDATE scorecards SET revision = revision + ?, "
            "updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?", (group, sid))
        db.execute("COMMIT")
        t1 = time.perf_counter()
        latencies.append(t1 - t0)
        done += group
        if t1 > deadline:
            break
    elapsed = time.perf_counter() - started
    latencies.sort()
    pct = lambda p: latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))]
    return {"edits": done, "seconds": elapsed, "per_s": done / elapsed,
            "p50_us": pct(50) * 1e6, "p99_us": pct(99) * 1e6}


def edit(db, rows, i):
    """One workflow edit's statements, as the app runs them, inside the open transaction."""
    wid, sid, name = rows[(i * 7919) % len(rows)]
    before = db.execute(
        "SELECT metric, monthly_spend, version FROM workflows WHERE scorecard_id = ? AND id = ?",
        (sid, wid)).fetchone()
    metric = f"Edited {i}"
    spend = (i * 104729) % 50_000_000
    db.execute(
        "UPDATE workflows SET metric = ?, monthly_spend = ?, version = version + 1, "
        "updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') "
        "WHERE id = ? AND scorecard_id = ?",
        (metric, spend, wid, sid))
    diff = json.dumps([{"field": "metric", "before": before[0], "after": metric},
                       {"field": "monthly_spend", "before": str(before[1]), "after": str(spend)}])
    db.execute(
        "INSERT INTO changes (scorecard_id, workflow_id, workflow_name, actor, action, diff) "
        "VALUES (?, ?, ?, 'bench', 'edited', ?)",
        (sid, wid, name, diff))


if __name__ == "__main__":
    main()
