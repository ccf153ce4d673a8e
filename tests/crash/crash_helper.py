#!/usr/bin/env python3
"""Standard-library helper for tests/crash/crash_test.sh.

Subcommands (all traffic goes to 127.0.0.1 only):

  free-port                         print a free TCP port on 127.0.0.1
  wait-healthy PORT PID SECONDS     poll GET /healthz until 200 "ok"; give up after
                                    SECONDS or as soon as process PID has exited
  create PORT                       create a scorecard; print its edit token
  write PORT TOKEN ROUND LOGDIR WRITERS MAX_PER_WRITER SECONDS
                                    WRITERS threads post uniquely named workflows
                                    (r{ROUND}-w{writer}-{n}) back to back; a name is
                                    appended (and flushed) to LOGDIR/acked-r{ROUND}-w{writer}.log
                                    only after its 303 arrived. A writer stops on a
                                    connection error (the server was killed), after
                                    MAX_PER_WRITER posts, or after SECONDS.
  check PORT TOKEN LOGDIR DB        compare every acknowledged name in LOGDIR with
                                    scorecard.json, and run PRAGMA integrity_check on DB
                                    (read-only). Prints one key=value line; exit 1 on
                                    any missing name or a failed integrity check.
"""

import glob
import http.client
import json
import os
import socket
import sqlite3
import sys
import threading
import time
import urllib.parse

HOST = "127.0.0.1"
REQUEST_TIMEOUT = 10.0


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        print(s.getsockname()[1])


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (killed but not yet reaped) still answers kill(0); check its state.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][:1] != "Z"
    except OSError:
        return True


def request(port, method, path, body=None, timeout=REQUEST_TIMEOUT):
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        headers = {}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.getheader("Location"), resp.read()
    finally:
        conn.close()


def wait_healthy(port, pid, seconds):
    deadline = time.monotonic() + seconds
    for _ in range(int(seconds / 0.05) + 1):  # bounded in count and in time
        if not pid_alive(pid):
            print(f"server process {pid} exited before becoming healthy", file=sys.stderr)
            return 1
        try:
            status, _, body = request(port, "GET", "/healthz", timeout=2)
            if status == 200 and body.strip() == b"ok":
                return 0
        except OSError:
            pass
        if time.monotonic() >= deadline:
            break
        time.sleep(0.05)
    print(f"/healthz on port {port} not healthy within {seconds}s", file=sys.stderr)
    return 1


def create(port):
    body = urllib.parse.urlencode({"name": "Crash test", "currency": "USD"})
    status, location, text = request(port, "POST", "/scorecards", body)
    if status != 303 or not location or not location.startswith("/s/"):
        print(f"creating a scorecard: HTTP {status}, Location {location!r}: {text[:300]!r}",
              file=sys.stderr)
        return 1
    token = location[len("/s/"):].split("?", 1)[0].split("/", 1)[0]
    print(token)
    return 0


def writer(port, token, rnd, w, logdir, max_posts, deadline, result):
    path = f"/s/{token}/workflows"
    acked = 0
    other = {}
    stop = "cap"
    conn = None
    with open(os.path.join(logdir, f"acked-r{rnd}-w{w}.log"), "a", encoding="utf-8") as log:
        for n in range(max_posts):
            if time.monotonic() >= deadline:
                stop = "deadline"
                break
            name = f"r{rnd}-w{w}-{n}"
            body = urllib.parse.urlencode(
                {"name": name, "current_tier": "small", "monthly_spend": "10"})
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT)
                conn.request("POST", path, body=body, headers={
                    "Content-Type": "application/x-www-form-urlencoded"})
                resp = conn.getresponse()
                resp.read()
                status = resp.status
                if resp.will_close:
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException) as e:
                # Refused, reset or cut off mid-response: the server is gone. This post
                # was never acknowledged, whatever became of it.
                stop = f"connection error ({type(e).__name__})"
                break
            if status == 303:
                log.write(name + "\n")
                log.flush()
                acked += 1
            else:
                other[status] = other.get(status, 0) + 1
        if conn is not None:
            conn.close()
    result[w] = (acked, other, stop)


def write(port, token, rnd, logdir, writers, max_posts, seconds):
    deadline = time.monotonic() + seconds
    result = {}
    threads = [
        threading.Thread(target=writer,
                         args=(port, token, rnd, w, logdir, max_posts, deadline, result),
                         daemon=True)
        for w in range(writers)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + REQUEST_TIMEOUT + 5)
    acked = sum(r[0] for r in result.values())
    other = {}
    stops = {}
    for r in result.values():
        for k, v in r[1].items():
            other[k] = other.get(k, 0) + v
        stops[r[2]] = stops.get(r[2], 0) + 1
    unfinished = writers - len(result)
    print(f"acked={acked} non_303={json.dumps(other, sort_keys=True)} "
          f"stopped_by={json.dumps(stops, sort_keys=True)} unfinished={unfinished}")
    return 0


def check(port, token, logdir, db):
    acked = []
    for path in sorted(glob.glob(os.path.join(logdir, "acked-r*-w*.log"))):
        with open(path, encoding="utf-8") as f:
            acked.extend(line.strip() for line in f if line.strip())
    ok = True
    problems = []

    status, _, body = request(port, "GET", f"/s/{token}/scorecard.json", timeout=30)
    if status != 200:
        print(f"scorecard.json: HTTP {status}: {body[:300]!r}", file=sys.stderr)
        return 1
    names = [w["name"] for w in json.loads(body)["workflows"]]
    present_set = set(names)
    missing = [n for n in acked if n not in present_set]
    dupes = len(names) - len(present_set)
    if missing:
        ok = False
        problems.append(f"{len(missing)} acknowledged workflow(s) missing: "
                        + ", ".join(missing[:20]) + (" ..." if len(missing) > 20 else ""))
    if dupes:
        ok = False
        problems.append(f"{dupes} duplicate workflow name(s) in scorecard.json")

    # Read-only, alongside the running server: safe in WAL mode.
    try:
        con = sqlite3.connect(f"file:{urllib.parse.quote(db)}?mode=ro", uri=True, timeout=10)
        try:
            rows = con.execute("PRAGMA integrity_check").fetchall()
        finally:
            con.close()
        integrity = "ok" if rows == [("ok",)] else "; ".join(str(r[0]) for r in rows[:10])
    except sqlite3.Error as e:
        integrity = f"error: {e}"
    if integrity != "ok":
        ok = False
        problems.append(f"integrity_check: {integrity}")

    print(f"acked={len(acked)} present={len(acked) - len(missing)} missing={len(missing)} "
          f"stored={len(names)} integrity={'ok' if integrity == 'ok' else 'FAILED'}")
    for p in problems:
        print("  " + p, file=sys.stderr)
    return 0 if ok else 1


def main(argv):
    cmd, args = argv[1], argv[2:]
    if cmd == "free-port":
        free_port()
        return 0
    if cmd == "wait-healthy":
        return wait_healthy(int(args[0]), int(args[1]), float(args[2]))
    if cmd == "create":
        return create(int(args[0]))
    if cmd == "write":
        return write(int(args[0]), args[1], int(args[2]), args[3], int(args[4]),
                     int(args[5]), float(args[6]))
    if cmd == "check":
        return check(int(args[0]), args[1], args[2], args[3])
    print(f"unknown subcommand {cmd!r}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
