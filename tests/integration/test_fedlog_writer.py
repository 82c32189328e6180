"""The log writer (node/logwriter.c): the outbox moved into DATA/fedlog.git.

- after a registration its entry is in refs/fed/650000 and verifies with DESIGN.md's
  recipe (real git and openssl); `git fsck --strict` is clean; zc-audit is clean;
- a burst of registrations from several processes with the node killed (-9) in the middle,
  then a restart: the git chain equals the outbox (same count, same hashes, contiguous
  seqs, every row logged), zc-audit clean;
- a different validly signed entry planted at the next seq with git plumbing while the
  node is stopped: at restart the writer refuses to extend the log, says so in node.log and
  in GET /fed/status;
- GET /fed/status answers node admin and auditor (the matrix covers the others)."""
import hashlib
import json
import multiprocessing
import os
import signal
import sqlite3
import subprocess
import tempfile
import time

from zc_test import REGION, ROOT, Client, Node, ZcCase, _pids_naming, tool

REF = f"refs/fed/{REGION}"


def git(node, *args, inp=None):
    r = subprocess.run(["git", "--git-dir", os.path.join(node.data, "fedlog.git"), *args],
                       input=inp, capture_output=True, timeout=60)
    assert r.returncode == 0, (args, r.stderr)
    return r.stdout


def outbox(node):
    db = sqlite3.connect(f"file:{os.path.join(node.data, 'node.db')}?mode=ro", uri=True, timeout=10)
    try:
        return db.execute("SELECT seq, hash, state FROM outbox ORDER BY seq").fetchall()
    finally:
        db.close()


def git_chain(node):
    """[(seq, sha256 of entry.json)] of refs/fed/650000, oldest first."""
    commits = git(node, "rev-list", "--reverse", REF).decode().split()
    out = []
    for c in commits:
        e = git(node, "show", f"{c}:entry.json")
        out.append((json.loads(e)["seq"], hashlib.sha256(e).hexdigest()))
    return out


def wait_logged(node, timeout=30):
    """Until every outbox row is logged (bounded)."""
    end = time.time() + timeout
    rows = outbox(node)
    while time.time() < end:
        rows = outbox(node)
        if rows and all(s == "logged" for _, _, s in rows):
            return rows
        time.sleep(0.2)
    raise AssertionError(f"outbox not logged in {timeout}s: {[r for r in rows if r[2] != 'logged'][:5]}")


def register_many(node, bodies, q):
    """A separate process: register until the node goes away."""
    n = 0
    for b in bodies:
        try:
            c = Client(node)
            r = c.post("/api/v1/accounts", b, timeout=10)
            if r.status == 201:
                n += 1
        except Exception:
            break
    q.put(n)


