"""Replication over wss:// (node/fedlink.c, zc-fed.1) between three nodes from tools/zc-fed.

- an entry written at one node appears at every node, in every node's git log, and
  verifies there with git and openssl alone; the links are up and report no lag;
- a node stopped while others write catches up after restart, also when the origin itself
  is down and only the region can serve its entries;
- kill -9 of a receiver and of a writer in the middle of a burst from several processes at
  two nodes: after restart every node converges to the same heads, each origin's entries
  contiguous, none lost, none doubled;
- a tampered entry served over the wire is refused by the receiver (nothing of the batch
  stored, an alert raised), and it catches up once a good copy is reachable;
- a different validly signed entry for a seq others hold (equivocation) is never applied:
  the receiver keeps its own and raises an alert naming origin and seq;
- an unknown node, a wrong key and a plain-text peer are refused; the HTTP port does not
  speak zc-fed.1.
Each test ends with zc-audit clean over the whole federation directory (where nothing was
tampered in git) and every node's heads equal."""
import base64
import hashlib
import json
import multiprocessing
import os
import socket
import sqlite3
import ssl
import struct
import subprocess
import tempfile
import time

from zc_test import PASSWORD, REGION, ROOT, Client, FED_OFFSET, Federation, ZcCase, tool

B, C = "650100", "653100"  # the region is node A, REGION


def db_rows(fed, nid, sql, *args):
    db = sqlite3.connect(f"file:{os.path.join(fed.data_of(nid), 'node.db')}?mode=ro", uri=True, timeout=10)
    try:
        return db.execute(sql, args).fetchall()
    finally:
        db.close()


def heads(fed, nid):
    return {o: (s, h) for o, s, h in db_rows(fed, nid, "SELECT origin, seq, hash FROM fed_heads")}


def git(fed, nid, *args, inp=None):
    r = subprocess.run(["git", "--git-dir", os.path.join(fed.data_of(nid), "fedlog.git"), *args],
                       input=inp, capture_output=True, timeout=60)
    assert r.returncode == 0, (args, r.stderr)
    return r.stdout


def register_many(port, bodies, q):
    """A separate process: register applicants at one node until it goes away."""
    from zc_test import NodePort
    n = 0
    for b in bodies:
        try:
            r = Client(NodePort(port)).post("/api/v1/accounts", b, timeout=10)
            if r.status == 201:
                n += 1
        except Exception:
            break
    q.put(n)


def canonical(d):
    """Canonical JSON as DESIGN.md defines it (for the ASCII-keyed, integer-only entries here)."""
    return json.dumps(d, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def openssl_sign(key, data):
    with tempfile.TemporaryDirectory() as d:
        pe, ps = os.path.join(d, "e"), os.path.join(d, "s")
        open(pe, "wb").write(data)
        r = subprocess.run(["openssl", "pkeyutl", "-sign", "-inkey", key, "-rawin", "-in", pe, "-out", ps],
                           capture_output=True, timeout=30)
        assert r.returncode == 0, r.stderr
        return open(ps, "rb").read()


# ---- a minimal WebSocket client (RFC 6455), for the refusal tests -------------------------

def ws_open(sock, host, path, protocol):
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                  f"Sec-WebSocket-Protocol: {protocol}\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        if not chunk:
            break
        head += chunk
    return head.split(b"\r\n", 1)[0].decode(errors="replace")


def ws_send(sock, text):
    data, mask = text.encode(), os.urandom(4)
    n = len(data)
    hdr = bytes([0x81]) + (bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack(">H", n))
    sock.sendall(hdr + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))


def _read(sock, n):
    out = b""
    while len(out) < n:
        chunk = sock.recv(n - len(out))
        if not chunk:
            raise ConnectionError("closed")
        out += chunk
    return out


def ws_recv(sock):
    """(opcode, payload) of the next frame."""
    b0, b1 = _read(sock, 2)
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack(">H", _read(sock, 2))[0]
    elif n == 127:
        n = struct.unpack(">Q", _read(sock, 8))[0]
    return b0 & 0x0F, _read(sock, n)


def ws_recv_json(sock):
    while True:
        op, data = ws_recv(sock)
        if op == 1:
            return json.loads(data)
        if op == 8:
            raise ConnectionError("closed by the peer")


