#!/usr/bin/python3
"""Tests for s2s_tools.metrics and tools/eval.

Unit tests use small examples whose expected values were worked out by hand
(the counts are written next to each check).  The conformance test scores the
16 WMT17 systems in ../shared/data/bleu-check against the scores sacreBLEU
2.6.0 gave them (expected_scores.tsv); it is skipped, visibly, when the shared
data is missing.  Prints "N passed, M failed" and exits 1 on any failure.
"""

import json
import math
import os
import time

from s2s_tools import metrics

import harness as H

DATA = os.path.join(H.SHARED_DATA, "bleu-check")
WORK = H.tempdir("eval")  # files of the command-line tests

TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def close(a, b, tol=1e-9, what=""):
    assert abs(a - b) <= tol, "%s: got %r, expected %r (tolerance %g)" % (what, a, b, tol)


def eq(a, b, what=""):
    assert a == b, "%s:\n  got      %r\n  expected %r" % (what, a, b)


# ---------------------------------------------------------------------------
# 13a tokenizer

@test
def tok13a_punctuation_and_numbers():
    # period/comma split off words but not inside numbers
    eq(metrics.tokenize_13a("Hello, world."), ["Hello", ",", "world", "."], "comma/period")
    eq(metrics.tokenize_13a("3.5 and 1,000"), ["3.5", "and", "1,000"], "numbers")
    # apostrophe is never split; a hyphen only after a digit
    eq(metrics.tokenize_13a("It's 5-6 km, well-known"),
       ["It's", "5", "-", "6", "km", ",", "well-known"], "apostrophe/hyphen")
    eq(metrics.tokenize_13a("U.S.A."), ["U", ".", "S", ".", "A", "."], "abbreviation")
    eq(metrics.tokenize_13a("(a) [b] {c} x/y"),
       ["(", "a", ")", "[", "b", "]", "{", "c", "}", "x", "/", "y"], "brackets")
    eq(metrics.tokenize_13a("50% $3 a+b=c?!"),
       ["50", "%", "$", "3", "a", "+", "b", "=", "c", "?", "!"], "symbols")


@test
def tok13a_entities_and_skipped():
    eq(metrics.tokenize_13a("&quot;Hi&quot; &amp; &lt;b&gt;"),
       ['"', "Hi", '"', "&", "<", "b", ">"], "entities")
    eq(metrics.tokenize_13a("a <skipped> b"), ["a", "b"], "<skipped>")
    eq(metrics.tokenize_13a("wo-\nrd\nnext"), ["word", "next"], "hyphenated line break")
    eq(metrics.tokenize_13a("   "), [], "blank")
    # non-ASCII punctuation is not a 13a rule: stays attached
    eq(metrics.tokenize_13a("„Grüß dich“"), ["„Grüß", "dich“"], "non-ASCII quotes")


# ---------------------------------------------------------------------------
# BLEU, hand-computed

@test
def bleu_one_segment():
    # hyp: the cat sat on the mat / ref: the cat sat on a mat (6 tokens each)
    # 1-grams 5/6 (only one 'the' is clipped), 2-grams 3/5 (the cat, cat sat,
    # sat on), 3-grams 2/4, 4-grams 1/3; BP = 1
    s = metrics.corpus_bleu(["the cat sat on the mat"], ["the cat sat on a mat"])
    eq(s.counts, [5, 3, 2, 1], "counts")
    eq(s.totals, [6, 5, 4, 3], "totals")
    close(s.score, 100 * (5 / 6 * 3 / 5 * 2 / 4 * 1 / 3) ** 0.25, 1e-9, "score")
    eq(str(s), "BLEU = 53.73 83.3/60.0/50.0/33.3 (BP = 1.000 ratio = 1.000 "
               "hyp_len = 6 ref_len = 6)", "printed form")


