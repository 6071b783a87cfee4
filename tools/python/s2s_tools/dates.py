"""Generate (human-written date, ISO date) pairs in many English and French styles.

    python3 -m s2s_tools.dates OUT_DIR [--train 40000 --valid 1000 --test 1000 --seed 1234]

Writes OUT_DIR/{train,valid,test}.tsv, one "human<TAB>YYYY-MM-DD" pair per line.
The output is a pure function of the seed. The three splits never share a date
string. Dates are drawn uniformly from 1950-01-01 .. 2049-12-31; two-digit years
mean 1950..2049. All-numeric styles are day-month-year or year-month-day (no US
month/day order), so every input has exactly one reading.
"""
import argparse
import datetime
import os
import random
import sys

EN_MONTHS = ["January", "February", "March", "April", "May", "June", "July",
             "August", "September", "October", "November", "December"]
EN_MON = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
          "Nov", "Dec"]
EN_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
           "Sunday"]
EN_DY = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
FR_MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet",
             "août", "septembre", "octobre", "novembre", "décembre"]
FR_MON = ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août",
          "sept.", "oct.", "nov.", "déc."]
FR_DAYS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi",
           "dimanche"]


def ordinal(n):
    if 10 <= n % 100 <= 20:
        suf = "th"
    else:
        suf = {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return "%d%s" % (n, suf)


def fr_day(n):
    return "1er" if n == 1 else str(n)


def styles():
    """Each style: function(date, rng) -> string."""
    def y2(d):
        return "%02d" % (d.year % 100)

    en = [
        lambda d, r: "%s of %s %d" % (ordinal(d.day), EN_MONTHS[d.month - 1], d.year),
        lambda d, r: "the %s of %s %d" % (ordinal(d.day), EN_MONTHS[d.month - 1], d.year),
        lambda d, r: "%s %d, %d" % (EN_MONTHS[d.month - 1], d.day, d.year),
        lambda d, r: "%s %s, %d" % (EN_MONTHS[d.month - 1], ordinal(d.day), d.year),
        lambda d, r: "%s %d, %s" % (EN_MON[d.month - 1], d.day, y2(d)),
        lambda d, r: "%s %d %d" % (EN_MON[d.month - 1], d.day, d.year),
        lambda d, r: "%d %s %d" % (d.day, EN_MONTHS[d.month - 1], d.year),
        lambda d, r: "%d %s %d" % (d.day, EN_MON[d.month - 1], d.year),
        lambda d, r: "%s, %s %d, %d" % (EN_DAYS[d.weekday()], EN_MONTHS[d.month - 1], d.day, d.year),
        lambda d, r: "%s, %d %s %d" % (EN_DY[d.weekday()], d.day, EN_MON[d.month - 1], d.year),
        lambda d, r: "%s %s %s %d" % (EN_DAYS[d.weekday()], ordinal(d.day), EN_MONTHS[d.month - 1], d.year),
        lambda d, r: "%s %d" % (EN_MONTHS[d.month - 1].upper(), d.day) + ", %d" % d.year,
        lambda d, r: "%s %s %d" % (ordinal(d.day), EN_MON[d.month - 1].lower(), d.year),
    ]
    fr = [
        lambda d, r: "le %s %s %d" % (fr_day(d.day), FR_MONTHS[d.month - 1], d.year),
        lambda d, r: "%s %s %d" % (fr_day(d.day), FR_MONTHS[d.month - 1], d.year),
        lambda d, r: "%s %s %s %d" % (FR_DAYS[d.weekday()], fr_day(d.day), FR_MONTHS[d.month - 1], d.year),
        lambda d, r: "le %s %s %s %d" % (FR_DAYS[d.weekday()], fr_day(d.day), FR_MONTHS[d.month - 1], d.year),
        lambda d, r: "%s %s %d" % (d.day, FR_MON[d.month - 1], d.year),
        lambda d, r: "%s %s %s" % (d.day, FR_MON[d.month - 1], y2(d)),
        lambda d, r: "%02d/%02d/%d" % (d.day, d.month, d.year),     # European
        lambda d, r: "%d/%d/%s" % (d.day, d.month, y2(d)),
        lambda d, r: "%02d.%02d.%d" % (d.day, d.month, d.year),
        lambda d, r: "%02d-%02d-%d" % (d.day, d.month, d.year),
        lambda d, r: "%s %s %s %d" % (FR_DAYS[d.weekday()].capitalize(), fr_day(d.day), FR_MONTHS[d.month - 1].capitalize(), d.year),
    ]
    iso = [
        lambda d, r: "%d-%d-%d" % (d.year, d.month, d.day),
        lambda d, r: "%d/%02d/%02d" % (d.year, d.month, d.day),
        lambda d, r: "%d.%d.%d" % (d.year, d.month, d.day),
        lambda d, r: "%d%02d%02d" % (d.year, d.month, d.day),
    ]
    return en + fr + iso


STYLES = styles()
START = datetime.date(1950, 1, 1)
SPAN = (datetime.date(2049, 12, 31) - START).days + 1


def sample(rng):
    d = START + datetime.timedelta(days=rng.randrange(SPAN))
    s = rng.choice(STYLES)(d, rng)
    # a little casing noise on the textual styles
    x = rng.random()
    if x < 0.1:
        s = s.lower()
    elif x < 0.15:
        s = s.upper()
    return s, d.isoformat()


def generate(n_train, n_valid, n_test, seed):
    """Returns three lists of (human, iso) pairs with disjoint human strings."""
    rng = random.Random(seed)
    seen = set()
    out = []
    for n in (n_test, n_valid, n_train):
        part = []
        tries = 0
        while len(part) < n:
            tries += 1
            if tries > 50 * n + 1000:
                raise RuntimeError("could not draw enough distinct dates")
            s, iso = sample(rng)
            if s in seen:
                continue
            seen.add(s)
            part.append((s, iso))
        out.append(part)
    test, valid, train = out
    return train, valid, test


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out_dir")
    ap.add_argument("--train", type=int, default=40000)
    ap.add_argument("--valid", type=int, default=1000)
    ap.add_argument("--test", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1234)
    a = ap.parse_args(argv)
    train, valid, test = generate(a.train, a.valid, a.test, a.seed)
    os.makedirs(a.out_dir, exist_ok=True)
    for name, part in (("train", train), ("valid", valid), ("test", test)):
        with open(os.path.join(a.out_dir, name + ".tsv"), "w", encoding="utf-8") as f:
            for s, iso in part:
                f.write("%s\t%s\n" % (s, iso))
    print("wrote %d/%d/%d pairs to %s" % (len(train), len(valid), len(test), a.out_dir),
          file=sys.stderr)


if __name__ == "__main__":
    main()