def audit_bin():
    """zc-audit of the build under test (make asan-bin builds none: then bin/'s)."""
    audit = tool("zc-audit")
    return audit if os.path.exists(audit) else os.path.join(ROOT, "bin", "zc-audit")


class ReplicationCase(ZcCase):
    NODE_LABEL = None

    @classmethod
    def setUpClass(cls):
        pass  # each test starts its own federation: they stop, kill and tamper

    def start(self, label):
        fed = Federation(label, nodes=3).start()
        self.addCleanup(fed.stop)
        self.fed = fed
        self.node = fed.at(REGION)
        self.wait_links_up()
        return fed

    def client_at(self, nid):
        return Client(self.fed.at(nid))

    def login_at(self, nid, login, password=PASSWORD):
        c = self.client_at(nid)
        return c, c.login(login, password)

    def wait_login(self, nid, login, password=PASSWORD, timeout=20):
        """Log in at nid once the account has replicated there."""
        end = time.time() + timeout
        while True:
            c, r = self.login_at(nid, login, password)
            if r.status == 200 or time.time() > end:
                break
            time.sleep(0.1)
        self.assertEqual(r.status, 200, f"cannot log in at {nid} as {login}: {r!r}")
        return c

    def register_at(self, nid, n=1):
        for _ in range(n):
            c = self.client_at(nid)
            self.assertStatus(c.post("/api/v1/accounts", self.applicant_body()), 201)

    def status(self, nid):
        a = self.fed.account_of(nid, "node_admin")
        c = self.client_at(nid)
        self.assertStatus(c.login(a["login"], a["password"]), 200)
        r = c.get("/api/v1/fed/status")
        self.assertStatus(r, 200)
        return r.json

    def wait_links_up(self, nids=None, timeout=30):
        nids = nids or self.fed.ids
        end = time.time() + timeout
        while True:
            states = {n: {p["node"]: p["state"] for p in self.status(n)["peers"] if p["node"] in nids}
                      for n in nids}
            if all(s == "up" for st in states.values() for s in st.values()):
                return
            if time.time() > end:
                self.fail(f"links not up in {timeout}s: {states}")
            time.sleep(0.2)

    def start_with_failpoint(self, nid, failpoint):
        """Restart nid with ZC_FAILPOINT set (node/node.c: it kills itself there, or holds back
        what its failpoint names, e.g. slow_log)."""
        self.fed.stop_node(nid)
        os.environ["ZC_FAILPOINT"] = failpoint
        try:
            self.fed.start_node(nid)
        finally:
            del os.environ["ZC_FAILPOINT"]
        self.wait_links_up()

    def own_head(self, nid):
        """The node's newest entry once every entry it built is in its log (-1 before)."""
        (top, waiting), = db_rows(self.fed, nid, "SELECT max(seq), count(*) FILTER (WHERE state = 'built')"
                                  " FROM outbox WHERE state <> 'legacy'")
        return -1 if waiting else (top or 0)

    def made_at(self, nid):
        """The newest entry the node recorded, logged or not."""
        return db_rows(self.fed, nid, "SELECT coalesce(max(seq), 0) FROM outbox")[0][0]

    def wait_converged(self, nids=None, timeout=60):
        """Every node of nids holds, for every origin, that origin's own head (or, for an
        origin not in nids, the same head everywhere)."""
        nids = nids or self.fed.ids
        end = time.time() + timeout
        while True:
            hs = {n: heads(self.fed, n) for n in nids}
            want = {o: hs[o][o] for o in nids if o in hs[o]}
            same = all(h == hs[nids[0]] for h in hs.values())
            if same and all(hs[n].get(o) == w for n in nids for o, w in want.items()) and \
                    all(want.get(o, (0,))[0] == self.own_head(o) for o in nids):
                return hs[nids[0]]
            if time.time() > end:
                self.fail(f"not converged in {timeout}s: {json.dumps(hs, indent=1)[:3000]}")
            time.sleep(0.2)

    def assert_contiguous(self, nid):
        """fed_entries holds each origin's entries 1..head, nothing twice, each hash naming
        its bytes, and git holds the same chain."""
        for origin, (seq, h) in heads(self.fed, nid).items():
            rows = db_rows(self.fed, nid, "SELECT seq, hash, entry FROM fed_entries WHERE origin = ? ORDER BY seq",
                           origin)
            self.assertEqual([r[0] for r in rows], list(range(1, seq + 1)), f"{nid}: {origin} not contiguous")
            self.assertTrue(all(hashlib.sha256(bytes(r[2])).hexdigest() == r[1] for r in rows))
            self.assertEqual(rows[-1][1], h)
            tip = json.loads(git(self.fed, nid, "show", f"refs/fed/{origin}:entry.json"))
            self.assertEqual(tip["seq"], seq)

    def run_audit(self, in_flight=0):
        """zc-audit over the federation's directory, once every node has put what it built
        into its log (a node that is stopped waits no longer than 10 s). No claim or
        registration counts as in flight unless in_flight says so: every test ends with
        both halves of each written."""
        end = time.time() + 10
        while time.time() < end and any(self.own_head(n) < 0 for n in self.fed.ids):
            time.sleep(0.1)
        return subprocess.run([audit_bin(), "--in-flight-secs", str(in_flight), "--schemas", os.path.join(ROOT, "schemas"),
                               self.fed.dir], capture_output=True, text=True, timeout=300)

    def audit(self, in_flight=0):
        r = self.run_audit(in_flight)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def alerts(self, nid):
        return self.status(nid)["alerts"]

    def wait_alert(self, nid, code, origin, timeout=30):
        end = time.time() + timeout
        while time.time() < end:
            for a in self.alerts(nid):
                if a["code"] == code and a["origin"] == origin:
                    return a
            time.sleep(0.2)
        logs = {n: self.fed.log_of(n)[-1500:] for n in self.fed.ids}
        self.fail(f"no {code} alert about {origin} at {nid}: {self.alerts(nid)}; logs: {json.dumps(logs, indent=1)}")


