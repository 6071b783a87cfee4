"""dates_scores.py - scores a dates model on held-out sets with the C engine's
output and adds them to its config.json.

    PYTHONPATH=tools/python /usr/bin/python3 tools/recipes/dates_scores.py MODEL_DIR NAME TSV HYP [NAME TSV HYP ...]

TSV holds "human<TAB>YYYY-MM-DD" pairs and HYP the model's outputs, a line
each. For each set NAME, stores NAME_exact (share of outputs equal to
the reference) and NAME_not_a_date (outputs that are no real calendar
date of the model's range, such as 2021-02-30 or 0789-07-14). Prints them.
"""
import datetime
import json
import os
import sys

from s2s_tools import dates
from s2s_tools import reference as ref


def is_date(text):
    try:
        d = datetime.date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10 and dates.FIRST_YEAR <= d.year <= dates.LAST_YEAR


def score(tsv, hyp):
    with open(tsv, encoding="utf-8") as f:
        refs = [line.rstrip("\n").split("\t")[1] for line in f]
    with open(hyp, encoding="utf-8") as f:
        outs = [line.rstrip("\n") for line in f]
    if len(outs) != len(refs):
        raise SystemExit("%s: %d lines, %s has %d" % (hyp, len(outs), tsv, len(refs)))
    exact = sum(o == r for o, r in zip(outs, refs)) / len(refs)
    return round(exact, 4), sum(not is_date(o) for o in outs)


def main(argv):
    model_dir, rest = argv[0], argv[1:]
    if not rest or len(rest) % 3:
        raise SystemExit(__doc__.strip().splitlines()[2])
    path = os.path.join(model_dir, "config.json")
    with open(path, encoding="utf-8") as f:
        cfg = json.load(f)
    sc = cfg.setdefault("scores", {})
    for i in range(0, len(rest), 3):
        name, tsv, hyp = rest[i:i + 3]
        sc["%s_exact" % name], sc["%s_not_a_date" % name] = score(tsv, hyp)
        sc["%s_pairs" % name] = sum(1 for _ in open(tsv, encoding="utf-8"))
    ref.write_config(path, cfg)
    print(json.dumps(sc, indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
