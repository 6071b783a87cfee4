"""check_stream.py OUT ERR N FORMAT: checks a run of N input lines under
memory pressure: exactly N output lines, and every line that came out empty
(text) or as an error object (jsonl) has a message "line K:" on stderr.
Prints what is wrong and exits 1, else prints a summary."""
import json
import re
import sys

out_path, err_path, n, fmt = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
out = open(out_path, "rb").read().decode("utf-8", "replace").split("\n")
assert out[-1] == "", "output does not end with a newline"
out = out[:-1]
msgs = set()
for line in open(err_path, encoding="utf-8", errors="replace"):
    m = re.match(r"s2s \w+: line (\d+): ", line)
    if m and ": warning:" not in line:
        msgs.add(int(m.group(1)))
problems = []
if len(out) != n:
    problems.append("%d output lines for %d input lines" % (len(out), n))
failed = 0
for k, line in enumerate(out, 1):
    if fmt == "jsonl":
        try:
            obj = json.loads(line)
        except ValueError:
            problems.append("line %d is not JSON: %r" % (k, line[:80]))
            continue
        if obj.get("id") != k - 1:
            problems.append("line %d has id %r" % (k, obj.get("id")))
        bad = "error" in obj
        if not bad and not obj.get("hypotheses"):
            problems.append("line %d has neither hypotheses nor error" % k)
    else:
        bad = line == ""
    failed += bad
    if bad and k not in msgs:
        problems.append("line %d is empty/an error without a message" % k)
for p in problems[:10]:
    print(p)
print("%d lines, %d failed in place, %d messages" % (len(out), failed, len(msgs)))
sys.exit(1 if problems else 0)