class TestReplication(ReplicationCase):
    def test_an_entry_reaches_every_node_and_verifies_there_with_git_and_openssl(self):
        fed = self.start("repl-basic")
        self.register_at(B)
        hs = self.wait_converged()
        self.assertGreater(hs[B][0], 0)
        for nid in fed.ids:
            e = git(fed, nid, "show", f"refs/fed/{B}:entry.json")
            s = git(fed, nid, "show", f"refs/fed/{B}:entry.sig")
            self.assertEqual(json.loads(e)["type"], "account.registered")
            with tempfile.TemporaryDirectory() as d:
                pe, ps = os.path.join(d, "e"), os.path.join(d, "s")
                open(pe, "wb").write(e)
                open(ps, "wb").write(s)
                r = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey",
                                    os.path.join(fed.dir, "keys", f"{B}.pem"), "-rawin", "-in", pe, "-sigfile", ps],
                                   capture_output=True, text=True, timeout=30)
                self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            git(fed, nid, "fsck", "--strict")
            self.assert_contiguous(nid)
        # every node stores the same commit for an entry
        self.assertEqual(len({git(fed, n, "rev-parse", f"refs/fed/{B}") for n in fed.ids}), 1)
        # every node keeps every node's signed checkpoint of its heads; one verifies with
        # openssl over its prefix and bytes, and names the heads every node holds
        end = time.time() + 30
        while time.time() < end:
            refs = {n: git(fed, n, "for-each-ref", "--format=%(refname)", "refs/checkpoints/").decode().split()
                    for n in fed.ids}
            if all(len(r) == 3 for r in refs.values()):
                break
            time.sleep(0.3)
        self.assertEqual(refs[C], sorted(f"refs/checkpoints/{n}" for n in fed.ids), refs)
        cj = git(fed, C, "show", f"refs/checkpoints/{B}:checkpoint.json")
        cs = git(fed, C, "show", f"refs/checkpoints/{B}:checkpoint.sig")
        with tempfile.TemporaryDirectory() as d:
            pe, ps = os.path.join(d, "e"), os.path.join(d, "s")
            open(pe, "wb").write(b"zc-fed.1 checkpoint\n" + cj)
            open(ps, "wb").write(cs)
            r = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey",
                                os.path.join(fed.dir, "keys", f"{B}.pem"), "-rawin", "-in", pe, "-sigfile", ps],
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(json.loads(cj)["node"], B)
        for nid in fed.ids:  # heads go round at least once a second: no lag soon after
            end = time.time() + 15
            while True:
                st = self.status(nid)
                lags = [{o: h["lag"] for o, h in p["heads"].items()} for p in st["peers"]]
                if all(l == {o: 0 for o in fed.ids} for l in lags) or time.time() > end:
                    break
                time.sleep(0.2)
            self.assertEqual(st["alerts"], [])
            for p in st["peers"]:
                self.assertEqual(p["state"], "up", p)
                self.assertEqual({o: h["lag"] for o, h in p["heads"].items()}, {o: 0 for o in fed.ids}, p)
        self.audit()

    def test_entries_from_elsewhere_are_applied_once(self):
        """account.credentials from another node ends the account's sessions here; an entry
        of a type without a handler is stored but stays unapplied."""
        fed = self.start("repl-apply")
        a = self.client_at(B)
        body = self.applicant_body()
        self.assertStatus(a.remember(a.post("/api/v1/accounts", body)), 201)
        self.assertStatus(a.post("/api/v1/me/password", {"old": body["password"], "new": "An0ther!Passw0rd#26"}), 200)
        self.wait_converged()
        for nid in (REGION, C):
            rows = db_rows(fed, nid, "SELECT type, applied FROM fed_entries WHERE origin = ?", B)
            applied = {t for t, ap in rows if ap is not None}
            self.assertEqual(applied, {"account.credentials", "account.registered", "committee.updated",
                                       "unit.registered"}, rows)
            self.assertIn("unit.recommenders", {t for t, ap in rows if ap is None})  # no handler: stored, unapplied
        # own entries are stored as applied
        rows = db_rows(fed, B, "SELECT count(*) FROM fed_entries WHERE origin = ? AND applied IS NULL", B)
        self.assertEqual(rows[0][0], 0)

    def test_a_stopped_node_catches_up_also_through_the_region(self):
        fed = self.start("repl-catchup")
        self.wait_converged()
        fed.stop_node(C)
        self.register_at(B, 5)
        self.register_at(REGION, 2)
        self.wait_converged([REGION, B])
        fed.stop_node(B)  # the origin is down: only the region holds its new entries for C
        fed.start_node(C)
        end = time.time() + 60
        while heads(fed, C).get(B) != heads(fed, REGION).get(B) and time.time() < end:
            time.sleep(0.2)
        self.assertEqual(heads(fed, C).get(B), heads(fed, REGION).get(B), "C did not catch up through the region")
        self.assertEqual(heads(fed, C).get(REGION), heads(fed, REGION).get(REGION))
        fed.start_node(B)
        self.wait_converged()
        for nid in fed.ids:
            self.assert_contiguous(nid)
        self.audit()

    def test_kill_9_of_a_receiver_and_of_a_writer_in_a_burst(self):
        fed = self.start("repl-kill")
        self.wait_converged()
        ctx = multiprocessing.get_context("fork")
        q = ctx.Queue()
        procs = [ctx.Process(target=register_many,
                             args=(fed.port_of(nid), [self.applicant_body() for _ in range(40)], q))
                 for nid in (REGION, B, B)]
        for p in procs:
            p.start()
        start_b = self.made_at(B)
        deadline = time.time() + 30
        while self.made_at(B) < start_b + 10 and time.time() < deadline:
            time.sleep(0.05)
        fed.stop_node(C, kill=True)   # a receiver, in the middle of the stream
        while self.made_at(B) < start_b + 20 and time.time() < deadline:
            time.sleep(0.05)
        fed.stop_node(B, kill=True)   # a writer, in the middle of its burst
        for p in procs:
            p.join(90)
        made = [q.get(timeout=30) for _ in procs]
        self.assertGreater(sum(made), 20)
        fed.start_node(B)
        fed.start_node(C)
        hs = self.wait_converged(timeout=90)
        self.assertGreaterEqual(hs[B][0], start_b + 20)
        for nid in fed.ids:
            self.assert_contiguous(nid)
            self.assertEqual(self.alerts(nid), [])
        # a registration killed between the registrar's claim and its commit leaves a claim
        # that the registrar releases after --claim-check-secs: in flight, not a finding
        self.audit(in_flight=120)