class TestFedlogWriter(ZcCase):
    NODE_LABEL = None

    @classmethod
    def setUpClass(cls):
        pass  # each test starts its own node: they kill and tamper

    def start(self, label):
        n = Node(label, demo=True).start()
        self.addCleanup(n.stop)
        self.node = n
        self.assertTrue(n.via_fed, "these tests need tools/zc-fed (a node with a manifest and key)")
        return n

    def audit(self, n):
        audit = tool("zc-audit")
        if not os.path.exists(audit):  # make asan-bin builds no zc-audit
            audit = os.path.join(ROOT, "bin", "zc-audit")
        r = subprocess.run([audit, n.dir], capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def assert_chain_is_outbox(self, n):
        rows = wait_logged(n)
        chain = git_chain(n)
        self.assertEqual([s for s, _ in chain], list(range(1, len(chain) + 1)), "seqs not contiguous")
        self.assertEqual(chain, [(s, h) for s, h, _ in rows])
        return rows

    def status(self, n, role):
        a = n.account(role)
        c = Client(n)
        self.assertStatus(c.login(a["login"], a["password"]), 200)
        r = c.get("/api/v1/fed/status")
        self.assertStatus(r, 200)
        return r.json

    def test_entry_verifies_with_git_and_openssl(self):
        n = self.start("fedlog-recipe")
        self.new_applicant()
        rows = self.assert_chain_is_outbox(n)
        e = git(n, "show", f"{REF}:entry.json")
        s = git(n, "show", f"{REF}:entry.sig")
        self.assertEqual(json.loads(e)["type"], "account.registered")
        self.assertEqual(hashlib.sha256(e).hexdigest(), rows[-1][1])
        self.assertEqual(len(s), 64)
        with tempfile.TemporaryDirectory() as d:
            pe, ps = os.path.join(d, "e"), os.path.join(d, "s")
            open(pe, "wb").write(e)
            open(ps, "wb").write(s)
            r = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey",
                                os.path.join(n.dir, "keys", f"{REGION}.pem"), "-rawin", "-in", pe, "-sigfile", ps],
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        git(n, "fsck", "--strict")
        self.audit(n)
        for role in ("node_admin", "auditor"):
            st = self.status(n, role)
            self.assertTrue(st["log"])
            self.assertEqual(st["origins"][0]["origin"], REGION)
            self.assertEqual(st["origins"][0]["seq"], rows[-1][0])
            self.assertEqual(st["origins"][0]["hash"], rows[-1][1])
            self.assertEqual(st["outbox"]["built"], 0)
            self.assertEqual(st["alerts"], [])
            self.assertEqual(st["peers"], [])

    def test_kill_in_a_burst_then_restart_loses_nothing(self):
        n = self.start("fedlog-kill")
        before = len(wait_logged(n))
        ctx = multiprocessing.get_context("fork")
        q = ctx.Queue()
        procs = [ctx.Process(target=register_many, args=(n, [self.applicant_body() for _ in range(40)], q))
                 for _ in range(4)]
        for p in procs:
            p.start()
        deadline = time.time() + 30
        while len(outbox(n)) < before + 12 and time.time() < deadline:
            time.sleep(0.05)
        pids = _pids_naming(n.data)  # tools/zc-fed has no `stop --kill` yet
        self.assertTrue(pids)
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        made = sum(q.get(timeout=60) for _ in procs)
        for p in procs:
            p.join(30)
        rows_at_kill = outbox(n)
        self.assertGreater(len(rows_at_kill), before + 10, "the burst wrote too little before the kill")
        n.resume()
        rows = self.assert_chain_is_outbox(n)
        self.assertEqual(len(rows), len(rows_at_kill), "rows changed across the restart")
        self.assertGreaterEqual(len(rows) - before, made)  # every acknowledged registration is there
        self.new_applicant()  # and the writer carries on from there: account.registered, id.claimed
        self.assertEqual(len(self.assert_chain_is_outbox(n)), len(rows) + 2)
        git(n, "fsck", "--strict")
        self.audit(n)

    def test_a_different_entry_in_git_stops_the_writer(self):
        n = self.start("fedlog-tamper")
        self.new_applicant()
        rows = self.assert_chain_is_outbox(n)
        n.halt()
        # a validly signed entry at the next seq, which the outbox never made
        head = json.loads(git(n, "show", f"{REF}:entry.json"))
        planted = dict(head, seq=head["seq"] + 1, prev=rows[-1][1], ts="2026-01-01T00:00:00Z", type="account.disabled")
        e = json.dumps(planted, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        with tempfile.TemporaryDirectory() as d:
            pe, ps = os.path.join(d, "e"), os.path.join(d, "s")
            open(pe, "wb").write(e)
            r = subprocess.run(["openssl", "pkeyutl", "-sign", "-inkey", os.path.join(n.dir, "keys", f"{REGION}.key"),
                                "-rawin", "-in", pe, "-out", ps], capture_output=True, timeout=30)
            self.assertEqual(r.returncode, 0, r.stderr)
            be = git(n, "hash-object", "-w", pe).decode().strip()
            bs = git(n, "hash-object", "-w", ps).decode().strip()
        tree = git(n, "mktree", inp=f"100644 blob {be}\tentry.json\n100644 blob {bs}\tentry.sig\n".encode()).decode().strip()
        parent = git(n, "rev-parse", REF).decode().strip()
        commit = git(n, "commit-tree", tree, "-p", parent, "-m", f"{REGION}/{planted['seq']}").decode().strip()
        git(n, "update-ref", REF, commit, parent)
        n.resume()  # the reconcile at start finds it, before any new entry
        end = time.time() + 20
        st = self.status(n, "auditor")
        while not st["writer"]["refused"] and time.time() < end:
            time.sleep(0.2)
            st = self.status(n, "auditor")
        self.assertTrue(st["writer"]["refused"], st)
        self.assertEqual(st["alerts"][0]["code"], "log_mismatch")
        self.assertEqual(st["alerts"][0]["seq"], planted["seq"])
        self.assertIn("LOG MISMATCH", n.log_text())
        self.new_applicant()  # its entry takes the planted seq in the outbox: never to be logged
        time.sleep(LOG_TICK * 2)
        self.assertEqual(git(n, "rev-parse", REF).decode().strip(), commit, "the writer extended a log it disagrees with")
        self.assertEqual(outbox(n)[-1][2], "built")


LOG_TICK = 2  # LOGWRITER_TICK_SECS
