"""The authorisation matrix: every route of node/routes.c called by every kind of caller,
and for the routes of one application with the application in each interesting state.

The expectations are the table MATRIX below, written out by hand: what the API means, not
what routes.c happens to say. routes.c is read for one thing only, to check that the table
has a row for each of its routes (a new route without expectations fails
test_every_route_has_expectations).

Callers (columns): anonymous; the application's applicant (owner); another applicant; the
admin of the owner's unit U; another unit's admin (U2); the dept admin of U's recommending
unit D; another dept's admin (D2); the admin of the committee C the application goes to;
another committee's admin (C2); the node admin; the auditor.

States (rows of application routes): draft (never submitted), unit (unit_review at U),
dept (dept_review at D), cmte (committee_review at C), returned (returned by C, so that
U, D and C have all read it and none of them may act on it). One applicant may hold only
one application a year, so each state's application has an applicant of its own: the
"owner" column is that application's applicant (for the other routes, the draft's).

Every request is one that would succeed for the rightful caller (valid bodies, existing
ids), so that a refusal is about who asks. In each row the refused callers go first and
the rightful one last; a success that moves or removes the application (submit, withdraw,
review, delete) gets a fresh application in that state. A refused write must leave the
application exactly as it was. Each caller logs in once."""
import json
import os
import random
import re
import urllib.parse

from test_applications import API, DEPT, GC_G, PDF, PNG, AppFlow, this_year
from test_payments import sign_notice
from test_recovery import NEW_PASSWORD
from zc_test import ROOT, Client, ZcCase, fresh_source, has_cjk, id_number, mobile, person_name, unit_names

OTHER_DEPT = "650000-D02"          # a recommending unit U does not use
OTHER_COMMITTEE = "650000-JJ-G"    # economics, levels 4-5: not C's business
D2_PASSWORD = "Dept2!Passw0rd#26"

ACTORS = ["anon", "owner", "other", "unit", "unit2", "dept", "dept2", "cmte", "cmte2", "admin", "audit"]
STATES = ["draft", "unit", "dept", "cmte", "returned"]

# What each cell says: the status, and for errors the code.
LEGEND = {
    "200": (200, None), "201": (201, None), "202": (202, None),
    "401": (401, "login_required"),
    "403": (403, "forbidden"),
    "403u": (403, "unit_admin_cannot_apply"),
    "403n": (403, "not_current_reviewer"),
    "404": (404, "not_found"),
    "409e": (409, "not_editable"),
    "409a": (409, "invalid_action"),
    "409w": (409, "not_withdrawable"),
    "409d": (409, "not_deletable"),
    "409u": (409, "node_unavailable"),  # a transfer needs a second node (test_transfer.py)
}