class TestReplicationRefusals(ReplicationCase):
    def tamper_served_entry(self, nid, origin, seq, forge):
        """With node nid stopped: replace what it serves of (origin, seq) in fed_entries by
        forge(entry bytes) -> (bytes, signature). Its git log keeps the true entry."""
        db = sqlite3.connect(os.path.join(self.fed.data_of(nid), "node.db"), timeout=10)
        try:
            entry, sig = db.execute("SELECT entry, sig FROM fed_entries WHERE origin = ? AND seq = ?",
                                    (origin, seq)).fetchone()
            e, s = forge(bytes(entry), bytes(sig))
            db.execute("UPDATE fed_entries SET entry = ?, sig = ?, hash = ? WHERE origin = ? AND seq = ?",
                       (e, s, hashlib.sha256(e).hexdigest(), origin, seq))
            db.execute("UPDATE fed_heads SET hash = ? WHERE origin = ? AND seq = ?",
                       (hashlib.sha256(e).hexdigest(), origin, seq))
            db.commit()
        finally:
            db.close()
        return hashlib.sha256(e).hexdigest()

    def test_a_tampered_entry_served_over_the_wire_is_refused(self):
        fed = self.start("repl-tamper")
        self.wait_converged()
        fed.stop_node(C)
        self.register_at(B, 3)
        self.wait_converged([REGION, B])
        tip = heads(fed, B)[B][0]
        have_c = heads(fed, C).get(B, (0, ""))
        fed.stop_node(B)
        fed.stop_node(REGION)
        # a name changed (still canonical), the signature kept: the region now serves a forgery
        def tamper(e, s):
            d = json.loads(e)
            d["body"]["name"] = "篡改"
            return canonical(d), s
        self.tamper_served_entry(REGION, B, tip - 1, tamper)
        fed.start_node(REGION, ready=False)  # alone until C is up: no peer to check with
        fed.start_node(C)
        a = self.wait_alert(C, "entry_refused", B)
        self.assertIn("does not verify", a["message"])
        self.assertEqual(heads(fed, C).get(B, (0, "")), have_c, "C stored part of a refused batch")
        n = db_rows(fed, C, "SELECT count(*) FROM fed_entries WHERE origin = ? AND seq >= ?", B, tip - 1)[0][0]
        self.assertEqual(n, 0)
        fed.start_node(B)  # a good copy: the origin itself
        end = time.time() + 60
        while heads(fed, C).get(B) != heads(fed, B).get(B) and time.time() < end:
            time.sleep(0.2)
        self.assertEqual(heads(fed, C).get(B), heads(fed, B).get(B))
        self.assert_contiguous(C)
        git(fed, C, "fsck", "--strict")

    def test_an_equivocating_entry_is_never_applied_and_raises_an_alert(self):
        fed = self.start("repl-equivocation")
        self.register_at(B, 2)
        hs = self.wait_converged()
        tip, true_hash = hs[B]
        fed.stop_node(REGION)
        key = os.path.join(fed.dir, "keys", f"{B}.key")

        def forge(entry, sig):
            d = json.loads(entry)
            d["body"]["name"] = "另一个历史"  # a second history,
            e = canonical(d)
            return e, openssl_sign(key, e)  # validly signed by B's key

        forged = self.tamper_served_entry(REGION, B, tip, forge)
        self.assertNotEqual(forged, true_hash)
        fed.start_node(REGION)
        for nid in (B, C):  # both hear the region's heads
            a = self.wait_alert(nid, "equivocation", B)
            self.assertEqual(a["seq"], tip)
            self.assertEqual(heads(fed, nid)[B], (tip, true_hash), "the second history was applied")
        self.assertIn("equivocation", fed.log_of(C))
        # the region's signed checkpoint names the second history: evidence, and an alert
        a = self.wait_alert(C, "checkpoint_mismatch", B)
        self.assertEqual(a["seq"], tip)
        # the same second history put into the region's git log: zc-audit names it, one line
        # `CODE ORIGIN SEQ detail` per finding (API.md), and fails
        fed.stop_node(REGION)
        e, sig = db_rows(fed, REGION, "SELECT entry, sig FROM fed_entries WHERE origin = ? AND seq = ?", B, tip)[0]
        with tempfile.TemporaryDirectory() as d:
            pe, ps = os.path.join(d, "e"), os.path.join(d, "s")
            open(pe, "wb").write(bytes(e))
            open(ps, "wb").write(bytes(sig))
            be = git(fed, REGION, "hash-object", "-w", pe).decode().strip()
            bs = git(fed, REGION, "hash-object", "-w", ps).decode().strip()
        tree = git(fed, REGION, "mktree", inp=f"100644 blob {be}\tentry.json\n100644 blob {bs}\tentry.sig\n".encode())
        old = git(fed, REGION, "rev-parse", f"refs/fed/{B}").decode().strip()
        parent = git(fed, REGION, "rev-parse", f"refs/fed/{B}~1").decode().strip()
        commit = git(fed, REGION, "commit-tree", tree.decode().strip(), "-p", parent, "-m", f"{B}/{tip}").decode().strip()
        git(fed, REGION, "update-ref", f"refs/fed/{B}", commit, old)
        r = subprocess.run([tool("zc-audit") if os.path.exists(tool("zc-audit")) else os.path.join(ROOT, "bin", "zc-audit"),
                            fed.dir], capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        lines = r.stdout.splitlines()
        self.assertTrue(lines, r.stderr)
        self.assertTrue(all(len(l.split(" ", 3)) == 4 for l in lines), lines)
        self.assertIn(("equivocation", B, str(tip)), [tuple(l.split(" ", 3)[:3]) for l in lines])
        # both validly signed; the region's own checkpoints may name the forged head too
        self.assertLessEqual({l.split(" ")[0] for l in lines}, {"equivocation", "checkpoint_mismatch"}, lines)

    def fed_socket(self, nid):
        ctx = ssl.create_default_context(cafile=os.path.join(self.fed.dir, "keys", "root.crt"))
        raw = socket.create_connection(("127.0.0.1", self.fed.port_of(nid) + FED_OFFSET), timeout=10)
        s = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
        self.addCleanup(s.close)
        return s

    def test_unknown_node_wrong_key_and_plain_text_are_refused(self):
        fed = self.start("repl-refuse")
        # the certificate chains to the federation's root and names 127.0.0.1
        s = self.fed_socket(REGION)
        self.assertIn("101", ws_open(s, "127.0.0.1", "/fed", "zc-fed.1"))
        ch = ws_recv_json(s)
        self.assertEqual((ch["t"], ch["node"]), ("challenge", REGION))
        ws_send(s, json.dumps({"t": "hello", "node": "659999", "key": "659999#1", "nonce": "00" * 32,
                               "sig": "00" * 64}))
        m = ws_recv_json(s)
        self.assertEqual((m["t"], m["code"]), ("refused", "unknown_node"))
        # a known node that cannot prove its key
        s = self.fed_socket(REGION)
        ws_open(s, "127.0.0.1", "/fed", "zc-fed.1")
        ws_recv_json(s)
        ws_send(s, json.dumps({"t": "hello", "node": B, "key": f"{B}#1", "nonce": "11" * 32, "sig": "22" * 64}))
        m = ws_recv_json(s)
        self.assertEqual((m["t"], m["code"]), ("refused", "bad_proof"))
        # before authenticating, nothing else is answered
        s = self.fed_socket(REGION)
        ws_open(s, "127.0.0.1", "/fed", "zc-fed.1")
        ws_recv_json(s)
        ws_send(s, json.dumps({"t": "want", "origin": REGION, "from": 1}))
        m = ws_recv_json(s)
        self.assertEqual((m["t"], m["code"]), ("refused", "not_authenticated"))
        self.assertIn("refusing a link", fed.log_of(REGION))
        # plain text on the federation port: no WebSocket
        raw = socket.create_connection(("127.0.0.1", fed.port_of(REGION) + FED_OFFSET), timeout=10)
        self.addCleanup(raw.close)
        try:
            line = ws_open(raw, "127.0.0.1", "/fed", "zc-fed.1")
        except (ConnectionError, OSError):
            line = ""
        self.assertNotIn("101", line)
        # the HTTP port does not speak zc-fed.1
        raw = socket.create_connection(("127.0.0.1", fed.port_of(REGION)), timeout=10)
        self.addCleanup(raw.close)
        line = ws_open(raw, "127.0.0.1", "/fed", "zc-fed.1")
        self.assertNotIn("101", line)
        # the federation keeps working
        self.register_at(C)
        self.wait_converged()
        self.audit()

    def test_a_certificate_the_manifest_does_not_pin_is_refused(self):
        """C serves a certificate issued under the same root but not the one pinned: its
        dialers (the region and B) refuse the link, and say why."""
        fed = self.start("repl-pin")
        fed.stop_node(C)
        keys = os.path.join(fed.dir, "keys")
        r = subprocess.run([tool("zc-admin"), "tls-cert", "--root", os.path.join(keys, "root.key"), "--root-cert",
                            os.path.join(keys, "root.crt"), "--node", C, "--key-out", os.path.join(keys, f"{C}.tls.key"),
                            "--cert-out", os.path.join(keys, f"{C}.crt")], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        # dated between the root certificate and the manifest: zc-fed keeps both as they are
        t = (os.stat(os.path.join(keys, "root.crt")).st_mtime_ns + os.stat(os.path.join(fed.dir, "federation.json")).st_mtime_ns) // 2
        for f in (f"{C}.crt", f"{C}.tls.key"):
            os.utime(os.path.join(keys, f), ns=(t, t))
        fed.start_node(C, ready=False)  # no link will come up
        for nid in (REGION, B):  # both dial C
            end = time.time() + 30
            while time.time() < end:
                peers = {p["node"]: p for p in self.status(nid)["peers"]}
                if "pins" in (peers[C]["last_error"] or ""):
                    break
                time.sleep(0.3)
            self.assertNotEqual(peers[C]["state"], "up")
            self.assertIn("not the one the manifest pins", peers[C]["last_error"] or "")
            self.assertIn("not the one the manifest pins", fed.log_of(nid))


class TestUnknownEntryTypes(ReplicationCase):
    def test_an_entry_of_a_type_no_node_knows_is_stored_and_relayed_and_never_stalls_the_stream(self):
        """As a newer node would write it: B's log holds an entry of type future.thing v7
        (built into B's outbox while it was stopped, signed by B's log writer). Every node
        verifies and stores it without applying it, C gets it relayed by the region while B
        is down, and the entries after it flow and apply as usual."""
        fed = self.start("repl-unknown-type")
        self.register_at(B)
        self.wait_converged()
        fed.stop_node(C)
        fed.stop_node(B)
        db = sqlite3.connect(os.path.join(fed.data_of(B), "node.db"), timeout=10)
        try:
            seq, prev = db.execute("SELECT seq, hash FROM outbox WHERE hash IS NOT NULL ORDER BY seq DESC LIMIT 1"
                                   ).fetchone()
            key = json.loads(bytes(db.execute("SELECT entry FROM outbox WHERE seq = ?", (seq,)).fetchone()[0]))["key"]
            body = {"field": "新的", "n": 3}
            entry = canonical({"body": body, "key": key, "origin": B, "prev": prev, "seq": seq + 1,
                               "ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "type": "future.thing", "v": 7})
            db.execute("INSERT INTO outbox(seq, type, body_json, created, entry, hash, state) VALUES (?,?,?,?,?,?,"
                       "'built')", (seq + 1, "future.thing", canonical(body).decode(), int(time.time()), entry,
                                    hashlib.sha256(entry).hexdigest()))
            db.commit()
        finally:
            db.close()
        fed.start_node(B)
        a = self.client_at(B)
        body = self.applicant_body()
        self.assertStatus(a.remember(a.post("/api/v1/accounts", body)), 201)
        self.assertStatus(a.post("/api/v1/me/password", {"old": body["password"], "new": "An0ther!Passw0rd#26"}), 200)
        self.wait_converged([REGION, B])
        fed.stop_node(B)
        fed.start_node(C)
        end = time.time() + 60
        while heads(fed, C).get(B) != heads(fed, REGION).get(B) and time.time() < end:
            time.sleep(0.2)
        self.assertEqual(heads(fed, C).get(B), heads(fed, REGION).get(B), "C did not get B's entries via the region")
        for nid in (REGION, C):
            rows = dict(((t, s), ap) for s, t, ap in
                        db_rows(fed, nid, "SELECT seq, type, applied FROM fed_entries WHERE origin = ? AND seq > ?",
                                B, seq))
            self.assertIn(("future.thing", seq + 1), rows, nid)
            self.assertIsNone(rows[("future.thing", seq + 1)], "an unknown type was applied")
            self.assertIsNotNone(rows[("account.credentials", seq + 3)], "the stream stalled after the unknown entry")
            self.assertEqual(self.alerts(nid), [], nid)
            self.assert_contiguous(nid)
        fed.start_node(B)
        self.wait_converged()
        self.audit()
