"""A node restored from an older backup (node/fedlink.c, recovery): before it writes
again it recovers the entries of its own that its peers hold, so its next entry follows
them; it never writes a different entry at a seq it used (equivocation).

B writes, is backed up (stopped: node.db and fedlog.git copied), writes more, and is then
restored from the backup with every other node stopped. Alone it serves but refuses
changes that emit entries (503 `recovering`) rather than reuse a seq; once the region is
back it pulls its newer entries from it, adopts them into its outbox, and its next
registration takes the seq after them. No node raises an equivocation alert, every node
ends with the same heads and zc-audit is clean. A node that hears from no peer gives up
waiting after FEDLINK_RECOVER_SECS, with a `recovery_unchecked` alert."""
import os
import shutil
import time

from zc_test import REGION, Client
from test_replication import B, C, ReplicationCase, db_rows, heads


class TestRestore(ReplicationCase):
    def health(self, nid):
        r = Client(self.fed.at(nid)).get("/api/v1/health")
        self.assertStatus(r, 200)
        return r.json

    def test_a_restored_node_recovers_its_own_entries_before_it_writes(self):
        fed = self.start("restore")
        self.register_at(B, 2)
        self.wait_converged()
        fed.stop_node(B)
        backup = os.path.join(fed.dir, "backup-B")
        shutil.copytree(fed.data_of(B), backup, ignore=shutil.ignore_patterns("node.log", "node.pid"))
        fed.start_node(B)
        self.wait_links_up()  # a registration asks the registrar over its link
        self.register_at(B, 3)
        hs = self.wait_converged()
        b_head = hs[B]
        self.assertGreater(b_head[0], 3)
        for nid in (B, C, REGION):
            fed.stop_node(nid)
        # restore: B's data as it was at the backup (its log file stays, for the record)
        for name in os.listdir(fed.data_of(B)):
            if name not in ("node.log", "node.pid"):
                p = os.path.join(fed.data_of(B), name)
                shutil.rmtree(p) if os.path.isdir(p) else os.remove(p)
        for name in os.listdir(backup):
            src = os.path.join(backup, name)
            (shutil.copytree if os.path.isdir(src) else shutil.copy2)(src, os.path.join(fed.data_of(B), name))
        self.assertLess(heads(fed, B)[B][0], b_head[0])
        fed.start_node(B, ready=False)
        self.assertTrue(self.health(B)["recovering"])
        r = Client(fed.at(B)).post("/api/v1/accounts", self.applicant_body())
        self.assertStatus(r, 503)
        self.assertEqual(r.json["error"]["code"], "recovering")
        self.assertIn("核对", r.json["error"]["message"])
        # reads and logins are served meanwhile
        self.assertStatus(Client(fed.at(B)).get("/api/v1/catalog"), 200)
        fed.start_node(REGION)
        end = time.time() + 30
        while self.health(B)["recovering"] and time.time() < end:
            time.sleep(0.1)
        self.assertFalse(self.health(B)["recovering"])
        self.assertEqual(heads(fed, B)[B], b_head, "B did not recover its own newer entries")
        self.assertIn("recovered from peers", fed.log_of(B))
        self.register_at(B)
        (top,), = db_rows(fed, B, "SELECT max(seq) FROM outbox")
        self.assertEqual(top, b_head[0] + 1)
        fed.start_node(C)
        self.wait_converged()
        for nid in fed.ids:
            self.assertEqual([a for a in self.alerts(nid) if a["code"] == "equivocation"], [], nid)
            self.assert_contiguous(nid)
        self.audit()
        # restarted once more, B's outbox and log agree (the adopted rows reconcile)
        fed.stop_node(B)
        fed.start_node(B)
        self.wait_links_up()
        self.register_at(B)
        self.wait_converged()
        self.assertNotIn("extending it would be equivocation", fed.log_of(B))
        self.audit()

    def test_a_node_no_peer_answers_goes_on_after_a_while_with_an_alert(self):
        fed = self.start("restore-alone")
        self.register_at(B)
        self.wait_converged()
        for nid in fed.ids:
            fed.stop_node(nid)
        t0 = time.time()
        fed.start_node(B, ready=False)
        self.assertTrue(self.health(B)["recovering"])
        end = time.time() + 60
        while self.health(B)["recovering"] and time.time() < end:
            time.sleep(0.5)
        self.assertFalse(self.health(B)["recovering"])
        self.assertGreater(time.time() - t0, 20)  # FEDLINK_RECOVER_SECS (30)
        # a change that needs no other node (a registration would need the registrar)
        a = self.fed.account_of(B, "node_admin")
        c = self.client_at(B)
        self.assertStatus(c.login(a["login"], a["password"]), 200)
        self.assertStatus(c.put("/api/v1/me", {"email": "admin@example.com"}), 200)
        self.assertIn("recovery_unchecked", [a["code"] for a in self.alerts(B)])