# A route may have several rows (#variant: another body or target). #foreign names, under the
# row's application, an attachment of another applicant's draft (the victim): nobody may
# read or delete one application's attachment through another application.
MATRIX = """
# route                                               state    anon  owner other unit  unit2 dept  dept2 cmte  cmte2 admin audit
GET    /health                                        -        200   200   200   200   200   200   200   200   200   200   200
GET    /federation                                    -        200   200   200   200   200   200   200   200   200   200   200
GET    /fed/status                                    -        401   403   403   403   403   403   403   403   403   200   200
GET    /fed/entries                                   -        401   403   403   403   403   403   403   403   403   200   200
GET    /catalog                                       -        200   200   200   200   200   200   200   200   200   200   200
GET    /depts                                         -        200   200   200   200   200   200   200   200   200   200   200
POST   /accounts                                      -        201   201   201   201   201   201   201   201   201   201   201
GET    /accounts                                      -        401   403   403   403   403   403   403   403   403   200   403
GET    /accounts/{id}/idcard                          -        401   403   403   403   403   403   403   403   403   200   403
POST   /session                                       -        200   200   200   200   200   200   200   200   200   200   200
DELETE /session                                       -        401   200   200   200   200   200   200   200   200   200   200
POST   /qr-login                                      -        201   201   201   201   201   201   201   201   201   201   201
GET    /qr-login/{code}/qr.png                        -        200   200   200   200   200   200   200   200   200   200   200
GET    /qr-login/{code}                               -        401   200   200   200   200   200   200   200   200   200   200
POST   /qr-login/{code}/decision                      -        401   200   200   200   200   200   200   200   200   200   200
POST   /qr-login/{code}/session                       -        200   200   200   200   200   200   200   200   200   200   200
GET    /me                                            -        401   200   200   200   200   200   200   200   200   200   200
PUT    /me                                            -        401   200   200   200   200   200   200   200   200   200   200
POST   /me/password                                   -        401   200   200   200   200   200   200   200   200   200   200
POST   /me/idcard                                     -        401   201   201   403   403   403   403   403   403   403   403
POST   /me/region                                     -        401   409u  409u  403   403   403   403   403   403   403   403
GET    /transfers/{id}                                -        401   404   404   404   404   404   404   404   404   404   404
GET    /me/idcard                                     -        401   200   200   403   403   403   403   403   403   403   403
POST   /units                                         -        201   201   201   201   201   201   201   201   201   201   201
GET    /units                                         -        401   200   200   200   200   200   200   200   200   200   200
GET    /units/me                                      -        401   403   403   200   200   403   403   403   403   403   403
PUT    /units/me                                      -        401   403   403   200   200   403   403   403   403   403   403
POST   /units/me/rename                               -        401   403   403   200   200   403   403   403   403   403   403
PUT    /units/me/recommenders                         -        401   403   403   200   200   403   403   403   403   403   403
GET    /committees                                    -        200   200   200   200   200   200   200   200   200   200   200
GET    /committees/{id}                               -        200   200   200   200   200   200   200   200   200   200   200
PUT    /committees/{id}                               -        401   403   403   403   403   403   403   200   404   200   403
GET    /committees/{id}/payments                      -        401   403   403   403   403   403   403   200   404   200   403
POST   /payments/notify                               -        200   200   200   200   200   200   200   200   200   200   200
POST   /payments/{order}/refund                       -        401   403   403   403   403   403   403   200   404   200   403
POST   /committees/{id}/publicity                     -        401   403   403   403   403   403   403   201   404   403   403
GET    /publicity                                     -        200   200   200   200   200   200   200   200   200   200   200
GET    /publicity/{id}                                -        404   404   404   404   404   404   404   404   404   404   404
POST   /approvals                                     -        401   403   403   403   403   403   403   403   403   201   403
GET    /approvals                                     -        200   200   200   200   200   200   200   200   200   200   200
GET    /approvals/{id}                                -        404   404   404   404   404   404   404   404   404   404   404
POST   /approvals/{id}/certificates                   -        401   403   403   403   403   403   403   403   403   200   403
GET    /certificates/{number}                         -        404   404   404   404   404   404   404   404   404   404   404
GET    /certificates/{number}/qr.png                  -        404   404   404   404   404   404   404   404   404   404   404
GET    /conditions                                    -        200   200   200   200   200   200   200   200   200   200   200
POST   /notices                                       -        401   403   403   403   403   403   403   201   201   201   403
GET    /notices                                       -        200   200   200   200   200   200   200   200   200   200   200
GET    /notices/{id}                                  -        404   404   404   404   404   404   404   200   404   200   404
PUT    /notices/{id}                                  -        401   403   403   403   403   403   403   200   404   200   403
DELETE /notices/{id}                                  -        401   403   403   403   403   403   403   200   404   200   403
POST   /notices/{id}/attachments                      -        401   403   403   403   403   403   403   201   404   201   403
GET    /notices/{id}/attachments/{n}                  -        404   404   404   404   404   404   404   200   404   200   404
DELETE /notices/{id}/attachments/{n}                  -        401   403   403   403   403   403   403   200   404   200   403
POST   /notices/{id}/publish                          -        401   403   403   403   403   403   403   200   404   200   403
PUT    /me/language                                   -        401   200   200   200   200   200   200   200   200   200   200
PUT    /me/notifications                              -        401   200   200   200   200   200   200   200   200   200   200
POST   /recovery/codes                                -        202   202   202   202   202   202   202   202   202   202   202
POST   /recovery/reset                                -        200   200   200   200   200   200   200   200   200   200   200
POST   /appeals                                       -        201   201   201   201   201   201   201   201   201   201   201
GET    /appeals                                       -        401   403   403   403   403   403   403   403   403   200   403
GET    /appeals/{id}/scan                             -        401   403   403   403   403   403   403   403   403   200   403
POST   /appeals/{id}/decision                         -        401   403   403   403   403   403   403   403   403   200   403
POST   /recovery/appeal-reset                         -        200   200   200   200   200   200   200   200   200   200   200
GET    /messages                                      -        401   403   403   403   403   403   403   403   403   200   403
GET    /sandbox/orders/{order}                        -        200   200   200   200   200   200   200   200   200   200   200
POST   /sandbox/orders/{order}/pay                    -        200   200   200   200   200   200   200   200   200   200   200
GET    /jurisdiction                                  -        401   200   200   200   200   200   200   200   200   200   200
POST   /applications                                  -        401   201   201   403u  403u  403   403   403   403   403   403
GET    /applications                                  -        401   200   200   200   200   200   200   200   200   200   200

GET    /applications/{id}                             draft    401   200   404   404   404   404   404   404   404   404   404
GET    /applications/{id}                             unit     401   200   404   200   404   404   404   404   404   200   200
GET    /applications/{id}                             dept     401   200   404   200   404   200   404   404   404   200   200
GET    /applications/{id}                             cmte     401   200   404   200   404   200   404   200   404   200   200
GET    /applications/{id}                             returned 401   200   404   200   404   200   404   200   404   200   200

GET    /applications/{id}/form.pdf                    draft    401   200   404   404   404   404   404   404   404   404   404
GET    /applications/{id}/form.pdf                    unit     401   200   404   200   404   404   404   404   404   200   200
GET    /applications/{id}/form.pdf                    dept     401   200   404   200   404   200   404   404   404   200   200
GET    /applications/{id}/form.pdf                    cmte     401   200   404   200   404   200   404   200   404   200   200
GET    /applications/{id}/form.pdf                    returned 401   200   404   200   404   200   404   200   404   200   200
GET    /applications/{id}/conditions                  draft    401   200   404   404   404   404   404   404   404   404   404
GET    /applications/{id}/conditions                  unit     401   200   404   200   404   404   404   404   404   200   200
GET    /applications/{id}/conditions                  dept     401   200   404   200   404   200   404   404   404   200   200
GET    /applications/{id}/conditions                  cmte     401   200   404   200   404   200   404   200   404   200   200
GET    /applications/{id}/conditions                  returned 401   200   404   200   404   200   404   200   404   200   200
GET    /verify/{code}                                 -        404   404   404   404   404   404   404   404   404   404   404

GET    /applications/{id}/attachments/{att}           draft    401   200   404   404   404   404   404   404   404   404   404
GET    /applications/{id}/attachments/{att}           unit     401   200   404   200   404   404   404   404   404   200   200
GET    /applications/{id}/attachments/{att}           dept     401   200   404   200   404   200   404   404   404   200   200
GET    /applications/{id}/attachments/{att}           cmte     401   200   404   200   404   200   404   200   404   200   200
GET    /applications/{id}/attachments/{att}           returned 401   200   404   200   404   200   404   200   404   200   200

GET    /applications/{id}/attachments/{att}#foreign   draft    401   404   404   404   404   404   404   404   404   404   404
GET    /applications/{id}/attachments/{att}#foreign   unit     401   404   404   404   404   404   404   404   404   404   404
GET    /applications/{id}/attachments/{att}#foreign   dept     401   404   404   404   404   404   404   404   404   404   404
GET    /applications/{id}/attachments/{att}#foreign   cmte     401   404   404   404   404   404   404   404   404   404   404
GET    /applications/{id}/attachments/{att}#foreign   returned 401   404   404   404   404   404   404   404   404   404   404

PUT    /applications/{id}/sections/{name}             draft    401   200   404   403u  403u  403   403   403   403   403   403
PUT    /applications/{id}/sections/{name}             unit     401   409e  404   403u  403u  403   403   403   403   403   403
PUT    /applications/{id}/sections/{name}             dept     401   409e  404   403u  403u  403   403   403   403   403   403
PUT    /applications/{id}/sections/{name}             cmte     401   409e  404   403u  403u  403   403   403   403   403   403
PUT    /applications/{id}/sections/{name}             returned 401   200   404   403u  403u  403   403   403   403   403   403

POST   /applications/{id}/attachments                 draft    401   201   404   403u  403u  403   403   403   403   403   403
POST   /applications/{id}/attachments                 unit     401   409e  404   403u  403u  403   403   403   403   403   403
POST   /applications/{id}/attachments                 dept     401   409e  404   403u  403u  403   403   403   403   403   403
POST   /applications/{id}/attachments                 cmte     401   409e  404   403u  403u  403   403   403   403   403   403
POST   /applications/{id}/attachments                 returned 401   201   404   403u  403u  403   403   403   403   403   403

DELETE /applications/{id}/attachments/{att}           draft    401   200   404   403u  403u  403   403   403   403   403   403
DELETE /applications/{id}/attachments/{att}           unit     401   409e  404   403u  403u  403   403   403   403   403   403
DELETE /applications/{id}/attachments/{att}           dept     401   409e  404   403u  403u  403   403   403   403   403   403
DELETE /applications/{id}/attachments/{att}           cmte     401   409e  404   403u  403u  403   403   403   403   403   403
DELETE /applications/{id}/attachments/{att}           returned 401   200   404   403u  403u  403   403   403   403   403   403

DELETE /applications/{id}/attachments/{att}#foreign   draft    401   404   404   403u  403u  403   403   403   403   403   403
DELETE /applications/{id}/attachments/{att}#foreign   unit     401   409e  404   403u  403u  403   403   403   403   403   403
DELETE /applications/{id}/attachments/{att}#foreign   dept     401   409e  404   403u  403u  403   403   403   403   403   403
DELETE /applications/{id}/attachments/{att}#foreign   cmte     401   409e  404   403u  403u  403   403   403   403   403   403
DELETE /applications/{id}/attachments/{att}#foreign   returned 401   404   404   403u  403u  403   403   403   403   403   403

POST   /applications/{id}/qualification               draft    401   200   404   403u  403u  403   403   403   403   403   403
POST   /applications/{id}/qualification               unit     401   409e  404   403u  403u  403   403   403   403   403   403
POST   /applications/{id}/qualification               dept     401   409e  404   403u  403u  403   403   403   403   403   403
POST   /applications/{id}/qualification               cmte     401   409e  404   403u  403u  403   403   403   403   403   403
POST   /applications/{id}/qualification               returned 401   200   404   403u  403u  403   403   403   403   403   403

DELETE /applications/{id}                             draft    401   200   404   403u  403u  403   403   403   403   403   403
DELETE /applications/{id}                             unit     401   409e  404   403u  403u  403   403   403   403   403   403
DELETE /applications/{id}                             dept     401   409e  404   403u  403u  403   403   403   403   403   403
DELETE /applications/{id}                             cmte     401   409e  404   403u  403u  403   403   403   403   403   403
DELETE /applications/{id}                             returned 401   409d  404   403u  403u  403   403   403   403   403   403

POST   /applications/{id}/submit                      draft    401   200   404   403u  403u  403   403   403   403   403   403
POST   /applications/{id}/submit                      unit     401   409a  404   403u  403u  403   403   403   403   403   403
POST   /applications/{id}/submit                      dept     401   409a  404   403u  403u  403   403   403   403   403   403
POST   /applications/{id}/submit                      cmte     401   409a  404   403u  403u  403   403   403   403   403   403
POST   /applications/{id}/submit                      returned 401   200   404   403u  403u  403   403   403   403   403   403

POST   /applications/{id}/withdraw                    draft    401   409a  404   403u  403u  403   403   403   403   403   403
POST   /applications/{id}/withdraw                    unit     401   200   404   403u  403u  403   403   403   403   403   403
POST   /applications/{id}/withdraw                    dept     401   409w  404   403u  403u  403   403   403   403   403   403
POST   /applications/{id}/withdraw                    cmte     401   409w  404   403u  403u  403   403   403   403   403   403
POST   /applications/{id}/withdraw                    returned 401   409a  404   403u  403u  403   403   403   403   403   403

POST   /applications/{id}/review#forward              draft    401   403   403   404   404   404   404   404   404   403   403
POST   /applications/{id}/review#forward              unit     401   403   403   200   404   404   404   404   404   403   403
POST   /applications/{id}/review#forward              dept     401   403   403   403n  404   200   404   404   404   403   403
POST   /applications/{id}/review#forward              cmte     401   403   403   403n  404   403n  404   200   404   403   403
POST   /applications/{id}/review#forward              returned 401   403   403   403n  404   403n  404   403n  404   403   403

POST   /applications/{id}/review#return               draft    401   403   403   404   404   404   404   404   404   403   403
POST   /applications/{id}/review#return               unit     401   403   403   200   404   404   404   404   404   403   403
POST   /applications/{id}/review#return               dept     401   403   403   403n  404   200   404   404   404   403   403
POST   /applications/{id}/review#return               cmte     401   403   403   403n  404   403n  404   200   404   403   403
POST   /applications/{id}/review#return               returned 401   403   403   403n  404   403n  404   403n  404   403   403

PUT    /applications/{id}/opinions/{section}          draft    401   403   403   404   404   404   404   404   404   403   403
PUT    /applications/{id}/opinions/{section}          unit     401   403   403   200   404   404   404   404   404   403   403
PUT    /applications/{id}/opinions/{section}          dept     401   403   403   403n  404   200   404   404   404   403   403
PUT    /applications/{id}/opinions/{section}          cmte     401   403   403   403n  404   403n  404   200   404   403   403
PUT    /applications/{id}/opinions/{section}          returned 401   403   403   403n  404   403n  404   403n  404   403   403
"""

