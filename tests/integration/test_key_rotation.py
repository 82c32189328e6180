"""Key rotation (node/trust.c, zc-admin rotate-key, zc-fed rotate-key) in a running
three-node federation, with no node restarted:

- `zc-fed rotate-key --node B` lists a new key for B from now (its old key retiring a day
  later), appends the private key to B's key file and signals B; B signs its next entries
  with the new key; the region and C learn the re-signed manifest over the federation
  (their pids unchanged), verify and apply B's new entries; old entries still verify; each
  new entry verifies with git and openssl against the new public key the manifest lists;
  zc-audit is clean over the whole federation.
- a manifest the root did not sign (or altered after signing), put in place of B's files
  and signalled, is not taken: B keeps its edition and keeps replicating."""
import json
import os
import subprocess
import tempfile
import time

from zc_test import REGION, ROOT, Client, tool
from test_replication import B, C, ReplicationCase, canonical, db_rows, git


class TestKeyRotation(ReplicationCase):
    def zc_fed(self, *args):
        r = subprocess.run([self.fed.launcher, *args, "--dir", self.fed.dir], cwd=ROOT, env=self.fed._env(),
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return r.stdout

    def pids(self):
        return {n: open(os.path.join(self.fed.data_of(n), "node.pid")).read().split()[0] for n in self.fed.ids}

    def fingerprint_of(self, at, nid):
        r = Client(self.fed.at(at)).get("/api/v1/federation")
        self.assertStatus(r, 200)
        return {n["id"]: n["fingerprint"] for n in r.json["nodes"]}[nid]

    def manifest_key(self, key_id):
        with open(os.path.join(self.fed.dir, "federation.json"), encoding="utf-8") as f:
            m = json.load(f)
        return next(k for n in m["nodes"] for k in n["keys"] if k["id"] == key_id)

    def keys_of_entries(self, nid, origin):
        return [json.loads(bytes(e))["key"] for e, in
                db_rows(self.fed, nid, "SELECT entry FROM fed_entries WHERE origin = ? ORDER BY seq", origin)]

    def test_a_rotated_key_signs_from_now_and_reaches_every_running_node(self):
        fed = self.start("rotate")
        self.register_at(B)
        self.wait_converged()
        pids, old_fp = self.pids(), self.fingerprint_of(REGION, B)
        out = self.zc_fed("rotate-key", "--node", B)
        self.assertIn(f"{B}#2", out)
        new_fp = out.split()[1]
        self.assertNotEqual(new_fp, old_fp)
        for nid in fed.ids:  # B from its files, the others over the federation
            end = time.time() + 30
            while self.fingerprint_of(nid, B) != new_fp and time.time() < end:
                time.sleep(0.2)
            self.assertEqual(self.fingerprint_of(nid, B), new_fp, f"{nid} did not take the new manifest")
        self.assertIn(f"taken (from {B})", fed.log_of(REGION) + fed.log_of(C))
        self.assertEqual(self.pids(), pids, "a node was restarted")
        old = self.manifest_key(f"{B}#1")
        self.assertLess(old["not_after"], "2100")  # retires (a day on), still listed
        self.register_at(B, 2)
        self.wait_converged()
        for nid in fed.ids:
            keys = self.keys_of_entries(nid, B)
            self.assertEqual(keys[-2:], [f"{B}#2", f"{B}#2"], nid)
            self.assertIn(f"{B}#1", keys[:-2])
            e = git(fed, nid, "show", f"refs/fed/{B}:entry.json")
            s = git(fed, nid, "show", f"refs/fed/{B}:entry.sig")
            with tempfile.TemporaryDirectory() as d:
                for name, data in (("e", e), ("s", s), ("k.pem", self.manifest_key(f"{B}#2")["pem"].encode())):
                    open(os.path.join(d, name), "wb").write(data)
                r = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", os.path.join(d, "k.pem"),
                                    "-rawin", "-in", os.path.join(d, "e"), "-sigfile", os.path.join(d, "s")],
                                   capture_output=True, text=True, timeout=30)
                self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assert_contiguous(nid)
            self.assertEqual(self.alerts(nid), [])
        self.audit()  # old and new entries, and checkpoints signed before and after
        # a restarted node starts with the new edition
        fed.stop_node(REGION)
        fed.start_node(REGION)
        self.register_at(B)
        self.wait_converged()
        self.audit()

    def test_a_manifest_the_root_did_not_sign_is_not_taken(self):
        fed = self.start("rotate-forged")
        self.wait_converged()
        keys, path = os.path.join(fed.dir, "keys"), os.path.join(fed.dir, "federation.json")
        sig = path[:-len(".json")] + ".sig"
        saved = {p: open(p, "rb").read() for p in (path, sig)}
        self.addCleanup(lambda: [open(p, "wb").write(b) for p, b in saved.items()])
        fp = self.fingerprint_of(B, B)
        # 1. the root's signature over altered bytes: B's own key replaced by another
        m = json.loads(saved[path])
        other = os.path.join(fed.dir, "other")
        os.mkdir(other)
        r = subprocess.run([tool("zc-admin"), "keygen", "--out", other, "--id", B],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        for n in m["nodes"]:
            if n["id"] == B:
                n["keys"][0]["pem"] = open(os.path.join(other, f"{B}.pem")).read()
        m["issued"] = "2099-01-01T00:00:00Z"
        open(path, "wb").write(canonical(m))
        self.zc_fed_hup(B)
        self.wait_log(B, "the current manifest and keys stay")
        # 2. a manifest signed by another root
        r = subprocess.run([tool("zc-admin"), "keygen", "--out", other, "--id", "root"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = subprocess.run([tool("zc-admin"), "manifest", "--root",
                            os.path.join(other, "root.key"), "--out", path, "--node",
                            f"{B},乌鲁木齐市,http://127.0.0.1:1,{os.path.join(keys, B + '.pem')}"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        n_before = fed.log_of(B).count("the current manifest and keys stay")
        self.zc_fed_hup(B)
        end = time.time() + 20
        while fed.log_of(B).count("the current manifest and keys stay") == n_before and time.time() < end:
            time.sleep(0.2)
        self.assertGreater(fed.log_of(B).count("the current manifest and keys stay"), n_before)
        self.assertNotIn("taken", fed.log_of(B))
        for nid in fed.ids:
            self.assertEqual(self.fingerprint_of(nid, B), fp)
        for p, b in saved.items():
            open(p, "wb").write(b)
        self.register_at(B)
        self.wait_converged()
        self.audit()

    def zc_fed_hup(self, nid):
        os.kill(int(self.pids()[nid]), 1)

    def wait_log(self, nid, text, timeout=20):
        end = time.time() + timeout
        while text not in self.fed.log_of(nid) and time.time() < end:
            time.sleep(0.2)
        self.assertIn(text, self.fed.log_of(nid))
