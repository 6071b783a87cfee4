#!/usr/bin/python3
"""Training data for copying and casing: copies a TSV of pairs and adds
  - for a share of them, an ALL-CAPS copy and a Title Case copy of both sides,
    so a model sees headlines and shouting as well as sentences;
  - for pairs whose two sides share a number, a copy with other numbers
    (years, counts, decimals), so the model learns to carry digits through;
  - for English-French pairs whose sides hold the same number word (three /
    trois, twenty / vingt), a copy with digits in its place on both sides
    (2 to 9999, years), since few pairs have digits at all;
  - for pairs whose two sides share a capitalized word (a name: Tom, Mary,
    Boston), a copy with an invented name, so it learns to copy words it has
    never seen instead of guessing;
  - with --concat, pairs made of two or three pairs (of all the above) joined
    side by side, so a model trained on short sentences meets paragraphs
    and keeps carrying names and numbers through them.

    tools/recipes/augment.py IN.tsv OUT.tsv [--valid-out V.tsv --valid-size 2000]
        [--numbers-valid-out N.tsv] [--long-valid-out L.tsv] [--upper 0.08]
        [--title 0.04] [--numbers 5] [--number-words 3] [--names 0.3] [--concat 0]
        [--seed 1]

With --valid-out, a seeded random --valid-size pairs are held out first
(written unchanged to V.tsv), so no cased copy of a validation pair is
trained on. --numbers-valid-out writes a validation set for the copy rate of
numbers, made from the held-out pairs only: four number variants (as above)
of each of them that shares a number or a number word, each joined with
zero, one or two other held-out pairs in a random order, so a number sits
at the start, the middle or the end of a line. --long-valid-out writes a
validation set of paragraphs, 500 lines of three or four distinct held-out
pairs joined side by side (20 to 30 words, where most training pairs have
under 10), to see on held-out data how a model copes with long input. The
choice of pairs is deterministic (seeded); every training pair is kept in
its order, the added pairs follow them.
"""
import argparse
import random
import re

NUMBER = re.compile(r"(?<![\w.,])\d+(?:[.,]\d+)?(?![\w])")
NAME = re.compile(r"(?<![\w'’-])[A-Z][a-z]{2,}(?![\w'’-])")
SYLLABLES = ["ka", "lo", "mi", "ren", "sa", "to", "vel", "dor", "an", "bri", "ce", "du", "fen", "gar", "hel",
             "ix", "jo", "kor", "lu", "mar", "nel", "or", "pia", "qui", "ros", "sten", "tam", "ul", "vin", "zo"]


def invented_name(rng):
    """A capitalized word of 2-3 made-up syllables (Kaloren, Brivin...)."""
    w = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3)))
    return w[:1].upper() + w[1:]


def other_number(number, rng):
    """A different number of the same kind: a year for a year, a decimal for a decimal."""
    if "." in number or "," in number:
        sep = "." if "." in number else ","
        return "%d%s%d" % (rng.randint(0, 999), sep, rng.randint(1, 99))
    if len(number) == 4 and number[:2] in ("17", "18", "19", "20"):
        return str(rng.randint(1500, 2099))
    return str(rng.choice([rng.randint(2, 99), rng.randint(100, 9999), rng.randint(10000, 999999)]))


def with_new_numbers(cols, rng):
    """cols with every number found on both sides replaced, or None."""
    shared = set(NUMBER.findall(cols[0])) & set(NUMBER.findall(cols[1]))
    if not shared:
        return None
    out = list(cols)
    for n in sorted(shared):  # sorted: the same output whatever the string hashing
        new = other_number(n, rng)
        out = [re.sub(r"(?<![\w.,])%s(?![\w])" % re.escape(n), new, c) for c in out]
    return out


# English and French number words (column 0 English, column 1 French); "one"
# and "un"/"une" are left out: the French ones are also articles.
NUMBER_WORDS = [("two", "deux"), ("three", "trois"), ("four", "quatre"), ("five", "cinq"), ("six", "six"),
                ("seven", "sept"), ("eight", "huit"), ("nine", "neuf"), ("ten", "dix"), ("eleven", "onze"),
                ("twelve", "douze"), ("thirteen", "treize"), ("fourteen", "quatorze"), ("fifteen", "quinze"),
                ("sixteen", "seize"), ("seventeen", "dix-sept"), ("eighteen", "dix-huit"),
                ("nineteen", "dix-neuf"), ("twenty", "vingt"), ("thirty", "trente"), ("forty", "quarante"),
                ("fifty", "cinquante"), ("sixty", "soixante"), ("hundred", "cent"), ("thousand", "mille")]


def _word(w):
    return re.compile(r"(?<![\w'’-])%s(?![\w'’-])" % re.escape(w), re.IGNORECASE)


NUMBER_WORD_RES = [(_word(en), _word(fr)) for en, fr in NUMBER_WORDS]


def digits(rng):
    """A whole number written in digits: a count, a larger count or a year."""
    r = rng.random()
    if r < 0.5:
        return str(rng.randint(2, 99))
    if r < 0.8:
        return str(rng.randint(100, 9999))
    return str(rng.randint(1500, 2099))


def with_digits_for_number_word(cols, rng):
    """cols (English, French) with the one number word both sides hold (each
    side exactly once) written as the same random digits, or None."""
    found = [(en, fr) for en, fr in NUMBER_WORD_RES
             if len(en.findall(cols[0])) == 1 and len(fr.findall(cols[1])) == 1]
    if len(found) != 1:
        return None
    en, fr = found[0]
    n = digits(rng)
    return [en.sub(n, cols[0]), fr.sub(n, cols[1])] + list(cols[2:])


