"""tatoeba_defaults.py - picks the `s2s translate` defaults of a Tatoeba
translation model on its validation pairs and stores them in its config.json
"decoding" (beam_size, length_penalty, keep_numbers).

    PYTHONPATH=tools/python /usr/bin/python3 tools/recipes/tatoeba_defaults.py MODEL_DIR fra-eng|eng-fra
        --valid VALID.tsv --numbers-valid NUMBERS.tsv [--s2s build/s2s] [--work DIR]

VALID.tsv holds the held-out validation pairs (augment.py --valid-out) and
NUMBERS.tsv their number variants (augment.py --numbers-valid-out). Every
setting of the grid below translates both, as the command does by default
(sentence by sentence, ALL CAPS and Title Case handled). The setting with the
best BLEU on VALID.tsv wins; among those within 0.2 BLEU of it, the one that
copies the most numbers of NUMBERS.tsv (then the higher BLEU, then the
earlier in the grid). The test set is never read. The grid's scores go to
WORK/defaults.json; prints them and the choice.
"""
import argparse
import json
import os
import subprocess
import sys

from s2s_tools import metrics
from s2s_tools import reference as ref

# (beam, length penalty, keep numbers), greedy first
GRID = [(1, 0.0, False), (1, 0.0, True), (5, 0.0, False), (5, 0.0, True), (5, 1.0, False), (5, 1.0, True)]
BLEU_MARGIN = 0.2


def read_pairs(path, s, t):
    with open(path, encoding="utf-8") as f:
        pairs = [line.rstrip("\n").split("\t") for line in f if "\t" in line]
    return [p[s] for p in pairs], [p[t] for p in pairs]


def options(beam, lp, keep):
    """The command-line options of one setting, whatever the config says."""
    return ["--beam", str(beam), "--length-penalty", "%g" % lp, "--min-length", "0", "--no-repeat-ngram", "0",
            "--coverage-penalty", "0", "--keep-numbers" if keep else "--no-keep-numbers"]


def translate(s2s, model, sources, opts):
    cmd = [s2s, "translate", "-m", model, "-q", "--threads", "2"] + opts
    r = subprocess.run(cmd, input="".join(x + "\n" for x in sources).encode("utf-8"), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    if r.returncode != 0:
        raise SystemExit("tatoeba_defaults: %s failed: %s" % (" ".join(cmd), r.stderr.decode("utf-8", "replace")))
    out = r.stdout.decode("utf-8").split("\n")[:len(sources)]
    if len(out) != len(sources):
        raise SystemExit("tatoeba_defaults: %d output lines for %d inputs" % (len(out), len(sources)))
    return out


def pick(rows):
    """The chosen row of the grid (see the module's docstring)."""
    best = max(r["valid_bleu"] for r in rows)
    close = [r for r in rows if r["valid_bleu"] >= best - BLEU_MARGIN]
    return max(close, key=lambda r: (r["valid_numbers_copy"], r["valid_bleu"], -rows.index(r)))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("direction", choices=["fra-eng", "eng-fra"])
    ap.add_argument("--valid", required=True)
    ap.add_argument("--numbers-valid", required=True)
    ap.add_argument("--s2s", default="build/s2s")
    ap.add_argument("--work", default=None, help="where the grid's scores go (default work-tmp/<direction>)")
    a = ap.parse_args(argv)
    s, t = (1, 0) if a.direction == "fra-eng" else (0, 1)
    valid_src, valid_ref = read_pairs(a.valid, s, t)
    num_src, num_ref = read_pairs(a.numbers_valid, s, t)
    copy_rate = metrics.CopyRate([num_ref], num_src)
    rows = []
    for beam, lp, keep in GRID:
        opts = options(beam, lp, keep)
        bleu = metrics.corpus_bleu(translate(a.s2s, a.model, valid_src, opts), [valid_ref]).score
        copy = copy_rate.corpus_score(translate(a.s2s, a.model, num_src, opts)).as_dict()
        rows.append({"beam_size": beam, "length_penalty": lp, "keep_numbers": keep,
                     "valid_bleu": round(bleu, 2), "valid_numbers_copy": round(copy["numbers"], 1),
                     "valid_numbers_of": copy["numbers_in_reference"]})
        print("%-40s valid BLEU %6.2f  numbers copied %5.1f%% of %d" % (
            " ".join(opts), bleu, copy["numbers"], copy["numbers_in_reference"]), file=sys.stderr)
    choice = pick(rows)
    work = a.work or os.path.join("work-tmp", a.direction)
    os.makedirs(work, exist_ok=True)
    with open(os.path.join(work, "defaults.json"), "w", encoding="utf-8") as f:
        json.dump({"grid": rows, "choice": choice}, f, indent=1)
    path = os.path.join(a.model, "config.json")
    with open(path, encoding="utf-8") as f:
        cfg = json.load(f)
    dec = cfg.setdefault("decoding", {})
    for key in ("beam_size", "length_penalty", "keep_numbers"):
        dec.pop(key, None)
    if choice["beam_size"] > 1:
        dec["beam_size"] = choice["beam_size"]
        dec["length_penalty"] = choice["length_penalty"]
    if choice["keep_numbers"]:
        dec["keep_numbers"] = True
    sc = cfg.setdefault("scores", {})
    sc["defaults_chosen_on"] = ("%s (BLEU, %d pairs) and %s (numbers copied, %d pairs); "
                                "tools/recipes/tatoeba_defaults.py" % (
                                    os.path.basename(a.valid), len(valid_src), os.path.basename(a.numbers_valid),
                                    len(num_src)))
    sc["valid_defaults_bleu"] = choice["valid_bleu"]
    sc["valid_greedy_bleu"] = rows[0]["valid_bleu"]
    ref.write_config(path, cfg)
    print(json.dumps({"decoding": dec, "choice": choice}, indent=1))


if __name__ == "__main__":
    main()
