#!/usr/bin/python3
"""Tests for tools/recipes/augment.py, the training-data augmentation of the
Tatoeba recipes: the variants it promises (cased copies, new numbers, new
names, joined paragraphs) on a small hand-written TSV, --concat 0 leaving
the output exactly as it was without the option, and the validation sets
of numbers and of paragraphs made from held-out pairs only. Prints
"N passed, M failed" and exits 1 on any failure.
"""

import os
import re
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


def held_out_unchanged_by(src, option, path):
    """Runs augment.py on src with --valid-out, without and with `option
    path`; asserts that the option changes neither the training pairs nor
    the held-out ones, and returns the held-out pairs."""
    outs = []
    for extra in ([], [option, path]):
        out = os.path.join(WORK.name, "held-%d.tsv" % len(outs))
        valid = os.path.join(WORK.name, "held-%d-valid.tsv" % len(outs))
        r = subprocess.run([sys.executable, AUGMENT, src, out, "--valid-out", valid] + extra,
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        with open(out, encoding="utf-8") as f, open(valid, encoding="utf-8") as g:
            outs.append((f.read(), g.read()))
    assert outs[0] == outs[1], "%s changes the training or the held-out pairs" % option
    return [tuple(line.split("\t")) for line in outs[1][1].splitlines()]


@test
def test_numbers_validation_comes_from_held_out_pairs_only():
    src = os.path.join(WORK.name, "numbers-in.tsv")
    with open(src, "w", encoding="utf-8") as f:
        for i in range(15):
            f.write("We won in %d.\tNous avons gagné en %d.\n" % (1990 + i, 1990 + i))
            f.write("I have three cats.\tJ'ai trois chats.\n")
    held = held_out_unchanged_by(src, "--numbers-valid-out", os.path.join(WORK.name, "nv.tsv"))
    assert len(held) == 3, held
    with open(os.path.join(WORK.name, "nv.tsv"), encoding="utf-8") as f:
        lines = [line.rstrip("\n").split("\t") for line in f]
    assert len(lines) == 4 * len(held), lines  # four variants of each held-out pair
    variant = re.compile(r"(We won in (\d+)\.\tNous avons gagné en (\d+)\.|I have (\d+) cats\.\tJ'ai (\d+) chats\.)$")
    places = set()
    for en, fr in lines:
        ens, frs = re.split(r"(?<=\.) ", en), re.split(r"(?<=\.) ", fr)
        assert len(ens) == len(frs) <= 3, (en, fr)
        new = [i for i, pair in enumerate(zip(ens, frs)) if pair not in held]
        assert len(new) == 1, (en, fr)  # one variant, the rest held-out pairs
        m = variant.match("\t".join((ens[new[0]], frs[new[0]])))
        assert m and len({g for g in m.groups()[1:] if g}) == 1, (en, fr)  # the same number on both sides
        places.add((new[0], len(ens)))
    assert len(places) > 1, places  # not always in the same place


@test
def test_long_validation_joins_distinct_held_out_pairs():
    src = os.path.join(WORK.name, "long-in.tsv")
    with open(src, "w", encoding="utf-8") as f:
        for i in range(60):
            f.write("I saw %d birds.\tJ'ai vu %d oiseaux.\n" % (i, i))
    held = held_out_unchanged_by(src, "--long-valid-out", os.path.join(WORK.name, "lv.tsv"))
    assert len(held) == 6, held
    with open(os.path.join(WORK.name, "lv.tsv"), encoding="utf-8") as f:
        lines = [line.rstrip("\n").split("\t") for line in f]
    assert len(lines) == 500, len(lines)
    sizes = set()
    for en, fr in lines:
        ens, frs = re.split(r"(?<=\.) ", en), re.split(r"(?<=\.) ", fr)
        parts = list(zip(ens, frs))
        assert all(p in held for p in parts) and len(set(parts)) == len(parts), (en, fr)
        sizes.add(len(parts))
    assert sizes == {3, 4}, sizes


def main():
    for fn in TESTS:
        H.run_case(fn.__name__, fn)
    WORK.cleanup()
    H.finish()


if __name__ == "__main__":
    main()