def with_new_name(cols, rng):
    """cols with one capitalized word found on both sides (not sentence-initial
    on either side) replaced by an invented name, or None."""
    def names(text):
        return {m.group(0) for m in NAME.finditer(text) if m.start() > 0}
    shared = sorted(names(cols[0]) & names(cols[1]))
    if not shared:
        return None
    old, new = rng.choice(shared), invented_name(rng)
    return [re.sub(r"(?<![\w'’-])%s(?![\w'’-])" % re.escape(old), new, c) for c in cols]


def title_case(text):
    """Every word's first letter upper-cased, the rest kept (French elisions
    such as l'homme become L'homme)."""
    return " ".join(w[:1].upper() + w[1:] for w in text.split(" "))


def concatenated(pool, rng):
    """Two pairs (three, one time in four) from pool, each side joined with
    a space: a short paragraph and its translation."""
    parts = [rng.choice(pool) for _ in range(3 if rng.random() < 0.25 else 2)]
    return [" ".join(p[i] for p in parts) for i in range(2)]


def numbers_validation(held, rng):
    """Number variants of the held-out pairs `held`, each joined with 0-2
    other held-out pairs (see the module's comment)."""
    out = []
    for cols in held:
        for _ in range(4):
            for make in (with_digits_for_number_word, with_new_numbers):
                v = make(cols, rng) if len(cols) >= 2 else None
                if v:
                    parts = [rng.choice(held) for _ in range(rng.randint(0, 2))] + [v]
                    rng.shuffle(parts)
                    out.append([" ".join(p[i] for p in parts) for i in range(2)])
    return out


def long_validation(held, rng, count=500):
    """`count` paragraphs of three or four distinct held-out pairs `held`
    joined side by side."""
    pool = [cols for cols in held if len(cols) >= 2]
    out = []
    for _ in range(count if len(pool) >= 4 else 0):
        parts = rng.sample(pool, rng.choice((3, 4)))
        out.append([" ".join(p[i] for p in parts) for i in range(2)])
    return out


def write_pairs(path, pairs):
    with open(path, "w", encoding="utf-8") as f:
        for cols in pairs:
            f.write("\t".join(cols) + "\n")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("inp")
    ap.add_argument("out")
    ap.add_argument("--upper", type=float, default=0.08, help="share of pairs added in ALL CAPS")
    ap.add_argument("--title", type=float, default=0.04, help="share of pairs added in Title Case")
    ap.add_argument("--numbers", type=int, default=5, help="variants of each number-sharing pair")
    ap.add_argument("--number-words", type=int, default=3,
                    help="digit variants of each English-French pair sharing a number word")
    ap.add_argument("--names", type=float, default=0.3, help="share of name-sharing pairs varied")
    ap.add_argument("--concat", type=float, default=0.0,
                    help="pairs added, as a share of the input pairs, that join two or three pairs")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--valid-out", help="hold out --valid-size pairs into this file first")
    ap.add_argument("--valid-size", type=int, default=2000)
    ap.add_argument("--numbers-valid-out", help="write number variants of the held-out pairs here")
    ap.add_argument("--long-valid-out", help="write paragraphs of three or four held-out pairs here")
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    with open(args.inp, encoding="utf-8") as f:
        pairs = [line.rstrip("\n").split("\t") for line in f if line.strip()]
    if args.valid_out:
        held = set(rng.sample(range(len(pairs)), min(args.valid_size, len(pairs) // 10)))
        with open(args.valid_out, "w", encoding="utf-8") as f:
            for i in sorted(held):
                f.write("\t".join(pairs[i]) + "\n")
        # each its own generator, so that the training pairs are the same without the options
        if args.numbers_valid_out:
            write_pairs(args.numbers_valid_out,
                        numbers_validation([pairs[i] for i in sorted(held)], random.Random(args.seed + 2)))
        if args.long_valid_out:
            write_pairs(args.long_valid_out,
                        long_validation([pairs[i] for i in sorted(held)], random.Random(args.seed + 3)))
        pairs = [p for i, p in enumerate(pairs) if i not in held]
    added = []
    counts = {"upper": 0, "title": 0, "numbers": 0, "number_words": 0, "names": 0}
    for cols in pairs:
        r = rng.random()
        if r < args.upper:
            added.append([c.upper() for c in cols])
            counts["upper"] += 1
        elif r < args.upper + args.title:
            added.append([title_case(c) for c in cols])
            counts["title"] += 1
        for key, make, times in (("numbers", with_new_numbers, args.numbers),
                                 ("number_words", with_digits_for_number_word, args.number_words)):
            for _ in range(times if len(cols) >= 2 else 0):
                v = make(cols, rng)
                if not v:
                    break
                added.append(v)
                counts[key] += 1
        if len(cols) >= 2 and rng.random() < args.names:
            v = with_new_name(cols, rng)
            if v:
                added.append(v)
                counts["names"] += 1
    # Its own generator, so that --concat 0 leaves the output as it was.
    concat_rng = random.Random(args.seed + 1)
    pool = [cols for cols in pairs + added if len(cols) >= 2]
    joined = [concatenated(pool, concat_rng) for _ in range(int(args.concat * len(pairs)))]
    counts["concat"] = len(joined)
    added += joined
    write_pairs(args.out, pairs + added)
    print(f"{len(pairs)} pairs, {len(added)} added ({args.out}): " +
          ", ".join(f"{k} {v}" for k, v in counts.items()))


if __name__ == "__main__":
    main()
