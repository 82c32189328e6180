"""Notices (通知公告), the committee directory's paper rules and the qualification
conditions (任职资格条件).

Notices: a draft is seen only by who may write it; attachments are checked by content
and capped; publishing makes it public (list, detail, attachment bytes) and an entry;
a published notice is not edited but withdrawn, and then gone. An applicant's home page
(?for=me) lists the notices of their committees and of their node and the region, not
those of other committees. Across nodes: a notice published at the region is listed at
a prefecture, whose attachment link leads to the region's bytes, and its withdrawal
reaches the prefecture too.

Directory: the committee's 报送日期, 报送内容 and 装订方式 are edited by its admins,
checked, and shown with the address and contact to everyone.

Conditions: the public list per qualification, and an application judged against it:
what it has filled in decides met / unmet / unknown, counted to the application year's
31 December."""
import urllib.parse

from test_applications import API, GC_G, PDF, PNG, AppFlow, filled_sections, this_year
from test_replication import ReplicationCase
from zc_test import REGION, Client, NodePort, ZcCase, until

OTHER = "650000-WS-G"       # a committee of the region the GC4 applicant's application never meets
B = "650100"


def attach(who, nid, data, ctype, name="附件"):
    return who.post(f"{API}/notices/{nid}/attachments?" + urllib.parse.urlencode({"name": name}), raw=data, ctype=ctype)


class NoticeFlow:
    def anon(self):
        return Client(NodePort(self.node.port))

    def draft(self, who, committee=None, title="关于开展2026年度职称评审工作的通知", body="一、申报时间\n二、申报条件"):
        b = {"title": title, "body": body}
        if committee:
            b["committee"] = committee
        r = who.post(f"{API}/notices", b)
        self.assertStatus(r, 201)
        self.assertEqual(r.json["notice"]["state"], "draft")
        return r.json["notice"]

    def published(self, who, committee=None, **kw):
        n = self.draft(who, committee, **kw)
        r = who.post(f"{API}/notices/{n['id']}/publish")
        self.assertStatus(r, 200)
        return r.json["notice"]

    def listed(self, who, query=""):
        r = who.get(f"{API}/notices{query}")
        self.assertStatus(r, 200)
        return [x["id"] for x in r.json["items"]]