@test
def bleu_zero_matches():
    s = metrics.corpus_bleu(["foo bar baz qux"], ["the cat sat down"])
    eq(s.score, 0.0, "score")
    eq(str(s), "BLEU = 0.00 0.0/0.0/0.0/0.0 (BP = 1.000 ratio = 1.000 "
               "hyp_len = 4 ref_len = 4)", "printed form")
    # an empty hypothesis: BP = 0, score 0, no division by zero
    s = metrics.corpus_bleu([""], ["the cat"])
    eq((s.score, s.bp, s.sys_len, s.ref_len), (0.0, 0.0, 0, 2), "empty hypothesis")


@test
def bleu_short_hypothesis_bp():
    # hyp 5 tokens, all n-grams match (5/5 4/4 3/3 2/2); ref 6 tokens
    # BP = exp(1 - 6/5) = exp(-0.2)
    s = metrics.corpus_bleu(["the cat sat on the"], ["the cat sat on the mat"])
    close(s.bp, math.exp(-0.2), 1e-12, "bp")
    close(s.score, 100 * math.exp(-0.2), 1e-9, "score")
    eq(str(s), "BLEU = 81.87 100.0/100.0/100.0/100.0 (BP = 0.819 ratio = 0.833 "
               "hyp_len = 5 ref_len = 6)", "printed form")
    # hyp shorter than 4 tokens: 3- and 4-gram totals are 0, precision 0, score 0
    s = metrics.corpus_bleu(["the cat"], ["the cat sat on the mat"])
    eq(str(s), "BLEU = 0.00 100.0/100.0/0.0/0.0 (BP = 0.135 ratio = 0.333 "
               "hyp_len = 2 ref_len = 6)", "2-token hypothesis")


@test
def bleu_exp_smoothing():
    # hyp a b c d / ref a b x c d: 1-grams 4/4, 2-grams 2/3 (a b, c d),
    # 3-grams 0/2 -> 100/(2*2) = 25, 4-grams 0/1 -> 100/(4*1) = 25;
    # BP = exp(1 - 5/4)
    s = metrics.corpus_bleu(["a b c d"], ["a b x c d"])
    eq(s.counts, [4, 2, 0, 0], "counts")
    for got, want in zip(s.precisions, [100.0, 200 / 3, 25.0, 25.0]):
        close(got, want, 1e-9, "precision")
    close(s.score, math.exp(-0.25) * (100 * 200 / 3 * 25 * 25) ** 0.25, 1e-9, "score")


@test
def bleu_is_corpus_level():
    # statistics are summed over segments before the geometric mean:
    # seg 1 as in bleu_one_segment, seg 2 'foo bar' vs 'the cat' (0/2, 0/1)
    s = metrics.corpus_bleu(["the cat sat on the mat", "foo bar"],
                      ["the cat sat on a mat", "the cat"])
    eq((s.counts, s.totals), ([5, 3, 2, 1], [8, 6, 4, 3]), "stats")
    close(s.score, 100 * (5 / 8 * 3 / 6 * 2 / 4 * 1 / 3) ** 0.25, 1e-9, "score")


@test
def bleu_multi_reference():
    # clipping uses the max count over refs: 'the' x3 vs refs with 1 and 2
    b = metrics.BLEU([["the cat"], ["the the dog"]])
    s = b.corpus_score(["the the the"])
    eq(s.counts[:2], [2, 1], "clipped counts")
    eq(b.signature().split("|")[0], "nrefs:2", "nrefs")
    # closest reference length, ties go to the shorter one: 4 vs 3 and 5 -> 3
    s = metrics.BLEU([["a b c"], ["a b c d e"]]).corpus_score(["a b c d"])
    eq((s.ref_len, s.bp), (3, 1.0), "closest ref length (tie)")
    s = metrics.BLEU([["a b c"], ["a b c d e"]]).corpus_score(["a b c d e f"])
    eq(s.ref_len, 5, "closest ref length")
    # an empty reference in one stream is dropped for that segment
    b = metrics.BLEU([["a b c d", "x y"], ["", "x y z"]])
    eq(b.nrefs, -1, "variable number of refs")
    assert "nrefs:var" in b.signature(), b.signature()