# Cells whose success moves or removes the application: that row gets a fresh one.
FRESH = {
    "DELETE /applications/{id}": {"draft"},
    "POST /applications/{id}/submit": {"draft", "returned"},
    "POST /applications/{id}/withdraw": {"unit"},
    "POST /applications/{id}/review#forward": {"unit", "dept", "cmte"},
    "POST /applications/{id}/review#return": {"unit", "dept", "cmte"},
}

# Which of the five applications each caller finds in its lists (GET /applications, the
# default view, and ?view=queue); the owners each find their own.
LISTED = {
    "other": ((), ()),
    "unit": (("unit", "dept", "cmte", "returned"), ("unit",)),
    "unit2": ((), ()),
    "dept": (("dept", "cmte", "returned"), ("dept",)),
    "dept2": ((), ()),
    "cmte": (("cmte", "returned"), ("cmte",)),
    "cmte2": ((), ()),
    "admin": (("unit", "dept", "cmte", "returned"), None),
    "audit": (("unit", "dept", "cmte", "returned"), None),
}


def parse_matrix(text=MATRIX):
    """[(route, state, {actor: token})] in table order; raises on a malformed row."""
    rows = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split()
        if len(parts) != 3 + len(ACTORS):
            raise AssertionError(f"MATRIX row has {len(parts)} columns, not {3 + len(ACTORS)}: {line!r}")
        method, pattern, state, cells = parts[0], parts[1], parts[2], parts[3:]
        bad = [c for c in cells if c not in LEGEND]
        if bad:
            raise AssertionError(f"MATRIX row has unknown cells {bad}: {line!r}")
        rows.append((f"{method} {pattern}", state, dict(zip(ACTORS, cells))))
    return rows


