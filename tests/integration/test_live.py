"""Live updates: WS /ws, subprotocol "zc-live", authenticated by the session cookie when it
opens. A minimal RFC 6455 client (socket + base64 + hashlib) reads the server's unmasked
text frames.

Events: {"type":"application","id","status","status_name","returned_by","queue"} to every
socket the change concerns: the applicant's on any move of their application; a reviewer's
when an application enters (queue: true) or moves in their reach. A socket sees only its
own user's events: each "nothing for you" check is made deterministic by a sentinel event
that does concern that socket and must arrive first."""
import base64
import hashlib
import json
import os
import socket
import struct
import time

from test_applications import API, AppFlow
from zc_test import Node, ZcCase

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class Closed(Exception):
    pass


class LiveSocket:
    """One WebSocket to the node. status is the HTTP status of the handshake answer, or None
    when the server closed the connection without one."""

    def __init__(self, port, cookie=None, protocol="zc-live", path="/ws", timeout=5.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.key = base64.b64encode(os.urandom(16)).decode()
        lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Upgrade: websocket", "Connection: Upgrade",
                 f"Sec-WebSocket-Key: {self.key}", "Sec-WebSocket-Version: 13", f"Origin: http://127.0.0.1:{port}"]
        if protocol:
            lines.append(f"Sec-WebSocket-Protocol: {protocol}")
        if cookie:
            lines.append(f"Cookie: {cookie}")
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.buf = b""
        self.status, self.headers = None, {}
        head = self._read_head()
        if head:
            first, *rest = head.decode("latin-1").split("\r\n")
            parts = first.split(" ")
            if len(parts) >= 2 and parts[1].isdigit():
                self.status = int(parts[1])
            for line in rest:
                k, _, v = line.partition(":")
                self.headers[k.strip().lower()] = v.strip()

    def _read_head(self):
        while b"\r\n\r\n" not in self.buf:
            try:
                c = self.sock.recv(4096)
            except (ConnectionResetError, socket.timeout):
                c = b""
            if not c:
                return self.buf or None
            self.buf += c
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        return head

    @property
    def accept_ok(self):
        want = base64.b64encode(hashlib.sha1((self.key + GUID).encode()).digest()).decode()
        return self.headers.get("sec-websocket-accept") == want

    # -- frames --
    def _need(self, n, deadline):
        while len(self.buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("no frame in time")
            self.sock.settimeout(left)
            c = self.sock.recv(65536)
            if not c:
                raise Closed("the server closed the connection")
            self.buf += c
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _send(self, opcode, payload=b""):
        mask = os.urandom(4)
        n = len(payload)
        head = bytes([0x80 | opcode])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack(">Q", n)
        self.sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def recv_frame(self, deadline):
        """The next frame as (fin, opcode, payload), whatever it is, by the monotonic deadline."""
        b0, b1 = self._need(2, deadline)
        if b1 & 0x80:
            raise AssertionError("the server masked a frame (RFC 6455 5.1 forbids it)")
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack(">H", self._need(2, deadline))[0]
        elif n == 127:
            n = struct.unpack(">Q", self._need(8, deadline))[0]
        return b0 & 0x80, b0 & 0x0F, self._need(n, deadline)

    def recv_text(self, timeout=5.0):
        """The next complete text message (pings answered, fragments joined)."""
        deadline = time.monotonic() + timeout
        parts, opcode0 = [], None
        while True:
            fin, opcode, payload = self.recv_frame(deadline)
            if opcode == 0x8:
                raise Closed(f"close frame {payload!r}")
            if opcode == 0x9:
                self._send(0xA, payload)
                continue
            if opcode == 0xA:
                continue
            if opcode in (0x1, 0x2):
                opcode0 = opcode
                parts = [payload]
            elif opcode == 0x0:
                parts.append(payload)
            if fin:
                if opcode0 != 0x1:
                    raise AssertionError(f"non-text message (opcode {opcode0})")
                return b"".join(parts).decode("utf-8")

    def recv_json(self, timeout=5.0):
        return json.loads(self.recv_text(timeout))

    def wait_for(self, pred, timeout=5.0):
        """Read messages until pred(msg); returns (msg, the messages before it)."""
        deadline = time.monotonic() + timeout
        seen = []
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no matching event within {timeout} s; got {seen}")
            try:
                m = self.recv_json(left)
            except socket.timeout:
                raise AssertionError(f"no matching event within {timeout} s; got {seen}")
            if pred(m):
                return m, seen
            seen.append(m)

    def close(self):
        try:
            self._send(0x8, struct.pack(">H", 1000))
        except OSError:
            pass
        try:
            self.sock.close()
        except OSError:
            pass


def about(app_id, **want):
    def pred(m):
        return m.get("type") == "application" and m.get("id") == app_id and all(m.get(k) == v for k, v in want.items())
    return pred


class TestLive(AppFlow, ZcCase):
    NODE_LABEL = "live"

    def open(self, who, **kw):
        cookie = None
        if who is not None and who.cookies.get("zc_session"):
            cookie = "zc_session=" + who.cookies["zc_session"]
        ws = LiveSocket(self.node.port, cookie=cookie, **kw)
        self.addCleanup(ws.close)
        return ws

    def live(self, who):
        """An open, authenticated socket whose hello has arrived (so it is registered)."""
        ws = self.open(who)
        self.assertEqual(ws.status, 101, f"handshake refused: {ws.status} {ws.headers}")
        self.assertEqual(ws.recv_json(), {"type": "hello"})
        return ws

    def assertNoneAbout(self, seen, app_id):
        self.assertEqual([m for m in seen if m.get("id") == app_id], [],
                         f"this socket got another user's event about {app_id}")

    def test_handshake_and_hello(self):
        a = self.new_applicant()
        ws = self.open(a)
        self.assertEqual(ws.status, 101)
        self.assertTrue(ws.accept_ok, ws.headers)
        self.assertEqual(ws.headers.get("sec-websocket-protocol"), "zc-live")
        self.assertEqual(ws.headers.get("upgrade", "").lower(), "websocket")
        self.assertEqual(ws.recv_json(), {"type": "hello"})

    def test_unit_admin_gets_a_queue_event_when_an_applicant_submits(self):
        a = self.new_app()
        self.fill(a)
        ws = self.live(a.unit_admin)
        other_unit = self.new_unit()
        ws_other = self.live(other_unit)
        self.assertStatus(self.submit(a), 200)
        m, _ = ws.wait_for(about(a.app_id))
        self.assertEqual(m["status"], "unit_review")
        self.assertIs(m["queue"], True)
        self.assertTrue(m.get("status_name"))
        # the other unit hears nothing of it: its own submission's event comes first
        b = self.new_app(other_unit)
        self.fill(b)
        self.assertStatus(self.submit(b), 200)
        m, seen = ws_other.wait_for(about(b.app_id))
        self.assertIs(m["queue"], True)
        self.assertNoneAbout(seen, a.app_id)

    def test_applicant_gets_status_when_the_unit_returns_and_forwards(self):
        a = self.submitted_app()
        ws = self.live(a)
        stranger = self.submitted_app()
        ws_stranger = self.live(stranger)
        r = self.review(a.unit_admin, a.app_id, "return", opinions={"work": "请补充"})
        self.assertStatus(r, 200)
        m, _ = ws.wait_for(about(a.app_id, status="returned"))
        self.assertEqual(m["returned_by"], "unit")
        self.assertIs(m["queue"], False)
        self.assertStatus(self.submit(a), 200)
        m, _ = ws.wait_for(about(a.app_id, status="unit_review"))
        self.assertStatus(self.review(a.unit_admin, a.app_id, "forward", recommendation="同意推荐"), 200)
        m, _ = ws.wait_for(about(a.app_id, status="dept_review"))
        self.assertIsNone(m["returned_by"])
        self.assertStatus(self.review(self.dept_admin(), a.app_id, "return", opinions={"awards": "请补充"}), 200)
        m, _ = ws.wait_for(about(a.app_id, status="returned"))
        self.assertEqual(m["returned_by"], "dept")
        # another applicant's socket heard none of it
        self.assertStatus(self.withdraw(stranger), 200)
        m, seen = ws_stranger.wait_for(about(stranger.app_id, status="draft"))
        self.assertNoneAbout(seen, a.app_id)

    def test_dept_admin_gets_a_queue_event_when_the_unit_forwards(self):
        ws = self.live(self.dept_admin())
        a = self.submitted_app()
        self.assertStatus(self.review(a.unit_admin, a.app_id, "forward", recommendation="同意"), 200)
        m, _ = ws.wait_for(about(a.app_id, status="dept_review"))
        self.assertIs(m["queue"], True)

    def test_socket_without_a_valid_cookie_is_refused(self):
        ws = self.open(None)
        self.assertNotEqual(ws.status, 101, "a socket without a cookie was accepted")
        ws = LiveSocket(self.node.port, cookie="zc_session=" + "0" * 64)
        self.addCleanup(ws.close)
        self.assertNotEqual(ws.status, 101, "a socket with a made-up session was accepted")
        # a session that was logged out
        a = self.new_applicant()
        cookie = "zc_session=" + a.cookies["zc_session"]
        self.assertStatus(a.delete(API + "/session"), 200)
        ws = LiveSocket(self.node.port, cookie=cookie)
        self.addCleanup(ws.close)
        self.assertNotEqual(ws.status, 101, "a socket with a logged-out session was accepted")
        self.assertNotIn("zc-live", ws.headers.get("sec-websocket-protocol", ""))

    def test_no_events_after_the_session_ends(self):
        # the socket was authenticated when it opened; once its session is logged out it
        # must not go on streaming the account's events (closed, or silent)
        a = self.submitted_app()
        ws = self.live(a)
        self.assertStatus(a.delete(API + "/session"), 200)
        self.assertStatus(self.review(a.unit_admin, a.app_id, "return", opinions={"work": "请补充"}), 200)
        got = []
        try:
            while True:
                got.append(ws.recv_json(1.5))
        except (socket.timeout, Closed, OSError):
            pass
        self.assertEqual([m for m in got if m.get("id") == a.app_id], [],
                         "a logged-out session's socket still receives the account's events")


class TestQuietSockets(ZcCase):
    """A portal WebSocket that has gone quiet is pinged after ws-ping-secs (1 s here) and
    closed when it has answered nothing for twice as long; one that answers stays open."""

    @classmethod
    def setUpClass(cls):
        def prepare(node):
            os.makedirs(node.data, exist_ok=True)
            with open(os.path.join(node.data, "node.conf"), "w") as f:
                f.write("ws-ping-secs = 1\n")
        cls.node = Node("live-quiet", prepare=prepare).start()

    @classmethod
    def tearDownClass(cls):
        cls.node.stop()

    def live(self):
        a = self.new_applicant()
        ws = LiveSocket(self.node.port, cookie="zc_session=" + a.cookies["zc_session"])
        self.addCleanup(ws.close)
        self.assertEqual(ws.status, 101)
        self.assertEqual(ws.recv_json(), {"type": "hello"})
        return ws

    def test_a_socket_that_never_answers_is_pinged_then_closed(self):
        ws = self.live()
        t0 = time.monotonic()
        fin, opcode, _ = ws.recv_frame(t0 + 4)
        self.assertEqual(opcode, 0x9, "a ping")
        pinged = time.monotonic() - t0
        with self.assertRaises(Closed):  # no pong: closed (a close frame, or the socket)
            while True:
                fin, opcode, _ = ws.recv_frame(t0 + 8)
                if opcode == 0x8:
                    raise Closed("close frame")
        closed = time.monotonic() - t0
        self.assertLess(pinged, 3)
        self.assertTrue(1.5 < closed < 6, f"pinged at {pinged:.1f} s, closed at {closed:.1f} s")

    def test_a_socket_that_answers_pings_stays_open(self):
        ws = self.live()
        end, pings = time.monotonic() + 5, 0
        while True:
            try:
                fin, opcode, payload = ws.recv_frame(end)
            except socket.timeout:
                break
            self.assertNotEqual(opcode, 0x8, "closed although it answered every ping")
            if opcode == 0x9:
                pings += 1
                ws._send(0xA, payload)
        self.assertGreaterEqual(pings, 2)
        # still open: a ping of ours is answered (lws 4.1.6 may build that pong in the buffer
        # of its own pending ping, so only the answer is checked, not its payload)
        ws._send(0x9, b"are you there")
        fin, opcode, payload = ws.recv_frame(time.monotonic() + 2)
        while opcode == 0x9:
            ws._send(0xA, payload)
            fin, opcode, payload = ws.recv_frame(time.monotonic() + 2)
        self.assertEqual(opcode, 0xA, "a pong")
        self.assertStatus(self.client().get("/api/v1/health"), 200)

