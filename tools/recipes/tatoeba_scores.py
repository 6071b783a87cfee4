"""tatoeba_scores.py - scores a Tatoeba translation model on the test set
with the C engine, the way a user runs it, and stores the results in its
config.json "scores":

  - greedy and beam 5 (GNMT length penalty 1), exact (F32): BLEU, chrF2 and
    the copy rate of numbers and of names (tools/eval -m copy);
  - the same with --compute int8 and the model's lexical shortlist, and
    greedy int8 without the shortlist: the fast mode's cost.

    PYTHONPATH=tools/python /usr/bin/python3 tools/recipes/tatoeba_scores.py MODEL_DIR fra-eng|eng-fra
        [--test ../shared/data/tatoeba-eng-fra/test.tsv] [--s2s build/s2s] [--work DIR]

Lines are translated as the command does by default (a line of several
sentences sentence by sentence, ALL CAPS and Title Case lines in the case
the model knows). Prints a table.
"""
import argparse
import json
import os
import subprocess
import sys

from s2s_tools import metrics
from s2s_tools import reference as ref

RUNS = [("greedy", []), ("beam5_lp1", ["--beam", "5", "--length-penalty", "1"]),
        ("int8_greedy", ["--compute", "int8"]), ("int8_beam5_lp1", ["--compute", "int8", "--beam", "5",
                                                                     "--length-penalty", "1"]),
        ("int8_noshortlist_greedy", ["--compute", "int8", "--no-shortlist"])]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("direction", choices=["fra-eng", "eng-fra"])
    ap.add_argument("--test", default="../shared/data/tatoeba-eng-fra/test.tsv")
    ap.add_argument("--s2s", default="build/s2s")
    ap.add_argument("--work", default=None, help="where outputs go (default work-tmp/<direction>)")
    a = ap.parse_args(argv)
    work = a.work or os.path.join("work-tmp", a.direction)
    os.makedirs(work, exist_ok=True)
    s, t = (1, 0) if a.direction == "fra-eng" else (0, 1)
    with open(a.test, encoding="utf-8") as f:
        pairs = [line.rstrip("\n").split("\t") for line in f if "\t" in line]
    src = [p[s] for p in pairs]
    refs = [p[t] for p in pairs]
    src_path = os.path.join(work, "test.src")
    with open(src_path, "w", encoding="utf-8") as f:
        f.write("\n".join(src) + "\n")
    path = os.path.join(a.model, "config.json")
    with open(path, encoding="utf-8") as f:
        cfg = json.load(f)
    sc = cfg.setdefault("scores", {})
    rows = []
    for name, opts in RUNS:
        out = os.path.join(work, "test.%s.hyp" % name)
        cmd = [a.s2s, "translate", "-m", a.model, "-q", "--threads", "2", "-i", src_path, "-o", out] + opts
        r = subprocess.run(cmd, stderr=subprocess.PIPE)
        if r.returncode != 0:
            raise SystemExit("tatoeba_scores: %s failed: %s" % (" ".join(cmd), r.stderr.decode()[-500:]))
        with open(out, encoding="utf-8") as f:
            hyps = f.read().split("\n")[:len(src)]
        bleu = metrics.corpus_bleu(hyps, [refs]).score
        chrf = metrics.corpus_chrf(hyps, [refs]).score
        copy = metrics.CopyRate([refs], src).corpus_score(hyps).as_dict()
        row = {"bleu": round(bleu, 2), "chrf": round(chrf, 2), "copy_numbers": round(copy["numbers"], 1),
               "copy_numbers_of": copy["numbers_in_reference"], "copy_names": round(copy["names"], 1),
               "copy_names_of": copy["names_in_reference"]}
        for k, v in row.items():
            sc["test_%s_%s" % (name, k)] = v
        rows.append((name, row))
        print("%-24s BLEU %6.2f  chrF %6.2f  numbers %5.1f%% of %d  names %5.1f%% of %d" % (
            name, row["bleu"], row["chrf"], row["copy_numbers"], row["copy_numbers_of"], row["copy_names"],
            row["copy_names_of"]), file=sys.stderr)
    sc["test_runs"] = ("s2s translate [options] on %s (%d pairs), the command's defaults otherwise; "
                       "tools/recipes/tatoeba_scores.py" % (os.path.basename(a.test), len(src)))
    ref.write_config(path, cfg)
    print(json.dumps(dict(rows), indent=1))


if __name__ == "__main__":
    main()
