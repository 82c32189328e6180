"""A raw-socket HTTP fuzzer against one node, seeded and bounded: pipelined requests,
framing conflicts, truncated and oversized requests, random mutations of real requests,
sent in random pieces. Every answer must be HTTP with a status below 500 (503 allowed);
afterwards the node still answers, its database passes PRAGMA integrity_check, and no
table changed (the requests are GETs and writes that must fail: no session, bad fields).

  ZC_FUZZ_SEED=N     replay one run (the seed is printed)
  ZC_FUZZ_CASES=N    how many cases (default 300; about 10 s, under a minute with ASan)
"""
import os
import random
import re
import socket
import sqlite3
import time

from zc_test import Client, ZcCase

SEED = int(os.environ.get("ZC_FUZZ_SEED") or time.time_ns() % (1 << 32))
CASES = int(os.environ.get("ZC_FUZZ_CASES") or 300)
BUDGET_SECS = 120  # a hard stop, whatever the machine


def request(method, path, body=None, ctype=b"application/json", extra=b""):
    h = method + b" " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra
    if body is not None:
        h += b"Content-Type: " + ctype + b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n"
    return h + b"\r\n" + (body or b"")


# Real requests that change nothing: reads, and writes that must fail (no session, or a
# field no mutation can make valid).
BASE = [
    request(b"GET", b"/api/v1/health"),
    request(b"GET", b"/api/v1/catalog"),
    request(b"GET", b"/api/v1/depts?node=650100"),
    request(b"GET", b"/api/v1/units?q=%E6%96%B0%E7%96%86"),
    request(b"GET", b"/api/v1/me", extra=b"Cookie: zc_session=" + b"0" * 64 + b"\r\n"),
    request(b"GET", b"/"),
    request(b"GET", b"/index.html", extra=b"If-None-Match: \"x\"\r\n"),
    request(b"GET", b"/no/such/file.js"),
    request(b"PUT", b"/api/v1/me", b'{"email":"fuzz@example.cn"}'),
    request(b"POST", b"/api/v1/applications", b'{"series":"x"}'),
    request(b"POST", b"/api/v1/accounts", b'{"id_number":"12","name":"\xe7\x8e\x8b","password":"p","phone":"1"}'),
    request(b"POST", b"/api/v1/session", b'{"login":"nobody-fuzz","password":"wrong"}'),
    request(b"DELETE", b"/api/v1/session", b""),
    request(b"POST", b"/api/v1/applications/x/attachments?section=a&name=b", b"\x89PNG\r\n", ctype=b"image/png"),
    request(b"GET", b"/ws", extra=b"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                                  b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: zc-live\r\n"),
]

HOSTILE_HEADERS = [
    b"Content-Length: -1", b"Content-Length: 18446744073709551616", b"Content-Length: 5, 5",
    b"Content-Length: 0x10", b"Transfer-Encoding: chunked", b"Transfer-Encoding: identity, chunked",
    b"Expect: 100-continue", b"Expect: 200-ok", b"Connection: close", b"Connection: keep-alive, Upgrade",
    b"Upgrade: websocket", b"Upgrade: h2c", b"Cookie: zc_session=" + b"a" * 3000, b"X-Long: " + b"b" * 20000,
    b"Host: ", b"Host: a\x00b", b"X-CSRF-Token: " + b"c" * 500, b"Origin: http://evil.example",
    b"Content-Type: multipart/form-data; boundary=" + b"d" * 300, b": empty-name", b"NoColonHere",
]