class TestNotices(NoticeFlow, AppFlow, ZcCase):
    NODE_LABEL = "notices"

    def test_a_draft_is_private_until_published_then_public_with_its_attachment(self):
        cmte = self.committee_admin()
        n = self.draft(cmte)
        self.assertEqual(n["committee"], GC_G)                 # a committee admin writes for their own
        self.assertNotIn(n["id"], self.listed(self.anon()))
        self.assertError(self.anon().get(f"{API}/notices/{n['id']}"), 404, "not_found")
        self.assertIn(n["id"], self.listed(cmte, "?drafts=1"))
        r = attach(cmte, n["id"], PDF, "application/pdf", "申报通知.pdf")
        self.assertStatus(r, 201)
        att = r.json["notice"]["attachments"]
        self.assertEqual([(x["n"], x["name"], x["type"], x["size"]) for x in att],
                         [(1, "申报通知.pdf", "application/pdf", len(PDF))])
        self.assertError(self.anon().get(att[0]["url"]), 404, "not_found")   # nor its attachment
        r = cmte.post(f"{API}/notices/{n['id']}/publish")
        self.assertStatus(r, 200)
        self.assertEqual(r.json["notice"]["state"], "published")
        self.assertTrue(r.json["notice"]["published"])
        anon = self.anon()
        self.assertIn(n["id"], self.listed(anon))
        self.assertIn(n["id"], self.listed(anon, f"?committee={GC_G}"))
        self.assertNotIn(n["id"], self.listed(anon, f"?committee={OTHER}"))
        one = anon.get(f"{API}/notices/{n['id']}").json["notice"]
        self.assertEqual((one["title"], one["body"], one["committee_name"]),
                         ("关于开展2026年度职称评审工作的通知", "一、申报时间\n二、申报条件", "自治区工程系列高级职称评审委员会"))
        got = anon.get(one["attachments"][0]["url"])
        self.assertStatus(got, 200)
        self.assertEqual(got.body, PDF)
        self.assertIn("attachment", got.headers["Content-Disposition"])
        self.assertNotIn(n["id"], self.listed(cmte, "?drafts=1"))

    def test_a_published_notice_is_withdrawn_not_edited(self):
        admin = self.node_admin()
        n = self.published(admin)
        self.assertIsNone(n["committee"])                      # the node's own notice
        for r in (admin.put(f"{API}/notices/{n['id']}", {"title": "改"}), attach(admin, n["id"], PNG, "image/png"),
                  admin.post(f"{API}/notices/{n['id']}/publish"), admin.delete(f"{API}/notices/{n['id']}/attachments/1")):
            self.assertError(r, 409, "notice_published")
        self.assertEqual(self.anon().get(f"{API}/notices/{n['id']}").json["notice"]["title"], n["title"])
        r = admin.delete(f"{API}/notices/{n['id']}")
        self.assertStatus(r, 200)
        self.assertEqual(r.json["state"], "withdrawn")
        self.assertError(self.anon().get(f"{API}/notices/{n['id']}"), 404, "not_found")
        self.assertNotIn(n["id"], self.listed(self.anon()))
        self.assertError(admin.delete(f"{API}/notices/{n['id']}"), 404, "not_found")
        # a draft deleted is simply gone
        d = self.draft(admin)
        self.assertStatus(admin.delete(f"{API}/notices/{d['id']}"), 200)
        self.assertError(admin.get(f"{API}/notices/{d['id']}"), 404, "not_found")

    def test_who_may_write_what(self):
        cmte, admin = self.committee_admin(), self.node_admin()
        # a committee admin writes for their committee only; the node admin for any of the node's
        self.assertError(cmte.post(f"{API}/notices", {"title": "通知", "body": "正文", "committee": OTHER}), 404, "not_found")
        self.assertEqual(self.draft(admin, committee=OTHER)["committee"], OTHER)
        self.assertError(admin.post(f"{API}/notices", {"title": "通知", "body": "正文", "committee": "653100-GC-Z"}),
                         404, "not_found")                     # another node's committee
        # nobody else writes one, and drafts are theirs alone
        theirs = self.draft(admin)
        for who in (self.new_applicant(), self.new_unit(), self.dept_admin()):
            self.assertIn(who.post(f"{API}/notices", {"title": "通知", "body": "正文"}).status, (403,))
            self.assertError(who.get(f"{API}/notices/{theirs['id']}"), 404, "not_found")
        self.assertError(cmte.get(f"{API}/notices/{theirs['id']}"), 404, "not_found")   # the node's, not the committee's
        self.assertError(cmte.put(f"{API}/notices/{theirs['id']}", {"title": "改"}), 404, "not_found")
        self.assertError(cmte.delete(f"{API}/notices/{theirs['id']}"), 404, "not_found")
        mine = self.published(cmte)
        self.assertError(self.committee_admin(OTHER).delete(f"{API}/notices/{mine['id']}"), 404, "not_found")
        self.assertIn(mine["id"], self.listed(self.anon()))
        self.assertError(self.new_applicant().get(f"{API}/notices?drafts=1"), 403, "forbidden")

    def test_bad_notices_are_refused_and_change_nothing(self):
        admin = self.node_admin()
        before = self.listed(admin, "?drafts=1")
        for body, field in (({"body": "正文"}, "title"), ({"title": "", "body": "正文"}, "title"),
                            ({"title": "通知"}, "body"), ({"title": "通\n知", "body": "正文"}, "title"),
                            ({"title": "长" * 101, "body": "正文"}, "title"), ({"title": "通知", "body": "长" * 10001}, "body"),
                            ({"title": 7, "body": "正文"}, "title"), ({"title": "通知", "body": "正\u0000文"}, "body")):
            r = admin.post(f"{API}/notices", body)
            self.assertEqual(r.status, 400, (body, r.body[:200]))
            self.assertEqual(r.json["error"]["field"], field, body)
        self.assertEqual(self.listed(admin, "?drafts=1"), before)
        n = self.draft(admin)
        self.assertError(attach(admin, n["id"], b"MZ\x90\x00 not a document", "application/pdf"), 415, "unsupported_type")
        self.assertError(attach(admin, n["id"], b"", "application/pdf"), 400, "empty_file")
        for i in range(5):
            self.assertStatus(attach(admin, n["id"], PNG, "image/png", f"图{i}"), 201)
        self.assertError(attach(admin, n["id"], PNG, "image/png"), 409, "too_many_attachments")
        self.assertError(admin.put(f"{API}/notices/{n['id']}", {"title": ""}), 400, "missing_field")
        j = admin.get(f"{API}/notices/{n['id']}").json["notice"]
        self.assertEqual((j["title"], len(j["attachments"])), (n["title"], 5))
        self.assertStatus(admin.delete(f"{API}/notices/{n['id']}/attachments/2"), 200)
        self.assertError(admin.delete(f"{API}/notices/{n['id']}/attachments/2"), 404, "not_found")
        self.assertEqual([x["n"] for x in admin.get(f"{API}/notices/{n['id']}").json["notice"]["attachments"]], [1, 3, 4, 5])
        self.assertError(self.anon().get(f"{API}/notices?for=me"), 401, "unauthenticated")
        self.assertError(self.anon().get(f"{API}/notices?for=everyone"), 400, "invalid_query")

    def test_the_applicants_home_page_lists_the_notices_of_their_committees(self):
        admin = self.node_admin()
        a = self.new_app()                                     # GC4 at the region: GC_G
        ours = self.published(self.committee_admin(), title="工程系列评审通知")
        node = self.published(admin, title="自治区职称工作通知")
        other = self.published(admin, committee=OTHER, title="卫生系列评审通知")
        got = self.listed(a, "?for=me")
        self.assertIn(ours["id"], got)
        self.assertIn(node["id"], got)
        self.assertNotIn(other["id"], got)
        self.assertIn(other["id"], self.listed(a))             # yet public to read
        items = {x["id"]: x for x in a.get(f"{API}/notices?for=me").json["items"]}
        self.assertNotIn("body", items[ours["id"]])            # a list has titles, the detail the text
        self.assertEqual(items[ours["id"]]["node_name"], "自治区")