@test
def bleu_tokenization_and_case():
    s = metrics.corpus_bleu(["Hello, world. How are you?"], ["Hello , world . How are you ?"])
    close(s.score, 100.0, 1e-9, "13a-tokenized input")
    s = metrics.corpus_bleu(["The Cat Sat Down"], ["the cat sat down"])
    eq(s.score, 0.0, "case-sensitive by default")
    b = metrics.BLEU([["the cat sat down"]], lowercase=True)
    close(b.corpus_score(["The Cat Sat Down"]).score, 100.0, 1e-9, "lowercase")
    assert "|case:lc|" in b.signature(), b.signature()


@test
def bleu_signature():
    eq(metrics.BLEU([["a"]]).signature(),
       "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:s2s-0.1.0", "signature")


# ---------------------------------------------------------------------------
# chrF, hand-computed

@test
def chrf_basic():
    close(metrics.corpus_chrf(["Das ist gut."], ["Das ist gut."]).score, 100.0, 1e-9, "identical")
    close(metrics.corpus_chrf(["xyz"], ["abc"]).score, 0.0, 0, "disjoint")
    # whitespace is removed before n-gram extraction
    close(metrics.corpus_chrf(["a b  c"], ["abc"]).score, 100.0, 1e-9, "whitespace")
    # case-sensitive
    assert metrics.corpus_chrf(["ABC"], ["abc"]).score == 0.0


@test
def chrf_effective_order():
    # hyp 'ab', ref 'abc': order 1: P 2/2, R 2/3; order 2: P 1/1, R 1/2;
    # order 3: no hyp 3-grams -> left out; orders 4-6: neither side.
    # P = 1, R = (2/3 + 1/2) / 2 = 7/12; chrF2 = 5PR / (4P + R) = 7/11
    s = metrics.corpus_chrf(["ab"], ["abc"])
    close(s.score, 100 * 7 / 11, 1e-9, "score")
    eq(s.format(), "chrF2 = 63.64", "printed form")


@test
def chrf_reference_without_ngrams():
    # seg 1: hyp 'abcdef', ref 'a': order 1 = 6/1/1; the ref has no 2-grams,
    #        so the hyp's 2..6-grams are not counted (0/0/0)
    # seg 2: 'xy' vs 'xy': order 1 = 2/2/2, order 2 = 1/1/1
    # corpus: order 1 = 8/3/3, order 2 = 1/1/1
    # P = (3/8 + 1) / 2 = 11/16, R = 1; chrF2 = 5 * 11/16 / (44/16 + 1) = 55/60
    s = metrics.corpus_chrf(["abcdef", "xy"], ["a", "xy"])
    eq(s.stats[:6], [8, 3, 3, 1, 1, 1], "stats")
    eq(s.stats[6:], [0] * 12, "higher orders")
    close(s.score, 100 * 55 / 60, 1e-9, "score")


@test
def chrf_multi_reference_picks_best():
    c = metrics.CHRF([["zzzz"], ["abcd"]])
    close(c.corpus_score(["abcd"]).score, 100.0, 1e-9, "best reference")
    assert c.signature() == "nrefs:2|case:mixed|eff:yes|nc:6|nw:0|space:no|version:s2s-0.1.0", \
        c.signature()


# ---------------------------------------------------------------------------
# ROUGE, hand-computed

@test
def rouge_lcs():
    eq(metrics.lcs_length("ABCBDAB", "BDCABA"), 4, "classic example (BCBA)")
    eq(metrics.lcs_length([], ["a"]), 0, "empty")
    eq(metrics.lcs_length("abc", "abc"), 3, "identical")
    eq(metrics.lcs_length("abc", "cba"), 1, "reversed")
    eq(metrics.lcs_length("axbycz", "abc"), 3, "gaps")


