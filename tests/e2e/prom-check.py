#!/usr/bin/python3
"""prom-check.py: a strict checker of the Prometheus text exposition format
(version 0.0.4), with the Python standard library only.

  prom-check.py FILE                     check FILE; print "ok N samples" or
                                         every error, exit 0 or 1
  prom-check.py FILE NAME [LABEL=VALUE]  check, then print the sum of the
                                         samples of NAME whose labels include
                                         every LABEL=VALUE given (0 if none)

Rules checked (https://prometheus.io/docs/instrumenting/exposition_formats/):
lines end with a line feed, the last one too; a "# HELP name text" and a
"# TYPE name type" at most once per metric family, TYPE before its samples,
type one of counter, gauge, histogram, summary, untyped; metric and label
names match their grammars; label values are double-quoted with only \\\\,
\\" and \\n escapes; no label name twice in a sample; values are Go floats
(NaN, +Inf, -Inf allowed); the optional timestamp is an integer; the samples
of a family are contiguous; no series (name and label set) twice; counters
are not negative; histograms have _bucket samples with le, cumulative
counts non-decreasing in le, a +Inf bucket equal to _count, and a _sum.
virtmcd's own rules on top: every family has HELP and TYPE, every name
starts with virtmcd_, and counters end in _total.
"""
import math
import re
import sys

METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


class Error(Exception):
    pass


def parse_value(s):
    if s in ("+Inf", "Inf"):
        return math.inf
    if s == "-Inf":
        return -math.inf
    if s == "NaN":
        return math.nan
    if not re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", s):
        raise Error("bad value %r" % s)
    return float(s)


def parse_labels(s, i):
    """s[i] is '{'; returns (dict, index after '}')."""
    labels = {}
    i += 1
    while True:
        if i < len(s) and s[i] == "}":
            return labels, i + 1
        m = LABEL_NAME.match(s, i)
        if not m:
            raise Error("bad label name at column %d" % (i + 1))
        name = m.group(0)
        i = m.end()
        if s[i:i + 2] != '="':
            raise Error("expected =\" after label %s" % name)
        i += 2
        val = []
        while True:
            if i >= len(s):
                raise Error("unterminated label value of %s" % name)
            c = s[i]
            if c == "\\":
                nxt = s[i + 1:i + 2]
                if nxt == "\\":
                    val.append("\\")
                elif nxt == '"':
                    val.append('"')
                elif nxt == "n":
                    val.append("\n")
                else:
                    raise Error("bad escape \\%s in label %s" % (nxt, name))
                i += 2
            elif c == '"':
                i += 1
                break
            elif c == "\n":
                raise Error("raw line feed in label %s" % name)
            else:
                val.append(c)
                i += 1
        if name in labels:
            raise Error("label %s given twice" % name)
        labels[name] = "".join(val)
        if i < len(s) and s[i] == ",":
            i += 1
            continue
        if i < len(s) and s[i] == "}":
            return labels, i + 1
        raise Error("expected , or } after label %s" % name)


def family_of(name, types):
    """The family a sample name belongs to (histogram and summary suffixes)."""
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix):
            base = name[: -len(suffix)]
            if types.get(base) in ("histogram", "summary") and (
                suffix != "_bucket" or types.get(base) == "histogram"
            ):
                return base
    return name


