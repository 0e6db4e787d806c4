#!/usr/bin/env python3
"""Checks that src/ keeps its layers: every #include "<lib>/..." of a file in
src/<lib>/ names its own library or one the table below lets it use.

An include of a library above (upward) or of one below that the library does
not use directly (skipping, e.g. the server reaching into the store instead
of going through the ledger) fails, unless it is one of the EXCEPTIONS: edges
that exist today, each with its reason. An exception that no longer occurs
fails too, so the list only shrinks.

  tools/check_layers.py [--root DIR]   check DIR/src (default: this checkout)
  tools/check_layers.py --self-test    show that a violation is caught
  tools/check_layers.py --string-views [--self-test]
      check that the C++ code of src/, include/, tools/ and tests/ uses one
      string-view type, std::string_view: abseil's own absl::string_view
      (Debian's abseil does not alias it to std::string_view) is named only
      in src/util/strings.h, where the code crosses over to absl functions

The CMake build enforces the same table per library (each library sees only
the include roots of the libraries it links); this check adds the per-file
view and runs in well under a second.
"""
import argparse
import os
import re
import sys

# Library -> the libraries it may include directly (besides itself, the
# public include/partnerledger/ and generated protos). Bottom up.
ALLOWED = {
    "util": set(),
    "merkle": {"util"},
    "store": {"util", "merkle"},
    "domain": {"util"},
    "projection": {"util", "store", "domain"},
    "ledger": {"util", "merkle", "store", "domain", "projection"},
    # The HTTP/JSON gateway is a client of the gRPC services; amounts in
    # major units follow the domain's money rules.
    "http": {"util", "domain"},
    # Appends and the event log go through the ledger; queries read the
    # projections; the HTTP listener runs the gateway.
    # Replication on etcd drives a ledger (its commit log, its role).
    "replication": {"util", "ledger"},
    # ledgerd starts replication (main.cc) besides the services.
    "server": {"util", "merkle", "ledger", "projection", "http",
               "replication"},
}

# (file under src/, included header) -> why it is still there.
EXCEPTIONS = {
    ("server/translate.cc", "domain/validate.h"):
        "wire values are checked by the domain's validator (enum numbers, "
        "timestamps) before translation",
    ("server/event_store_service.cc", "domain/validate.h"):
        "stream names are parsed by the domain's rule before a read",
    ("server/auth.cc", "domain/validate.h"):
        "partner ids in auth.conf follow the domain's id rule",
    ("server/main.cc", "store/backup.h"):
        "--restore_backup restores into an empty directory before a ledger "
        "exists",
    ("server/main.cc", "store/power_loss_fs.h"):
        "the power-loss file system the crash tests start ledgerd with",
}

# The one file that names abseil's string view (util/strings.h converts).
STRING_VIEW_CROSSING = "src/util/strings.h"
STRING_VIEW_ROOTS = ("src", "include", "tools", "tests")
ABSL_STRING_VIEW = re.compile(r"absl::string_view|absl/strings/string_view\.h")

INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/[^"]+"', re.M)


def cpp_sources(base, top, planted):
    """(path relative to base, text) of each .h and .cc file under
    base/top, with the line `planted` maps its relative path to appended."""
    for dirpath, _, files in os.walk(os.path.join(base, top)):
        for name in sorted(files):
            if not name.endswith((".h", ".cc")):
                continue
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, base)
            with open(path, encoding="utf-8") as f:
                yield rel, f.read() + "\n" + planted.get(rel, "")


def violations(root, planted=None, removed=()):
    """Problems in root/src; `planted` maps a file under src/ to a line
    added to it, `removed` lists files treated as deleted (for the
    self-test)."""
    planted = planted or {}
    src = os.path.join(root, "src")
    found = set()
    problems = []
    for lib in sorted(os.listdir(src)):
        if lib not in ALLOWED:
            problems.append(f"src/{lib}/: not in the layer table "
                            "(tools/check_layers.py)")
            continue
        for rel, text in cpp_sources(src, lib, planted):
            if rel in removed:
                continue
            for m in INCLUDE.finditer(text):
                target = m.group(1)
                header = m.group(0).split('"')[1]
                if target == lib or target not in ALLOWED:
                    continue  # own headers; absl/, rocksdb/, partnerledger/
                if target in ALLOWED[lib]:
                    continue
                if (rel, header) in EXCEPTIONS:
                    found.add((rel, header))
                    continue
                if lib in deps_closure(target):
                    kind = "upward"
                elif target in deps_closure(lib):
                    kind = "skipping"
                else:
                    kind = "sideways"
                problems.append(
                    f"src/{rel}: includes {header} ({kind}: {lib} may "
                    f"include {sorted(ALLOWED[lib]) or 'nothing'})")
    for rel, header in sorted(set(EXCEPTIONS) - found):
        problems.append(f"src/{rel} no longer includes {header}: remove it "
                        "from EXCEPTIONS in tools/check_layers.py")
    return problems


