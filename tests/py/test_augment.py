#!/usr/bin/python3
"""Tests for tools/recipes/augment.py, the training-data augmentation of the
Tatoeba recipes: the variants it promises (cased copies, new numbers, new
names, joined paragraphs) on a small hand-written TSV, and --concat 0 leaving
the output exactly as it was without the option. Prints "N passed, M failed"
and exits 1 on any failure.
"""

import os
import subprocess
import sys

import harness as H

AUGMENT = os.path.join(H.TOOLS, "recipes", "augment.py")
WORK = H.tempdir("augment")

PAIRS = [
    ("Tom left at 5.", "Tom est parti à 5 heures."),
    ("I have three cats.", "J'ai trois chats."),
    ("Mary lives in Boston.", "Mary vit à Boston."),
    ("It is cold.", "Il fait froid."),
    ("We won in 1998.", "Nous avons gagné en 1998."),
    ("Thank you.", "Merci."),
] * 5

TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def augment(name, *options):
    src = os.path.join(WORK.name, "in.tsv")
    with open(src, "w", encoding="utf-8") as f:
        for en, fr in PAIRS:
            f.write(en + "\t" + fr + "\n")
    out = os.path.join(WORK.name, name)
    r = subprocess.run([sys.executable, AUGMENT, src, out] + list(options), capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    with open(out, encoding="utf-8") as f:
        return [tuple(line.rstrip("\n").split("\t")) for line in f], r.stdout


@test
def test_input_pairs_come_first_unchanged():
    rows, _ = augment("plain.tsv")
    assert rows[:len(PAIRS)] == PAIRS, rows[:3]


@test
def test_concat_zero_changes_nothing():
    plain, _ = augment("plain.tsv")
    zero, _ = augment("zero.tsv", "--concat", "0")
    assert plain == zero


@test
def test_concat_joins_two_or_three_pairs_on_both_sides():
    plain, _ = augment("plain.tsv")
    joined, report = augment("joined.tsv", "--concat", "0.5")
    # the pairs before the joined ones are the same as without the option
    assert joined[:len(plain)] == plain
    extra = joined[len(plain):]
    assert len(extra) == len(PAIRS) // 2, (len(extra), report)
    assert "concat %d" % len(extra) in report, report
    pool = set(plain)
    for en, fr in extra:
        assert splits_into(en, fr, pool, 2) or splits_into(en, fr, pool, 3), (en, fr)


def splits_into(en, fr, pool, n):
    """True when (en, fr) is n pairs of pool joined side by side."""
    if n == 0:
        return en == "" and fr == ""
    for p_en, p_fr in pool:
        if en == p_en and fr == p_fr and n == 1:
            return True
        if en.startswith(p_en + " ") and fr.startswith(p_fr + " "):
            if splits_into(en[len(p_en) + 1:], fr[len(p_fr) + 1:], pool, n - 1):
                return True
    return False


@test
def test_numbers_and_names_are_varied_on_both_sides():
    rows, _ = augment("vary.tsv", "--names", "1", "--numbers", "2")
    extra = rows[len(PAIRS):]
    numbered = [r for r in extra if r[0].startswith("We won in ") and "1998" not in r[0]]
    assert numbered, extra
    for en, fr in numbered:
        year = en[len("We won in "):-1]
        assert year.isdigit() and fr == "Nous avons gagné en %s." % year, (en, fr)
    named = [r for r in extra if r[0].startswith("Mary lives in ") and r[0] != "Mary lives in Boston."]
    assert named, extra
    for en, fr in named:
        name = en[len("Mary lives in "):-1]
        assert name.istitle() and fr == "Mary vit à %s." % name, (en, fr)


def main():
    for fn in TESTS:
        H.run_case(fn.__name__, fn)
    WORK.cleanup()
    H.finish()


if __name__ == "__main__":
    main()
