#!/usr/bin/env python3
"""A room saving at once: fifty edits sent together, then a pause, again and again.

    python3 bench/write_burst.py BASE_URL TOKEN CSV JSON [BURSTS] [PARTICIPANTS]

Opens PARTICIPANTS (default 50) keep-alive connections, one per participant. Each burst,
every participant sends one edit of a different workflow (its metric changes, every other
field as imported, no `version`) as close to the same moment as the client can, waits
for its answer, and the burst ends when all have answered; then a 200 ms pause. Runs
BURSTS (default 40) bursts and prints
`RESULT bursts=.. edits=.. p50_ms=.. p99_ms=.. max_ms=.. burst_p50_ms=.. non303=..`:
each edit's time from its own send to its answer, and each burst's time to its last
answer. Unlike the wrk run (every connection sends again the moment it is answered),
this is the load a workshop makes when the facilitator says "save now".
"""
import asyncio
import csv
import json
import sys
import time
from urllib.parse import urlencode, urlsplit


async def participant(reader, writer, request, times, statuses):
    t0 = time.perf_counter()
    writer.write(request)
    await writer.drain()
    status = int((await reader.readline()).split()[1])
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    if length:
        await reader.readexactly(length)
    times.append((time.perf_counter() - t0) * 1000)
    statuses.append(status)


async def main():
    base = urlsplit(sys.argv[1])
    token, csv_path, json_path = sys.argv[2], sys.argv[3], sys.argv[4]
    bursts = int(sys.argv[5]) if len(sys.argv) > 5 else 40
    people = int(sys.argv[6]) if len(sys.argv) > 6 else 50
    rows = {r["name"]: r for r in csv.DictReader(open(csv_path, newline=""))}
    workflows = json.load(open(json_path))["workflows"]
    conns = [await asyncio.open_connection(base.hostname, base.port) for _ in range(people)]
    times, statuses, burst_times = [], [], []
    for b in range(bursts):
        requests = []
        for p in range(people):
            w = workflows[(b * people + p) * 7919 % len(workflows)]
            fields = dict(rows[w["name"]])
            fields["metric"] = f"Burst {b} participant {p}"
            body = urlencode(fields).encode()
            head = (f"POST /s/{token}/workflows/{w['id']} HTTP/1.1\r\n"
                    f"Host: {base.netloc}\r\n"
                    "Content-Type: application/x-www-form-urlencoded\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n").encode()
            requests.append(head + body)
        t0 = time.perf_counter()
        await asyncio.gather(*(participant(r, w, req, times, statuses)
                               for (r, w), req in zip(conns, requests)))
        burst_times.append((time.perf_counter() - t0) * 1000)
        await asyncio.sleep(0.2)
    for _, w in conns:
        w.close()
    times.sort()
    burst_times.sort()
    pct = lambda xs, p: xs[min(len(xs) - 1, int(p / 100 * len(xs)))]
    print(f"RESULT bursts={bursts} edits={len(times)} p50_ms={pct(times, 50):.2f} "
          f"p99_ms={pct(times, 99):.2f} max_ms={times[-1]:.2f} "
          f"burst_p50_ms={pct(burst_times, 50):.2f} non303={sum(s != 303 for s in statuses)}")


if __name__ == "__main__":
    asyncio.run(main())