class TestDirectory(AppFlow, ZcCase):
    NODE_LABEL = "directory"

    def test_paper_rules_dates_and_binding_are_edited_checked_and_shown(self):
        self.restore_committee_later(GC_G)
        cmte = self.committee_admin()
        r = cmte.put(f"{API}/committees/{GC_G}", {"paper_from": "2026-10-08", "paper_until": "2026-10-20",
                                                 "paper_rules": "申报材料一式两份", "paper_binding": "A4纸左侧装订成册，封面注明姓名"})
        self.assertStatus(r, 200)
        anon = Client(NodePort(self.node.port))
        c = anon.get(f"{API}/committees/{GC_G}").json["committee"]
        self.assertEqual((c["paper_from"], c["paper_until"], c["paper_rules"], c["paper_binding"]),
                         ("2026-10-08", "2026-10-20", "申报材料一式两份", "A4纸左侧装订成册，封面注明姓名"))
        self.assertTrue(c["address"] and c["contact"] and c["phone"])
        listed = next(x for x in anon.get(f"{API}/committees").json["items"] if x["id"] == GC_G)
        self.assertEqual(listed["paper_binding"], "A4纸左侧装订成册，封面注明姓名")
        for body, field in (({"paper_from": "2026-02-30"}, "paper_from"), ({"paper_until": "2026-10-01"}, "paper_until"),
                            ({"paper_from": "2026-10-21"}, "paper_until"), ({"paper_binding": "x" * 501}, "paper_binding"),
                            ({"paper_until": "明天"}, "paper_until")):
            r = cmte.put(f"{API}/committees/{GC_G}", body)
            self.assertEqual(r.status, 400, (body, r.body[:200]))
            self.assertEqual(r.json["error"]["field"], field, body)
        c = anon.get(f"{API}/committees/{GC_G}").json["committee"]
        self.assertEqual((c["paper_from"], c["paper_until"]), ("2026-10-08", "2026-10-20"))


