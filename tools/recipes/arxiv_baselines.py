"""arxiv_baselines.py - ROUGE-1/2/L F1 of two extractive baselines on the
arxiv-titles test set, stored in the model's config.json next to its own
scores (keys test_baseline_*):

  - first10: the first 10 words of the abstract;
  - first_sentence_<N>w: its first sentence cut to N words, N the average
    training title length.

    PYTHONPATH=tools/python /usr/bin/python3 tools/recipes/arxiv_baselines.py DATA_DIR MODEL_DIR

Prints the scores.
"""
import json
import os
import re
import sys

from s2s_tools import metrics
from s2s_tools import reference as ref


def pairs(data, name):
    with open(os.path.join(data, name), encoding="utf-8") as f:
        return [line.rstrip("\n").split("\t")[:2] for line in f if "\t" in line]


def first_sentence(s):
    m = re.search(r"[.!?](\s|$)", s)
    return s[:m.end()].strip() if m else s


def main(argv):
    data, out = argv
    train, test = pairs(data, "train.tsv"), pairs(data, "test.tsv")
    avg = round(sum(len(t.split()) for _, t in train) / len(train))
    refs = [t for _, t in test]
    first10 = [" ".join(s.split()[:10]) for s, _ in test]
    firstsent = [" ".join(first_sentence(s).split()[:avg]) for s, _ in test]
    path = os.path.join(out, "config.json")
    with open(path, encoding="utf-8") as f:
        cfg = json.load(f)
    sc = cfg.setdefault("scores", {})
    for name, hyps in (("baseline_first10", first10), ("baseline_first_sentence_%dw" % avg, firstsent)):
        r = metrics.corpus_rouge(hyps, [refs])
        for k in r.KINDS:
            sc["test_%s_%s" % (name, k)] = round(r.values[k][2], 2)
    ref.write_config(path, cfg)
    print(json.dumps(sc, indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
