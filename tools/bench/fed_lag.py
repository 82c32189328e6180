#!/usr/bin/env python3
"""fed_lag.py - replication lag under a steady write load (run.sh, scenario lag).

One applicant registered at the origin node changes their e-mail address RATE times a
second for SECONDS seconds (PUT /api/v1/me: each change emits one account.updated entry,
node/routes.c), on one keep-alive connection, paced by the clock (a late write does not
make the next one early). Meanwhile a poller reads, every POLL_MS, the head of the origin's
chain in the sqlite databases (fed_heads, read-only) of the origin and of each receiver:
the origin's row moves when the log writer has signed the entry and committed it to its
fedlog.git, a receiver's when the entry has been verified, stored and applied there (the
transaction that makes it visible to that node's API). Each entry's times are the first
poll that saw its seq (or a later one) there; all on one monotonic clock, so the
resolution is the poll period, printed with the results.

For entry k (seq = the origin's head before the load + k; checked against the origin's
outbox afterwards) it reports, per receiver: commit -> visible (origin's log commit to the
receiver's commit) and write -> visible (the write's 200 answer to the receiver's commit),
and at the origin write -> logged. Prints "key value" lines. Loopback only; stdlib only.

usage: fed_lag.py FEDDIR ORIGIN ORIGIN_PORT RECEIVERS(comma-separated) RATE SECONDS [POLL_MS]
"""
import datetime
import http.client
import json
import sqlite3
import sys
import threading
import time

PASSWORD = "LagBench#2026x"
SETTLE_S = 60  # for the links to come up, and for the last entries to arrive


def id_number(i):
    """A valid GB 11643 number of an Urumqi district."""
    born = datetime.date(1980, 1, 1) + datetime.timedelta(days=i % 9000)
    head = "650102" + born.strftime("%Y%m%d") + "%03d" % (700 + i % 300)
    w = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return head + "10X98765432"[sum(int(c) * k for c, k in zip(head, w)) % 11]


class Client:
    def __init__(self, port):
        self.c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.token = self.csrf = None

    def call(self, method, path, body=None):
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if self.token:
            headers["Cookie"] = "zc_session=" + self.token
        if self.csrf:
            headers["X-CSRF-Token"] = self.csrf
        self.c.request(method, path, body=json.dumps(body).encode() if body is not None else None, headers=headers)
        r = self.c.getresponse()
        data = r.read()
        cookie = r.getheader("Set-Cookie") or ""
        if cookie.startswith("zc_session="):
            self.token = cookie.split(";", 1)[0].split("=", 1)[1]
        return r.status, data


def head_of(db, origin):
    row = db.execute("SELECT seq FROM fed_heads WHERE origin = ?", (origin,)).fetchone()
    return row[0] if row else 0


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100 * len(xs)))] if xs else float("nan")