class TestConditions(AppFlow, ZcCase):
    NODE_LABEL = "conditions"

    def status_of(self, a):
        r = a.get(f"{API}/applications/{a.app_id}/conditions")
        self.assertStatus(r, 200)
        return {x["key"]: x["status"] for x in r.json["conditions"]["items"]}, r.json["conditions"]

    def test_the_public_list_per_qualification(self):
        anon = Client(NodePort(self.node.port))
        r = anon.get(f"{API}/conditions?qualification=GC4")
        self.assertStatus(r, 200)
        c = r.json["conditions"]
        self.assertEqual((c["level"], c["level_name"], c["name"]), (4, "副高级", "高级工程师"))
        req = {x["key"]: x["requirement"] for x in c["items"]}
        self.assertEqual(set(req), {"degree", "years", "hours", "assessment", "papers", "results", "practice"})
        self.assertIn("大学本科", req["degree"])
        self.assertIn("满5年", req["years"])
        self.assertNotIn("status", c["items"][0])
        ws = anon.get(f"{API}/conditions?qualification=WS4").json["conditions"]
        self.assertIn("基层", next(x for x in ws["items"] if x["key"] == "practice")["requirement"])
        for q in ("", "?qualification=XX9", "?qualification=" + "G" * 40):
            self.assertError(anon.get(f"{API}/conditions{q}"), 400, "invalid_query")

    def test_an_application_is_judged_by_what_it_has_filled_in(self):
        a = self.new_app(qual="GC4")
        s, c = self.status_of(a)
        self.assertEqual(s, {"degree": "unknown", "years": "unknown", "hours": "unknown", "assessment": "unknown",
                             "papers": "unknown", "results": "review", "practice": "review"})
        self.assertEqual(c["as_of"], f"{this_year()}-12-31")
        data = filled_sections(a.body["name"])
        for name in ("education", "training", "assessment", "papers"):
            self.assertStatus(self.save(a, name, data[name]), 200)
        # 本科, no current title date yet; 120 hours; one paper where GC4 asks two
        s, c = self.status_of(a)
        self.assertEqual((s["degree"], s["years"], s["hours"], s["assessment"], s["papers"]),
                         ("met", "unknown", "met", "met", "unmet"))
        self.assertEqual(c["unmet"], 1)
        basic = dict(data["basic"], current_title="工程师", current_title_date=f"{this_year() - 3}-07-01")
        self.assertStatus(self.save(a, "basic", basic), 200)
        s, c = self.status_of(a)
        self.assertEqual(s["years"], "unmet")                  # 3 years of the 5 a 本科 needs
        self.assertIn("满3年", next(x for x in c["items"] if x["key"] == "years")["detail"])
        self.assertStatus(self.save(a, "basic", dict(basic, current_title_date=f"{this_year() - 5}-12-31")), 200)
        self.assertStatus(self.save(a, "papers", dict(data["papers"], count=2)), 200)
        self.assertStatus(self.save(a, "assessment", dict(data["assessment"], year2="不合格")), 200)
        s, c = self.status_of(a)
        self.assertEqual((s["years"], s["papers"], s["assessment"]), ("met", "met", "unmet"))
        self.assertStatus(self.save(a, "education", dict(data["education"], degree="大学专科")), 200)
        s, _ = self.status_of(a)
        self.assertEqual((s["degree"], s["years"]), ("unmet", "unmet"))
        # another applicant reads nothing of it
        self.assertError(self.new_applicant().get(f"{API}/applications/{a.app_id}/conditions"), 404, "not_found")


class TestNoticesAcrossNodes(NoticeFlow, ReplicationCase):
    def test_a_notice_of_the_region_is_listed_at_a_prefecture_and_withdrawn_there_too(self):
        self.start("notices-fed")
        import json
        import os
        with open(os.path.join(self.fed.dir, "demo-accounts.json"), encoding="utf-8") as f:
            acc = next(x for x in json.load(f) if x["node"] == REGION and x["role"] == "node_admin")
        admin = self.client_at(REGION)
        self.assertStatus(admin.login(acc["login"], acc["password"]), 200)
        n = self.draft(admin, committee=GC_G)
        self.assertStatus(attach(admin, n["id"], PDF, "application/pdf", "附件一.pdf"), 201)
        self.assertStatus(admin.post(f"{API}/notices/{n['id']}/publish"), 200)
        there = self.client_at(B)
        self.assertTrue(until(lambda: n["id"] in self.listed(there), 20), "not listed at the prefecture")
        one = there.get(f"{API}/notices/{n['id']}").json["notice"]
        self.assertEqual((one["node"], one["committee"], one["body"]), (REGION, GC_G, n["body"]))
        url = one["attachments"][0]["url"]
        region = self.fed.at(REGION)
        self.assertTrue(url.startswith(f"http://127.0.0.1:{region.port}/"), url)   # the bytes are at the region
        r = there.get(f"{API}/notices/{n['id']}/attachments/1")
        self.assertEqual(r.status, 302)
        self.assertEqual(r.headers["Location"], url)
        got = Client(region).get(urllib.parse.urlparse(url).path)
        self.assertStatus(got, 200)
        self.assertEqual(got.body, PDF)
        self.assertStatus(admin.delete(f"{API}/notices/{n['id']}"), 200)
        self.assertTrue(until(lambda: n["id"] not in self.listed(there), 20), "still listed at the prefecture")
        self.assertError(there.get(f"{API}/notices/{n['id']}"), 404, "not_found")
