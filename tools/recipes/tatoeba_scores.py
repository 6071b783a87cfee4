"""tatoeba_scores.py - scores a Tatoeba translation model on the test set
with the C engine, the way a user runs it, and stores the results in its
config.json "scores":

  - with the model's decoding defaults (its config "decoding", as `s2s
    translate` uses them), greedy, and beam 5 (GNMT length penalty 1, no
    --keep-numbers), exact (F32): BLEU, chrF2 and the copy rate of numbers
    and of names (tools/eval -m copy);
  - the same with --compute int8 and the model's lexical shortlist, and
    greedy int8 without the shortlist: the fast mode's cost;
  - with --numbers-valid (augment.py --numbers-valid-out: number variants
    of validation pairs), the copy rate of numbers there, with the
    defaults, greedy and beam 5: how well numbers come through in sentences
    like the training data;
  - with --long-valid (augment.py --long-valid-out: paragraphs of three or
    four validation pairs), BLEU and chrF2 there, with the defaults, greedy
    and beam 5, each line translated whole (--no-split-sentences): how the
    model copes with long input, on held-out data.

    PYTHONPATH=tools/python /usr/bin/python3 tools/recipes/tatoeba_scores.py MODEL_DIR fra-eng|eng-fra
        [--test ../shared/data/tatoeba-eng-fra/test.tsv] [--numbers-valid FILE] [--long-valid FILE]
        [--s2s build/s2s] [--work DIR] [--valid-only]

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

# Each run spells out its search, whatever the model's config "decoding"
# defaults say, except "defaults": the command as a user runs it.
GREEDY = ["--beam", "1", "--length-penalty", "0", "--no-keep-numbers"]
BEAM5 = ["--beam", "5", "--length-penalty", "1", "--no-keep-numbers"]
RUNS = [("defaults", []), ("greedy", GREEDY), ("beam5_lp1", BEAM5),
        ("int8_greedy", ["--compute", "int8"] + GREEDY), ("int8_beam5_lp1", ["--compute", "int8"] + BEAM5),
        ("int8_noshortlist_greedy", ["--compute", "int8", "--no-shortlist"] + GREEDY)]
VALID_RUNS = RUNS[:3]


def read_pairs(path, s, t, src_path):
    """(sources, references, src_path) of a TSV of pairs; the sources are
    also written to src_path, one per line."""
    with open(path, encoding="utf-8") as f:
        pairs = [line.rstrip("\n").split("\t") for line in f if "\t" in line]
    src = [p[s] for p in pairs]
    with open(src_path, "w", encoding="utf-8") as f:
        f.write("\n".join(src) + "\n")
    return src, [p[t] for p in pairs], src_path


def translate(a, src_path, out, opts, count):
    """The `count` lines s2s translate writes for src_path (into out)."""
    cmd = [a.s2s, "translate", "-m", a.model, "-q", "--threads", "2", "-i", src_path, "-o", out] + opts
    r = subprocess.run(cmd, stderr=subprocess.PIPE)
    if r.returncode != 0:
        raise SystemExit("tatoeba_scores: %s failed: %s" % (" ".join(cmd), r.stderr.decode()[-500:]))
    with open(out, encoding="utf-8") as f:
        return f.read().split("\n")[:count]


def score_test(a, work, s, t, sc):
    """Every run of RUNS on the test set, into sc; returns [(run, row)]."""
    src, refs, src_path = read_pairs(a.test, s, t, os.path.join(work, "test.src"))
    copy_rate = metrics.CopyRate([refs], src)
    rows = []
    for name, opts in RUNS:
        hyps = translate(a, src_path, os.path.join(work, "test.%s.hyp" % name), opts, len(src))
        bleu = metrics.corpus_bleu(hyps, [refs]).score
        chrf = metrics.corpus_chrf(hyps, [refs]).score
        copy = copy_rate.corpus_score(hyps).as_dict()
        row = {"bleu": round(bleu, 2), "chrf": round(chrf, 2), "copy_numbers": round(copy["numbers"], 1),
               "copy_numbers_of": copy["numbers_in_reference"], "copy_names": round(copy["names"], 1),
               "copy_names_of": copy["names_in_reference"]}
        for k, v in row.items():
            sc["test_%s_%s" % (name, k)] = v
        rows.append((name, row))
        print("%-24s BLEU %6.2f  chrF %6.2f  numbers %5.1f%% of %d  names %5.1f%% of %d" % (
            name, row["bleu"], row["chrf"], row["copy_numbers"], row["copy_numbers_of"], row["copy_names"],
            row["copy_names_of"]), file=sys.stderr)
    sc["test_runs"] = ("s2s translate [options] on %s (%d pairs), the command's defaults otherwise "
                       "(defaults: none, the model's config \"decoding\"); tools/recipes/tatoeba_scores.py"
                       % (os.path.basename(a.test), len(src)))
    return rows


def score_numbers_valid(a, work, s, t, sc):
    """The copy rate of numbers on the validation pairs given numbers, with
    the model's defaults, greedy and beam 5, into sc."""
    src, refs, src_path = read_pairs(a.numbers_valid, s, t, os.path.join(work, "valid-numbers.src"))
    copy_rate = metrics.CopyRate([refs], src)
    for name, opts in VALID_RUNS:
        hyps = translate(a, src_path, os.path.join(work, "valid-numbers.%s.hyp" % name), opts, len(src))
        copy = copy_rate.corpus_score(hyps).as_dict()
        sc["valid_numbers_%s_copy_numbers" % name] = round(copy["numbers"], 1)
        sc["valid_numbers_%s_copy_numbers_of" % name] = copy["numbers_in_reference"]
        print("%-24s numbers %5.1f%% of %d (validation pairs with numbers)" % (
            name, copy["numbers"], copy["numbers_in_reference"]), file=sys.stderr)