def string_view_violations(root, planted=None):
    """Lines of C++ code (comments aside) under STRING_VIEW_ROOTS that name
    absl::string_view or include its header; `planted` maps a file (relative
    to root) to a line added to it (for the self-test)."""
    planted = planted or {}
    problems = []
    for top in STRING_VIEW_ROOTS:
        for rel, text in cpp_sources(root, top, planted):
            if rel == STRING_VIEW_CROSSING:
                continue
            for number, line in enumerate(text.split("\n"), 1):
                code = line.split("//", 1)[0]
                if ABSL_STRING_VIEW.search(code):
                    problems.append(
                        f"{rel}:{number}: names absl::string_view; use "
                        f"std::string_view ({STRING_VIEW_CROSSING} "
                        "converts at absl calls)")
    return problems


def string_view_self_test(root):
    """The tree uses one string-view type, and a use of abseil's in each
    checked directory is caught (one in a comment is not)."""
    if string_view_violations(root):
        print("self-test: the tree itself does not pass")
        return 1
    cases = [
        ("src/domain/validate.h", "bool Is(absl::string_view s);"),
        ("include/partnerledger/limits.h",
         '#include "absl/strings/string_view.h"'),
        ("tools/ledgerctl/args.cc", "absl::string_view v = text;"),
        ("tests/test_support.h", "for (absl::string_view p : parts) {}"),
    ]
    for rel, line in cases:
        got = string_view_violations(root, planted={rel: line})
        if not any(p.startswith(rel + ":") for p in got):
            print(f"self-test: {line} in {rel} was not caught: {got}")
            return 1
    comment = {"src/util/echo.h": "// unlike absl::string_view"}
    if string_view_violations(root, planted=comment):
        print("self-test: a comment naming absl::string_view was reported")
        return 1
    print(f"self-test: {len(cases)} uses of absl::string_view caught")
    return 0


def deps_closure(lib):
    seen, todo = set(), [lib]
    while todo:
        for d in ALLOWED[todo.pop()]:
            if d not in seen:
                seen.add(d)
                todo.append(d)
    return seen


def self_test(root):
    """The check passes on this tree and fails on each kind of violation."""
    cases = [
        ("store/keys.cc", '#include "ledger/ledger_internal.h"', "upward"),
        ("projection/queries.cc", '#include "merkle/merkle.h"', "skipping"),
        ("server/auth.cc", '#include "store/store.h"', "skipping"),
        ("domain/money.cc", '#include "store/store.h"', "sideways"),
    ]
    if violations(root):
        print("self-test: the tree itself does not pass")
        return 1
    for rel, line, kind in cases:
        got = violations(root, planted={rel: line})
        if not any(p.startswith("src/" + rel) and kind in p for p in got):
            print(f"self-test: {line} in src/{rel} was not caught as {kind}: "
                  f"{got}")
            return 1
    # A stale exception is reported too.
    if not any("no longer includes" in p
               for p in violations(root, removed={"server/main.cc"})):
        print("self-test: a stale exception was not reported")
        return 1
    print(f"self-test: {len(cases) + 1} violations caught")
    return 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), ".."))
    parser.add_argument("--self-test", action="store_true")
    parser.add_argument("--string-views", action="store_true")
    args = parser.parse_args()
    if args.string_views:
        if args.self_test:
            return string_view_self_test(args.root)
        return report(string_view_violations(args.root),
                      "use(s) of absl::string_view",
                      "one string-view type: std::string_view")
    if args.self_test:
        return self_test(args.root)
    return report(violations(args.root),
                  "layering problem(s); the layers are in README.md "
                  "(Architecture) and tools/check_layers.py", "layers ok")


def report(problems, what, ok):
    """Prints the problems and how many (exit 1), or `ok` (exit 0)."""
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} {what}")
        return 1
    print(ok)
    return 0

if __name__ == "__main__":
    sys.exit(main())
