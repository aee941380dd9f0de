#!/usr/bin/env python3
"""audit_json.py FILE QUESTION [ARG] — answer one question about the JSON of
`xenguard audit --format json` captured inside the test Dom0.

Exit 0 when the answer is yes; otherwise exit 1 with one line on stdout
saying what was found instead (the TAP line's diagnostic).

The questions match on evidence text (port numbers, user and daemon names,
versions), not on check IDs, so they hold whatever IDs the audit gives:
  dom0                   the host is seen as a Dom0 (control_d)
  toolstack xl           the toolstack is xl
  xen-version 4.17       the Xen version starts with 4.17
  service-ok NAME        some line of the report names the daemon NAME (as a
                         word, not as part of a path), and none of those lines
                         calls it unexpected ("not in the allowlist", ...)
  flags TEXT             a failing check mentions TEXT
  practice WORD STATUS [TITLEWORD]
                         checks whose practice (or, without one, title)
                         mentions WORD (and whose title mentions TITLEWORD)
                         exist, and all have STATUS; exit 3 when all are n/a
                         because "not available in this build" (not built)
  domain NAME [COUNT]    the host section's list of domains names NAME; a
                         report that only counts them ("2 running domains")
                         counts COUNT; exit 3 when it does neither (not built)
  mentions TEXT          TEXT appears anywhere in the report
"""
import json
import re
import sys

FAIL = {"fail", "failed", "failing"}
# n/a because a part of xenguard is missing from this build (not a verdict).
NOT_BUILT = re.compile(r"not (available|built) in this build", re.I)
NEGATIVE = re.compile(r"\bnot (in|on|allowed|expected|needed)\b|unexpected|disallowed|forbidden|"
                      r"should not|must not", re.I)
PASS = {"pass", "passed", "ok"}


def walk(node, path=()):
    """Yield (path, key, value) for every scalar in the document."""
    if isinstance(node, dict):
        for k, v in node.items():
            if isinstance(v, (dict, list)):
                yield from walk(v, path + (k,))
            else:
                yield path, k, v
    elif isinstance(node, list):
        for i, v in enumerate(node):
            if isinstance(v, (dict, list)):
                yield from walk(v, path + (i,))
            else:
                yield path, i, v


def checks(node):
    """Every object that looks like a check result: it has a status."""
    if isinstance(node, dict):
        if isinstance(node.get("status"), str) and ("id" in node or "title" in node):
            yield node
        for v in node.values():
            yield from checks(v)
    elif isinstance(node, list):
        for v in node:
            yield from checks(v)


def text(node):
    return json.dumps(node, ensure_ascii=False).lower()


def name(c):
    return "%s (%s)" % (c.get("id", "?"), c.get("title", ""))


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    path, q = sys.argv[1], sys.argv[2]
    arg = sys.argv[3].lower() if len(sys.argv) > 3 else ""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            doc = json.loads(f.read())
    except (OSError, ValueError) as e:
        print("audit output is not JSON: %s" % e)
        return 1
    scalars = list(walk(doc))
    allchecks = list(checks(doc))

    def keyed(pattern):
        rx = re.compile(pattern, re.I)
        return [(p, k, v) for p, k, v in scalars if rx.search(str(k))]

    if q == "dom0":
        if any(isinstance(v, str) and "control_d" in v for _, _, v in scalars):
            return 0
        hits = keyed(r"dom0")
        if any(v is True or str(v).lower() in ("yes", "dom0", "true") for _, _, v in hits):
            return 0
        print("no control_d and no true dom0 field; dom0 fields: %s" % hits[:5])
        return 1
    if q == "toolstack":
        hits = keyed(r"toolstack")
        if any(str(v).lower() == arg for _, _, v in hits):
            return 0
        print("toolstack fields: %s" % (hits[:5] or "none"))
        return 1
    if q == "xen-version":
        hits = [h for h in keyed(r"xen.?version|^version$") if "xen" in " ".join(map(str, h[0] + (h[1],))).lower()]
        if any(str(v).startswith(arg) for _, _, v in hits):
            return 0
        print("Xen version fields: %s" % (hits[:5] or "none"))
        return 1
    if q == "service-ok":
        # Line by line: a failing check may well list the expected daemons
        # beside the planted listener it fails for.
        word = re.compile(r"(?<![\w/.-])%s(?![\w/.-])" % re.escape(arg), re.I)
        lines = [str(v) for _, _, v in scalars if isinstance(v, str) and word.search(v)]
        if not lines:
            print("no line of the report names %s (as a daemon, not a path)" % arg)
            return 1
        bad = [l for l in lines if NEGATIVE.search(l)]
        if bad:
            print("%s is named as unexpected: %s" % (arg, "; ".join(bad[:3])))
            return 1
        return 0
    if q == "flags":
        if any(c["status"].lower() in FAIL and arg in text(c) for c in allchecks):
            return 0
        where = [name(c) + "=" + c["status"] for c in allchecks if arg in text(c)]
        print("no failing check mentions %s (%d checks; mentioned by: %s)"
              % (arg, len(allchecks), ", ".join(where) or "none"))
        return 1
    if q == "practice":
        want = sys.argv[4].lower()

        def about(c):
            return str(c.get("practice") or c.get("title") or "").lower()
        tw = sys.argv[5].lower() if len(sys.argv) > 5 else ""
        sel = [c for c in allchecks if arg in about(c) and tw in str(c.get("title", "")).lower()]
        if not sel:
            print("no check's practice mentions %s" % arg)
            return 1
        if all(c["status"].lower() == "n/a" and NOT_BUILT.search(str(c.get("reason") or ""))
               for c in sel):
            print("not judged: %s" % "; ".join("%s (%s)" % (name(c), c["reason"]) for c in sel))
            return 3
        bad = ["%s=%s%s" % (name(c), c["status"], " (%s)" % c["reason"] if c.get("reason") else "")
               for c in sel if c["status"].lower() != want]
        if bad:
            print("not %s: %s" % (want, "; ".join(bad)))
            return 1
        return 0
    if q == "domain":
        # NAME among the host's domains; a report that only counts them
        # ("2 running domains") must count COUNT (argv[4]) of them.
        host = doc.get("host", {}) if isinstance(doc, dict) else {}
        lists = {k: v for k, v in host.items()
                 if re.search(r"domain|guest", k, re.I) and isinstance(v, (list, dict))}
        if lists:
            if arg in text(lists):
                return 0
            print("%s not among the domains: %s" % (arg, json.dumps(lists)[:300]))
            return 1
        counts = [int(m.group(1)) for _, _, v in scalars if isinstance(v, str)
                  for m in [re.search(r"\b(\d+) running domains?\b", v)] if m]
        if counts and len(sys.argv) > 4:
            if int(sys.argv[4]) in counts:
                return 0
            print("the report counts %s running domains, not %s" % (counts, sys.argv[4]))
            return 1
        print("the report neither lists nor counts the running domains")
        return 3
    if q == "mentions":
        if arg in text(doc):
            return 0
        print("%s does not appear in the report" % arg)
        return 1
    print("unknown question %s" % q)
    return 2


if __name__ == "__main__":
    sys.exit(main())