@test
def rouge_scores():
    # hyp: the cat sat on the mat / ref: the cat is on the mat (6 tokens each)
    # ROUGE-1: overlap the x2, cat, on, mat = 5 -> P = R = F = 5/6
    # ROUGE-2: the cat, on the, the mat = 3 of 5 -> 3/5
    # ROUGE-L: LCS 'the cat on the mat' = 5 -> 5/6
    s = metrics.corpus_rouge(["The cat sat on the mat."], ["the cat is on the mat"])
    close(s.values["rouge1"][2], 100 * 5 / 6, 1e-9, "rouge1")
    close(s.values["rouge2"][2], 100 * 3 / 5, 1e-9, "rouge2")
    close(s.values["rougeL"][2], 100 * 5 / 6, 1e-9, "rougeL")
    # hyp 'a b' vs ref 'a b c d': P 1, R 1/2, F 2/3 (ROUGE-1 and ROUGE-L)
    s = metrics.corpus_rouge(["a b"], ["a b c d"])
    for k in ("rouge1", "rougeL"):
        p, r, f = s.values[k]
        close(p, 100.0, 1e-9, k + " P")
        close(r, 50.0, 1e-9, k + " R")
        close(f, 200 / 3, 1e-9, k + " F")
    # ROUGE-L is order-aware: 'c b a' vs 'a b c': LCS 1 -> 1/3; ROUGE-1 = 1
    s = metrics.corpus_rouge(["c b a"], ["a b c"])
    close(s.values["rougeL"][2], 100 / 3, 1e-9, "reversed rougeL")
    close(s.values["rouge1"][2], 100.0, 1e-9, "reversed rouge1")


@test
def rouge_corpus_mean_and_empty():
    # mean of per-segment F1: 100 and 0 -> 50
    s = metrics.corpus_rouge(["a b c", "x y"], ["a b c", "p q"])
    close(s.values["rougeL"][2], 50.0, 1e-9, "segment mean")
    s = metrics.corpus_rouge([""], ["a b"])
    eq(s.values["rouge1"], (0.0, 0.0, 0.0), "empty hypothesis")


@test
def rouge_tokenization():
    eq(metrics.tokenize_rouge("Hello, World! It's 2024."), ["hello", "world", "it", "s", "2024"], "ascii")
    # rouge-score drops non-ASCII letters; the unicode option keeps them
    eq(metrics.tokenize_rouge("Ça va, café?"), ["a", "va", "caf"], "ascii non-ASCII")
    eq(metrics.tokenize_rouge("Ça va, café?", "unicode"), ["ça", "va", "café"], "unicode")
    eq(metrics.tokenize_rouge("cafe\u0301", "unicode"), ["café"], "unicode NFC")
    try:
        metrics.tokenize_rouge("x", "bogus")
    except ValueError:
        pass
    else:
        raise AssertionError("unknown tokenization accepted")


@test
def api_length_mismatch():
    for cls in (metrics.BLEU, metrics.CHRF, metrics.ROUGE):
        try:
            cls([["a", "b"]]).corpus_score(["a"])
        except ValueError:
            continue
        raise AssertionError("%s accepted 1 hypothesis for 2 references" % cls.__name__)


@test
def read_lines_only_splits_on_newline():
    p = write("x.txt", "a\u2028b\x85c\r\nd\n\ne")
    eq(metrics.read_lines(p), ["a\u2028b\x85c\r", "d", "", "e"], "lines")


@test
def copy_rate_counts_what_the_reference_keeps():
    src = ["Mozart est mort en 1791.", "J'ai acheté 12 pommes à Marseille avec Tom.", "Il a 3,5 ans."]
    ref = ["Mozart died in 1791.", "I bought 12 apples in Marseille with Tom.", "He is 3.5 years old."]
    hyp = ["Mot is dead by dead.", "I bought 12 apples in Marseilles with Tom.", "He is 3 years old."]
    s = metrics.CopyRate([ref], src).corpus_score(hyp)
    # numbers the reference keeps: 1791, 12 (3,5 becomes 3.5); the hypothesis keeps 12
    eq(s.numbers, (1, 2), "numbers (kept, to keep)")
    # names: Mozart starts its sentence; Marseille and Tom are kept by the
    # reference; the hypothesis keeps Tom only (Marseilles is another word)
    eq(s.names, (1, 2), "names (kept, to keep)")
    close(s.as_dict()["numbers"], 50.0, what="numbers rate")
    # "1791" inside "17910" or "1791.5" is not a copy
    eq(metrics.CopyRate([["in 1791"]], ["en 1791"]).corpus_score(["in 17910 and 1791.5"]).numbers,
       (0, 1), "numbers inside longer numbers")