def check(text):
    errors = []
    helps, types = {}, {}
    samples = []  # (family, name, labels, value)
    seen_series = set()
    done_families = set()
    current = None
    if text and not text.endswith("\n"):
        errors.append("the last line does not end with a line feed")
    for no, line in enumerate(text.split("\n")[:-1] if text else [], 1):
        try:
            if line.startswith("#"):
                parts = line.split(" ", 3)
                if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                    name = parts[2]
                    if not METRIC_NAME.fullmatch(name):
                        raise Error("bad metric name %r" % name)
                    if parts[1] == "HELP":
                        if name in helps:
                            raise Error("second HELP for %s" % name)
                        text_ = parts[3] if len(parts) > 3 else ""
                        if re.search(r"\\[^\\n]", text_.replace("\\\\", "")):
                            raise Error("bad escape in HELP of %s" % name)
                        helps[name] = text_
                    else:
                        if name in types:
                            raise Error("second TYPE for %s" % name)
                        if len(parts) != 4 or parts[3] not in TYPES:
                            raise Error("bad TYPE line")
                        if any(s[0] == name for s in samples):
                            raise Error("TYPE of %s after its samples" % name)
                        types[name] = parts[3]
                continue
            if not line.strip():
                continue
            m = METRIC_NAME.match(line)
            if not m:
                raise Error("bad metric name")
            name = m.group(0)
            i = m.end()
            labels = {}
            if i < len(line) and line[i] == "{":
                labels, i = parse_labels(line, i)
            rest = line[i:]
            if not rest.startswith(" "):
                raise Error("expected a space before the value")
            fields = rest.strip(" ").split(" ")
            if len(fields) not in (1, 2):
                raise Error("expected a value and an optional timestamp")
            value = parse_value(fields[0])
            if len(fields) == 2 and not re.fullmatch(r"-?\d+", fields[1]):
                raise Error("bad timestamp %r" % fields[1])
            fam = family_of(name, types)
            if fam != current:
                if fam in done_families:
                    raise Error("samples of %s are not contiguous" % fam)
                if current is not None:
                    done_families.add(current)
                current = fam
            key = (name, tuple(sorted(labels.items())))
            if key in seen_series:
                raise Error("series %s%s twice" % (name, labels))
            seen_series.add(key)
            if types.get(fam) == "counter" and not value >= 0:
                raise Error("counter %s is %s" % (name, fields[0]))
            samples.append((fam, name, labels, value))
        except Error as e:
            errors.append("line %d: %s: %s" % (no, e, line))

    for fam in set(helps) | set(types) | {s[0] for s in samples}:
        if fam not in helps:
            errors.append("%s has no HELP" % fam)
        if fam not in types:
            errors.append("%s has no TYPE" % fam)
        if not fam.startswith("virtmcd_"):
            errors.append("%s does not start with virtmcd_" % fam)
        if types.get(fam) == "counter" and not fam.endswith("_total"):
            errors.append("counter %s does not end in _total" % fam)

    for fam, t in types.items():
        if t != "histogram":
            continue
        series = {}
        for f, name, labels, value in samples:
            if f != fam:
                continue
            rest = tuple(sorted((k, v) for k, v in labels.items() if k != "le"))
            s = series.setdefault(rest, {"buckets": [], "sum": None, "count": None})
            if name == fam + "_bucket":
                if "le" not in labels:
                    errors.append("%s bucket without le" % fam)
                    continue
                try:
                    s["buckets"].append((parse_value(labels["le"]), value))
                except Error as e:
                    errors.append("%s: le: %s" % (fam, e))
            elif name == fam + "_sum":
                s["sum"] = value
            elif name == fam + "_count":
                s["count"] = value
            else:
                errors.append("%s: stray sample %s" % (fam, name))
        for rest, s in series.items():
            b = s["buckets"]
            if [le for le, _ in b] != sorted(le for le, _ in b):
                errors.append("%s%s: buckets not in order of le" % (fam, dict(rest)))
            if any(b[k][1] > b[k + 1][1] for k in range(len(b) - 1)):
                errors.append("%s%s: bucket counts are not cumulative" % (fam, dict(rest)))
            if not b or b[-1][0] != math.inf:
                errors.append("%s%s: no +Inf bucket" % (fam, dict(rest)))
            elif s["count"] != b[-1][1]:
                errors.append("%s%s: _count is not the +Inf bucket" % (fam, dict(rest)))
            if s["sum"] is None:
                errors.append("%s%s: no _sum" % (fam, dict(rest)))
    return errors, samples


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding="utf-8") as f:
        text = f.read()
    errors, samples = check(text)
    if errors:
        for e in errors:
            print(e)
        return 1
    if len(sys.argv) == 2:
        print("ok %d samples" % len(samples))
        return 0
    name = sys.argv[2]
    want = dict(a.split("=", 1) for a in sys.argv[3:])
    total = sum(value for _, n, labels, value in samples
                if n == name and all(labels.get(k) == w for k, w in want.items()))
    print(int(total) if total == int(total) else total)
    return 0


if __name__ == "__main__":
    sys.exit(main())
