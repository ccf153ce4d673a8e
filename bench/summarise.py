#!/usr/bin/env python3
"""Turns bench/run.sh's results file into the markdown summary it prints.

    python3 bench/summarise.py RESULTS_FILE

The results file has `key=value` lines, and records of several `key=value` words starting
with `run` (a read run), `write` (the write run) or `raw_sqlite`. Medians are over the
rounds; the page/mirror ratio is the median of each round's ratio (the two runs of a pair
sit side by side in time, so they share the machine's mood).
"""
import statistics
import sys

PAGE_RATIO_TARGET = 10.0
P99_TARGET_MS = 20.0
RSS_TARGET_MB = 64.0
INSTRUCTIONS_TARGET = 1500


def words(text):
    out = {}
    for w in text.split():
        k, _, v = w.partition("=")
        out[k] = v
    return out


def load(path):
    meta, runs, write, raw, probes = {}, [], None, None, []
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if not line:
            continue
        head, _, rest = line.partition(" ")
        if head == "run":
            runs.append(words(rest))
        elif head == "write":
            write = words(rest)
        elif head == "raw_sqlite":
            raw = words(rest)
        elif head == "probe":
            probes.append(words(rest))
        elif head == "burst":
            meta["burst"] = words(rest)
        else:
            k, _, v = line.partition("=")
            meta[k] = v
    return meta, runs, write, raw, probes


def rps(r):
    return int(r["requests"]) / int(r["duration_us"]) * 1e6


def ms(us):
    return int(us) / 1000


def fmt_ms(x):
    return f"{x:.2f}" if x < 100 else f"{x:.0f}"


def mb(kb):
    return int(kb) / 1024


def fit(xs, ys):
    """Least-squares line y = a + b x; returns (a, b)."""
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    return my - b * mx, b


def verdict(ok):
    return "pass" if ok else "**miss**"


