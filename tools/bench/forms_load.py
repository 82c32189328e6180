#!/usr/bin/env python3
"""forms_load.py - review forms as PDF under load, beside JSON answers (run.sh, scenario forms).

GET /api/v1/applications/{id}/form.pdf renders the form with pango and cairo on the node's
worker threads (node/forms.c, node/form_pdf.c, node/worker.c), off the event loop: the
other requests should not wait for it. This measures how many forms a node renders per
second next to how many cheap JSON answers it gives, and what rendering does to the
latency of those other requests.

Set-up, not timed: surge_setup.py registers one applicant on the node, creates one
application for the demo unit and fills every section (attachments included). The
application stays a draft, so its owner gets the test form (测试表); API.md: the owner
and its reviewers may get the form.

Then three phases of DURATION seconds, each after WARMUP seconds of the same load that
are not counted, on keep-alive connections (raw sockets, HTTP/1.1):
  1. json: GET JSON_PATH (default /api/v1/me) as fast as it answers, closed loop,
     JSON_PROCS processes x JSON_CONNS connections each: JSON answers/s, p50, p99.
  2. probe: a separate process sends GET JSON_PATH at PROBE_RATE a second in all, spread
     over PROBE_CONNS connections and paced by the clock; the node is otherwise idle.
  3. forms: FORM_CONNS requesters fetch the form in a closed loop (forms/s, p50, p99;
     each answer checked to be a whole PDF) while the probe of phase 2 runs again,
     unchanged, in its own process: the p99 of other requests while forms render.
A probe's latency is counted from the moment its request was due, not from when it was
sent, so a late client does not hide a slow node (no coordinated omission). With
NODE_PID, the node's CPU (utime + stime from /proc) is read around phases 1 and 3, beside
the load generator's own and everything else the machine did meanwhile (/proc/stat).

Prints "key value" lines (run.sh formats them). Loopback only; stdlib only.

usage: forms_load.py BASE_URL DEMO_ACCOUNTS_JSON NODE [--node-pid PID] [--duration S]
       [--warmup S] [--form-conns N] [--json-procs N] [--json-conns N]
       [--probe-rate R] [--probe-conns N] [--json-path PATH]
"""
import argparse
import array
import math
import multiprocessing
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
RECV = 65536


class Conn:
    """One keep-alive HTTP/1.1 connection; request() sends prepared bytes, reads the answer."""

    def __init__(self, host, port):
        self.addr = (host, port)
        self.s = None
        self.buf = bytearray()
        self.reconnects = 0

    def close(self):
        if self.s is not None:
            self.s.close()
        self.s = None
        self.buf = bytearray()

    def _fill(self):
        d = self.s.recv(RECV)
        if not d:
            raise ConnectionError("the node closed the connection")
        self.buf += d

    def request(self, req):
        """(status, body, headers dict); one retry on a fresh connection if a reused one broke."""
        for attempt in (0, 1):
            fresh = self.s is None
            if fresh:
                self.s = socket.create_connection(self.addr, timeout=30)
                self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                if attempt:
                    self.reconnects += 1
            try:
                self.s.sendall(req)
                return self._answer()
            except OSError:
                self.close()
                if attempt or fresh:
                    raise
        raise AssertionError("unreachable")

    def _answer(self):
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end >= 0:
                break
            self._fill()
        lines = bytes(self.buf[:end]).split(b"\r\n")
        del self.buf[:end + 4]
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(b":")
            headers[k.strip().lower().decode("latin-1")] = v.strip().decode("latin-1")
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body = self._chunked()
        elif "content-length" in headers:
            n = int(headers["content-length"])
            while len(self.buf) < n:
                self._fill()
            body = bytes(self.buf[:n])
            del self.buf[:n]
        else:  # until the node closes
            try:
                while True:
                    self._fill()
            except ConnectionError:
                pass
            body = bytes(self.buf)
            self.close()
            return status, body, headers
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, body, headers

    def _chunked(self):
        body = bytearray()
        while True:
            while b"\r\n" not in self.buf:
                self._fill()
            i = self.buf.find(b"\r\n")
            n = int(bytes(self.buf[:i]).split(b";")[0], 16)
            del self.buf[:i + 2]
            while len(self.buf) < n + 2:
                self._fill()
            body += self.buf[:n]
            del self.buf[:n + 2]
            if n == 0:
                return bytes(body)


