"""Uploaded files on disk (issue 6): stored once by SHA-256 and shared by rows, a file is
removed as soon as the last row referring to it is gone (a replaced ID-card scan, a
deleted attachment, a deleted draft), never while a row still needs it, also when the
same bytes are uploaded and deleted concurrently; and the quotas: 16 MiB of attachments
per application, 32 MiB per account, answered 413 quota_exceeded."""
import hashlib
import os
import threading
import urllib.parse

from test_applications import API, AppFlow, this_year
from zc_test import PDF, ZcCase, png_of_size

MIB = 1024 * 1024
APP_QUOTA = 16 * MIB
ACCOUNT_QUOTA = 32 * MIB


def distinct_png(n, tag):
    """A valid PNG of n bytes whose content differs with tag (same length)."""
    b = bytearray(png_of_size(n))
    t = hashlib.sha256(str(tag).encode()).digest()[:16]
    b[41:41 + len(t)] = t   # inside the padding chunk's data
    return bytes(b)


class StorageCase(AppFlow, ZcCase):
    NODE_LABEL = "storage"

    def blob_file(self, sha):
        return os.path.join(self.node.data, "blobs", sha[:2], sha)

    def stored(self, data):
        return os.path.exists(self.blob_file(hashlib.sha256(data).hexdigest()))

    def attach_to(self, a, data, app_id=None, section="achievements"):
        q = urllib.parse.urlencode({"section": section, "name": "证明"})
        return a.post(f"{API}/applications/{app_id or a.app_id}/attachments?{q}", raw=data)


