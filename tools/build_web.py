#!/usr/bin/env python3
"""build_web.py - the portal as the node serves it: web/ copied to build/web/ with every
file but the HTML pages under a content-hashed name (js/app.3f2a9c1d.js), every reference
to one (ES module imports, <script src>, <link href>, CSS url() and @import) rewritten to
the hashed name, the module graph announced in each page as <link rel="modulepreload">
(the browser then fetches every module at once instead of one import level per round
trip; a module reached only through import() is left to load when it is asked for, as
the portal's pages are), and a .gz (gzip -9) beside each text file that it makes smaller.

A hashed name is the hash of the file and of everything it references, directly or not,
so that a change anywhere gives a new name to every file whose bytes it changes (imports
may form cycles: a closure's hash needs no order). The node (node/static.c) serves hashed
names as immutable and the pages as no-cache. Python 3 stdlib only.

    tools/build_web.py [SRC [OUT]]      (default web build/web)
"""
import gzip
import hashlib
import os
import posixpath
import re
import sys

PAGE_EXT = (".html",)
TEXT_EXT = (".html", ".js", ".mjs", ".css", ".svg", ".json", ".webmanifest", ".txt")

# References, each with the specifier in group "ref". Relative ones only ('./', '../',
# a bare path in HTML/CSS); absolute URLs, data: and fragments are left alone.
# import('./x.js'): loaded when the code asks for it, hence not preloaded with the page.
JS_DYNAMIC_IMPORT = re.compile(r"""\bimport\s*\(\s*(?P<q>['"])(?P<ref>\.{1,2}/[^'"\n]+)(?P=q)\s*\)""")
JS_REFS = [
    re.compile(r"""(?:\bfrom|\bimport)\s*(?P<q>['"])(?P<ref>\.{1,2}/[^'"\n]+)(?P=q)"""),
    JS_DYNAMIC_IMPORT,
    # a file a module fetches, named the standard way (e.g. i18n.js's dictionary)
    re.compile(r"""\bnew\s+URL\(\s*(?P<q>['"])(?P<ref>\.{1,2}/[^'"\n]+)(?P=q)\s*,\s*import\.meta\.url\s*\)"""),
]
CSS_REFS = [
    re.compile(r"""url\(\s*(?P<q>['"]?)(?P<ref>[^'")\s]+)(?P=q)\s*\)"""),
    re.compile(r"""@import\s+(?P<q>['"])(?P<ref>[^'"]+)(?P=q)"""),
]
HTML_REFS = [re.compile(r"""\b(?:src|href)\s*=\s*(?P<q>['"])(?P<ref>[^'"]+)(?P=q)""")]


class BuildError(Exception):
    pass


def refs_of(rel):
    if rel.endswith((".js", ".mjs")):
        return JS_REFS
    if rel.endswith(".css"):
        return CSS_REFS
    if rel.endswith(PAGE_EXT):
        return HTML_REFS
    return []


def is_local(ref):
    return not (ref.startswith(("#", "/", "data:", "blob:", "mailto:", "tel:")) or re.match(r"^[a-z][a-z0-9+.-]*:", ref))


def resolve(rel, ref):
    """The web-root-relative path ref names from file rel, or None when it is not ours."""
    path = ref.split("#", 1)[0].split("?", 1)[0]
    if not path or not is_local(path):
        return None
    target = posixpath.normpath(posixpath.join(posixpath.dirname(rel), path))
    if target.startswith("../") or target == "..":
        raise BuildError(f"{rel}: {ref!r} points outside the web root")
    return target


def scan(src):
    files = {}
    for dirpath, dirnames, filenames in os.walk(src):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith(".") or name.endswith((".gz", "~")):
                continue
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, src).replace(os.sep, "/")
            with open(full, "rb") as f:
                files[rel] = f.read()
    return files


def dependencies(files):
    """{file: {target: eager}}: eager is False when the file only import()s the target."""
    deps = {}
    for rel, data in files.items():
        found = {}
        text = data.decode("utf-8") if refs_of(rel) else ""
        for rx in refs_of(rel):
            for m in rx.finditer(text):
                target = resolve(rel, m.group("ref"))
                if target is None:
                    continue
                if target not in files:
                    raise BuildError(f"{rel}: {m.group('ref')!r} names {target}, which is not in the web root")
                found[target] = found.get(target, False) or rx is not JS_DYNAMIC_IMPORT
        deps[rel] = found
    return deps


