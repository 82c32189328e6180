"""test_zc_fed - tools/zc-fed's certificates and its per-node stop/up (API.md):
- `up --nodes 2` issues root.crt and one certificate per node that `openssl verify` accepts
  under it, and the manifest pins each certificate by the SHA-256 of its DER, with the
  federation URL on the HTTP port + 1000;
- `stop --node` stops one node (its port refuses, the other still answers), `up --node`
  brings it back with its data, `stop --kill` SIGKILLs it; unknown nodes are refused."""

import hashlib
import json
import os
import socket
import subprocess
import time
import unittest
import urllib.request

from zc_test import ROOT, Federation, _zombie


def healthy(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=3) as r:
            return r.status == 200
    except OSError:
        return False


def refuses(port):
    s = socket.socket()
    try:
        s.settimeout(2)
        s.connect(("127.0.0.1", port))
        return False
    except OSError:
        return True
    finally:
        s.close()


class ZcFedCase(unittest.TestCase):
    def setUp(self):
        self.fed = Federation("zcfed", nodes=2).start()
        self.addCleanup(self.fed.stop)
        self.dir = self.fed.dir
        self.keys = os.path.join(self.dir, "keys")
        with open(os.path.join(self.dir, "federation.json"), encoding="utf-8") as f:
            self.manifest = json.load(f)

    def zcfed(self, *args):
        return subprocess.run([self.fed.launcher, *args], cwd=ROOT, env=self.fed._env(), capture_output=True,
                              text=True, timeout=120)

    def pid_of(self, node_id):
        with open(os.path.join(self.dir, node_id, "node.pid"), encoding="utf-8") as f:
            return int(f.read().strip())

    def test_certificates_verify_under_the_root_and_the_manifest_pins_them(self):
        root = os.path.join(self.keys, "root.crt")
        self.assertEqual(len(self.manifest["nodes"]), 2)
        for n in self.manifest["nodes"]:
            crt = os.path.join(self.keys, n["id"] + ".crt")
            r = subprocess.run(["openssl", "verify", "-CAfile", root, crt], capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            der = subprocess.run(["openssl", "x509", "-in", crt, "-outform", "der"], capture_output=True,
                                 check=True).stdout
            self.assertEqual(n["tls"], hashlib.sha256(der).hexdigest())
            self.assertEqual(n["fed"], f"wss://127.0.0.1:{self.fed.port_of(n['id']) + 1000}/fed")
            self.assertEqual(os.stat(os.path.join(self.keys, n["id"] + ".tls.key")).st_mode & 0o777, 0o600)

    def test_stop_up_and_kill_one_node(self):
        a, b = self.fed.ids
        pa, pb = self.fed.port_of(a), self.fed.port_of(b)
        files_before = set(os.listdir(self.fed.data_of(b)))
        pid = self.pid_of(b)

        r = self.zcfed("stop", "--dir", self.dir, "--node", b)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(refuses(pb))
        self.assertTrue(healthy(pa))
        self.assertTrue(_zombie(pid))  # gone (a zombie is gone: only its parent can reap it)
        self.assertFalse(os.path.exists(os.path.join(self.dir, b, "node.pid")))

        r = self.zcfed("stop", "--dir", self.dir, "--node", b)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(b, r.stderr)
        r = self.zcfed("stop", "--dir", self.dir, "--node", "nosuchnode")
        self.assertNotEqual(r.returncode, 0)
        self.assertTrue(r.stderr.strip())

        r = self.zcfed("up", "--dir", self.dir, "--node", b)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(healthy(pb))
        self.assertTrue(files_before <= set(os.listdir(self.fed.data_of(b))))

        pid = self.pid_of(b)
        r = self.zcfed("stop", "--dir", self.dir, "--node", b, "--kill")
        self.assertEqual(r.returncode, 0, r.stderr)
        deadline = time.monotonic() + 10
        while not _zombie(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertTrue(_zombie(pid))
        self.assertTrue(refuses(pb))
        self.assertTrue(healthy(pa))


if __name__ == "__main__":
    unittest.main()
