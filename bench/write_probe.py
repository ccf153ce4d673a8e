#!/usr/bin/env python3
"""One edit at a time: how long a single workflow edit takes against scorecard size.

    python3 bench/write_probe.py BASE_URL COUNT N:TOKEN:CSV:JSON ...

For each scorecard, POSTs COUNT edits one after another on one keep-alive connection
(each changes one workflow's metric, all other fields as imported, no `version`), and
prints `RESULT n=.. edits=.. median_ms=.. min_ms=.. max_ms=..`. No concurrency, so this
shows the work one write does, free of queueing.
"""
import csv
import http.client
import json
import statistics
import sys
import time
from urllib.parse import urlencode, urlsplit


def main():
    base = urlsplit(sys.argv[1])
    count = int(sys.argv[2])
    for spec in sys.argv[3:]:
        n, token, csv_path, json_path = spec.split(":", 3)
        rows = {r["name"]: r for r in csv.DictReader(open(csv_path, newline=""))}
        workflows = json.load(open(json_path))["workflows"]
        conn = http.client.HTTPConnection(base.hostname, base.port, timeout=30)
        times = []
        for i in range(count):
            w = workflows[(i * 7919) % len(workflows)]
            fields = dict(rows[w["name"]])
            fields["metric"] = f"Probe {i} {time.time_ns()}"
            t0 = time.perf_counter()
            conn.request("POST", f"/s/{token}/workflows/{w['id']}", urlencode(fields),
                         {"Content-Type": "application/x-www-form-urlencoded"})
            resp = conn.getresponse()
            resp.read()
            times.append((time.perf_counter() - t0) * 1000)
            if resp.status != 303:
                sys.exit(f"edit {i} on the {n}-workflow scorecard answered {resp.status}")
        conn.close()
        print(f"RESULT n={n} edits={count} median_ms={statistics.median(times):.2f} "
              f"min_ms={min(times):.2f} max_ms={max(times):.2f}")


if __name__ == "__main__":
    main()