def get_request(host, port, path, token):
    return ("GET %s HTTP/1.1\r\nHost: %s:%d\r\nCookie: zc_session=%s\r\nAccept: */*\r\n\r\n"
            % (path, host, port, token)).encode()


class Tally:
    """What one thread saw in the counted window: latencies (ms), answers, the first error."""

    def __init__(self):
        self.lat = array.array("d")
        self.errors = 0
        self.first_error = ""
        self.reconnects = 0
        self.cpu = 0.0  # the client process's CPU seconds in the counted window

    def error(self, what):
        self.errors += 1
        if not self.first_error:
            self.first_error = what[:200]

    def merge(self, o):
        self.lat.extend(o.lat)
        self.errors += o.errors
        self.first_error = self.first_error or o.first_error
        self.reconnects += o.reconnects
        self.cpu += o.cpu

    def pack(self):
        return (self.lat.tobytes(), self.errors, self.first_error, self.reconnects, self.cpu)

    @staticmethod
    def unpack(t):
        r = Tally()
        r.lat.frombytes(t[0])
        r.errors, r.first_error, r.reconnects, r.cpu = t[1], t[2], t[3], t[4]
        return r


def check_json(status, body, _headers):
    if status != 200:
        return "HTTP %d: %s" % (status, body[:150].decode("utf-8", "replace"))
    if not body.startswith(b"{"):
        return "not a JSON object: %r" % body[:40]
    return None


def check_pdf(status, body, headers):
    if status != 200:
        return "HTTP %d: %s" % (status, body[:150].decode("utf-8", "replace"))
    if headers.get("content-type") != "application/pdf" or not body.startswith(b"%PDF-") \
            or b"%%EOF" not in body[-32:]:
        return "not a whole PDF (%s, %d B)" % (headers.get("content-type"), len(body))
    return None


def timed(c, req, check, since, t_start, tally):
    """Send req on c and count it in tally, its latency from `since` (when it was sent, or
    due); one from before t_start is the warm-up and not counted."""
    try:
        st, body, headers = c.request(req)
        err = check(st, body, headers)
    except OSError as e:
        err = "%s: %s" % (type(e).__name__, e)
    t1 = time.monotonic()
    if since < t_start:
        return
    if err:
        tally.error(err)
    else:
        tally.lat.append(1000 * (t1 - since))


def closed_loop(host, port, req, check, t_start, t_end, tally):
    """Requests back to back until t_end; those sent from t_start on are counted."""
    c = Conn(host, port)
    try:
        while True:
            t0 = time.monotonic()
            if t0 >= t_end:
                break
            timed(c, req, check, t0, t_start, tally)
    finally:
        tally.reconnects += c.reconnects
        c.close()


def paced(host, port, req, check, interval, first, t_start, t_end, tally):
    """One request every interval seconds from `first` on; latency from when it was due."""
    c = Conn(host, port)
    k = 0
    try:
        while True:
            due = first + k * interval
            k += 1
            if due >= t_end:
                break
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            timed(c, req, check, due, t_start, tally)
    finally:
        tally.reconnects += c.reconnects
        c.close()


def client_process(kind, args, out):
    """A load process: threads of closed_loop or paced; puts its merged Tally on `out`."""
    host, port, req, check_name, conns, t_begin, t_start, t_end, rate = args
    check = check_pdf if check_name == "pdf" else check_json
    tallies = [Tally() for _ in range(conns)]
    cpu = []

    def cpu_window():  # this process's CPU (all its threads) from t_start to t_end
        for t in (t_start, t_end):
            time.sleep(max(0.0, t - time.monotonic()))
            cpu.append(time.process_time())

    threads = [threading.Thread(target=cpu_window)]
    threads[0].start()
    for i in range(conns):
        if kind == "closed":
            t = threading.Thread(target=closed_loop, args=(host, port, req, check, t_start, t_end, tallies[i]))
        else:
            interval = conns / rate
            first = t_begin + i * interval / conns  # the connections take turns
            t = threading.Thread(target=paced, args=(host, port, req, check, interval, first, t_start, t_end,
                                                     tallies[i]))
        t.start()
        threads.append(t)
    for t in threads:
        t.join()
    total = Tally()
    for t in tallies:
        total.merge(t)
    total.cpu = cpu[1] - cpu[0]
    out.put(total.pack())


