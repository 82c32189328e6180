#!/usr/bin/env python3
"""demo_register.py DIR TIMEOUT NODE... - register the demo unit and the demo applicant of
each NODE through the portal's own API (POST /api/v1/units, POST /api/v1/accounts), so that
the demo passes the rules every registration does: the unit's credit code and names, the
applicant's ID number and phone are claimed at the registrar (650000) before the node
commits them. The unit is then completed (PUT /units/me) and recommends the node's first
dept. Called by `zc-fed up --demo` once the nodes serve; DIR is the zc-fed directory
(federation.json names each node's URL; demo-accounts.json gains the unit admin and the
applicant of each node, written atomically). What is listed already is skipped. While the
registrar is not reachable yet (503 registrar_unavailable: its link is still coming up) a
registration is retried until TIMEOUT seconds have passed. An ID number or credit code
registered before but not listed (a run stopped in between) is found again by logging in.
Exit 0 when every NODE has both listed, 1 otherwise (the reason on stderr)."""
import json
import os
import sys
import time
import urllib.error
import urllib.request

PASSWORD = "Apply#2026"
NAME = "陈晓明"
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
UNIT_PASSWORD = "Unit#2026"
CC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100, without I, O, Z, S, V
CC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
UNIT_INFO = {"address": "人民路1号", "legal_person": "张建国", "contact": "李娜", "phone": "0991-2345678",
             "industry": "信息技术"}


def credit_code(node):
    """A valid unified social credit code for the demo unit of the node (deterministic)."""
    body = f"91{node[:4]}02MA7DEMXY{node[3]}"
    c = 31 - sum(CC_ALPHABET.index(x) * w for x, w in zip(body, CC_WEIGHTS)) % 31
    return body + CC_ALPHABET[0 if c == 31 else c]


def id_number(node):
    """A valid ID number of someone born 1985-01-01 in the node's region (GB 11643)."""
    body = f"{node[:4]}0219850101{node[1:4]}"
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, WEIGHTS)) % 11]


def phone(node):
    return f"139{node[:6]}00"


def post(url, path, body, method="POST", session=None):
    """(status, answer); session: {"cookie", "csrf"} of a logged-in client, kept up to date."""
    headers = {"Content-Type": "application/json"}
    if session:
        headers["Cookie"] = session.get("cookie", "")
        headers["X-CSRF-Token"] = session.get("csrf", "")
    req = urllib.request.Request(url.rstrip("/") + path, data=json.dumps(body).encode("utf-8"), method=method,
                                 headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            answer = json.loads(r.read().decode("utf-8"))
            if session is not None:
                cookie = r.headers.get("Set-Cookie")
                if cookie:
                    session["cookie"] = cookie.split(";", 1)[0]
                if isinstance(answer, dict) and answer.get("csrf"):
                    session["csrf"] = answer["csrf"]
            return r.status, answer
    except urllib.error.HTTPError as e:
        try:
            return e.code, json.loads(e.read().decode("utf-8"))
        except ValueError:
            return e.code, {}
    except (OSError, ValueError) as e:
        return 0, {"error": "unreachable", "message": str(e)}


def register(url, node, deadline):
    """The applicant's username, or raises RuntimeError saying why not."""
    body = {"id_number": id_number(node), "name": NAME, "phone": phone(node), "password": PASSWORD}
    while True:
        status, answer = post(url, "/api/v1/accounts", body)
        if status == 201:
            return answer["account"]["username"]
        if status == 409 and answer.get("error") == "id_number_taken":
            status, answer = post(url, "/api/v1/session", {"login": body["id_number"], "password": PASSWORD})
            if status == 200:
                return answer["account"]["username"]
        if status not in (0, 503) or time.time() > deadline:
            raise RuntimeError(f"{status} {answer.get('error', '')} {answer.get('message', '')}".strip())
        time.sleep(0.2)


def register_unit(url, node, name, deadline):
    """The demo unit's (username, unit id), registered, completed and recommending the node's
    first dept; or raises RuntimeError saying why not."""
    body = {"credit_code": credit_code(node), "name": f"{name}演示科技有限公司", "short_name": f"{name}演示科技",
            "password": UNIT_PASSWORD, "contact": UNIT_INFO["contact"], "phone": UNIT_INFO["phone"], "node": node}
    session = {}
    while True:
        status, answer = post(url, "/api/v1/units", body, session=session)
        if status == 201:
            break
        if status == 409 and answer.get("error", {}).get("field") == "credit_code":
            status, answer = post(url, "/api/v1/session", {"login": UNIT_INFO["phone"], "password": UNIT_PASSWORD},
                                  session=session)
            if status == 200:
                break
        if status not in (0, 503) or time.time() > deadline:
            raise RuntimeError(f"{status} {answer.get('error', '')}".strip())
        time.sleep(0.2)
    user = answer["account"]["username"]
    status, answer = post(url, "/api/v1/units/me", UNIT_INFO, method="PUT", session=session)
    if status != 200:
        raise RuntimeError(f"PUT /units/me: {status} {answer.get('error', '')}")
    unit = answer["unit"]["id"]
    with urllib.request.urlopen(url.rstrip("/") + "/api/v1/depts", timeout=10) as r:
        depts = sorted(d["id"] for d in json.loads(r.read().decode("utf-8"))["items"] if d.get("node") == node)
    if depts:
        status, answer = post(url, "/api/v1/units/me/recommenders", {"depts": depts[:1]}, method="PUT", session=session)
        if status != 200:
            raise RuntimeError(f"PUT /units/me/recommenders: {status} {answer.get('error', '')}")
    return user, unit


def write_atomic(path, value):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(value, f, ensure_ascii=False, indent=1)
    os.replace(tmp, path)


def main():
    d, timeout, wanted = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
    man = json.load(open(os.path.join(d, "federation.json"), encoding="utf-8"))
    nodes = man["nodes"] if isinstance(man, dict) else man
    urls = {n["id"]: n["url"] for n in nodes}
    names = {n["id"]: n.get("name", n["id"]) for n in nodes}
    path = os.path.join(d, "demo-accounts.json")
    try:
        accounts = json.load(open(path, encoding="utf-8"))
    except (OSError, ValueError):
        accounts = []
    have = {(a.get("node"), a.get("role")) for a in accounts}
    deadline = time.time() + timeout
    bad = 0
    for node in wanted:
        if (node, "unit_admin") not in have:
            try:
                user, unit = register_unit(urls[node], node, names[node], deadline)
            except (RuntimeError, KeyError, OSError, ValueError) as e:
                print(f"zc-fed: the demo unit of {node} could not register: {e}", file=sys.stderr)
                bad = 1
                continue
            accounts.append({"node": node, "role": "unit_admin", "login": user, "password": UNIT_PASSWORD,
                             "credit_code": credit_code(node), "unit": unit})
            write_atomic(path, accounts)
        if (node, "applicant") in have:
            continue
        try:
            user = register(urls[node], node, deadline)
        except (RuntimeError, KeyError) as e:
            print(f"zc-fed: the demo applicant of {node} could not register: {e}", file=sys.stderr)
            bad = 1
            continue
        accounts.append({"node": node, "role": "applicant", "login": user, "password": PASSWORD,
                         "id_number": id_number(node)})
        write_atomic(path, accounts)
    return bad


if __name__ == "__main__":
    sys.exit(main())