def main():
    meta, runs, write, raw, probes = load(sys.argv[1])
    rounds = sorted({int(r["round"]) for r in runs})
    sizes = sorted({int(r["n"]) for r in runs if r["kind"] != "healthz"})
    conns = sorted({int(r["conns"]) for r in runs})

    def select(kind, n, c):
        return [r for r in runs if r["kind"] == kind and int(r["n"]) == n and int(r["conns"]) == c]

    def med(kind, n, c, f):
        sel = select(kind, n, c)
        return statistics.median(f(r) for r in sel) if sel else None

    def ratio(n, c):
        per_round = []
        for rnd in rounds:
            p = [r for r in select("page", n, c) if int(r["round"]) == rnd]
            m = [r for r in select("mirror", n, c) if int(r["round"]) == rnd]
            if p and m:
                per_round.append(rps(m[0]) / rps(p[0]))
        return statistics.median(per_round) if per_round else None, per_round

    def errors(kind, n, c):
        return sum(int(r["socket_errors"]) + int(r["status_errors"]) for r in select(kind, n, c))

    out = []
    w = out.append
    w(f"## Scorecard load benchmark, {meta.get('started', '?')}\n")
    w(f"- Machine: {meta.get('machine', '?')}; data on {meta.get('disk', '?')}")
    w(f"- Build: {meta.get('commit', '?')}, release; wrk {meta.get('wrk', '?')}")
    w(f"- Server pinned to CPU 0, wrk (`-t1`) to CPU 1; {meta.get('settings', '?')}; "
      f"medians over {len(rounds)} interleaved rounds; total {meta.get('total_seconds', '?')} s")
    w(f"- Other work on the machine: CPUs {meta.get('busy_start', '?')} busy just before the start; load average at start {meta.get('loadavg_start', '?')}, at end {meta.get('loadavg_end', '?')}")
    w("")

    w("### Reads (median of rounds)\n")
    w("| N | what | conns | bytes | req/s | p50 ms | p99 ms | cost ratio page/mirror | errors |")
    w("|---:|---|---:|---:|---:|---:|---:|---|---:|")
    for n in sizes:
        for c in conns:
            for kind in ("page", "mirror", "json"):
                if not select(kind, n, c):
                    continue
                size = meta.get(f"bytes.{'json' if kind == 'json' else 'page'}.{n}", "?")
                ratio_cell = ""
                if kind == "page":
                    r, per = ratio(n, c)
                    if r is not None:
                        ratio_cell = f"{r:.1f}x ({', '.join(f'{x:.1f}' for x in per)})"
                w(f"| {n:,} | {kind} | {c} | {int(size):,} | {med(kind, n, c, rps):,.0f} | "
                  f"{fmt_ms(med(kind, n, c, lambda r: ms(r['p50_us'])))} | "
                  f"{fmt_ms(med(kind, n, c, lambda r: ms(r['p99_us'])))} | {ratio_cell} | "
                  f"{errors(kind, n, c)} |")
    for c in conns:
        if select("healthz", 0, c):
            w(f"| - | /healthz | {c} | 2 | {med('healthz', 0, c, rps):,.0f} | "
              f"{fmt_ms(med('healthz', 0, c, lambda r: ms(r['p50_us'])))} | "
              f"{fmt_ms(med('healthz', 0, c, lambda r: ms(r['p99_us'])))} |  | "
              f"{errors('healthz', 0, c)} |")
    w("")
    w("Each round's req/s, to show the spread; in brackets, the share of CPU 0 (the server's "
      "core) that went to anything but the server during the run: other programs on the machine, "
      "and kernel network work not charged to the server. A high share marks a disturbed run.\n")
    w("| N | what | conns | " + " | ".join(f"round {r}" for r in rounds) + " |")
    w("|---:|---|---:|" + "---:|" * len(rounds))
    for n in sizes + [0]:
        for c in conns:
            for kind in ("page", "mirror", "json", "healthz"):
                sel = sorted(select(kind, n, c), key=lambda r: int(r["round"]))
                if sel:
                    w(f"| {n:,} | {kind} | {c} | "
                      + " | ".join(f"{rps(r):,.0f} ({r.get('cpu0_other_pct', '?')}%)" for r in sel) + " |")
    w("")

    w("### Cost per request against N (HTML page, 8 connections)\n")
    xs, ys, yj, ym = [], [], [], []
    w("| N | page µs/request (1/req/s) | mirror µs/request | page − mirror µs | json µs/request |")
    w("|---:|---:|---:|---:|---:|")
    for n in sizes:
        p, m, j = med("page", n, 8, rps), med("mirror", n, 8, rps), med("json", n, 8, rps)
        if p is None:
            continue
        xs.append(n)
        ys.append(1e6 / p)
        ym.append(1e6 / m if m else float("nan"))
        yj.append(1e6 / j if j else float("nan"))
        w(f"| {n:,} | {1e6 / p:,.1f} | {1e6 / m:,.1f} | {1e6 / p - 1e6 / m:,.1f} | {1e6 / j:,.1f} |")
    slope = None
    if len(xs) >= 2:
        a, slope = fit(xs, ys)
        aj, slope_j = fit(xs, yj)
        w("")
        w(f"Least-squares fit over N = {', '.join(f'{x:,}' for x in xs)}: page cost ≈ {a:,.1f} µs "
          f"+ **{slope:.3f} µs per workflow**; json cost ≈ {aj:,.1f} µs + {slope_j:.3f} µs per workflow.")
    if "instructions_committed" in meta:
        w(f"Instruction slope committed in bench/instructions-per-row.txt (from bench/instructions.sh): "
          f"**{int(meta['instructions_committed']):,} instructions per workflow row** (compute + render).")
    w("")

    if write:
        w("### Writes: 50 connections editing workflows (1,000-workflow scorecard)\n")
        commits = int(write["requests"]) - max(0, int(write["non3xx"]))
        secs = int(write["duration_us"]) / 1e6
        w("| what | commits/s | p50 ms | p99 ms | max ms | non-3xx | socket errors | history rows written | CPU 0 other |")
        w("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        w(f"| app, POST /s/{{token}}/workflows/{{id}} | {commits / secs:,.0f} | {fmt_ms(ms(write['p50_us']))} | "
          f"{fmt_ms(ms(write['p99_us']))} | {fmt_ms(ms(write['max_us']))} | {write['non3xx']} | "
          f"{write['socket_errors']} | {meta.get('write_history_rows', '?')} | {write.get('cpu0_other_pct', '?')}% |")
        if raw:
            w(f"| raw SQLite (python3 sqlite3, 1 connection, same transaction, WAL, synchronous=NORMAL) | "
              f"{int(raw['commits_per_s']):,} | {fmt_ms(ms(raw['p50_us']))} | {fmt_ms(ms(raw['p99_us']))} | | | | "
              f"{raw['commits']} | |")
            if "grouped_edits_per_s" in raw:
                w(f"| raw SQLite, the same edits {raw['group']} to a transaction (as the app groups a burst) | "
                  f"{int(raw['grouped_edits_per_s']):,} edits/s | | | | | | {raw['grouped_edits']} | |")
        w("")
    if "burst" in meta:
        b = meta["burst"]
        w(f"A room saving at once (`bench/write_burst.py`): {b['bursts']} bursts of 50 edits sent "
          f"together on 50 connections, each burst answered before the next (200 ms apart): "
          f"each edit answered in p50 {float(b['p50_ms']):.2f} ms, p99 {float(b['p99_ms']):.2f} ms, "
          f"max {float(b['max_ms']):.2f} ms; a whole burst in {float(b['burst_p50_ms']):.2f} ms "
          f"(median); {b['non303']} answers other than 303.\n")
    if probes:
        w("One edit at a time (no concurrency, 20 edits each), against the scorecard's size:\n")
        w("| N | median ms | min ms | max ms |")
        w("|---:|---:|---:|---:|")
        for pr in sorted(probes, key=lambda d: int(d["n"])):
            w(f"| {int(pr['n']):,} | {float(pr['median_ms']):.2f} | {float(pr['min_ms']):.2f} | {float(pr['max_ms']):.2f} |")
        w("")

    w("### Memory (server VmHWM / VmRSS)\n")
    w("| when | MB |")
    w("|---|---:|")

    def kb(key):
        return int(meta[key]) if key in meta else 0

    reset = meta.get("hwm_reset") == "yes"
    # Round 1 runs every HTML load before any JSON load, so the peak since start read just
    # after round 1's 10,000-workflow HTML load has seen no JSON response.
    life_html = max(kb("hwm_before_html_load.r1"), kb("hwm_html_10000_c50.r1")) or None
    life_json = max(life_html or 0, kb("hwm_before_json_load.r1"), kb("hwm_json_10000_c50.r1")) or None
    later_html = [(k.rsplit(".r", 1)[1], int(v)) for k, v in meta.items()
                  if k.startswith("hwm_html_10000_c50.r") and not k.endswith(".r1")]
    during_json = max((int(v) for k, v in meta.items() if k.startswith("hwm_json_10000_c50")), default=0)
    highest = max((int(v) for k, v in meta.items() if k.startswith("hwm_") and v.isdigit()), default=0)
    if "hwm_after_seed_kb" in meta:
        w(f"| peak since start, after seeding (includes importing the 10,000-row CSV) | {mb(meta['hwm_after_seed_kb']):.1f} |")
    if life_html:
        w(f"| **peak since start, after the 10,000-workflow HTML load at 50 connections** (round 1, no JSON served yet) | **{mb(life_html):.1f}** |")
    if life_json:
        w(f"| peak since start, after the 10,000-workflow JSON load at 50 connections (round 1) | {mb(life_json):.1f} |")
    if reset and during_json:
        w(f"| peak during the 10,000-workflow JSON load at 50 connections (max over rounds) | {mb(during_json):.1f} |")
    if reset:
        for rnd, v in sorted(later_html):
            w(f"| peak during the 10,000-workflow HTML load at 50 connections, round {rnd} "
              f"(starts from the RSS that earlier JSON loads left behind) | {mb(v):.1f} |")
    if "rss_after_reads_kb" in meta:
        w(f"| RSS after all reads | {mb(meta['rss_after_reads_kb']):.1f} |")
    if "rss_end_kb" in meta:
        w(f"| RSS at the end (after writes) | {mb(meta['rss_end_kb']):.1f} |")
    if highest:
        w(f"| highest peak of the whole run | {mb(highest):.1f} |")
    w("")

    w("### Targets\n")
    w("| target | measured | result |")
    w("|---|---|---|")
    if 1000 in sizes:
        parts, ok = [], True
        for c in conns:
            r, _ = ratio(1000, c)
            if r is not None:
                parts.append(f"{r:.1f}x at {c} conns")
                ok = ok and r <= PAGE_RATIO_TARGET
        w(f"| page at 1,000 workflows within {PAGE_RATIO_TARGET:.0f}x of the mirror | {', '.join(parts)} | {verdict(ok)} |")
    if 10000 in sizes:
        p99 = med("page", 10000, 50, lambda r: ms(r["p99_us"]))
        w(f"| 10,000 workflows: page p99 < {P99_TARGET_MS:.0f} ms at 50 connections | {fmt_ms(p99)} ms | {verdict(p99 < P99_TARGET_MS)} |")
    if "instructions_committed" in meta:
        ipr = int(meta["instructions_committed"])
        w(f"| ≤ {INSTRUCTIONS_TARGET:,} instructions per workflow row (compute + render) | {ipr:,} | {verdict(ipr <= INSTRUCTIONS_TARGET)} |")
    if write:
        bad = int(write["non3xx"]) + int(write["socket_errors"])
        p99 = ms(write["p99_us"])
        w(f"| 50 concurrent writers: zero errors, p99 < {P99_TARGET_MS:.0f} ms | {bad} errors, p99 {fmt_ms(p99)} ms | "
          f"{verdict(bad == 0 and p99 < P99_TARGET_MS)} |")
    if life_html:
        w(f"| peak RSS < {RSS_TARGET_MB:.0f} MB at 10,000 workflows (HTML load, 50 connections) | {mb(life_html):.1f} MB"
          + (f"; serving scorecard.json at 10,000 under the same load peaks at {mb(life_json):.1f} MB" if life_json else "")
          + f" | {verdict(mb(life_html) < RSS_TARGET_MB)} |")
    print("\n".join(out))


if __name__ == "__main__":
    main()