def route_of(label):
    """'POST /applications/{id}/review#forward' -> 'POST /applications/{id}/review'."""
    return label.split("#", 1)[0]


def routes_in_source():
    """METHOD pattern of every entry of node/routes.c (for coverage only)."""
    with open(os.path.join(ROOT, "node", "routes.c"), encoding="utf-8") as f:
        text = f.read()
    return {f"{m} {p}" for m, p in re.findall(r'\{\s*HTTP_([A-Z]+)\s*,\s*"([^"]+)"', text)}


def is_application_route(label):
    return route_of(label).split()[1].startswith("/applications/{id}")


# ---- the request of each row ----------------------------------------------------------------
# Each builder gets the cell (x: x.t the test, x.who the caller's name, x.c its client,
# x.app the application of the row) and returns (method, path under /api/v1, options).

def _app(x, tail=""):
    return f"/applications/{x.app.app_id}{tail}"


def _attach_query(section, name):
    return "?" + urllib.parse.urlencode({"section": section, "name": name})


def _login_body(x):
    """The caller's own credentials (anonymous: the other applicant's)."""
    c = x.t.other if x.who == "anon" else x.c
    return {"login": c.login_name, "password": c.pw}


def _new_password(x):
    if x.who == "anon":
        return {"old": "Old!Passw0rd#1", "new": "New!Passw0rd#2"}
    return {"old": x.c.pw, "new": "Nw!" + x.c.pw}