def main():
    feddir, origin, port, receivers, rate, seconds = sys.argv[1:7]
    poll_s = (float(sys.argv[7]) if len(sys.argv) > 7 else 2.0) / 1000
    port, rate, seconds = int(port), float(rate), float(seconds)
    receivers = receivers.split(",")
    nodes = [origin] + receivers
    dbs = {n: sqlite3.connect("file:%s/%s/node.db?mode=ro" % (feddir, n), uri=True, timeout=10,
                              check_same_thread=False) for n in nodes}

    c = Client(port)
    st, data = c.call("POST", "/api/v1/accounts", {"id_number": id_number(int(time.time()) % 100000), "name": "时延测试",
                                                   "password": PASSWORD, "phone": "13%09d" % (time.time_ns() % 10**9)})
    if st != 201 or not c.token:
        raise RuntimeError("POST /api/v1/accounts answered %s: %s" % (st, data[:300]))
    c.csrf = json.loads(data)["csrf"]

    # Settled: the registration's entry (and everything before it) is at every receiver.
    end = time.monotonic() + SETTLE_S
    while True:
        base = head_of(dbs[origin], origin)
        built = dbs[origin].execute("SELECT count(*) FROM outbox WHERE state = 'built'").fetchone()[0]
        if base > 0 and built == 0 and all(head_of(dbs[r], origin) >= base for r in receivers):
            break
        if time.monotonic() > end:
            raise RuntimeError("the federation did not settle within %d s (links not up?)" % SETTLE_S)
        time.sleep(0.05)

    n = int(rate * seconds)
    seen = {nd: {} for nd in nodes}  # node -> seq -> first time seen
    last = {nd: base for nd in nodes}
    gaps = []
    stop = threading.Event()

    def poll():
        t_prev = None
        while not stop.is_set():
            t = time.monotonic()
            for nd in nodes:
                h = head_of(dbs[nd], origin)
                for s in range(last[nd] + 1, h + 1):
                    seen[nd][s] = t
                last[nd] = max(last[nd], h)
            if t_prev is not None:
                gaps.append(t - t_prev)
            t_prev = t
            time.sleep(poll_s)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    acks, errors = [], 0
    t0 = time.monotonic()
    for k in range(1, n + 1):
        delay = t0 + (k - 1) / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        st, data = c.call("PUT", "/api/v1/me", {"email": "lag%06d@example.com" % k})
        acks.append(time.monotonic())
        if st != 200:
            errors += 1
    t_writes = time.monotonic() - t0
    end = time.monotonic() + SETTLE_S
    while time.monotonic() < end and any(last[r] < base + n for r in receivers):
        time.sleep(0.05)
    time.sleep(2 * poll_s)
    stop.set()
    poller.join()

    # The n entries after base are this applicant's n changes, in order.
    rows = dbs[origin].execute("SELECT seq, CAST(entry AS TEXT) FROM outbox WHERE seq > ? ORDER BY seq",
                               (base,)).fetchall()
    kinds = [json.loads(e)["type"] for _, e in rows if e]
    if len(rows) != n or any(k != "account.updated" for k in kinds):
        raise RuntimeError("the origin's outbox holds %d entries after seq %d, not the %d account.updated expected"
                           % (len(rows), base, n))
    missing = {r: sum(1 for k in range(1, n + 1) if base + k not in seen[r]) for r in receivers}

    out = [("entries", n), ("errors", errors), ("base_seq", base), ("write_rate", "%.1f" % (n / t_writes)),
           ("seconds", "%.1f" % t_writes),
           ("poll_ms_avg", "%.2f" % (1000 * sum(gaps) / len(gaps))), ("poll_ms_max", "%.2f" % (1000 * max(gaps)))]
    logged = [seen[origin][base + k] - acks[k - 1] for k in range(1, n + 1) if base + k in seen[origin]]
    out += [("origin_write_to_logged_p50_ms", "%.1f" % (1000 * pct(logged, 50))),
            ("origin_write_to_logged_p99_ms", "%.1f" % (1000 * pct(logged, 99)))]
    all_commit, all_write = [], []
    for r in receivers:
        commit = [seen[r][base + k] - seen[origin][base + k] for k in range(1, n + 1)
                  if base + k in seen[r] and base + k in seen[origin]]
        write = [seen[r][base + k] - acks[k - 1] for k in range(1, n + 1) if base + k in seen[r]]
        all_commit += commit
        all_write += write
        for name, xs in (("commit", commit), ("write", write)):
            for p in (50, 99):
                out.append(("%s_%s_p%d_ms" % (r, name, p), "%.1f" % (1000 * pct(xs, p))))
            out.append(("%s_%s_max_ms" % (r, name), "%.1f" % (1000 * max(xs)) if xs else "nan"))
        out.append(("%s_missing" % r, missing[r]))
    for name, xs in (("commit", all_commit), ("write", all_write)):
        for p in (50, 99):
            out.append(("all_%s_p%d_ms" % (name, p), "%.1f" % (1000 * pct(xs, p))))
        out.append(("all_%s_max_ms" % name, "%.1f" % (1000 * max(xs)) if xs else "nan"))
    for k, v in out:
        print(k, v)


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # the bench reports what broke, briefly
        print("fed_lag: %s" % e, file=sys.stderr)
        sys.exit(1)
