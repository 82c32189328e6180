"""zc_test.py - the integration tests' harness: start real zc-node processes in throw-away
directories, talk to them over HTTP like any client, make valid (and deliberately invalid)
identifiers. Python 3 standard library only.

Nodes are started with the project's launcher (`tools/zc-fed up --dir TMP --nodes 1
--base-port P [--demo]`); when the launcher cannot start them (absent, or it fails), the
harness seeds and starts the node itself (`zc-admin seed --demo`, then `zc-node`), saying
so once. Every process the harness starts is stopped and every directory it made removed,
whatever happens (run.py calls stop_all(); atexit does too).

Environment:
  ZC_BIN_DIR     binaries to test (default bin/; e.g. build/asan/bin for the sanitizer build)
  ZC_ADMIN_BIN_DIR  where zc-admin comes from when the harness seeds a node itself
                 (default: ZC_BIN_DIR)
  ZC_LAUNCH      auto (default): zc-fed, else by hand; fed: zc-fed only; manual: by hand only
  ZC_TEST_LOGS   a directory to copy each node's node.log into before its directory goes
  ZC_TEST_VERBOSE=1  print how nodes were started
"""
import atexit
import datetime
import http.client
import json
import multiprocessing
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# The portal as the nodes serve it: make's build/web (tools/build_web.py), else web/ itself.
WEB = os.path.join(ROOT, "build", "web") if os.path.isdir(os.path.join(ROOT, "build", "web")) else os.path.join(ROOT, "web")
REGION = "650000"


def _lost_port_race(text):
    """Did a node fail to start only because its port was taken meanwhile?"""
    return any(k in text for k in ("cannot listen", "in use", "ERROR on binding"))


def until(fn, timeout=20, step=0.1):
    """fn()'s first true value within timeout seconds, polled every step; else its last."""
    end = time.time() + timeout
    while True:
        v = fn()
        if v or time.time() > end:
            return v
        time.sleep(step)


def bin_dir():
    d = os.environ.get("ZC_BIN_DIR") or "bin"
    return d if os.path.isabs(d) else os.path.join(ROOT, d)


def tool(name):
    """A binary from ZC_BIN_DIR; zc-admin may come from ZC_ADMIN_BIN_DIR instead (e.g. the
    plain build's, so that a sanitizer build of the node can be tested even when the
    sanitized zc-admin cannot seed)."""
    d = os.environ.get("ZC_ADMIN_BIN_DIR") if name == "zc-admin" else None
    if d:
        return os.path.join(d if os.path.isabs(d) else os.path.join(ROOT, d), name)
    return os.path.join(bin_dir(), name)