REQUESTS = {
    "GET /health": lambda x: ("GET", "/health", {}),
    "GET /federation": lambda x: ("GET", "/federation", {}),
    "GET /fed/status": lambda x: ("GET", "/fed/status", {}),
    "GET /fed/entries": lambda x: ("GET", "/fed/entries?limit=5", {}),
    "GET /catalog": lambda x: ("GET", "/catalog", {}),
    "GET /depts": lambda x: ("GET", "/depts", {}),
    "POST /accounts": lambda x: ("POST", "/accounts", {"body": x.t.applicant_body()}),
    "GET /accounts": lambda x: ("GET", "/accounts?q=" + urllib.parse.quote(x.t.owner0.body["name"]), {}),
    "GET /accounts/{id}/idcard": lambda x: ("GET", f"/accounts/{x.t.owner0.account['id']}/idcard?side=front", {}),
    "POST /session": lambda x: ("POST", "/session", {"body": _login_body(x)}),
    "DELETE /session": lambda x: ("DELETE", "/session", {"session": "own"}),
    "POST /qr-login": lambda x: ("POST", "/qr-login", {}),
    "GET /qr-login/{code}/qr.png": lambda x: ("GET", f"/qr-login/{x.t.fresh_qr()[0]}/qr.png", {}),
    "GET /qr-login/{code}": lambda x: ("GET", f"/qr-login/{x.t.fresh_qr()[0]}", {}),
    "POST /qr-login/{code}/decision": lambda x: ("POST", f"/qr-login/{x.t.fresh_qr()[0]}/decision", {"body": {"approve": True}}),
    "POST /qr-login/{code}/session": lambda x: (lambda code, secret: ("POST", f"/qr-login/{code}/session", {
        "body": {}, "cookies": {"zc_qr": secret}}))(*x.t.fresh_qr(approved=True)),
    "GET /me": lambda x: ("GET", "/me", {}),
    "PUT /me": lambda x: ("PUT", "/me", {"body": {"email": "authz.matrix@example.com"}}),
    "POST /me/password": lambda x: ("POST", "/me/password", {"body": _new_password(x)}),
    "POST /me/idcard": lambda x: ("POST", "/me/idcard?side=front", {"raw": PNG, "ctype": "image/png"}),
    "POST /me/region": lambda x: ("POST", "/me/region", {"body": {"node": "650100"}}),
    "GET /transfers/{id}": lambda x: ("GET", "/transfers/t0000000000000000000000000", {}),
    "GET /me/idcard": lambda x: ("GET", "/me/idcard?side=front", {}),
    "POST /units": lambda x: ("POST", "/units", {"body": x.t.unit_body()}),
    "GET /units": lambda x: ("GET", "/units?q=" + x.t.U.cc, {}),
    "GET /units/me": lambda x: ("GET", "/units/me", {}),
    "PUT /units/me": lambda x: ("PUT", "/units/me", {"body": x.t.unit_info()}),
    "POST /units/me/rename": lambda x: ("POST", "/units/me/rename",
                                        {"body": dict(zip(("name", "short_name"), unit_names()))}),
    "PUT /units/me/recommenders": lambda x: ("PUT", "/units/me/recommenders", {"body": {"depts": [DEPT]}}),
    "GET /committees": lambda x: ("GET", "/committees", {}),
    "GET /committees/{id}": lambda x: ("GET", f"/committees/{GC_G}", {}),
    # fees: each successful notification, payment and refund needs an order of its own
    "GET /committees/{id}/payments": lambda x: ("GET", f"/committees/{GC_G}/payments", {}),
    "POST /payments/notify": lambda x: ("POST", "/payments/notify", {"body": x.t.signed_notice(x.t.fresh_order())}),
    "POST /payments/{order}/refund": lambda x: ("POST", f"/payments/{x.t.fresh_order(paid=True)}/refund",
                                                {"body": {"reason": "重复缴费"}}),
    # after the meeting review: each successful list needs applications of its own
    "POST /committees/{id}/publicity": lambda x: ("POST", f"/committees/{GC_G}/publicity", {
        "body": x.t.publicity_body([x.t.fresh_passed()])}),
    "GET /publicity": lambda x: ("GET", f"/publicity?committee={GC_G}", {}),
    "GET /publicity/{id}": lambda x: ("GET", "/publicity/g" + "0" * 24, {}),
    "POST /approvals": lambda x: ("POST", "/approvals", {"body": x.t.approval_body([x.t.fresh_publicized()])}),
    "GET /approvals": lambda x: ("GET", "/approvals", {}),
    "GET /approvals/{id}": lambda x: ("GET", "/approvals/w" + "0" * 24, {}),
    "POST /approvals/{id}/certificates": lambda x: ("POST", f"/approvals/{x.t.fresh_approval()}/certificates",
                                                     {"body": {}}),
    "GET /certificates/{number}": lambda x: ("GET", "/certificates/650000-2026-999999", {}),
    "GET /certificates/{number}/qr.png": lambda x: ("GET", "/certificates/650000-2026-999999/qr.png", {}),
    "GET /sandbox/orders/{order}": lambda x: ("GET", f"/sandbox/orders/{x.t.fresh_order()}", {}),
    "POST /sandbox/orders/{order}/pay": lambda x: ("POST", f"/sandbox/orders/{x.t.fresh_order()}/pay", {"body": {}}),
    "PUT /committees/{id}": lambda x: ("PUT", f"/committees/{GC_G}", {"body": {"address": "乌鲁木齐市友好北路1号"}}),
    "GET /jurisdiction": lambda x: ("GET", "/jurisdiction?" + urllib.parse.urlencode(
        {"unit": x.t.U.cc, "qualification": "GC4", "specialty": "GC-JZ"}), {}),
    "POST /applications": lambda x: ("POST", "/applications", {"body": {
        "year": this_year() + 1, "qualification": "GC4", "specialty": "GC-JZ", "unit": x.t.U.cc}}),
    "GET /applications": lambda x: ("GET", "/applications", {}),

    "GET /applications/{id}": lambda x: ("GET", _app(x), {}),
    "GET /applications/{id}/form.pdf": lambda x: ("GET", _app(x, "/form.pdf"), {}),
    "GET /verify/{code}": lambda x: ("GET", "/verify/ABCD-EFGH-JKMN-PQRS", {}),
    "GET /applications/{id}/conditions": lambda x: ("GET", _app(x, "/conditions"), {}),
    "GET /conditions": lambda x: ("GET", "/conditions?qualification=GC4", {}),
    # recovery: each call with a login, code, appeal or link of its own
    "PUT /me/language": lambda x: ("PUT", "/me/language", {"body": {"lang": "zh-CN"}}),
    "PUT /me/notifications": lambda x: ("PUT", "/me/notifications", {"body": {"enabled": False}}),
    "POST /recovery/codes": lambda x: ("POST", "/recovery/codes", {"body": {"login": x.t.nobody_login(), "channel": "sms"}}),
    "POST /recovery/reset": lambda x: ("POST", "/recovery/reset", {"body": x.t.fresh_code_reset()}),
    "POST /appeals": lambda x: ("POST", "/appeals?" + urllib.parse.urlencode(x.t.appeal_query()),
                                {"raw": PNG, "ctype": "image/png"}),
    "GET /appeals": lambda x: ("GET", "/appeals", {}),
    "GET /appeals/{id}/scan": lambda x: ("GET", f"/appeals/{x.t.fresh_appeal()}/scan", {}),
    "POST /appeals/{id}/decision": lambda x: ("POST", f"/appeals/{x.t.fresh_appeal()}/decision",
                                              {"body": {"approve": False, "reason": "信息不符"}}),
    "POST /recovery/appeal-reset": lambda x: ("POST", "/recovery/appeal-reset", {"body": x.t.fresh_appeal_reset()}),
    "GET /messages": lambda x: ("GET", "/messages", {}),
    # notices: each call on a fresh draft of C's committee admin (with an attachment when it needs one)
    "POST /notices": lambda x: ("POST", "/notices", {"body": {"title": "评审工作通知", "body": "正文"}}),
    "GET /notices": lambda x: ("GET", "/notices", {}),
    "GET /notices/{id}": lambda x: ("GET", f"/notices/{x.t.fresh_notice()}", {}),
    "PUT /notices/{id}": lambda x: ("PUT", f"/notices/{x.t.fresh_notice()}", {"body": {"title": "评审工作通知（更正）"}}),
    "DELETE /notices/{id}": lambda x: ("DELETE", f"/notices/{x.t.fresh_notice()}", {}),
    "POST /notices/{id}/attachments": lambda x: ("POST", f"/notices/{x.t.fresh_notice()}/attachments?name=%E9%99%84%E4%BB%B6",
                                                 {"raw": PDF, "ctype": "application/pdf"}),
    "GET /notices/{id}/attachments/{n}": lambda x: ("GET", f"/notices/{x.t.fresh_notice(attached=True)}/attachments/1", {}),
    "DELETE /notices/{id}/attachments/{n}": lambda x: ("DELETE", f"/notices/{x.t.fresh_notice(attached=True)}/attachments/1", {}),
    "POST /notices/{id}/publish": lambda x: ("POST", f"/notices/{x.t.fresh_notice()}/publish", {}),
    "GET /applications/{id}/attachments/{att}": lambda x: ("GET", _app(x, f"/attachments/{x.app.att_id}"), {}),
    "GET /applications/{id}/attachments/{att}#foreign": lambda x: ("GET", _app(x, f"/attachments/{x.t.victim.att_id}"), {}),
    "PUT /applications/{id}/sections/{name}": lambda x: ("PUT", _app(x, "/sections/work"), {
        "body": {"data": {"experience": "2008年7月至今 新疆某建设公司 工程师（修改）"}}}),
    "POST /applications/{id}/attachments": lambda x: ("POST", _app(x, "/attachments" + _attach_query("awards", "获奖证书")),
                                                      {"raw": PNG, "ctype": "image/png"}),
    "DELETE /applications/{id}/attachments/{att}": lambda x: ("DELETE", _app(x, f"/attachments/{x.app.spare_id}"), {}),
    "DELETE /applications/{id}/attachments/{att}#foreign": lambda x: ("DELETE", _app(x, f"/attachments/{x.t.victim.att_id}"),
                                                                      {}),
    "POST /applications/{id}/qualification": lambda x: ("POST", _app(x, "/qualification"), {
        "body": {"qualification": "GC5", "specialty": "GC-JZ"}}),
    "DELETE /applications/{id}": lambda x: ("DELETE", _app(x), {}),
    "POST /applications/{id}/submit": lambda x: ("POST", _app(x, "/submit"), {"body": {}}),
    "POST /applications/{id}/withdraw": lambda x: ("POST", _app(x, "/withdraw"), {"body": {}}),
    "POST /applications/{id}/review#forward": lambda x: ("POST", _app(x, "/review"), {
        "body": {"action": "forward", "recommendation": "该同志业绩突出，同意推荐。"}}),
    "POST /applications/{id}/review#return": lambda x: ("POST", _app(x, "/review"), {
        "body": {"action": "return", "opinions": {"work": "请写明起止年月"}}}),
    "PUT /applications/{id}/opinions/{section}": lambda x: ("PUT", _app(x, "/opinions/work"), {
        "body": {"text": "工作经历属实"}}),
}


