"""bin/zc-admin on a stopped node's data directory: accounts it adds can log in once the
node runs. Each test uses a node of its own."""
import json
import os
import subprocess

from zc_test import REGION, ROOT, Client, Node, ZcCase, tool

AUDITOR_PW = "Audit#2026x"


class TestZcAdminAccount(ZcCase):
    NODE_LABEL = None

    @classmethod
    def setUpClass(cls):
        pass  # each test starts the node it needs

    def start(self, label, prepare=None):
        n = Node(label, demo=False, prepare=prepare).start()
        self.addCleanup(n.stop)
        self.node = n
        return n

    def test_account_on_a_fresh_init_dir_can_log_in(self):
        made = {}

        def prepare(node):
            r = node.admin("init")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertTrue(os.path.exists(os.path.join(node.data, "node.db")))
            r = node.admin("account", "--role", "auditor", "--name", "孙立", "--password", AUDITOR_PW)
            self.assertEqual(r.returncode, 0, r.stderr)
            made.update(json.loads(r.stdout.strip().splitlines()[-1]))

        n = self.start("admin-init", prepare)
        self.assertEqual(made["role"], "auditor")
        self.assertEqual(made["node"], REGION)
        self.assertRegex(made["username"], r"^[1-9][0-9]{9}$")
        c = Client(n)
        r = c.login(made["username"], AUDITOR_PW)
        self.assertStatus(r, 200)
        a = c.me().json["account"]
        self.assertEqual((a["role"], a["name"], a["id"]), ("auditor", "孙立", made["id"]))
        # an auditor is not a node admin
        self.assertError(c.get("/api/v1/accounts"), 403)

    def test_account_added_while_the_node_is_stopped(self):
        n = self.start("admin-stop")
        before = self.new_applicant()
        n.halt()
        self.assertFalse(n.alive())
        r = n.admin("account", "--role", "auditor", "--name", "孙立", "--password", AUDITOR_PW)
        self.assertEqual(r.returncode, 0, r.stderr)
        made = json.loads(r.stdout.strip().splitlines()[-1])
        n.resume()
        self.assertStatus(Client(n).login(made["username"], AUDITOR_PW), 200)
        # what was there before the stop is still there
        self.assertStatus(Client(n).login(before.username, before.password), 200)
        self.assertStatus(before.me(), 200, )

    def test_node_admin_added_offline_sees_accounts(self):
        def prepare(node):
            r = node.admin("init")
            self.assertEqual(r.returncode, 0, r.stderr)
            r = node.admin("account", "--role", "node_admin", "--name", "赵敏", "--password", "Admin#2026x")
            self.assertEqual(r.returncode, 0, r.stderr)
            node.made = json.loads(r.stdout.strip().splitlines()[-1])

        n = self.start("admin-na", prepare)
        c = Client(n)
        self.assertStatus(c.login(n.made["username"], "Admin#2026x"), 200)
        r = c.get("/api/v1/accounts")
        self.assertStatus(r, 200)
        self.assertIn(n.made["username"], [a["username"] for a in r.json["items"]])

    def test_weak_password_is_refused_and_nothing_created(self):
        made = {}

        def prepare(node):
            r = node.admin("init")
            self.assertEqual(r.returncode, 0, r.stderr)
            r = node.admin("account", "--role", "auditor", "--name", "孙立", "--password", "weak")
            made["rc"], made["out"], made["err"] = r.returncode, r.stdout, r.stderr
            r = node.admin("account", "--role", "node_admin", "--name", "赵敏", "--password", "Admin#2026x")
            self.assertEqual(r.returncode, 0, r.stderr)
            node.made = json.loads(r.stdout.strip().splitlines()[-1])

        n = self.start("admin-weak", prepare)
        self.assertNotEqual(made["rc"], 0)
        self.assertEqual(made["out"].strip(), "")
        self.assertTrue(made["err"].strip(), "no reason given")
        c = Client(n)
        self.assertStatus(c.login(n.made["username"], "Admin#2026x"), 200)
        names = [a["name"] for a in c.get("/api/v1/accounts").json["items"]]
        self.assertNotIn("孙立", names)

    def test_unknown_role_is_refused(self):
        d = self.tmpdir()
        r = subprocess.run([tool("zc-admin"), "account", "--data", d, "--node", REGION, "--role", "emperor",
                            "--name", "孙立", "--password", AUDITOR_PW, "--schemas", os.path.join(ROOT, "schemas")],
                           capture_output=True, text=True, timeout=60)
        self.assertNotEqual(r.returncode, 0)
        self.assertEqual(r.stdout.strip(), "")

    def test_missing_password_is_refused(self):
        d = self.tmpdir()
        r = subprocess.run([tool("zc-admin"), "account", "--data", d, "--node", REGION, "--role", "auditor",
                            "--name", "孙立", "--schemas", os.path.join(ROOT, "schemas")],
                           capture_output=True, text=True, timeout=60)
        self.assertNotEqual(r.returncode, 0)

    def tmpdir(self):
        import shutil
        import tempfile
        d = tempfile.mkdtemp(prefix="zc-it-admin-")
        self.addCleanup(shutil.rmtree, d, True)
        return d
