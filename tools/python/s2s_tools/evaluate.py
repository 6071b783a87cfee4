"""tools/eval - corpus BLEU, chrF2, ROUGE-1/2/L and copy rate for s2s outputs.

  tools/eval --metrics bleu,chrf,rouge,copy -r REF_FILE [-r REF2 ...] [-i HYP_FILE] [-s SRC_FILE]

The copy rate (needs the source lines, -s) is the share of the source's
numbers and names that the reference keeps which the hypothesis keeps too.

Reads the hypotheses from -i (or standard input), one segment per line, and
the references from each -r file (one reference stream per file, same number
of lines).  Prints each score with a sacreBLEU-like signature, or one JSON
object with --json.  Exit status: 0 on success, 2 on a usage or input error
(one line on standard error).  See docs/eval.md.
"""

import argparse
import io
import json
import os
import sys

from . import metrics as M

PROG = "eval"
METRICS = ("bleu", "chrf", "rouge", "copy")


class Fail(Exception):
    pass


class Parser(argparse.ArgumentParser):
    def error(self, message):
        raise Fail(message)


def parse_args(argv):
    p = Parser(prog=PROG, description="Corpus BLEU / chrF2 / ROUGE (sacreBLEU-compatible BLEU and chrF).")
    p.add_argument("-r", "--ref", action="append", metavar="REF_FILE",
                   help="reference file; repeat for several references")
    p.add_argument("-i", "--input", metavar="HYP_FILE",
                   help="hypothesis file (default or '-': standard input)")
    p.add_argument("-m", "--metrics", default="bleu,chrf",
                   help="comma-separated list of bleu, chrf, rouge, copy (default bleu,chrf)")
    p.add_argument("-s", "--source", metavar="SRC_FILE", help="source lines (for the copy rate)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("-lc", "--lowercase", action="store_true",
                   help="case-insensitive BLEU and chrF (signature case:lc)")
    p.add_argument("--rouge-tokenize", choices=("ascii", "unicode"), default="ascii",
                   help="ROUGE word characters: rouge-score's [a-z0-9] (default) or Unicode letters/digits")
    p.add_argument("--version", action="version", version="%s %s" % (PROG, M.VERSION))
    a = p.parse_args(argv)
    if not a.ref:
        raise Fail("no reference given (use -r REF_FILE)")
    names = [x.strip().lower() for x in a.metrics.split(",") if x.strip()]
    if not names:
        raise Fail("--metrics is empty")
    for n in names:
        if n not in METRICS:
            raise Fail("unknown metric %r (choose from %s)" % (n, ", ".join(METRICS)))
    a.metric_list = list(dict.fromkeys(names))
    if "copy" in a.metric_list and not a.source:
        raise Fail("the copy rate needs the source lines (use -s SRC_FILE)")
    return a


def load(path, what):
    try:
        if path == "-":
            if sys.stdin is None:
                raise Fail("cannot read %s from standard input: it is closed" % what)
            if sys.stdin.isatty():
                raise Fail("no %s: give -i FILE or pipe the text on standard input" % what)
            data = sys.stdin.buffer.read()
            name = "standard input"
        else:
            name = path
            with open(path, "rb") as f:
                data = f.read()
    except OSError as e:
        raise Fail("cannot read %s %s: %s" % (what, path, e.strerror or e))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise Fail("%s %s is not valid UTF-8 (line %d, byte offset %d)" % (what, name, line, e.start))
    return M.split_lines(text)


def run(argv):
    a = parse_args(argv)
    refs = [load(r, "reference") for r in a.ref]
    hyps = load(a.input or "-", "hypotheses")
    hyp_name = a.input if a.input and a.input != "-" else "standard input"
    for path, lines in zip(a.ref, refs):
        if len(lines) != len(hyps):
            raise Fail("line count mismatch: %s has %d lines, reference %s has %d"
                       % (hyp_name, len(hyps), path, len(lines)))
    if not hyps:
        raise Fail("nothing to score: the hypothesis and reference files are empty")
    sources = load(a.source, "source") if a.source else None
    if sources is not None and len(sources) != len(hyps):
        raise Fail("line count mismatch: %s has %d lines, source %s has %d"
                   % (hyp_name, len(hyps), a.source, len(sources)))

    results = {}
    empty = 0
    for name in a.metric_list:
        if name == "bleu":
            s = M.BLEU(refs, lowercase=a.lowercase)
        elif name == "chrf":
            s = M.CHRF(refs, lowercase=a.lowercase)
        elif name == "copy":
            s = M.CopyRate(refs, sources)
        else:
            s = M.ROUGE(refs, tokenize=a.rouge_tokenize)
        empty = s.empty_refs
        score = s.corpus_score(hyps)
        results[name] = (score, s.signature())
    if empty:
        print("%s: warning: %d segment(s) have only empty references (sacreBLEU would "
              "refuse them; scored against an empty reference)" % (PROG, empty), file=sys.stderr)

    if a.json:
        out = {"version": M.VERSION, "segments": len(hyps), "nrefs": len(refs),
               "empty_reference_segments": empty, "metrics": {}}
        for name, (score, sig) in results.items():
            d = score.as_dict()
            d["signature"] = sig
            d["text"] = score.format()
            if name == "chrf":
                d["name"] = score.name
            out["metrics"][name] = d
        print(json.dumps(out, indent=1, ensure_ascii=False))
    else:
        for name, (score, sig) in results.items():
            print(score.format())
            print("  signature: %s" % sig)
    return 0


def main(argv=None):
    try:
        code = run(sys.argv[1:] if argv is None else argv)
        sys.stdout.flush()
        return code
    except Fail as e:
        print("%s: error: %s" % (PROG, e), file=sys.stderr)
        return 2
    except BrokenPipeError:
        try:
            sys.stdout = io.TextIOWrapper(open(os.devnull, "wb"))
        except OSError:
            pass
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