def credentials(c, login=None, password=None):
    """c, knowing what it logs in with (a registered caller: its username and password)."""
    c.login_name = login or c.username
    c.pw = password or c.password
    return c


def shown(r):
    """An answer in a few words: status and error code, or what kind of body came."""
    if r.code:
        return f"{r.status} {r.code}"
    if r.json is not None or not r.body:
        return f"{r.status}"
    return f"{r.status} ({len(r.body)} bytes of {r.header('Content-Type')})"


class Cell:
    """What a request builder needs: the test, the caller (name and client), the application."""

    def __init__(self, t, who, c, app):
        self.t, self.who, self.c, self.app = t, who, c, app


class MatrixCallers(AppFlow):
    """The callers, the applications in each state and the request of every cell, made once
    per class: the matrix below, and test_write_path.py's walk of the same requests."""

    # -- the callers and the applications, made once --
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        t = cls(next(name for name in dir(cls) if name.startswith("test_")))
        t.build()

    def build(self):
        cls = type(self)
        cls.U = credentials(self.new_unit(depts=(DEPT,)))
        cls.U2 = credentials(self.new_unit(depts=(OTHER_DEPT,)))
        cls.apps = {state: self.app_in(state) for state in STATES}
        cls.owner0 = cls.apps["draft"]
        cls.victim = self.app_in("draft")
        cls.other = credentials(self.new_applicant())
        for who in (cls.owner0, cls.other):
            self.assertStatus(who.post(API + "/me/idcard?side=front", raw=PNG, ctype="image/png"), 201)
        cls.actors = {
            "anon": Client(self.node), "owner": cls.owner0, "other": cls.other, "unit": cls.U, "unit2": cls.U2,
            "dept": self.demo_actor("dept_admin"), "dept2": self.other_dept_admin(),
            "cmte": self.demo_actor("committee_admin", GC_G), "cmte2": self.demo_actor("committee_admin", OTHER_COMMITTEE),
            "admin": self.demo_actor("node_admin"), "audit": self.demo_actor("auditor"),
        }

    def demo_actor(self, role, committee=None):
        c = self.demo(role, committee)
        return credentials(c, c.demo["login"], c.demo["password"])

    def other_dept_admin(self):
        """D2's admin: the demo data has none, zc-admin adds one to the running node."""
        r = self.node.admin("account", "--role", "dept_admin", "--name", "周建国", "--password", D2_PASSWORD,
                            "--dept", OTHER_DEPT)
        self.assertEqual(r.returncode, 0, r.stderr)
        username = json.loads(r.stdout.strip().splitlines()[-1])["username"]
        c = self.client()
        self.assertStatus(c.login(username, D2_PASSWORD), 200)
        return credentials(c, username, D2_PASSWORD)

    def app_in(self, state):
        """A new applicant's application at U in state, with its education attachment
        (a.att_id) and a spare one to delete (a.spare_id)."""
        a = credentials(self.new_app(self.U))
        self.fill(a)
        r = self.attach(a, "papers", PDF, "application/pdf", "备用附件")
        self.assertStatus(r, 201)
        a.spare_id = r.json["id"]
        edu = next(s for s in self.get_app(a, a.app_id)["sections"] if s["name"] == "education")
        a.att_id = edu["attachments"][0]["id"]
        steps = {"draft": [], "unit": ["submit"], "dept": ["submit", "unit"], "cmte": ["submit", "unit", "dept"],
                 "returned": ["submit", "unit", "dept", "return"], "formal": ["submit", "unit", "dept", "pass"]}[state]
        for step in steps:
            if step == "submit":
                r = self.submit(a)
            elif step == "unit":
                r = self.review(self.U, a.app_id, "forward", recommendation="同意推荐")
            elif step == "dept":
                r = self.review(self.dept_admin(), a.app_id, "forward")
            elif step == "pass":
                r = self.review(self.committee_admin(GC_G), a.app_id, "forward")
            else:
                r = self.review(self.committee_admin(GC_G), a.app_id, "return", opinions={"papers": "请补充检索证明"})
            self.assertStatus(r, 200)
        want = {"draft": "draft", "unit": "unit_review", "dept": "dept_review", "cmte": "committee_review",
                "returned": "returned", "formal": "formal_passed"}[state]
        self.assertEqual(self.get_app(a, a.app_id)["status"], want)
        return a

    def fresh_order(self, paid=False):
        """The payment order of a new application past the formal review at GC_G (a fee of
        300 yuan), paid in the sandbox gateway when asked."""
        a = self.app_in("formal")
        order = self.get_app(a, a.app_id)["payment"]["order_id"]
        if paid:
            self.assertStatus(Client(self.node).post(f"{API}/sandbox/orders/{order}/pay", {}), 200)
        return order

    def fresh_passed(self):
        """A new application through the meeting review (评审通过) at GC_G."""
        a = self.app_in("formal")
        for action in ("meeting", "pass"):
            self.assertStatus(self.review(self.committee_admin(GC_G), a.app_id, action), 200)
        return a

    def publicity_body(self, apps, starts="2026-01-05", ends="2026-01-11"):
        return {"title": "评审结果公示", "starts": starts, "ends": ends, "applications": [a.app_id for a in apps]}

    def fresh_publicized(self):
        """A passed application on a publicity list whose period is over."""
        a = self.fresh_passed()
        self.assertStatus(self.committee_admin(GC_G).post(f"{API}/committees/{GC_G}/publicity",
                                                          self.publicity_body([a])), 201)
        return a

    def approval_body(self, apps):
        type(self).n_approvals = getattr(type(self), "n_approvals", 0) + 1
        return {"doc_number": f"新人社职字〔2026〕{type(self).n_approvals}号", "doc_date": "2026-02-01",
                "title": "关于具备高级工程师资格的通知", "applications": [a.app_id for a in apps]}

    def fresh_approval(self):
        """The id of a new approval document with one approved application on it."""
        r = self.node_admin().post(f"{API}/approvals", self.approval_body([self.fresh_publicized()]))
        self.assertStatus(r, 201)
        return r.json["approval"]["id"]

    def fresh_notice(self, attached=False):
        """A new draft notice of C's committee admin, with one PDF attachment when asked."""
        cmte = self.committee_admin(GC_G)
        r = cmte.post(f"{API}/notices", {"title": "评审工作通知", "body": "正文"})
        self.assertStatus(r, 201)
        nid = r.json["notice"]["id"]
        if attached:
            self.assertStatus(cmte.post(f"{API}/notices/{nid}/attachments", raw=PDF, ctype="application/pdf"), 201)
        return nid

    # -- recovery: codes and appeals, each from a loopback address of its own --
    def nobody_login(self):
        return "1" + "".join(random.choice("0123456789") for _ in range(9))

    def appeal_query(self, a=None):
        return {"kind": "person", "name": a.body["name"] if a else person_name(),
                "id_number": a.body["id_number"] if a else id_number(), "contact": mobile()}

    def fresh_code_reset(self):
        """A new applicant's recovery code by text message, as the body that uses it."""
        a = self.new_applicant()
        c = Client(self.node, source=fresh_source())
        self.assertStatus(c.post(f"{API}/recovery/codes", {"login": a.username, "channel": "sms"}), 202)
        m = next(m for m in self.node_admin().get(f"{API}/messages").json["items"] if m["to"] == a.body["phone"])
        return {"login": a.username, "code": re.search(r"验证码：(\d{6})", m["body"]).group(1), "password": NEW_PASSWORD}

    def fresh_qr(self, approved=False):
        """A new QR login code asked for by a browser of its own: (code, that browser's secret),
        approved by the node admin when asked."""
        c = Client(self.node, source=fresh_source())
        r = c.post(f"{API}/qr-login", {})
        self.assertStatus(r, 201)
        if approved:
            self.assertStatus(self.node_admin().post(f"{API}/qr-login/{r.json['code']}/decision", {"approve": True}), 200)
        return r.json["code"], c.cookies["zc_qr"]

    def fresh_appeal(self, a=None):
        q = self.appeal_query(a)
        c = Client(self.node, source=fresh_source())
        r = c.post(f"{API}/appeals?" + urllib.parse.urlencode(q), raw=PNG, ctype="image/png")
        self.assertStatus(r, 201)
        return r.json["appeal"]["id"]

    def fresh_appeal_reset(self):
        """A new applicant's approved appeal, as the body that uses its one-time link."""
        a = self.new_applicant()
        pid = self.fresh_appeal(a)
        r = self.node_admin().post(f"{API}/appeals/{pid}/decision", {"approve": True})
        self.assertStatus(r, 200)
        m = next(m for m in self.node_admin().get(f"{API}/messages").json["items"] if m["to"] == r.json["appeal"]["contact"])
        token = urllib.parse.parse_qs(m["body"].split("?", 1)[1].split()[0])["token"][0]
        return {"appeal": pid, "token": token, "password": NEW_PASSWORD}

    def signed_notice(self, order):
        """The gateway's "paid" notification of order, signed with the key it shares with the node."""
        with open(os.path.join(self.node.data, "gateway.key")) as f:
            key = bytes.fromhex(f.read().strip())
        n = {"event": "paid", "order": order, "amount": 30000, "txn": "GW" + order, "ts": "2026-12-01T08:00:00Z"}
        return dict(n, sig=sign_notice(key, n))

    # -- one request --
    def send(self, label, who, c, app):
        return self.send_built(label, who, c, REQUESTS[label](Cell(self, who, c, app)))

    def send_built(self, label, who, c, request):
        """Send request (method, path, options) of row label as caller who (client c)."""
        method, path, opt = request
        if opt.get("session") == "own" and who != "anon":
            caller = self.client()           # logging out: a session of its own
            r = caller.login(c.login_name, c.pw)
            if r.status != 200:
                return r
        else:
            caller = Client(self.node)      # the caller's session, in a jar of its own
            caller.cookies, caller.csrf = dict(c.cookies), c.csrf
        caller.cookies.update(opt.get("cookies", {}))  # e.g. the browser's QR login secret
        r = caller.request(method, API + path, body=opt.get("body"), raw=opt.get("raw"), ctype=opt.get("ctype"))
        if label == "POST /me/password" and r.status == 200:
            c.pw = opt["body"]["new"]
        return r