def is_sanitized():
    """Is the zc-node under test built with AddressSanitizer? (Its RSS then says little.)"""
    try:
        with open(tool("zc-node"), "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return False


def log(msg):
    if os.environ.get("ZC_TEST_VERBOSE"):
        print("[harness] " + msg, flush=True)


# ---- ports and processes ------------------------------------------------------------------

def _ephemeral_range():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            lo, hi = (int(x) for x in f.read().split())
            return lo, hi
    except (OSError, ValueError):
        return 32768, 60999


FED_OFFSET = 1000  # a node's federation port (wss://) is its HTTP port + this (tools/zc-fed)


def _port_free(port):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def free_port(n=1):
    """The first of n ports nobody uses now, whose federation ports (+FED_OFFSET) are free
    too, all below the kernel's ephemeral range: clients' own sockets (the tests open
    thousands) take their local ports from that range, and a port one of them holds cannot
    be bound by a node started a moment later. Tried by binding them, then released; the
    nodes take them right after."""
    lo, _ = _ephemeral_range()
    top = min(lo, 65536) - FED_OFFSET - n
    for _ in range(200):
        port = random.randrange(20000, top) if top > 20100 else random.randrange(20000, 64000 - FED_OFFSET)
        if all(_port_free(port + i) and _port_free(port + FED_OFFSET + i) for i in range(n)):
            return port
    raise RuntimeError("no free loopback ports")


def _pids_naming(text):
    """Processes whose command line contains text (our unique temp dir): ours alone."""
    out = []
    for p in os.listdir("/proc"):
        if not p.isdigit() or int(p) == os.getpid():
            continue
        try:
            with open(f"/proc/{p}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
            with open(f"/proc/{p}/status") as f:
                if re.search(r"^State:\s*[ZX]", f.read(), re.M):
                    continue
        except OSError:
            continue
        if text in cmd:
            out.append(int(p))
    return out


def _stop_pids(pids, grace=15.0):
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except OSError:
            pass
    end = time.time() + grace
    left = list(pids)
    while left and time.time() < end:
        time.sleep(0.1)
        left = [p for p in left if os.path.exists(f"/proc/{p}") and not _zombie(p)]
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def _zombie(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            return re.search(r"^State:\s*[ZX]", f.read(), re.M) is not None
    except OSError:
        return True


SANITIZER_PATTERNS = re.compile(
    r"(ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|SUMMARY: UndefinedBehaviorSanitizer"
    r"|WARNING: ThreadSanitizer|AddressSanitizer:DEADLYSIGNAL)")
FINDINGS = []        # (node label, excerpt) of sanitizer reports and crashes seen in node logs
_NODES = []          # every node started and not yet stopped
_LOCK = threading.Lock()
_NOTED = set()


def _note_once(key, msg):
    if key not in _NOTED:
        _NOTED.add(key)
        print("[harness] " + msg, flush=True)


class Node:
    """One zc-node (the region, 650000) in its own temp dir, on a free loopback port."""

    def __init__(self, label, demo=True, prepare=None):
        """prepare(node), when given, runs on the fresh directory before the node starts
        (e.g. `zc-admin init` and `zc-admin account` on its data dir)."""
        self.label, self.demo, self.prepare = label, demo, prepare
        self.dir = None
        self.port = None
        self.proc = None          # when started by hand
        self.via_fed = False
        self.accounts = []

    # -- start --
    def start(self):
        self.dir = tempfile.mkdtemp(prefix=f"zc-it-{self.label}-")
        with _LOCK:
            _NODES.append(self)
        mode = os.environ.get("ZC_LAUNCH", "auto")
        why = None
        if self.prepare:
            os.makedirs(self.data, exist_ok=True)
            self.prepare(self)
        if mode in ("auto", "fed"):
            why = self._start_fed()
            if why is None:
                self.via_fed = True
            elif mode == "fed":
                raise RuntimeError("zc-fed could not start the node: " + why)
            else:
                lines = why.strip().splitlines()
                key = [l for l in lines if "error" in l.lower()] or lines[-1:]
                _note_once("fed", "tools/zc-fed did not start a node (" + " / ".join(key[:2])[:400]
                           + "); starting nodes with zc-admin + zc-node instead")
                self._clean_fed_attempt()
                if self.prepare:
                    os.makedirs(self.data, exist_ok=True)
                    self.prepare(self)
        if not self.via_fed:
            self._start_manual()
        da = os.path.join(self.dir, "demo-accounts.json")
        if os.path.exists(da):
            with open(da, encoding="utf-8") as f:
                self.accounts = [a for a in json.load(f) if a.get("node") == REGION]
        log(f"node {self.label} on port {self.port} ({'zc-fed' if self.via_fed else 'by hand'}) in {self.dir}")
        return self

    def _env(self):
        env = dict(os.environ)
        env["ZC_BIN"] = bin_dir()
        env.setdefault("ZC_FED_TIMEOUT", "60")
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
        env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
        return env

    def _start_fed(self):
        launcher = os.path.join(ROOT, "tools", "zc-fed")
        if not os.access(launcher, os.X_OK):
            return "tools/zc-fed is missing or not executable"
        for attempt in range(6):
            self.port = free_port()
            cmd = [launcher, "up", "--dir", self.dir, "--nodes", "1", "--base-port", str(self.port)]
            if self.demo:
                cmd.append("--demo")
            try:
                r = subprocess.run(cmd, cwd=ROOT, env=self._env(), capture_output=True, text=True, timeout=180)
            except subprocess.TimeoutExpired:
                return "zc-fed up timed out"
            if r.returncode == 0:
                return None
            why = (r.stderr or r.stdout or "").strip() or f"exit {r.returncode}"
            if not _lost_port_race(why + self.log_text()):
                return why
            self._set_aside_log(f"bind-failed-{attempt}")
        return why

    def _clean_fed_attempt(self):
        launcher = os.path.join(ROOT, "tools", "zc-fed")
        if os.access(launcher, os.X_OK):
            try:
                subprocess.run([launcher, "down", "--dir", self.dir], cwd=ROOT, env=self._env(),
                               capture_output=True, timeout=60)
            except Exception:
                pass
        _stop_pids(_pids_naming(self.dir))
        for name in os.listdir(self.dir):
            p = os.path.join(self.dir, name)
            shutil.rmtree(p, ignore_errors=True) if os.path.isdir(p) else os.unlink(p)

    def _start_manual(self, port=None):
        data = os.path.join(self.dir, REGION)
        os.makedirs(data, exist_ok=True)
        schemas, web = os.path.join(ROOT, "schemas"), WEB
        if self.demo and port is None:
            r = subprocess.run([tool("zc-admin"), "seed", "--demo", "--data", data, "--node", REGION,
                                "--out", os.path.join(self.dir, "demo-accounts.json"), "--schemas", schemas],
                               env=self._env(), capture_output=True, text=True, timeout=120)
            if r.returncode:
                raise RuntimeError("zc-admin seed failed: " + (r.stderr or r.stdout)[-500:])
        for attempt in range(6):
            self.port = port or free_port()
            logf = open(os.path.join(data, "node.log"), "ab")
            self.proc = subprocess.Popen(
                [tool("zc-node"), "--node", REGION, "--port", str(self.port), "--data", data,
                 "--web", web, "--schemas", schemas],
                stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT, env=self._env(),
                start_new_session=True)
            logf.close()
            if self._wait_healthy():
                return
            tail = self.log_text()[-800:]
            self._stop_manual()
            if not _lost_port_race(tail):
                raise RuntimeError(f"zc-node did not become healthy; node.log ends:\n{tail}")
            self._set_aside_log(f"bind-failed-{attempt}")
        raise RuntimeError("zc-node could not listen on a free port")

    def _wait_healthy(self, timeout=60):
        end = time.time() + timeout
        while time.time() < end:
            if self.proc is not None and self.proc.poll() is not None:
                return False
            try:
                r = Client(self).get("/api/v1/health", timeout=2)
                if r.status == 200:
                    return True
            except Exception:
                pass
            time.sleep(0.1)
        return False

    # -- stopping and starting again, data kept --
    def halt(self):
        """Stop the node's processes; its directory (data, keys, log) stays."""
        if self.via_fed:
            subprocess.run([os.path.join(ROOT, "tools", "zc-fed"), "down", "--dir", self.dir],
                           cwd=ROOT, env=self._env(), capture_output=True, timeout=60)
        self._stop_manual()
        _stop_pids(_pids_naming(self.dir))

    def resume(self):
        """Start the halted node again on the same port with the same data."""
        if self.via_fed:
            cmd = [os.path.join(ROOT, "tools", "zc-fed"), "up", "--dir", self.dir, "--nodes", "1",
                   "--base-port", str(self.port)]
            if self.demo:
                cmd.append("--demo")
            r = subprocess.run(cmd, cwd=ROOT, env=self._env(), capture_output=True, text=True, timeout=180)
            if r.returncode:
                raise RuntimeError("zc-fed up (again) failed: " + (r.stderr or r.stdout)[-500:])
        else:
            self._start_manual(port=self.port)

    def admin(self, *args):
        """Run bin/zc-admin on this node's data dir (with the federation's pepper, manifest and the
        node's key when there are)."""
        cmd = [tool("zc-admin"), *args, "--data", self.data, "--node", REGION,
               "--schemas", os.path.join(ROOT, "schemas")]
        pepper = os.path.join(self.dir, "keys", "pepper")
        if os.path.exists(pepper):
            cmd += ["--pepper", pepper]
        manifest = os.path.join(self.dir, "federation.json")
        if os.path.exists(manifest):   # the entries it records name the node's key
            cmd += ["--manifest", manifest, "--root-pem", os.path.join(self.dir, "keys", "root.pem"),
                    "--key", os.path.join(self.dir, "keys", f"{REGION}.key")]
        return subprocess.run(cmd, env=self._env(), capture_output=True, text=True, timeout=120)

    # -- facts --
    @property
    def data(self):
        return os.path.join(self.dir, REGION)

    @property
    def base(self):
        return f"http://127.0.0.1:{self.port}"

    def account(self, role):
        for a in self.accounts:
            if a.get("role") == role:
                return a
        return None

    def _set_aside_log(self, tag):
        """Keep a failed start's log out of the checks: another process took the port that
        free_port() found (a race no node can win), and libwebsockets leaks a little when
        its listening socket cannot bind, which LeakSanitizer would report."""
        p = os.path.join(self.data, "node.log")
        if os.path.exists(p):
            os.replace(p, f"{p}.{tag}")

    def log_text(self):
        try:
            with open(os.path.join(self.data, "node.log"), encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def alive(self):
        if self.proc is not None:
            return self.proc.poll() is None
        return bool(_pids_naming(self.data))

    # -- stop --
    def _stop_manual(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def stop(self):
        """Stop every process of this node, look at its log for sanitizer reports, remove the dir."""
        if self.dir is None:
            return
        try:
            if self.via_fed:
                try:
                    subprocess.run([os.path.join(ROOT, "tools", "zc-fed"), "down", "--dir", self.dir],
                                   cwd=ROOT, env=self._env(), capture_output=True, timeout=60)
                except Exception:
                    pass
            self._stop_manual()
            _stop_pids(_pids_naming(self.dir))
            self._collect_findings()
            keep = os.environ.get("ZC_TEST_LOGS")
            if keep:
                os.makedirs(keep, exist_ok=True)
                src = os.path.join(self.data, "node.log")
                if os.path.exists(src):
                    shutil.copy(src, os.path.join(keep, f"{self.label}-node.log"))
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None
            with _LOCK:
                if self in _NODES:
                    _NODES.remove(self)

    def _collect_findings(self):
        text = self.log_text()
        m = SANITIZER_PATTERNS.search(text)
        if m:
            start = text.rfind("\n", 0, max(0, m.start() - 200)) + 1
            FINDINGS.append((self.label, text[start:start + 6000]))


class Federation(Node):
    """N zc-node processes started by `tools/zc-fed up --nodes N --demo` (the region first,
    then 650100, 653100, ... in zc-fed's order); one node is stopped, killed and started
    again with `zc-fed stop|up --node`. Stopped (every process naming the temp dir) by
    Node.stop / stop_all."""

    def __init__(self, label, nodes=3, demo=True):
        super().__init__(label, demo=demo)
        self.nodes = nodes
        self.ids = []

    def _start_fed(self):
        why = "no free ports"
        for attempt in range(5):
            self.port = free_port(self.nodes)
            cmd = [self.launcher, "up", "--dir", self.dir, "--nodes", str(self.nodes), "--base-port", str(self.port)]
            if self.demo:
                cmd.append("--demo")
            r = subprocess.run(cmd, cwd=ROOT, env=self._env(), capture_output=True, text=True, timeout=240)
            if r.returncode == 0:
                with open(os.path.join(self.dir, "federation.json"), encoding="utf-8") as f:
                    self.ids = [n["id"] for n in json.load(f)["nodes"]]
                return None
            why = (r.stderr or r.stdout or "").strip() or f"exit {r.returncode}"
            if "in use" not in why:
                break
        raise RuntimeError(f"zc-fed up --nodes {self.nodes} failed: " + why)

    def _start_manual(self, port=None):
        raise RuntimeError("a federation needs tools/zc-fed")

    @property
    def launcher(self):
        return os.path.join(ROOT, "tools", "zc-fed")

    def port_of(self, node_id):
        return self.port + self.ids.index(node_id)

    def at(self, node_id):
        """What Client needs to talk to one node."""
        return NodePort(self.port_of(node_id))

    def data_of(self, node_id):
        return os.path.join(self.dir, node_id)

    def stop_node(self, node_id, kill=False):
        cmd = [self.launcher, "stop", "--dir", self.dir, "--node", node_id] + (["--kill"] if kill else [])
        r = subprocess.run(cmd, cwd=ROOT, env=self._env(), capture_output=True, text=True, timeout=60)
        if r.returncode:
            raise RuntimeError("zc-fed stop failed: " + (r.stderr or r.stdout)[-500:])

    def start_node(self, node_id, ready=True):
        """zc-fed up --node; with ready, also wait until the node has checked its own log
        with a peer (or given up waiting for one): until then its changes answer 503."""
        r = subprocess.run([self.launcher, "up", "--dir", self.dir, "--node", node_id], cwd=ROOT, env=self._env(),
                           capture_output=True, text=True, timeout=120)
        if r.returncode:
            raise RuntimeError("zc-fed up --node failed: " + (r.stderr or r.stdout)[-500:])
        end = time.time() + 45
        while ready and Client(self.at(node_id)).get("/api/v1/health").json.get("recovering"):
            if time.time() > end:
                raise RuntimeError(f"node {node_id} still recovering after 45 s")
            time.sleep(0.1)

    def account_of(self, node_id, role):
        with open(os.path.join(self.dir, "demo-accounts.json"), encoding="utf-8") as f:
            for a in json.load(f):
                if a.get("node") == node_id and a.get("role") == role:
                    return a
        return None

    def log_of(self, node_id):
        try:
            with open(os.path.join(self.dir, node_id, "node.log"), encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def _collect_findings(self):
        for nid in self.ids:
            text = self.log_of(nid)
            m = SANITIZER_PATTERNS.search(text)
            if m:
                FINDINGS.append((f"{self.label}/{nid}", text[max(0, m.start() - 200):m.start() + 6000]))


class NodePort:
    """What Client needs of a node: its port."""
    def __init__(self, port):
        self.port = port


def stop_all():
    with _LOCK:
        nodes = list(_NODES)
    for n in nodes:
        try:
            n.stop()
        except Exception as e:  # keep stopping the others
            print(f"[harness] stopping {n.label}: {e!r}", flush=True)


atexit.register(stop_all)

_SHARED = {}
_SHARED_FAILED = {}


def shared_node(label="main", demo=True):
    """One node per label for the whole run (started on first use, stopped by stop_all).
    A node that failed to start is not tried again: every class needing it gets the error."""
    with _LOCK:
        n = _SHARED.get(label)
        failed = _SHARED_FAILED.get(label)
    if failed:
        raise RuntimeError(f"node {label} could not be started: {failed}")
    if n is None or n.dir is None:
        n = Node(label, demo=demo)
        try:
            n.start()
        except Exception as e:
            _SHARED_FAILED[label] = str(e)
            n.stop()
            raise
        with _LOCK:
            _SHARED[label] = n
    return n


# ---- the HTTP client ------------------------------------------------------------------------

class Resp:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body
        self.json = None
        ctype = headers.get("Content-Type", "") if headers is not None else ""
        if headers is None:
            return
        if body and ("json" in ctype or body[:1] in (b"{", b"[")):
            try:
                self.json = json.loads(body.decode("utf-8"))
            except ValueError:
                self.json = None

    @property
    def error(self):
        j = self.json
        return j.get("error") if isinstance(j, dict) and isinstance(j.get("error"), dict) else {}

    @property
    def code(self):
        return self.error.get("code")

    def header(self, name):
        return self.headers.get(name) if self.headers is not None else None

    def __repr__(self):
        b = self.body[:300] if isinstance(self.body, bytes) else self.body
        return f"<{self.status} {b!r}>"


class Client:
    """One browser: its own cookie jar, the CSRF token it was given, optionally its own
    source address on the loopback (127.0.0.x), so that per-address limits can be kept apart."""

    def __init__(self, node, source=None):
        self.node = node
        self.host, self.port = "127.0.0.1", node.port
        self.source = source
        self.cookies = {}
        self.csrf = None
        self.account = None

    def _cookie_header(self):
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def _take_cookies(self, headers):
        for line in headers.get_all("Set-Cookie") or []:
            first, _, attrs = line.partition(";")
            name, _, value = first.strip().partition("=")
            gone = value == "" or re.search(r"max-age\s*=\s*0\b", attrs, re.I)
            if gone:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value

    def request(self, method, path, body=None, raw=None, ctype=None, csrf=True, headers=None, timeout=30):
        hdrs = {}
        data = None
        if body is not None:
            data = body if isinstance(body, (bytes, bytearray)) else json.dumps(body, ensure_ascii=False).encode()
            hdrs["Content-Type"] = ctype or "application/json"
        elif raw is not None:
            data = raw
            hdrs["Content-Type"] = ctype or "application/octet-stream"
        if self.cookies:
            hdrs["Cookie"] = self._cookie_header()
        if csrf is True and self.csrf and method != "GET":
            hdrs["X-CSRF-Token"] = self.csrf
        elif isinstance(csrf, str):
            hdrs["X-CSRF-Token"] = csrf
        if headers:
            hdrs.update(headers)
        if method in ("POST", "PUT") and data is None:
            hdrs.setdefault("Content-Length", "0")
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout,
                                          source_address=(self.source, 0) if self.source else None)
        try:
            conn.request(method, path, body=data, headers=hdrs)
            r = conn.getresponse()
            b = r.read()
            self._take_cookies(r.headers)
            return Resp(r.status, r.headers, b)
        except (OSError, http.client.HTTPException) as e:
            # no HTTP answer at all (refused, reset, closed, timed out): status 0, as a
            # browser's fetch() would see it; the test's status check then says so
            return Resp(0, None, ("no HTTP answer: " + repr(e)).encode())
        finally:
            conn.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body=body, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, body=body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def remember(self, r):
        """Keep the csrf and account of a successful login or registration."""
        if r.status in (200, 201) and isinstance(r.json, dict):
            if r.json.get("csrf"):
                self.csrf = r.json["csrf"]
            if isinstance(r.json.get("account"), dict):
                self.account = r.json["account"]
        return r

    def login(self, login, password):
        return self.remember(self.post("/api/v1/session", {"login": login, "password": password}))

    def me(self):
        return self.get("/api/v1/me")


def raw_http(node, request_bytes, timeout=10, source=None):
    """Send bytes as they are; return (status or None when the server answered nothing, raw answer)."""
    s = socket.create_connection(("127.0.0.1", node.port), timeout=timeout,
                                 source_address=(source, 0) if source else None)
    try:
        s.sendall(request_bytes)
        chunks = []
        while True:
            try:
                c = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not c:
                break
            chunks.append(c)
            head = b"".join(chunks)
            if b"\r\n\r\n" in head:
                m = re.search(rb"content-length:\s*(\d+)", head, re.I)
                hl = head.index(b"\r\n\r\n") + 4
                if m and len(head) - hl >= int(m.group(1)):
                    break
    finally:
        s.close()
    data = b"".join(chunks)
    m = re.match(rb"HTTP/1\.[01] (\d{3})", data)
    return (int(m.group(1)) if m else None), data


# ---- identifiers -----------------------------------------------------------------------------

_RNG = random.SystemRandom()
_ID_W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_CC_A = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CC_W = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
_used = set()
_counter = [0]


def id_check(s17):
    return "10X98765432"[sum(int(c) * w for c, w in zip(s17, _ID_W)) % 11]


def id_number(area="650102", birth=None, want_x=None):
    """A valid, not yet used (in this run) ID-card number; want_x=True: check character X."""
    for _ in range(100000):
        b = birth or (datetime.date(1960, 1, 1) + datetime.timedelta(days=_RNG.randrange(0, 15000))).strftime("%Y%m%d")
        s17 = area + b + f"{_RNG.randrange(1000):03d}"
        c = id_check(s17)
        if want_x is not None and (c == "X") != want_x:
            continue
        idn = s17 + c
        if idn not in _used:
            _used.add(idn)
            return idn
    raise RuntimeError("could not make an ID number")


def id_bad_check(idn=None):
    """A well-formed ID number whose check character is wrong."""
    idn = idn or id_number()
    wrong = [c for c in "0123456789X" if c != idn[17]]
    return idn[:17] + _RNG.choice(wrong)


def id_with_birth(birth):
    """An ID number with the right check character for any 8-digit birth string (valid or not)."""
    s17 = "650102" + birth + f"{_RNG.randrange(1000):03d}"
    return s17 + id_check(s17)


def cc_check(s17):
    c = 31 - sum(_CC_A.index(ch) * w for ch, w in zip(s17, _CC_W)) % 31
    return _CC_A[0 if c == 31 else c]


def credit_code(area="650102"):
    """A valid, not yet used unified social credit code."""
    while True:
        s17 = "91" + area + "".join(_RNG.choice(_CC_A) for _ in range(9))
        cc = s17 + cc_check(s17)
        if cc not in _used:
            _used.add(cc)
            return cc


def cc_bad_check(cc=None):
    cc = cc or credit_code()
    return cc[:17] + _RNG.choice([c for c in _CC_A if c != cc[17]])


def mobile():
    """A mobile number not yet used in this run."""
    while True:
        _counter[0] += 1
        m = "13" + f"{_RNG.randrange(10 ** 9):09d}"
        if m not in _used:
            _used.add(m)
            return m


def landline():
    while True:
        p = "0991-" + f"{_RNG.randrange(2000000, 9999999)}"
        if p not in _used:
            _used.add(p)
            return p


_CJK = "甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌亥春夏秋冬梅兰竹菊松柏杨柳山川河海云雨风雷金木水火土"


def cjk(n=4):
    while True:
        s = "".join(_RNG.choice(_CJK) for _ in range(n))
        if s not in _used:
            _used.add(s)
            return s


def person_name():
    return _RNG.choice("王李张刘陈杨赵黄周吴") + cjk(3)


def unit_names():
    """(full name, short name) not used before in this run."""
    core = cjk(5)
    return f"新疆{core}科技有限公司", f"{core}科技"


PASSWORD = "Zc!Passw0rd#2026"


def has_cjk(s):
    return any("\u4e00" <= ch <= "\u9fff" for ch in str(s))


# ---- files for uploads -----------------------------------------------------------------------

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\x0bIDATx\xdac\xf8\x0f\x04\x00\t\xfb\x03\xfdh\xfa\x1c\xcc\x00\x00\x00\x00IEND\xaeB`\x82")
JPEG = (b"\xff\xd8"
        b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
        b"\xff\xc0\x00\x0b\x08\x00\x01\x00\x01\x01\x01\x11\x00"
        b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00"
        b"\x00\x01\x02\x03"
        b"\xff\xd9")
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


_SOURCE = [10]


def fresh_source():
    """A loopback address of its own (127.0.x.y), so that one test's requests never count
    against another's per-address limits."""
    _SOURCE[0] += 1
    return f"127.0.{_SOURCE[0] // 250}.{_SOURCE[0] % 250 + 2}"


class Send:
    """One request of a race: to port, as a browser holding client's cookies and CSRF token
    (a new one without), logged in first as login (name, password) when given, from source."""

    def __init__(self, port, path, body=None, method="POST", client=None, login=None, source=None):
        self.port, self.path, self.body, self.method = port, path, body, method
        self.cookies = dict(client.cookies) if client else {}
        self.csrf = client.csrf if client else None
        self.login, self.source = login, source or (client.source if client else None)


def _send_when_let_go(send, barrier, q, i):
    c = Client(NodePort(send.port), source=send.source)
    c.cookies, c.csrf = send.cookies, send.csrf
    if send.login:
        c.login(*send.login)
    barrier.wait(10)
    r = c.request(send.method, send.path, send.body)
    j = r.json if isinstance(r.json, dict) else {}
    q.put((i, r.status, (j.get("error") or {}).get("code"), j))


def race(sends):
    """Every Send from a process of its own, all let go at one moment: the node really sees
    them race. [(status, error code or None, JSON answer)] in the order of sends."""
    ctx = multiprocessing.get_context("fork")
    q, barrier = ctx.Queue(), ctx.Barrier(len(sends))
    procs = [ctx.Process(target=_send_when_let_go, args=(s, barrier, q, i)) for i, s in enumerate(sends)]
    for p in procs:
        p.start()
    got = sorted(q.get(timeout=60) for _ in procs)
    for p in procs:
        p.join(30)
    return [tuple(g[1:]) for g in got]


def qr_texts(png):
    """What the QR codes in a PNG image say, read by zbar (zbar-tools), one per code."""
    with tempfile.NamedTemporaryFile(suffix=".png") as f:
        f.write(png)
        f.flush()
        out = subprocess.run(["zbarimg", "--raw", "-q", "-Sdisable", "-Sqrcode.enable", f.name],
                             capture_output=True, text=True, timeout=60)
    return [line for line in out.stdout.splitlines() if line]


GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"


def png_of_size(n):
    """A structurally valid PNG of exactly n bytes (an ancillary chunk pads it)."""
    sig_ihdr = PNG[:33]
    idat_iend = PNG[33:]
    pad = n - len(PNG) - 12
    assert pad >= 0
    chunk = pad.to_bytes(4, "big") + b"zPAD" + b"\0" * pad + b"\0\0\0\0"
    out = sig_ihdr + chunk + idat_iend
    assert len(out) == n
    return out


# ---- the test case base ----------------------------------------------------------------------

class ZcCase(unittest.TestCase):
    """Helpers shared by every test module. NODE_LABEL picks the shared node a class uses."""
    NODE_LABEL = "main"
    NODE_DEMO = True
    maxDiff = 2000

    @classmethod
    def setUpClass(cls):
        cls.node = shared_node(cls.NODE_LABEL, demo=cls.NODE_DEMO)

    def setUp(self):
        node = getattr(self, "node", None)
        if isinstance(node, Node) and node.dir is not None and not node.alive():
            tail = "\n".join(node.log_text().splitlines()[-8:])
            self.fail(f"node '{node.label}' is no longer running (an earlier test crashed it); its log ends:\n{tail}")

    def client(self, source=None):
        return Client(self.node, source=source)

    # -- checks --
    def assertError(self, r, status, code=None, field=None):
        """An error answer: the status, the envelope {"error":{"code","message"}}, a Chinese
        message (or a Uyghur one under Content-Language: ug), the code and (when given) the field."""
        self.assertEqual(r.status, status, f"expected {status} {code or ''}, got {r!r}")
        self.assertIsInstance(r.json, dict, f"error body is not JSON: {r!r}")
        self.assertEqual(list(r.json.keys()), ["error"], f"envelope has other members: {r!r}")
        e = r.json["error"]
        self.assertIsInstance(e, dict, f"error is not an object: {r!r}")
        self.assertIsInstance(e.get("code"), str, f"no error code: {r!r}")
        self.assertRegex(e["code"], r"^[a-z][a-z0-9_]*$", "code is not snake_case")
        self.assertIsInstance(e.get("message"), str, f"no message: {r!r}")
        if re.search(r"[\u0600-\u06ff]", e["message"]):   # Uyghur (Accept-Language: ug)
            self.assertEqual(r.headers.get("Content-Language"), "ug", "a Uyghur message says so")
        else:
            self.assertTrue(has_cjk(e["message"]), f"message is not Chinese: {e['message']!r}")
        if code is not None:
            self.assertEqual(e["code"], code, f"wrong code: {r!r}")
        if field is not None:
            self.assertEqual(e.get("field"), field, f"wrong field: {r!r}")
        return e

    def assertStatus(self, r, status):
        self.assertEqual(r.status, status, f"expected {status}, got {r!r}")
        return r.json

    # -- people and units --
    def applicant_body(self, **over):
        b = {"id_number": id_number(), "name": person_name(), "password": PASSWORD, "phone": mobile()}
        b.update(over)
        return b

    def new_applicant(self, source=None, **over):
        """A freshly registered applicant, logged in (the registration opens the session)."""
        c = self.client(source)
        body = self.applicant_body(**over)
        r = c.remember(c.post("/api/v1/accounts", body))
        self.assertStatus(r, 201)
        c.body, c.password = body, body["password"]
        c.username = r.json["account"]["username"]
        return c

    def unit_body(self, **over):
        name, short = unit_names()
        b = {"credit_code": credit_code(), "name": name, "short_name": short, "password": "Unit!Passw0rd#26",
             "contact": person_name(), "phone": landline(), "node": REGION}
        b.update(over)
        return b

    def new_unit_admin(self, source=None, **over):
        c = self.client(source)
        body = self.unit_body(**over)
        r = c.remember(c.post("/api/v1/units", body))
        self.assertStatus(r, 201)
        c.body, c.password = body, body["password"]
        c.username = r.json["account"]["username"]
        c.unit = r.json["unit"]
        return c

    def demo_login(self, role, source=None):
        a = self.node.account(role)
        self.assertIsNotNone(a, f"no demo account for {role}")
        c = self.client(source)
        r = c.login(a["login"], a["password"])
        self.assertStatus(r, 200)
        c.demo = a
        return c

    def admin_lists(self, q):
        """The node admin's account list for q (checks that nothing was created)."""
        adm = getattr(type(self), "_admin", None)
        if adm is None:
            adm = self.demo_login("node_admin")
            type(self)._admin = adm
        from urllib.parse import quote
        r = adm.get("/api/v1/accounts?q=" + quote(q))
        self.assertStatus(r, 200)
        return r.json["items"]

    def units_named(self, q, who=None):
        """Units GET /units?q= finds (needs a logged-in user)."""
        from urllib.parse import quote
        who = who or getattr(type(self), "_searcher", None)
        if who is None:
            who = self.demo_login("auditor")
            type(self)._searcher = who
        r = who.get("/api/v1/units?q=" + quote(q))
        self.assertStatus(r, 200)
        return r.json["items"]