@test
def cli_copy_rate_needs_sources():
    rc, out, err, ref = eval_files("Tom has 3 cats.\n", "Tom has 3 dogs.\n", ["-m", "copy"])
    eq(rc, 2, "exit status without -s")
    assert "-s SRC_FILE" in err, err
    src = write("src", "Tom a 3 chats.\n")
    rc, out, err = run_eval(["-m", "copy", "-r", ref, "-i", write("hyp", "Tom has 3 dogs.\n"), "-s", src])
    eq((rc, out.splitlines()[0]), (0, "copy rate: numbers = 100.0% (1 of 1), names = nan% (0 of 0)"), "copy line")


# ---------------------------------------------------------------------------
# Command line

def run_eval(args, stdin=None):
    p = H.run_tool("eval", args, input=stdin, text=False, timeout=120)
    return p.returncode, p.stdout.decode("utf-8"), p.stderr.decode("utf-8")


def write(name, data):
    p = os.path.join(WORK.name, name)
    with open(p, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode("utf-8"))
    return p


def eval_files(ref_text, hyp_text, args):
    """tools/eval `args` -r REF -i HYP, the two files holding ref_text and
    hyp_text -> (status, stdout, stderr, REF)."""
    ref = write("ref", ref_text)
    return run_eval(args + ["-r", ref, "-i", write("hyp", hyp_text)]) + (ref,)


@test
def cli_scores_and_signature():
    rc, out, err, ref = eval_files("the cat sat on a mat\n", "the cat sat on the mat\n",
                                   ["--metrics", "bleu,chrf,rouge"])
    eq((rc, err), (0, ""), "exit status / stderr")
    lines = out.splitlines()
    eq(lines[0], "BLEU = 53.73 83.3/60.0/50.0/33.3 (BP = 1.000 ratio = 1.000 "
                 "hyp_len = 6 ref_len = 6)", "BLEU line")
    eq(lines[1], "  signature: nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:s2s-0.1.0",
       "BLEU signature")
    assert lines[2].startswith("chrF2 = "), lines
    assert lines[3] == "  signature: nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:s2s-0.1.0", lines
    assert lines[4].startswith("ROUGE-1 = 83.33 "), lines
    assert lines[5].startswith("ROUGE-2 = 60.00 "), lines
    assert lines[6].startswith("ROUGE-L = 83.33 "), lines
    # the same from standard input
    rc, out2, err = run_eval(["-m", "bleu,chrf,rouge", "-r", ref],
                             stdin=b"the cat sat on the mat\n")
    eq((rc, out2), (0, out), "stdin")


@test
def cli_json():
    rc, out, err, _ = eval_files("the cat sat on a mat\nab\n", "the cat sat on the mat\nabc\n",
                                 ["--json", "-m", "bleu,chrf,rouge"])
    eq(rc, 0, "exit status: " + err)
    j = json.loads(out)
    eq(sorted(j["metrics"]), ["bleu", "chrf", "rouge"], "metrics")
    eq(j["segments"], 2, "segments")
    eq(j["metrics"]["bleu"]["hyp_len"], 7, "hyp_len")
    eq(j["metrics"]["bleu"]["signature"],
       "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:s2s-0.1.0", "signature")
    assert 0 <= j["metrics"]["chrf"]["score"] <= 100
    assert set(j["metrics"]["rouge"]["rougeL"]) == {"precision", "recall", "f1"}


