"""arxiv_defaults.py - picks the `s2s summarize` defaults of a summarization
model on its validation set, stores them in its config.json "decoding", and
scores the test set with them.

    PYTHONPATH=tools/python /usr/bin/python3 tools/recipes/arxiv_defaults.py DATA_DIR MODEL_DIR [--s2s build/s2s]
        [--valid-lines 500] [--work work-tmp/arxiv-title]

Every combination of length penalty, n-gram blocking, coverage penalty and
minimum length below (beam 4) summarizes the first --valid-lines abstracts of
DATA_DIR/valid.tsv; the one with the best ROUGE-L F1 (then ROUGE-2, then the
earlier in the grid) becomes the default. The test set (DATA_DIR/test.tsv)
is only scored afterwards, with the chosen defaults: keys
test_summarize_rouge1/rouge2/rougeL, plus valid_summarize_*; the whole grid
goes to WORK/defaults.json. Prints the choice and the scores.
"""
import argparse
import itertools
import json
import os
import subprocess
import sys

from s2s_tools import metrics
from s2s_tools import reference as ref

BEAM = 4
LENGTH_PENALTIES = [0.6, 1.0, 1.5]
NO_REPEAT = [0, 2, 3]
COVERAGE_PENALTIES = [0.0, 0.3]
MIN_LENGTHS = [0]


def pairs(path, n=None):
    with open(path, encoding="utf-8") as f:
        out = [line.rstrip("\n").split("\t")[:2] for line in f if "\t" in line]
    return out[:n] if n else out


def summarize(s2s, model, sources, opts):
    text = "".join(s.replace("\r", " ") + "\n" for s in sources)
    cmd = [s2s, "summarize", "-m", model, "-q", "--threads", "2"] + opts
    r = subprocess.run(cmd, input=text.encode("utf-8"), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode != 0:
        raise SystemExit("arxiv_defaults: %s failed: %s" % (" ".join(cmd), r.stderr.decode("utf-8", "replace")))
    return r.stdout.decode("utf-8").split("\n")[:len(sources)]


def rouge(hyps, refs):
    r = metrics.corpus_rouge(hyps, [refs])
    return {k: round(r.values[k][2], 2) for k in r.KINDS}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data")
    ap.add_argument("model")
    ap.add_argument("--s2s", default="build/s2s")
    ap.add_argument("--valid-lines", type=int, default=500)
    ap.add_argument("--work", default="work-tmp/arxiv-title", help="where the grid's scores go")
    a = ap.parse_args(argv)
    valid = pairs(os.path.join(a.data, "valid.tsv"), a.valid_lines)
    grid = []
    for lp, nr, cp, ml in itertools.product(LENGTH_PENALTIES, NO_REPEAT, COVERAGE_PENALTIES, MIN_LENGTHS):
        opts = ["--beam", str(BEAM), "--length-penalty", str(lp), "--no-repeat-ngram", str(nr),
                "--coverage-penalty", str(cp), "--min-length", str(ml)]
        r = rouge(summarize(a.s2s, a.model, [s for s, _ in valid], opts), [t for _, t in valid])
        grid.append({"length_penalty": lp, "no_repeat_ngram": nr, "coverage_penalty": cp, "min_length": ml,
                     "valid": r})
        print("lp %.1f no-repeat %d coverage %.1f min %d: ROUGE-1/2/L %.2f / %.2f / %.2f"
              % (lp, nr, cp, ml, r["rouge1"], r["rouge2"], r["rougeL"]), file=sys.stderr)
    best = max(enumerate(grid), key=lambda ig: (ig[1]["valid"]["rougeL"], ig[1]["valid"]["rouge2"], -ig[0]))[1]
    path = os.path.join(a.model, "config.json")
    with open(path, encoding="utf-8") as f:
        cfg = json.load(f)
    dec = cfg.setdefault("decoding", {})
    dec.update(beam_size=BEAM, length_penalty=best["length_penalty"], no_repeat_ngram=best["no_repeat_ngram"],
               coverage_penalty=best["coverage_penalty"], min_length=best["min_length"])
    ref.write_config(path, cfg)
    test = pairs(os.path.join(a.data, "test.tsv"))
    r = rouge(summarize(a.s2s, a.model, [s for s, _ in test], []), [t for _, t in test])
    sc = cfg.setdefault("scores", {})
    for k, v in best["valid"].items():
        sc["valid_summarize_%s" % k] = v
    for k, v in r.items():
        sc["test_summarize_%s" % k] = v
    sc["summarize_defaults"] = ("s2s summarize with config decoding (picked on %d valid abstracts by "
                                "tools/recipes/arxiv_defaults.py)" % len(valid))
    ref.write_config(path, cfg)
    os.makedirs(a.work, exist_ok=True)
    with open(os.path.join(a.work, "defaults.json"), "w") as f:
        json.dump({"chosen": best, "grid": grid, "test": r}, f, indent=1)
    print(json.dumps({"decoding": dec, "test": r}, indent=1))


if __name__ == "__main__":
    main()