def score_long_valid(a, work, s, t, sc):
    """BLEU and chrF2 on the paragraphs of validation pairs, each line read
    whole, with the model's defaults, greedy and beam 5, into sc."""
    src, refs, src_path = read_pairs(a.long_valid, s, t, os.path.join(work, "valid-long.src"))
    for name, opts in VALID_RUNS:
        hyps = translate(a, src_path, os.path.join(work, "valid-long.%s.hyp" % name),
                         opts + ["--no-split-sentences"], len(src))
        bleu = metrics.corpus_bleu(hyps, [refs]).score
        chrf = metrics.corpus_chrf(hyps, [refs]).score
        sc["valid_long_%s_bleu" % name] = round(bleu, 2)
        sc["valid_long_%s_chrf" % name] = round(chrf, 2)
        print("%-24s BLEU %6.2f  chrF %6.2f (paragraphs of validation pairs, %d lines)" % (
            name, bleu, chrf, len(src)), file=sys.stderr)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("direction", choices=["fra-eng", "eng-fra"])
    ap.add_argument("--test", default="../shared/data/tatoeba-eng-fra/test.tsv")
    ap.add_argument("--numbers-valid", help="TSV of validation pairs with numbers (augment.py --numbers-valid-out)")
    ap.add_argument("--long-valid", help="TSV of paragraphs of validation pairs (augment.py --long-valid-out)")
    ap.add_argument("--valid-only", action="store_true", help="score the validation sets only, not the test")
    ap.add_argument("--s2s", default="build/s2s")
    ap.add_argument("--work", default=None, help="where outputs go (default work-tmp/<direction>)")
    a = ap.parse_args(argv)
    work = a.work or os.path.join("work-tmp", a.direction)
    os.makedirs(work, exist_ok=True)
    s, t = (1, 0) if a.direction == "fra-eng" else (0, 1)
    path = os.path.join(a.model, "config.json")
    with open(path, encoding="utf-8") as f:
        cfg = json.load(f)
    sc = cfg.setdefault("scores", {})
    rows = [] if a.valid_only else score_test(a, work, s, t, sc)
    if a.numbers_valid:
        score_numbers_valid(a, work, s, t, sc)
    if a.long_valid:
        score_long_valid(a, work, s, t, sc)
    ref.write_config(path, cfg)
    print(json.dumps(dict(rows), indent=1))


if __name__ == "__main__":
    main()
