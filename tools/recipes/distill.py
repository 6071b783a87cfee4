#!/usr/bin/python3
"""Sequence-level distillation data (Kim and Rush 2016): a model's own beam
search output on the training sources, as extra training pairs, so that the
greedy decoding of the model trained on them comes closer to beam search.

    tools/recipes/distill.py MODEL_DIR CORPUS.tsv OUT.tsv --src-col S --tgt-col T
        [--exclude VALID.tsv] [--s2s build/s2s] [--beam 5] [--length-penalty 1]
        [--min-chrf 50] [--threads 2]

Every pair of CORPUS.tsv that is not a line of --exclude (the validation
pairs) is translated by `s2s translate` (f32, --case off). A pair is written
to OUT.tsv, with its target column replaced by the translation, when the
translation
  - differs from the reference (an equal one would only repeat the pair),
  - keeps every source number and capitalized word that the reference keeps
    (s2s_tools.metrics.CopyRate), so no name or number is taught to be
    dropped,
  - has between half and twice the reference's word count,
  - is close to the reference: sentence chrF2 at least --min-chrf (50 keeps
    rewordings such as "I would like to know how to make more money" for "I
    wish I could figure out how to make more money" and leaves out the
    model's mistranslations of idioms and rare words, most of which score
    under 40).
The other columns are kept. The last line printed counts the pairs each rule
left out.
"""
import argparse
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from s2s_tools.metrics import CopyRate, corpus_chrf  # noqa: E402


def read_pairs(path):
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n").split("\t") for line in f if line.strip()]


def translate(s2s, model, sources, beam, length_penalty, threads):
    """The translations of `sources` (one per line, in order) by s2s translate."""
    cmd = [s2s, "translate", "-m", model, "--beam", str(beam), "--length-penalty", str(length_penalty),
           "--threads", str(threads), "--case", "off", "--lenient", "--quiet"]
    text = "".join(s.replace("\n", " ") + "\n" for s in sources)
    out = subprocess.run(cmd, input=text, capture_output=True, text=True, encoding="utf-8")
    lines = out.stdout.split("\n")[:-1]
    if len(lines) != len(sources):
        raise SystemExit("distill.py: %s gave %d lines for %d sources (exit %d): %s"
                         % (s2s, len(lines), len(sources), out.returncode, out.stderr.strip()[:300]))
    return lines


def rejection(source, reference, hyp, min_chrf):
    """Why (src, hyp) is not a useful distilled pair, or None when it is."""
    if hyp == reference:
        return "same"
    copy = CopyRate([[reference]], [source]).corpus_score([hyp])
    if copy.numbers[0] < copy.numbers[1] or copy.names[0] < copy.names[1]:
        return "copy"
    n_hyp, n_ref = len(hyp.split()), len(reference.split())
    if not (n_ref <= 2 * n_hyp and n_hyp <= 2 * n_ref):
        return "length"
    if corpus_chrf([hyp], [reference]).score < min_chrf:
        return "far"
    return None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model")
    ap.add_argument("corpus")
    ap.add_argument("out")
    ap.add_argument("--src-col", type=int, required=True)
    ap.add_argument("--tgt-col", type=int, required=True)
    ap.add_argument("--exclude", help="TSV of pairs left out (the validation pairs)")
    ap.add_argument("--s2s", default="build/s2s")
    ap.add_argument("--beam", type=int, default=5)
    ap.add_argument("--length-penalty", type=float, default=1.0)
    ap.add_argument("--min-chrf", type=float, default=50.0,
                    help="least sentence chrF2 of a translation against its reference")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args(argv)
    held = {"\t".join(p) for p in read_pairs(a.exclude)} if a.exclude else set()
    pairs = [p for p in read_pairs(a.corpus)
             if len(p) > max(a.src_col, a.tgt_col) and "\t".join(p) not in held]
    hyps = translate(a.s2s, a.model, [p[a.src_col] for p in pairs], a.beam, a.length_penalty, a.threads)
    left_out = {"same": 0, "copy": 0, "length": 0, "far": 0}
    written = 0
    with open(a.out, "w", encoding="utf-8") as f:
        for p, hyp in zip(pairs, hyps):
            hyp = hyp.strip()
            why = rejection(p[a.src_col], p[a.tgt_col], hyp, a.min_chrf)
            if why:
                left_out[why] += 1
                continue
            cols = list(p)
            cols[a.tgt_col] = hyp
            f.write("\t".join(cols) + "\n")
            written += 1
    print("%d pairs translated (beam %d, length penalty %g), %d written to %s; left out: %s"
          % (len(pairs), a.beam, a.length_penalty, written, a.out,
             ", ".join("%s %d" % kv for kv in left_out.items())))


if __name__ == "__main__":
    main()
