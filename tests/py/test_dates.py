"""test_dates - the date generator behind models/dates (s2s_tools.dates) and
the recipe's scorer (tools/recipes/dates_scores.py): every pair is a real
date of the claimed range written the way its style says, the splits never
share an input, the hard set holds what it promises, and an impossible or
out-of-range output is counted as one.

    S2S_ROOT=$PWD PYTHONPATH=tools/python /usr/bin/python3 tests/py/test_dates.py
"""
import calendar
import datetime
import os
import re

import harness as H
from s2s_tools import dates

TRAIN, VALID, TEST, HARD = dates.generate(3000, 200, 200, 99, 400)


@H.case
def every_pair_is_a_real_date_of_the_range():
    for human, iso in TRAIN + VALID + TEST + HARD:
        d = datetime.date.fromisoformat(iso)
        H.check(dates.FIRST_YEAR <= d.year <= dates.LAST_YEAR, "%r -> %s: year out of range" % (human, iso))
        if str(d.year) not in human:   # a two-digit year: only for 1950..2049, and its last two digits
            lo, hi = dates.TWO_DIGIT_YEARS
            H.check(lo <= d.year <= hi and re.search(r"\b%02d\b" % (d.year % 100), human),
                    "%r -> %s: year neither written in full nor a two-digit year of %d..%d" % (human, iso, lo, hi))


@H.case
def the_range_is_covered():
    years = [int(iso[:4]) for _, iso in TRAIN]
    H.check(min(years) < 1100 and max(years) > 2900, "train years span %d..%d" % (min(years), max(years)))
    old = sum(y < 1900 for y in years) / len(years)
    H.check(0.15 < old < 0.35, "share of train years before 1900: %.2f" % old)
    ends = sum(int(iso[8:]) == calendar.monthrange(int(iso[:4]), int(iso[5:7]))[1] for _, iso in TRAIN)
    H.check(ends / len(TRAIN) > 0.2, "share of month ends in train: %.2f" % (ends / len(TRAIN)))


@H.case
def splits_share_no_input():
    seen = {}
    for name, part in (("train", TRAIN), ("valid", VALID), ("test", TEST), ("hard", HARD)):
        for human, _ in part:
            H.check(human not in seen, "%r in %s and %s" % (human, seen.get(human), name))
            seen[human] = name


@H.case
def hard_set_holds_the_hard_cases():
    isos = [iso for _, iso in HARD]
    far = sum(not 1900 <= int(i[:4]) <= 2099 for i in isos)
    leap = sum(i[5:] == "02-29" for i in isos)
    H.check(far > len(isos) // 5, "hard: %d of %d far years" % (far, len(isos)))
    H.check(leap > len(isos) // 20, "hard: %d of %d February 29" % (leap, len(isos)))
    H.check("1900-02-28" in isos, "hard: 1900-02-28 (February of a century year that is not leap)")


@H.case
def same_seed_same_data():
    H.check_equal("a second draw", dates.generate(3000, 200, 200, 99, 400), (TRAIN, VALID, TEST, HARD))
    H.check_equal("without a hard set", dates.generate(300, 20, 20, 5)[2], dates.generate(300, 20, 20, 5)[2])


@H.case
def scorer_counts_impossible_outputs():
    scorer = H.load_file(os.path.join(H.ROOT, "tools", "recipes", "dates_scores.py"))
    for text, ok in (("2021-02-28", True), ("2024-02-29", True), ("2021-02-30", False), ("1900-02-29", False),
                     ("0789-07-14", False), ("3001-01-01", False), ("2021-1-3", False), ("", False),
                     ("2021-13-01", False)):
        H.check_equal("is_date(%r)" % text, scorer.is_date(text), ok)
    with H.tempdir("dates") as d:
        tsv, hyp = os.path.join(d, "t.tsv"), os.path.join(d, "h.txt")
        with open(tsv, "w") as f:
            f.write("a\t2021-02-28\nb\t1789-07-14\nc\t2000-02-29\n")
        with open(hyp, "w") as f:
            f.write("2021-02-28\n1989-07-14\n2000-02-30\n")
        H.check_equal("exact, not a date", scorer.score(tsv, hyp), (0.3333, 1))


H.finish()