def percentile(sorted_lat, q):
    if not sorted_lat:
        return 0.0
    i = max(0, min(len(sorted_lat) - 1, math.ceil(q * len(sorted_lat)) - 1))
    return sorted_lat[i]


def cpu_seconds(pid):
    """utime + stime of a process, in seconds (None when unknown)."""
    if not pid:
        return None
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def machine_busy():
    """(busy, total) jiffies of the whole machine so far (/proc/stat; idle, iowait not busy)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return sum(v) - v[3] - v[4], sum(v)


def run_phase(specs, warmup, duration, node_pid):
    """Start the client processes in specs [(key, kind, args-without-times)], let them warm
    up, count `duration` seconds; {key: Tally} and the CPU in the window, in cores:
    {"node", "generator", "other" (everything else on the machine)}."""
    ctx = multiprocessing.get_context("fork")
    t_begin = time.monotonic() + 0.3  # every process started before the first request is due
    t_start, t_end = t_begin + warmup, t_begin + warmup + duration
    procs = []
    for key, kind, (host, port, req, check, conns, rate) in specs:
        q = ctx.Queue()
        p = ctx.Process(target=client_process,
                        args=(kind, (host, port, req, check, conns, t_begin, t_start, t_end, rate), q))
        p.start()
        procs.append((key, p, q))
    time.sleep(max(0.0, t_start - time.monotonic()))
    cpu0, m0 = cpu_seconds(node_pid), machine_busy()
    time.sleep(max(0.0, t_end - time.monotonic()))
    cpu1, m1 = cpu_seconds(node_pid), machine_busy()
    res = {}
    try:
        for key, p, q in procs:
            t = Tally.unpack(q.get(timeout=duration + warmup + 120))
            if key in res:
                res[key].merge(t)
            else:
                res[key] = t
    finally:
        for _, p, _ in procs:
            p.join(timeout=10)
            if p.is_alive():
                p.terminate()
                p.join()
    node = (cpu1 - cpu0) / duration if cpu0 is not None and cpu1 is not None else None
    gen = sum(t.cpu for t in res.values()) / duration
    busy = (m1[0] - m0[0]) / (m1[1] - m0[1]) * os.cpu_count() if m1[1] > m0[1] else 0.0
    other = max(0.0, busy - gen - (node or 0.0))
    return res, {"node": node, "generator": gen, "other": other}


def summary(prefix, tally, duration):
    lat = sorted(tally.lat)
    out = [("%s_n" % prefix, len(lat)), ("%s_rps" % prefix, "%.1f" % (len(lat) / duration)),
           ("%s_p50_ms" % prefix, "%.2f" % percentile(lat, 0.50)),
           ("%s_p99_ms" % prefix, "%.2f" % percentile(lat, 0.99)),
           ("%s_max_ms" % prefix, "%.2f" % (lat[-1] if lat else 0)), ("%s_errors" % prefix, tally.errors),
           ("%s_reconnects" % prefix, tally.reconnects)]
    if tally.first_error:
        out.append(("%s_first_error" % prefix, tally.first_error))
    return out


def cpu_lines(prefix, cpu, rate, scale, unit):
    """The phase's CPU in cores, and the node's per answer (in `unit`) at `rate` answers/s."""
    out = [("%s_cpu_generator" % prefix, "%.2f" % cpu["generator"]), ("%s_cpu_other" % prefix, "%.2f" % cpu["other"])]
    if cpu["node"] is not None:
        out += [("%s_cpu_node" % prefix, "%.2f" % cpu["node"]),
                ("%s_node_cpu_%s" % (prefix, unit), "%.2f" % (scale * cpu["node"] / rate if rate else 0))]
    return out


def setup(base, demo, node):
    """One applicant with a complete draft application (surge_setup.py); (app id, token, its line)."""
    tmp = tempfile.mkdtemp(prefix="zc-forms.")
    try:
        plan = os.path.join(tmp, "plan.tsv")
        r = subprocess.run([sys.executable, os.path.join(HERE, "surge_setup.py"), base, demo, node, "1", "1", plan],
                           capture_output=True, text=True, timeout=300)
        if r.returncode != 0:
            raise RuntimeError("surge_setup.py failed: " + (r.stderr or r.stdout).strip())
        with open(plan, encoding="utf-8") as f:
            row = next(line.rstrip("\n").split("\t") for line in f if line.startswith("A\t"))
        line = r.stdout.strip()
        return row[1], row[2], line[len("setup "):] if line.startswith("setup ") else line
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description="review forms (PDF) under load, beside JSON answers")
    ap.add_argument("base")
    ap.add_argument("demo_accounts")
    ap.add_argument("node")
    ap.add_argument("--node-pid", type=int, default=0)
    ap.add_argument("--duration", type=float, default=10)
    ap.add_argument("--warmup", type=float, default=2)
    ap.add_argument("--form-conns", type=int, default=4)
    ap.add_argument("--json-procs", type=int, default=2)
    ap.add_argument("--json-conns", type=int, default=4)
    ap.add_argument("--probe-rate", type=float, default=100)
    ap.add_argument("--probe-conns", type=int, default=4)
    ap.add_argument("--json-path", default="/api/v1/me")
    a = ap.parse_args()
    u = urllib.parse.urlsplit(a.base)
    if u.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise RuntimeError("loopback only")
    host, port = u.hostname, u.port

    app, token, setup_line = setup(a.base, a.demo_accounts, a.node)
    form_path = "/api/v1/applications/%s/form.pdf" % app
    json_req = get_request(host, port, a.json_path, token)
    form_req = get_request(host, port, form_path, token)

    # one of each, checked, before anything is timed
    c = Conn(host, port)
    st, body, headers = c.request(json_req)
    err = check_json(st, body, headers)
    if err:
        raise RuntimeError("GET %s: %s" % (a.json_path, err))
    json_bytes = len(body)
    st, body, headers = c.request(form_req)
    err = check_pdf(st, body, headers)
    if err:
        raise RuntimeError("GET %s: %s" % (form_path, err))
    c.close()
    form_bytes = len(body)
    kind = "test" if "-test.pdf" in headers.get("content-disposition", "") else "official"

    kv = [("setup", setup_line), ("app", app), ("session", token), ("json_path", a.json_path),
          ("json_bytes", json_bytes), ("form_path", "/api/v1/applications/{id}/form.pdf"),
          ("form_bytes", form_bytes), ("form_kind", kind), ("duration", "%g" % a.duration),
          ("warmup", "%g" % a.warmup), ("json_procs", a.json_procs), ("json_conns", a.json_conns),
          ("probe_rate", "%g" % a.probe_rate), ("probe_conns", a.probe_conns), ("form_conns", a.form_conns)]

    # 1. JSON answers, closed loop
    res, cpu = run_phase([("json", "closed", (host, port, json_req, "json", a.json_conns, 0))] * a.json_procs,
                         a.warmup, a.duration, a.node_pid)
    kv += summary("json", res["json"], a.duration)
    json_n = len(res["json"].lat)
    kv += cpu_lines("json", cpu, json_n / a.duration, 1e6, "us")

    # 2. the probe alone
    probe = ("probe", "paced", (host, port, json_req, "json", a.probe_conns, a.probe_rate))
    res, _ = run_phase([probe], a.warmup, a.duration, a.node_pid)
    kv += summary("probe_quiet", res["probe"], a.duration)

    # 3. forms, and the same probe beside them
    res, cpu = run_phase([("forms", "closed", (host, port, form_req, "pdf", a.form_conns, 0)), probe],
                         a.warmup, a.duration, a.node_pid)
    kv += summary("forms", res["forms"], a.duration)
    kv += summary("probe_forms", res["probe"], a.duration)
    forms_n = len(res["forms"].lat)
    kv += cpu_lines("forms", cpu, forms_n / a.duration, 1e3, "ms")
    kv.append(("forms_vs_json", "%.4f" % (forms_n / json_n if json_n else 0)))
    for k, v in kv:
        print("%s %s" % (k, v))


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # the bench reports what broke, briefly
        print("forms_load: %s: %s" % (type(e).__name__, e), file=sys.stderr)
        sys.exit(1)
