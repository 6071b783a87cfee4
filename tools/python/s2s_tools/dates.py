"""Generate (human-written date, ISO date) pairs in many English and French styles.

    python3 -m s2s_tools.dates OUT_DIR [--train 40000 --valid 1000 --test 1000 --hard 1000 --seed 1234]

Writes OUT_DIR/{train,valid,test,hard}.tsv, one "human<TAB>YYYY-MM-DD" pair per
line. The output is a pure function of the seed; no two files share a date
string.

The range: every real calendar date of the years 1000..2999 (proleptic
Gregorian) written with a four-digit year; two-digit years mean 1950..2049.
Half of the dates take their year from 1900..2099 (the common case), the
other half from the whole range; one date in five is the last day of its
month (February 29 in leap years). All-numeric styles are day-month-year or
year-month-day (no US month/day order), so every input has exactly one
reading.

hard.tsv is a held-out set of the cases a date model gets wrong when it
guesses instead of reading: years far from today (1066, 1789, 2500),
month ends and February 29 (including 1600 and 2000, leap, and 1900, whose
February has 28 days), and New Year's Eve / Day, in every style.
"""
import argparse
import calendar
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


class NoTwoDigitYear(Exception):
    """A two-digit-year style was drawn for a year outside TWO_DIGIT_YEARS."""


def styles():
    """Each style: function(date, rng) -> string (raises NoTwoDigitYear
    when it writes the year with two digits and the date's year has none)."""
    def y2(d):
        if not TWO_DIGIT_YEARS[0] <= d.year <= TWO_DIGIT_YEARS[1]:
            raise NoTwoDigitYear()
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


FIRST_YEAR, LAST_YEAR = 1000, 2999
COMMON_YEARS = (1900, 2099)
TWO_DIGIT_YEARS = (1950, 2049)
STYLES = styles()


def draw_date(rng):
    """A date of the claimed range: the year from COMMON_YEARS half of the
    time, else from FIRST_YEAR..LAST_YEAR; the month's last day one time in
    five, else any day of the month."""
    if rng.random() < 0.5:
        year = rng.randint(*COMMON_YEARS)
    else:
        year = rng.randint(FIRST_YEAR, LAST_YEAR)
    month = rng.randint(1, 12)
    last = calendar.monthrange(year, month)[1]
    day = last if rng.random() < 0.2 else rng.randint(1, last)
    return datetime.date(year, month, day)


def draw_hard_date(rng):
    """A date of one of the hard kinds (see the module text), uniformly."""
    kind = rng.randrange(4)
    if kind == 0:   # far from today, anywhere in the year
        year = rng.choice([rng.randint(FIRST_YEAR, 1899), rng.randint(2100, LAST_YEAR),
                           rng.choice([1066, 1492, 1515, 1789, 1815, 1848, 1871, 2222, 2500])])
        month = rng.randint(1, 12)
        return datetime.date(year, month, rng.randint(1, calendar.monthrange(year, month)[1]))
    year = rng.randint(FIRST_YEAR, LAST_YEAR)
    if kind == 1:   # the last day of a month
        month = rng.randint(1, 12)
        return datetime.date(year, month, calendar.monthrange(year, month)[1])
    if kind == 2:   # February 29, or February 28 of a century year that is not leap
        year = rng.choice([rng.randrange(FIRST_YEAR, LAST_YEAR + 1, 4), 1600, 2000, 2400, 1996, 2024])
        if calendar.isleap(year):
            return datetime.date(year, 2, 29)
        return datetime.date(year, 2, 28)
    return rng.choice([datetime.date(year, 12, 31), datetime.date(year, 1, 1),
                       datetime.date(1900, 2, 28), datetime.date(2100, 3, 1)])


def write(d, rng):
    """d written in a random style (two-digit-year styles only for years
    that have one), with a little casing noise on the textual styles."""
    while True:
        try:
            s = rng.choice(STYLES)(d, rng)
            break
        except NoTwoDigitYear:
            continue
    x = rng.random()
    if x < 0.1:
        s = s.lower()
    elif x < 0.15:
        s = s.upper()
    return s


def sample(rng, draw=draw_date):
    d = draw(rng)
    return write(d, rng), d.isoformat()


def generate(n_train, n_valid, n_test, seed, n_hard=0):
    """Returns lists of (human, iso) pairs with disjoint human strings:
    (train, valid, test), or (train, valid, test, hard) when n_hard > 0."""
    rng = random.Random(seed)
    seen = set()
    out = []
    for n, draw in ((n_test, draw_date), (n_hard, draw_hard_date), (n_valid, draw_date),
                    (n_train, draw_date)):
        part = []
        tries = 0
        while len(part) < n:
            tries += 1
            if tries > 50 * n + 1000:
                raise RuntimeError("could not draw enough distinct dates")
            s, iso = sample(rng, draw)
            if s in seen:
                continue
            seen.add(s)
            part.append((s, iso))
        out.append(part)
    test, hard, valid, train = out
    return (train, valid, test, hard) if n_hard else (train, valid, test)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out_dir")
    ap.add_argument("--train", type=int, default=40000)
    ap.add_argument("--valid", type=int, default=1000)
    ap.add_argument("--test", type=int, default=1000)
    ap.add_argument("--hard", type=int, default=1000, help="size of the held-out set of hard cases")
    ap.add_argument("--seed", type=int, default=1234)
    a = ap.parse_args(argv)
    parts = generate(a.train, a.valid, a.test, a.seed, a.hard)
    os.makedirs(a.out_dir, exist_ok=True)
    for name, part in zip(("train", "valid", "test", "hard"), parts):
        with open(os.path.join(a.out_dir, name + ".tsv"), "w", encoding="utf-8") as f:
            for s, iso in part:
                f.write("%s\t%s\n" % (s, iso))
    print("wrote %s pairs to %s" % ("/".join(str(len(p)) for p in parts), a.out_dir),
          file=sys.stderr)


if __name__ == "__main__":
    main()