def closure(rel, deps, eager_only=False):
    seen, todo = {rel}, [rel]
    while todo:
        for d, eager in deps[todo.pop()].items():
            if d not in seen and (eager or not eager_only):
                seen.add(d)
                todo.append(d)
    return seen


def hashed_name(rel, data_of_closure):
    h = hashlib.sha256()
    for path, data in sorted(data_of_closure):
        h.update(path.encode() + b"\0" + str(len(data)).encode() + b"\0" + data)
    stem, ext = posixpath.splitext(rel)
    return f"{stem}.{h.hexdigest()[:8]}{ext}"


def relative_ref(from_rel, to_rel, original):
    r = posixpath.relpath(to_rel, posixpath.dirname(from_rel) or ".")
    if original.startswith("./") and not r.startswith("../"):
        r = "./" + r
    suffix = original[len(original.split("#", 1)[0].split("?", 1)[0]):]
    return r + suffix


def rewrite(rel, data, names):
    rxs = refs_of(rel)
    if not rxs:
        return data
    text = data.decode("utf-8")
    for rx in rxs:
        def sub(m):
            target = resolve(rel, m.group("ref"))
            if target is None:
                return m.group(0)
            new = relative_ref(rel, names[target], m.group("ref"))
            s, e = m.span("ref")
            return m.group(0)[: s - m.start()] + new + m.group(0)[e - m.start():]
        text = rx.sub(sub, text)
    return text.encode("utf-8")


def module_preloads(page, deps, names):
    """<link rel="modulepreload"> lines for every module the page's scripts import
    statically, directly or not."""
    mods = set()
    for d in deps[page]:
        if d.endswith((".js", ".mjs")):
            mods |= {m for m in closure(d, deps, eager_only=True) if m.endswith((".js", ".mjs"))}
    entry = {d for d in deps[page] if d.endswith((".js", ".mjs"))}
    return "".join(f'  <link rel="modulepreload" href="{relative_ref(page, names[m], names[m])}">\n'
                   for m in sorted(mods - entry))


def write_atomic(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def build(src, out):
    files = scan(src)
    deps = dependencies(files)
    names = {}
    for rel in files:
        if rel.endswith(PAGE_EXT):
            names[rel] = rel
        else:
            names[rel] = hashed_name(rel, [(p, files[p]) for p in closure(rel, deps)])
    produced = {}
    for rel, data in files.items():
        data = rewrite(rel, data, names)
        if rel.endswith(PAGE_EXT):
            pre = module_preloads(rel, deps, names).encode()
            if pre:
                if b"</head>" not in data:
                    raise BuildError(f"{rel}: no </head> to put the module preloads before")
                data = data.replace(b"</head>", pre + b"</head>", 1)
        produced[names[rel]] = data
        if rel.endswith(TEXT_EXT):
            gz = gzip.compress(data, compresslevel=9, mtime=0)
            if len(gz) < len(data):
                produced[names[rel] + ".gz"] = gz
    # Hashed files first, the pages (which name them) last, then what the last build left.
    for name in sorted(produced, key=lambda n: (posixpath.splitext(n.removesuffix(".gz"))[1] in PAGE_EXT, n)):
        path = os.path.join(out, name)
        try:
            with open(path, "rb") as f:
                if f.read() == produced[name]:
                    continue
        except OSError:
            pass
        write_atomic(path, produced[name])
    for dirpath, _, filenames in os.walk(out, topdown=False):
        for fname in filenames:
            rel = os.path.relpath(os.path.join(dirpath, fname), out).replace(os.sep, "/")
            if rel not in produced:
                os.unlink(os.path.join(dirpath, fname))
        if dirpath != out and not os.listdir(dirpath):
            os.rmdir(dirpath)
    for name in produced:  # make's target (build/web/index.html) is newer than web/ now
        if name.endswith(PAGE_EXT):
            os.utime(os.path.join(out, name))
    return produced


def main(argv):
    src = argv[1] if len(argv) > 1 else "web"
    out = argv[2] if len(argv) > 2 else os.path.join("build", "web")
    try:
        produced = build(src, out)
    except (BuildError, UnicodeDecodeError, OSError) as e:
        print(f"build_web: {e}", file=sys.stderr)
        return 1
    plain = sum(len(d) for n, d in produced.items() if not n.endswith(".gz"))
    wire = sum(len(produced.get(n + ".gz", d)) for n, d in produced.items() if not n.endswith(".gz"))
    print(f"build_web: {src} -> {out}: {sum(1 for n in produced if not n.endswith('.gz'))} files, "
          f"{plain / 1024:.1f} KiB, {wire / 1024:.1f} KiB gzipped")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
