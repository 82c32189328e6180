#!/usr/bin/env python3
"""i18n_strings.py - every Chinese text the portal shows, as the keys of the Uyghur
dictionary (web/i18n/ug.json) must spell them: the JavaScript's string literals as they
are, its template literals with each ${...} as {0}, {1}, ... (a pattern the translator
fills with the values); and the node's texts that reach the page (section and field
labels, status and role names, conditions, success messages: C string literals, each
printf conversion as {0}, {1}, ...; error messages have their own catalogue,
schemas/messages/, and the review form stays Chinese), with schemas/conditions.json's
and web/index.html's.

  tools/i18n_strings.py [DIR]             the keys, one JSON array, sorted (DIR: only its JavaScript)
  tools/i18n_strings.py --missing F.json  the keys F lacks (exit 1 when any)

Python 3 standard library only. Comments are skipped; a literal's escapes are decoded."""
import json
import os
import re
import sys

CJK = re.compile(r"[\u3400-\u9fff]")
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


def unescape(s):
    return re.sub(r"\\(u\{[0-9a-fA-F]+\}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|.)", _esc, s, flags=re.S)


def _esc(m):
    e = m.group(1)
    if e[0] == "u":
        return chr(int(e[2:-1] if e[1] == "{" else e[1:], 16))
    if e[0] == "x":
        return chr(int(e[1:], 16))
    return {"n": "\n", "t": "\t", "r": "\r", "\n": ""}.get(e, e)


def literals(src):
    """(kind, text) of every string and template literal in JavaScript source src."""
    i, n, out = 0, len(src), []
    stack = []  # open template literals: the parts so far, and the ${ depth
    while i < n:
        c = src[i]
        if c == "/" and src.startswith("//", i):
            i = src.find("\n", i) if "\n" in src[i:] else n
            continue
        if c == "/" and src.startswith("/*", i):
            j = src.find("*/", i + 2)
            i = n if j < 0 else j + 2
            continue
        if c in "'\"":
            j, buf = i + 1, []
            while j < n and src[j] != c:
                if src[j] == "\\":
                    buf.append(src[j:j + 2])
                    j += 2
                    continue
                buf.append(src[j])
                j += 1
            out.append(("string", unescape("".join(buf))))
            i = j + 1
            continue
        if c == "`":
            i = template(src, i + 1, out)
            continue
        i += 1
    return out


def template(src, i, out):
    """Read a template literal from just after its backtick; returns the index after it."""
    n, parts, k = len(src), [], 0
    buf = []
    while i < n and src[i] != "`":
        if src[i] == "\\":
            buf.append(src[i:i + 2])
            i += 2
            continue
        if src.startswith("${", i):
            depth, j = 1, i + 2
            inner_start = j
            while j < n and depth:
                if src[j] == "`":
                    j = template(src, j + 1, out)
                    continue
                if src[j] in "'\"":
                    q, j = src[j], j + 1
                    while j < n and src[j] != q:
                        j += 2 if src[j] == "\\" else 1
                    j += 1
                    continue
                depth += {"{": 1, "}": -1}.get(src[j], 0)
                j += 1
            for kind, text in literals(src[inner_start:j - 1]):
                out.append((kind, text))
            buf.append("{%d}" % k)
            k += 1
            i = j
            continue
        buf.append(src[i])
        i += 1
    out.append(("template", unescape("".join(buf))))
    return i + 1


def keys(web_js):
    found = set()
    for dirpath, _, files in os.walk(web_js):
        for name in files:
            if name.endswith(".js"):
                with open(os.path.join(dirpath, name), encoding="utf-8") as f:
                    for _, text in literals(f.read()):
                        for piece in text.split("\n"):
                            piece = piece.strip()
                            if CJK.search(piece):
                                found.add(piece)
    return sorted(found)


C_SKIP_FILES = {"form_pdf.c", "validate.c"}     # the printed form; field errors (catalogued)
C_SKIP_LINE = re.compile(r"\b(?:http_error|http_error_extra|http_field_error|refuse|send_error_and_close|"
                         r"fprintf|perror)\(")
C_LITERAL = re.compile(r'"((?:[^"\\]|\\.)*)"')
C_CONVERSION = re.compile(r"%[-+ #0]*(?:\*|\d+)?(?:\.(?:\*|\d+))?(?:hh|h|ll|l|z|j|t)?[diouxXsc]")


def c_keys(node_dir):
    found = set()
    for name in sorted(os.listdir(node_dir)):
        if not name.endswith(".c") or name in C_SKIP_FILES:
            continue
        with open(os.path.join(node_dir, name), encoding="utf-8") as f:
            for line in f:
                if C_SKIP_LINE.search(line):
                    continue
                for m in C_LITERAL.finditer(line):
                    text = unescape(m.group(1))
                    k = iter(range(100))
                    text = C_CONVERSION.sub(lambda _: "{%d}" % next(k), text.replace("%%", "%"))
                    for piece in text.split("\n"):
                        if CJK.search(piece.strip()):
                            found.add(piece.strip())
    return found


def json_texts(path):
    """Every Chinese string value in a JSON file (its _about notes aside)."""
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    out = set()

    def walk(v, key=None):
        if isinstance(v, dict):
            for k, x in v.items():
                if not k.startswith("_"):
                    walk(x, k)
        elif isinstance(v, list):
            for x in v:
                walk(x, key)
        elif isinstance(v, str) and CJK.search(v):
            out.add(v.strip())
    walk(data)
    return out


def html_texts(path):
    """The Chinese texts of a page's markup: its text and the attributes people read."""
    with open(path, encoding="utf-8") as f:
        src = re.sub(r"<(script|style)\b.*?</\1>", "", f.read(), flags=re.S)
    out = set()
    for m in re.finditer(r"(<[^<>]*)>([^<]+)(?=<)", src):
        if CJK.search(m.group(2)) and 'translate="no"' not in m.group(1):
            out.add(m.group(2).strip())
    for m in re.finditer(r'\b(?:placeholder|title|aria-label|alt)="([^"]*)"', src):
        if CJK.search(m.group(1)):
            out.add(m.group(1).strip())
    return out


def all_keys():
    return sorted(set(keys(os.path.join(ROOT, "web", "js"))) | c_keys(os.path.join(ROOT, "node")) |
                  json_texts(os.path.join(ROOT, "schemas", "conditions.json")) |
                  html_texts(os.path.join(ROOT, "web", "index.html")))


def main(argv):
    web_js = os.path.join(ROOT, "web", "js")
    if len(argv) >= 2 and argv[0] == "--missing":
        with open(argv[1], encoding="utf-8") as f:
            have = json.load(f)
        missing = [k for k in all_keys() if k not in have]
        json.dump(missing, sys.stdout, ensure_ascii=False, indent=1)
        print()
        return 1 if missing else 0
    json.dump(keys(argv[0]) if argv else all_keys(), sys.stdout, ensure_ascii=False, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