class TestAuthzMatrix(MatrixCallers, ZcCase):
    NODE_LABEL = "authz_matrix"

    def judge(self, where, r, token, label, app):
        """What is wrong with answer r where token was expected (None when nothing)."""
        status, code = LEGEND[token]
        if r.status != status:
            return f"{where}: expected {token} {code or ''}, got {shown(r)}"
        if status < 300:
            if label == "GET /applications/{id}" and (r.json or {}).get("id") != app.app_id:
                return f"{where}: not the application: {shown(r)}"
            if label == "GET /applications/{id}/attachments/{att}" and r.body != PNG:
                return f"{where}: not the attachment's bytes"
            return None
        e = r.error
        if list((r.json or {}).keys()) != ["error"] or not has_cjk(e.get("message", "")):
            return f"{where}: not the error envelope with a Chinese message: {r.body[:200]!r}"
        if e.get("code") != code:
            return f"{where}: expected {token} {code}, got {shown(r)}"
        return None

    def run_row(self, label, state, cells):
        app = None
        actors = dict(self.actors)
        if is_application_route(label):
            app = self.app_in(state) if state in FRESH.get(label, ()) else self.apps[state]
            actors["owner"] = app
        # refused callers first, the rightful ones last
        order = sorted(ACTORS, key=lambda who: LEGEND[cells[who]][0] < 300)
        check_unchanged = app is not None and not label.startswith("GET ")
        before = self.snap(app) if check_unchanged else None
        problems = []
        for who in order:
            token = cells[who]
            if check_unchanged and LEGEND[token][0] < 300 and before is not None:
                problems += self.changes(before, app)
                before = None
            r = self.send(label, who, actors[who], app)
            bad = self.judge(f"as {who}", r, token, label, app)
            if bad:
                problems.append(bad)
        if check_unchanged and before is not None:
            problems += self.changes(before, app)
        return problems

    def changes(self, before, app):
        """[what refused calls changed in the application], from its snapshot before them."""
        r = app.get(f"{API}/applications/{app.app_id}")
        if r.status != 200:
            return [f"refused calls removed the application: its owner now gets {shown(r)}"]
        after = self.snap(app)
        diff = [k for k in before if before[k] != after.get(k)]
        diff += [f"{k} section" for k, v in before["sections"].items() if v != after["sections"].get(k)]
        return [f"refused calls changed the application: {', '.join(diff)}"] if diff else []

    # -- the tests --
    def test_every_route_has_expectations(self):
        rows = parse_matrix()
        in_table = {route_of(label) for label, _, _ in rows}
        in_source = routes_in_source()
        self.assertGreaterEqual(len(in_source), 30, "routes.c was not read")
        self.assertEqual(sorted(in_source - in_table), [], "routes of node/routes.c without a row in MATRIX")
        self.assertEqual(sorted(in_table - in_source), [], "MATRIX rows for routes routes.c does not have")
        self.assertEqual(sorted({label for label, _, _ in rows} ^ set(REQUESTS)), [],
                         "MATRIX rows and REQUESTS differ")
        states = {}
        for label, state, _ in rows:
            states.setdefault(label, []).append(state)
        for label, seen in states.items():
            want = STATES if is_application_route(label) else ["-"]
            self.assertEqual(seen, want, f"{label}: the states of its rows")
        for label, fresh in FRESH.items():
            self.assertIn(label, states)
            self.assertLessEqual(fresh, set(STATES))

    def test_matrix(self):
        """Each row is a subTest of its own, so that a failing row shows all of its cells."""
        n = wrong = 0
        for label, state, cells in parse_matrix():
            with self.subTest(row=f"{label} [{state}]"):
                problems = self.run_row(label, state, cells)
                n += len(cells)
                wrong += len(problems)
                if problems:
                    self.fail(f"{len(problems)} of {len(cells)} calls answered wrongly:\n" + "\n".join(problems))
        self.assertGreater(n, 900)
        self.assertEqual(wrong, 0, f"{wrong} of {n} calls answered wrongly (the rows above)")
        victim = self.get_app(self.victim, self.victim.app_id)
        self.assertIn(self.victim.att_id, {x["id"] for s in victim["sections"] for x in s["attachments"]},
                      "the victim's attachment was deleted through another application")
        # nobody lost their session along the way (logouts used sessions of their own)
        for who, c in self.actors.items():
            if who != "anon":
                self.assertEqual(c.me().status, 200, f"{who} lost its session")

    def test_lists_show_only_what_one_may_see(self):
        ids = {state: a.app_id for state, a in self.apps.items()}
        problems = []

        def listed(c, query=""):
            r = c.get(f"{API}/applications{query}")
            if r.status != 200:
                problems.append(f"GET /applications{query}: {shown(r)}")
                return set()
            return {x["id"] for x in r.json["items"]} & set(ids.values())
        for state, a in self.apps.items():
            got = listed(a)
            if got != {a.app_id}:
                problems.append(f"owner of the {state} application lists {got}")
        for who, (everything, queue) in LISTED.items():
            c = self.actors[who]
            want = {ids[s] for s in everything}
            got = listed(c)
            if got != want:
                problems.append(f"{who} lists {sorted(k for k, v in ids.items() if v in got)}, not {list(everything)}")
            if queue is not None:
                got = listed(c, "?view=queue")
                if got != {ids[s] for s in queue}:
                    problems.append(f"{who}'s queue has {sorted(k for k, v in ids.items() if v in got)}, not {list(queue)}")
        self.assertEqual(Client(self.node).get(API + "/applications").status, 401)
        if problems:
            self.fail("\n".join(problems))