class TestRelease(StorageCase):
    def test_ten_replaced_id_scans_keep_one_file(self):
        u = self.new_applicant()
        scans = [distinct_png(2 * MIB, f"{u.username}-{i}") for i in range(10)]
        for data in scans:
            self.assertStatus(u.post(API + "/me/idcard?side=front", raw=data), 201)
        self.assertEqual([self.stored(d) for d in scans], [False] * 9 + [True])
        r = u.get(API + "/me/idcard?side=front")
        self.assertEqual(r.body, scans[-1])

    def test_a_scan_replaced_by_the_same_bytes_stays(self):
        u = self.new_applicant()
        data = distinct_png(4096, u.username)
        for _ in range(3):
            self.assertStatus(u.post(API + "/me/idcard?side=back", raw=data), 201)
        self.assertTrue(self.stored(data))
        self.assertEqual(u.get(API + "/me/idcard?side=back").body, data)

    def test_a_deleted_attachment_file_goes_unless_another_row_shares_it(self):
        a = self.new_app()
        b = self.new_app()
        data = distinct_png(8192, a.app_id)
        r1 = self.attach_to(a, data)
        r2 = self.attach_to(b, data)
        self.assertStatus(r1, 201)
        self.assertStatus(r2, 201)
        self.assertStatus(a.delete(f"{API}/applications/{a.app_id}/attachments/{r1.json['id']}"), 200)
        self.assertTrue(self.stored(data), "removed while another application's attachment refers to it")
        self.assertEqual(b.get(f"{API}/applications/{b.app_id}/attachments/{r2.json['id']}").body, data)
        self.assertStatus(b.delete(f"{API}/applications/{b.app_id}/attachments/{r2.json['id']}"), 200)
        self.assertFalse(self.stored(data), "kept after the last row referring to it was deleted")

    def test_an_id_scan_and_an_attachment_share_a_file(self):
        a = self.new_app()
        data = distinct_png(8192, "shared-" + a.app_id)
        self.assertStatus(a.post(API + "/me/idcard?side=front", raw=data), 201)
        att = self.attach_to(a, data)
        self.assertStatus(att, 201)
        self.assertStatus(a.post(API + "/me/idcard?side=front", raw=distinct_png(8192, "other-" + a.app_id)), 201)
        self.assertTrue(self.stored(data))
        self.assertStatus(a.delete(f"{API}/applications/{a.app_id}/attachments/{att.json['id']}"), 200)
        self.assertFalse(self.stored(data))

    def test_a_deleted_draft_takes_its_files(self):
        a = self.new_app()
        files = [distinct_png(4096, f"draft-{a.app_id}-{i}") for i in range(3)]
        for data in files:
            self.assertStatus(self.attach_to(a, data), 201)
        self.assertStatus(a.delete(f"{API}/applications/{a.app_id}"), 200)
        self.assertEqual([self.stored(d) for d in files], [False] * 3)

    def test_a_refused_delete_keeps_the_file(self):
        a = self.submitted_app()
        j = self.get_app(a, a.app_id)
        att = next(s for s in j["sections"] if s["attachments"])["attachments"][0]
        r = a.delete(f"{API}/applications/{a.app_id}/attachments/{att['id']}")
        self.assertError(r, 409, "not_editable")
        self.assertTrue(os.path.exists(self.blob_file(att["sha256"])))

    def test_concurrent_uploads_and_deletes_of_the_same_bytes(self):
        """Two applicants on their own connections: one keeps uploading and deleting bytes X,
        the other uploads X and keeps it. Every kept attachment must stay readable."""
        a, b = self.new_app(), self.new_app()
        data = distinct_png(64 * 1024, "race-" + a.app_id)
        kept, errors = [], []

        def churn():
            for _ in range(15):
                r = self.attach_to(a, data)
                if r.status != 201:
                    errors.append(r)
                    return
                d = a.delete(f"{API}/applications/{a.app_id}/attachments/{r.json['id']}")
                if d.status != 200:
                    errors.append(d)

        def keep():
            for i in range(15):
                r = self.attach_to(b, data, section=("achievements", "education", "papers")[i % 3])
                if r.status != 201:
                    errors.append(r)
                    return
                kept.append(r.json["id"])

        threads = [threading.Thread(target=churn), threading.Thread(target=keep)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertEqual(errors, [])
        self.assertEqual(len(kept), 15)
        self.assertTrue(self.stored(data))
        for att in kept:
            r = b.get(f"{API}/applications/{b.app_id}/attachments/{att}")
            self.assertEqual((r.status, r.body == data), (200, True), att)


class TestQuota(StorageCase):
    def test_an_application_holds_16_mib(self):
        a = self.new_app()
        files = [distinct_png(2 * MIB - i, f"q-{a.app_id}-{i}") for i in range(9)]
        for data in files[:8]:
            self.assertStatus(self.attach_to(a, data), 201)
        before = self.snap(a)
        e = self.assertRefused(self.attach_to(a, files[8]), 413, "quota_exceeded", a, before)
        self.assertIn("16", e["message"])
        self.assertFalse(self.stored(files[8]), "a refused upload left its file")
        # deleting one makes room again
        att = self.get_app(a, a.app_id)
        first = next(s for s in att["sections"] if s["name"] == "achievements")["attachments"][0]
        self.assertStatus(a.delete(f"{API}/applications/{a.app_id}/attachments/{first['id']}"), 200)
        self.assertStatus(self.attach_to(a, files[8]), 201)

    def test_an_account_holds_32_mib(self):
        a = self.new_app()
        used = 0
        for side in ("front", "back"):
            data = distinct_png(2 * MIB, f"{a.app_id}-{side}")
            self.assertStatus(a.post(f"{API}/me/idcard?side={side}", raw=data), 201)
            used += len(data)
        for i in range(8):
            data = distinct_png(2 * MIB - i, f"acc-{a.app_id}-{i}")
            self.assertStatus(self.attach_to(a, data), 201)
            used += len(data)
        r = self.create(a, a.unit_admin.cc, year=this_year() + 1)
        self.assertStatus(r, 201)
        second = r.json["id"]
        i = 0
        while True:
            data = distinct_png(2 * MIB - 100 - i, f"acc2-{a.app_id}-{i}")
            r = self.attach_to(a, data, app_id=second)
            if r.status != 201:
                break
            used += len(data)
            i += 1
            self.assertLess(i, 10, "the account quota never answered")
        self.assertError(r, 413, "quota_exceeded")
        self.assertIn("32", r.error["message"])
        self.assertLessEqual(used, ACCOUNT_QUOTA)
        self.assertGreater(used + len(data), ACCOUNT_QUOTA)
        self.assertFalse(self.stored(data))

    def test_small_files_are_not_refused(self):
        a = self.new_app()
        for i in range(3):
            self.assertStatus(self.attach_to(a, PDF if i == 0 else distinct_png(1024, f"s-{a.app_id}-{i}")), 201)