@test
def cli_errors():
    d = WORK.name
    ref = write("ref", "a\nb\n")
    hyp3 = write("hyp3", "a\nb\nc\n")
    bad = write("bad", b"ok\n\xff\xfe\n")
    empty = write("empty", "")
    cases = [
        (["-r", ref, "-i", hyp3], "line count mismatch"),
        (["-r", ref, "-r", hyp3, "-i", ref], "line count mismatch"),
        (["-r", os.path.join(d, "missing"), "-i", ref], "cannot read"),
        (["-r", ref, "-i", os.path.join(d, "missing")], "cannot read"),
        (["-r", d, "-i", ref], "cannot read"),
        (["-r", bad, "-i", ref], "not valid UTF-8 (line 2"),
        (["-r", empty, "-i", empty], "nothing to score"),
        (["-r", ref, "-i", ref, "-m", "bleu,meteor"], "unknown metric"),
        (["-i", ref], "no reference"),
        (["-r", ref, "-i", ref, "--frobnicate"], "unrecognized"),
    ]
    for args, msg in cases:
        rc, out, err = run_eval(args)
        eq(rc, 2, "exit status for %s (stderr %r)" % (args, err))
        eq(out, "", "stdout for %s" % args)
        assert err.count("\n") == 1 and err.startswith("eval: error: "), \
            "not one error line for %s: %r" % (args, err)
        assert msg in err, "%r not in %r" % (msg, err)


@test
def cli_empty_reference_warning():
    # the second reference line is empty: scored against an empty reference
    # (hyp 'x y' adds 2 unmatched tokens) with a warning; exit status 0
    rc, out, err, _ = eval_files("the cat sat on a mat\n\n", "the cat sat on the mat\nx y\n",
                                 ["-m", "bleu"])
    eq(rc, 0, "exit status: " + err)
    assert err.startswith("eval: warning: 1 segment(s)"), err
    assert out.startswith("BLEU = ") and "hyp_len = 8 ref_len = 6)" in out, out


# ---------------------------------------------------------------------------
# Conformance with sacreBLEU 2.6.0 on WMT17 en-de

@test
def conformance_wmt17_16_systems():
    tsv = os.path.join(DATA, "expected_scores.tsv")
    if not os.path.exists(tsv):
        raise H.Skip("shared data missing: %s" % DATA)
    t0 = time.time()
    expected = []
    with open(tsv, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            name, bleu, chrf, full = line.rstrip("\n").split("\t")
            expected.append((name, float(bleu), float(chrf), full))
    eq(len(expected), 16, "systems in expected_scores.tsv")
    ref = metrics.read_lines(os.path.join(DATA, "newstest2017.ref.de"))
    bleu, chrf = metrics.BLEU([ref]), metrics.CHRF([ref])
    problems = []
    for name, e_bleu, e_chrf, full in expected:
        hyp = metrics.read_lines(os.path.join(DATA, "systems", name + ".de"))
        b = bleu.corpus_score(hyp)
        c = chrf.corpus_score(hyp)
        if abs(b.score - e_bleu) > 0.01:
            problems.append("%s BLEU %.4f, expected %.2f" % (name, b.score, e_bleu))
        if abs(c.score - e_chrf) > 0.01:
            problems.append("%s chrF2 %.4f, expected %.2f" % (name, c.score, e_chrf))
        if str(b) != full:
            problems.append("%s printed %r, expected %r" % (name, str(b), full))
    print("   16 systems scored in %.1f s" % (time.time() - t0))
    assert not problems, "\n  ".join(problems)


@test
def conformance_cli_one_system():
    ref = os.path.join(DATA, "newstest2017.ref.de")
    if not os.path.exists(ref):
        raise H.Skip("shared data missing: %s" % DATA)
    hyp = os.path.join(DATA, "systems", "newstest2017.uedin-nmt.4722.en-de.de")
    rc, out, err = run_eval(["-m", "bleu,chrf", "-r", ref, "-i", hyp])
    eq(rc, 0, "exit status: " + err)
    lines = out.splitlines()
    eq(lines[0], "BLEU = 28.30 59.9/34.0/21.8/14.4 (BP = 1.000 ratio = 1.026 "
                 "hyp_len = 62873 ref_len = 61287)", "BLEU line")
    eq(lines[2], "chrF2 = 57.72", "chrF line")


def main():
    for fn in TESTS:
        H.run_case(fn.__name__, fn)
    WORK.cleanup()
    H.finish()


if __name__ == "__main__":
    main()
