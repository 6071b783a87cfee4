#!/usr/bin/python3
"""Tests for tools/recipes/distill.py, the distillation data of the Tatoeba
recipes: which translations it keeps as training pairs (each rule on a
hand-written pair), that validation pairs are never translated, that the
other columns are kept, and that a translation command giving too few lines
stops it with a message. A stand-in for `s2s translate` gives the
translations, so the rules are tested on exactly the text they see. Prints
"N passed, M failed" and exits 1 on any failure.
"""

import json
import os
import subprocess
import sys

import harness as H
from harness import case

DISTILL = os.path.join(H.TOOLS, "recipes", "distill.py")
WORK = H.tempdir("distill")

# (English, French, attribution), and the stand-in's English for the French
PAIRS = [
    (("I am cold.", "J'ai froid.", "a1"), "I am cold."),                             # same as the reference
    (("Tom left at 5.", "Tom est parti à 5 heures.", "a2"), "Tom left at five."),    # loses the number
    (("I see Mary.", "Je vois Mary.", "a3"), "I see her."),                          # loses the name
    (("Go.", "Va !", "a4"), "Go away from here now, right now, please."),            # four times as long
    (("Basset hounds are gentle dogs.", "Les bassets sont des chiens tranquilles.", "a5"),
     "The bottoms are dogs."),                                                      # far from the reference
    (("She went with him to the zoo.", "Elle se rendit au zoo avec lui.", "a6"),
     "She went to the zoo with him."),                                              # kept
    (("We won in 1998.", "Nous avons gagné en 1998.", "a7"), "We have won in 1998."),  # kept
]
HELD_OUT = ("It is late.", "Il est tard.", "a8")

def write_stand_in(name, drop_last=False):
    """An executable that answers `s2s translate ... --case off` from the
    table above and records the lines it was given."""
    table = {fr: en for (_, fr, _), en in PAIRS}
    path = os.path.join(WORK.name, name)
    seen = os.path.join(WORK.name, name + ".seen")
    with open(path, "w", encoding="utf-8") as f:
        f.write("#!%s\n" % sys.executable)
        f.write("import json, sys\n")
        f.write("assert sys.argv[1] == 'translate' and '--case' in sys.argv, sys.argv\n")
        f.write("table = json.loads(%r)\n" % json.dumps(table))
        f.write("lines = sys.stdin.read().split('\\n')[:-1]\n")
        f.write("open(%r, 'w', encoding='utf-8').write(json.dumps([lines, sys.argv[1:]]))\n" % seen)
        f.write("out = [table.get(x, 'unknown') for x in lines]\n")
        if drop_last:
            f.write("out = out[:-1]\n")
        f.write("sys.stdout.write(''.join(x + '\\n' for x in out))\n")
    os.chmod(path, 0o755)
    return path, seen


def distill(name, *options, drop_last=False):
    corpus = os.path.join(WORK.name, "corpus.tsv")
    valid = os.path.join(WORK.name, "valid.tsv")
    with open(corpus, "w", encoding="utf-8") as f:
        for cols, _ in PAIRS[:3]:
            f.write("\t".join(cols) + "\n")
        f.write("\t".join(HELD_OUT) + "\n")
        for cols, _ in PAIRS[3:]:
            f.write("\t".join(cols) + "\n")
    with open(valid, "w", encoding="utf-8") as f:
        f.write("\t".join(HELD_OUT) + "\n")
    s2s, seen = write_stand_in(name + ".s2s", drop_last)
    out = os.path.join(WORK.name, name + ".tsv")
    r = subprocess.run([sys.executable, DISTILL, "models/none", corpus, out, "--src-col", "1", "--tgt-col", "0",
                        "--exclude", valid, "--s2s", s2s] + list(options), capture_output=True, text=True)
    rows = None
    if os.path.exists(out):
        with open(out, encoding="utf-8") as f:
            rows = [tuple(line.rstrip("\n").split("\t")) for line in f]
    return r, rows, seen


@case
def test_keeps_only_close_translations_that_copy():
    r, rows, _ = distill("rules")
    assert r.returncode == 0, r.stderr
    want = [("She went to the zoo with him.", "Elle se rendit au zoo avec lui.", "a6"),
            ("We have won in 1998.", "Nous avons gagné en 1998.", "a7")]
    assert rows == want, rows
    assert "7 pairs translated" in r.stdout and "2 written" in r.stdout, r.stdout
    assert "left out: same 1, copy 2, length 1, far 1" in r.stdout, r.stdout


@case
def test_min_chrf_zero_keeps_the_far_one():
    r, rows, _ = distill("nofar", "--min-chrf", "0")
    assert r.returncode == 0, r.stderr
    assert ("The bottoms are dogs.", "Les bassets sont des chiens tranquilles.", "a5") in rows, rows
    assert len(rows) == 3 and "far 0" in r.stdout, (rows, r.stdout)


@case
def test_validation_pairs_are_not_translated():
    _, _, seen = distill("held")
    with open(seen, encoding="utf-8") as f:
        lines, argv = json.load(f)
    assert lines == [cols[1] for cols, _ in PAIRS], lines
    for flag, value in (("--beam", "5"), ("--length-penalty", "1.0"), ("--case", "off")):
        assert argv[argv.index(flag) + 1] == value, argv


@case
def test_missing_lines_stop_it():
    r, _, _ = distill("short", drop_last=True)
    assert r.returncode != 0, r.stdout
    assert "gave 6 lines for 7 sources" in r.stderr, r.stderr


WORK.cleanup()
H.finish()