class Fuzzer:
    def __init__(self, seed):
        self.rnd = random.Random(seed)

    def base(self):
        return self.rnd.choice(BASE)

    def mutate(self, b):
        r = self.rnd
        b = bytearray(b)
        for _ in range(r.randint(1, 4)):
            op = r.randrange(8)
            i = r.randrange(len(b) + 1)
            if op == 0 and b:
                b[min(i, len(b) - 1)] = r.randrange(256)
            elif op == 1:
                b[i:i] = bytes(r.choice(b"\r\n\x00 :%/?&=\x7f\xff\xe4") for _ in range(r.randint(1, 4)))
            elif op == 2:
                del b[i:i + r.randint(1, 12)]
            elif op == 3:
                j = r.randrange(len(b) + 1)
                b[i:i] = b[min(i, j):max(i, j)][:2000]
            elif op == 4:
                b = bytearray(bytes(b).replace(b"\r\n", r.choice([b"\n", b"\r", b"\r\r\n", b"\n\r"]), r.randint(1, 3)))
            elif op == 5:
                eol = bytes(b).find(b"\r\n")
                if eol > 0:
                    b[eol + 2:eol + 2] = r.choice(HOSTILE_HEADERS) + b"\r\n"
            elif op == 6:
                sp = bytes(b).find(b" ")
                if sp > 0:
                    b[0:sp] = r.choice([b"GET", b"POST", b"PUT", b"DELETE", b"PATCH", b"OPTIONS", b"HEAD",
                                        b"CONNECT", b"TRACE", b"G\x00T", b"", b"get", b"P" * 40])
            else:
                b = b[:i]
        return bytes(b)

    def case(self):
        """(kind, bytes) for one connection."""
        r = self.rnd
        kind = r.choice(["pipeline", "framing", "truncated", "oversized", "mutation", "mutation", "pipeline"])
        if kind == "pipeline":
            reqs = [self.base() for _ in range(r.randint(2, 4))]
            if r.random() < 0.4:
                k = r.randrange(len(reqs))
                reqs[k] = self.mutate(reqs[k])
            return kind, b"".join(reqs)
        if kind == "framing":
            pair = r.sample(HOSTILE_HEADERS[:8], 2)
            body = r.choice([b"{}", b"0\r\n\r\n", b"{}" + BASE[0], b"5\r\n{\"a\":\r\n0\r\n\r\n" + BASE[1]])
            return kind, (b"POST /api/v1/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                          + pair[0] + b"\r\n" + pair[1] + b"\r\n\r\n" + body)
        if kind == "truncated":
            b = self.base() + (self.base() if r.random() < 0.3 else b"")
            return kind, b[:r.randrange(1, len(b))]
        if kind == "oversized":
            return kind, r.choice([
                b"GET /api/v1/health/" + b"a" * r.choice([600, 5000, 17000, 70000]) + b" HTTP/1.1\r\nHost: x\r\n\r\n",
                b"GET /api/v1/depts?" + b"&".join(b"a%d=1" % i for i in range(r.choice([50, 150, 3000])))
                + b" HTTP/1.1\r\nHost: x\r\n\r\n",
                b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n" + b"X-A: b\r\n" * r.choice([60, 200, 2500]) + b"\r\n",
                b"POST /api/v1/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: " + str(r.choice([70000, 10 ** 8, 10 ** 17])).encode() + b"\r\n\r\n{\"login\":",
                request(b"PUT", b"/api/v1/me", b"[" * 20000 + b"]" * 20000),
            ])
        return kind, self.mutate(self.base())

    def pieces(self, data):
        cuts = sorted(self.rnd.sample(range(1, len(data)), min(len(data) - 1, self.rnd.randint(0, 2)))) if len(data) > 1 else []
        out, last = [], 0
        for c in cuts + [len(data)]:
            out.append(data[last:c])
            last = c
        return out


def send_case(port, pieces, half_close, rnd):
    s = socket.create_connection(("127.0.0.1", port), timeout=3)
    chunks = []
    try:
        for i, p in enumerate(pieces):
            if i:
                time.sleep(rnd.choice([0, 0, 0.002, 0.02]))
            s.sendall(p)
        if half_close:
            s.shutdown(socket.SHUT_WR)
        s.settimeout(3 if half_close else 0.3)
        while True:
            c = s.recv(65536)
            if not c:
                break
            chunks.append(c)
    except OSError:  # timed out, or reset/closed by the server while we sent
        pass
    finally:
        s.close()
    return b"".join(chunks)


def statuses(data):
    """Status codes of the HTTP answers in data; None when data holds something else."""
    out = []
    while data:
        m = re.match(rb"HTTP/1\.[01] (\d{3})[^\r\n]*\r\n", data)
        if not m:
            return None
        head, sep, rest = data.partition(b"\r\n\r\n")
        if not sep:
            out.append(int(m.group(1)))  # cut short (the client closed first)
            break
        cl = re.search(rb"\r\ncontent-length:\s*(\d+)", head, re.I)
        n = int(cl.group(1)) if cl and int(m.group(1)) >= 200 else 0
        if rest.startswith(b"HTTP/1."):
            n = 0  # the answer to a HEAD: its Content-Length, no body
        out.append(int(m.group(1)))
        data = rest[n:]
    return out


def dump(db_path):
    """Every table's rows, sorted: what the fuzzer must not change."""
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10)
    try:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return {t: sorted(repr(row) for row in con.execute(f'SELECT * FROM "{t}"')) for t in tables}
    finally:
        con.close()


def settled_dump(db_path, quiet=1.5, limit=30):
    """dump() once the node has stopped writing: what it does by itself after starting (its
    first entries, under a sanitizer slowly) is no change of the fuzzer's."""
    deadline, last = time.monotonic() + limit, dump(db_path)
    while time.monotonic() < deadline:
        time.sleep(quiet)
        now = dump(db_path)
        if now == last:
            return now
        last = now
    return last


def integrity(db_path):
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10)
    try:
        return con.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        con.close()


class TestHttpFuzz(ZcCase):
    NODE_LABEL = "fuzz"

    def test_fuzz(self):
        db = os.path.join(self.node.data, "node.db")
        before = settled_dump(db)
        fz = Fuzzer(SEED)
        print(f"[fuzz] seed {SEED}, {CASES} cases (ZC_FUZZ_SEED={SEED} replays them)", flush=True)
        t0 = time.monotonic()
        kinds = {}
        for i in range(CASES):
            if time.monotonic() - t0 > BUDGET_SECS:
                self.fail(f"seed {SEED}: over {BUDGET_SECS}s after {i} cases")
            kind, data = fz.case()
            kinds[kind] = kinds.get(kind, 0) + 1
            answer = send_case(self.node.port, fz.pieces(data), fz.rnd.random() < 0.75, fz.rnd)
            st = statuses(answer)
            where = f"seed {SEED}, case {i} ({kind}): sent {data[:300]!r}; got {answer[:300]!r}"
            self.assertIsNotNone(st, "not an HTTP answer: " + where)
            for code in st:
                self.assertTrue(code < 500 or code == 503, "a 5xx: " + where)
            if i % 25 == 24:
                r = Client(self.node, source="127.0.0.2").get("/api/v1/health", timeout=5)
                self.assertEqual(r.status, 200, f"the node stopped answering: {where}")
        took = time.monotonic() - t0
        print(f"[fuzz] {CASES} cases in {took:.1f}s: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())), flush=True)
        self.assertTrue(self.node.alive(), f"seed {SEED}: the node has gone")
        self.assertEqual(Client(self.node).get("/api/v1/health", timeout=5).status, 200)
        self.assertEqual(integrity(db), "ok")
        after = dump(db)
        changed = [t for t in before if before[t] != after.get(t)]
        self.assertEqual(changed, [], f"seed {SEED}: tables changed: {changed}")
