#!/usr/bin/python3
"""test_tokenizer_parity.py - the Python tokenizer twin (s2s_tools.tokenizer)
against the committed goldens in tests/fixtures/tokenizer/ and against
hand-worked examples.

Without ../shared it recomputes every golden from the committed inputs and
merges; with ../shared it also re-runs tests/fixtures/make_tokenizer_golden.py's whole
pipeline (merges learned from eng-fra.txt, input sampling) and compares.
Exits 1 on any failure; the last line is "N passed, M failed".
"""

import os

from s2s_tools import tokenizer as tok

import harness as H
from harness import check_equal as check

mg = H.load_file("tests/fixtures/make_tokenizer_golden.py")
FIX = os.path.join(H.FIXTURES, "tokenizer")
J = tok.JOINER


def read(name):
    with open(os.path.join(FIX, name), encoding="utf-8", newline="") as f:
        return f.read()


def hand_examples():
    text = tok.Tokenizer({"normalizer": "text"})
    check("text example", text.split("I'm fine, thanks."), ["I", J + "'" + J, "m", "fine", J + ",", "thanks", J + "."])
    check("text join", text.join(text.split("I'm fine, thanks.")), "I'm fine, thanks.")
    check("text nfkc ellipsis", text.split("il\u2026"), ["il", J + "." + J, "." + J, "."])
    check("text controls", text.split("a\u200bb\x01c\u00a0d"), ["abc", "d"])
    low = tok.Tokenizer({"normalizer": "text", "lowercase": True})
    check("lower dotted I", low.split("\u0130X"), ["i\u0307x"])
    check("lower sigma no context", low.split("\u03a3\u039f\u03a3"), ["\u03c3\u03bf\u03c3"])
    tut = tok.Tokenizer({"normalizer": "tutorial"})
    check("tutorial", tut.split("Je suis tr\u00e8s content de te voir."),
          ["je", "suis", "tres", "content", "de", "te", "voir"])
    check("tutorial ?!", tut.split("What?! a?b"), ["what", "?", "!", "a", "?b"])
    check("tutorial_normalize", tok.tutorial_normalize("  \u0130stanbul, c'est beau!  "), "istanbul c est beau !")
    none = tok.Tokenizer({})
    check("none", none.split(" a\u00a0b\tc\n"), ["a\u00a0b", "c"])
    ch = tok.Tokenizer({"level": "char"})
    check("char space kept", ch.split("a b"), ["a", " ", "b"])
    check("char space dropped", ch.split("a b", vocab={"a": 0, "b": 1}), ["a", "b"])
    try:
        none.split_bytes(b"hello w\xc3\xb6rld \xc3")
        check("split_bytes strict", "no error", "ValueError")
    except ValueError as e:
        check("split_bytes strict", str(e), "invalid UTF-8 at byte 13")
    check("split_bytes lenient", none.split_bytes(b"a\xffb \xe2\x82", lenient=True), ["a\ufffdb", "\ufffd"])
    merges = [("l", "o"), ("lo", "w"), ("e", "r"), ("n", "e"), ("ne", "w"), ("w", "e"), ("a", "a")]
    ranks = {m: i for i, m in enumerate(merges)}
    check("bpe lower", tok.bpe_encode("lower", ranks), ["low", "er"])
    check("bpe newer", tok.bpe_encode("newer", ranks), ["new", "er"])
    check("bpe aaa", tok.bpe_encode("aaa", ranks), ["aa", "a"])
    check("bpe cap", len(tok.bpe_encode("a" * (tok.BPE_MAX_WORD_CHARS + 1), ranks)), tok.BPE_MAX_WORD_CHARS + 1)
    bpe = tok.Tokenizer({"normalizer": "text", "level": "bpe"}, merges=merges)
    check("bpe joiners", bpe.split("lower. 'lower"), ["low", J + "er", J + ".", "'" + J, "low", J + "er"])
    check("bpe join", bpe.join(bpe.split("lower. 'lower")), "lower. 'lower")
    # learn_bpe: most frequent pair first, ties to the smaller pair
    learned = tok.learn_bpe(["ab ab ab cd cd cd", "abcd"], {"normalizer": "none"}, 10)
    # ab x3, cd x3, abcd x1: (a,b) 4 and (c,d) 4 tie -> (a,b) first; (ab,cd) 1 < min_frequency 2
    check("learn_bpe", learned, [("a", "b"), ("c", "d")])
    # whole_numbers: digit-only words stay one piece and teach no merge
    digits = ["19 19 19 1991 1991", "x19 x19"]
    check("learn_bpe digits", tok.learn_bpe(digits, {"normalizer": "text"}, 10)[:2], [("1", "9"), ("19", "9")])
    whole_cfg = {"normalizer": "text", "level": "bpe", "whole_numbers": True}
    check("learn_bpe whole_numbers", tok.learn_bpe(digits, whole_cfg, 10), [("1", "9"), ("x", "19")])
    whole = tok.Tokenizer(whole_cfg, merges=[("1", "9"), ("19", "9")])
    check("whole_numbers split", whole.split("a 1991, 3D x19"), ["a", "1991", J + ",", "3", J + "D", "x", J + "19"])
    try:
        tok.Tokenizer({"level": "word", "whole_numbers": True})
        check("whole_numbers word level", "no error", "ValueError")
    except ValueError as e:
        check("whole_numbers word level", str(e), "tokenizer.whole_numbers: only for level \"bpe\" (it is 'word')")
    # whole_names: a capitalized word stays one piece and teaches no merge
    names = ["Kowal Kowal Kowal", "xy xy"]
    check("learn_bpe names", tok.learn_bpe(names, {"normalizer": "text"}, 10)[:1], [("K", "o")])
    names_cfg = {"normalizer": "text", "level": "bpe", "whole_names": True}
    check("learn_bpe whole_names", tok.learn_bpe(names, names_cfg, 10), [("x", "y")])
    named = tok.Tokenizer(names_cfg, merges=[("o", "w"), ("K", "ow")])
    check("whole_names split", named.split("Kowal KOWAL O'Kowal Kow2 \u01c5owal \u0141\u00f3d\u017a"),
          ["Kowal", "K", J + "O", J + "W", J + "A", J + "L", "O", J + "'" + J, "Kowal", "Kow", J + "2",
           "D\u017eowal", "\u0141\u00f3d\u017a"])
    words = ("Ab", "A", "AB", "ab", "\u01c5a", "A\u0301b", "\u0391\u03b8")
    check("is_capitalized", [tok.is_capitalized(w) for w in words], [True, False, False, False, True, False, True])
    try:
        tok.Tokenizer({"level": "char", "whole_names": True})
        check("whole_names char level", "no error", "ValueError")
    except ValueError as e:
        check("whole_names char level", str(e), "tokenizer.whole_names: only for level \"bpe\" (it is 'char')")
    with H.tempdir("tokenizer") as d:
        p = os.path.join(d, "m.txt")
        tok.write_merges(p, merges)
        check("merges round trip", tok.read_merges(p), merges)
        with open(p, "w") as f:
            f.write("a b\nc\n")
        try:
            tok.read_merges(p)
            check("bad merges refused", False, True)
        except ValueError as e:
            check("bad merges names line", "line 2" in str(e), True)
        # the same edge cases as tests/test_tokenizer.c (bpe, malformed_merges_files)
        for content, needle in [(b"", "no merges (the file is empty)"),
                                (b"#version: 0.2\n", "no merges (the file is empty apart from its #version line)"),
                                (b"a b\nc\0 d\n", "line 2: NUL byte at column 2"),
                                (b"a b\n\0", "line 2: NUL byte")]:
            with open(p, "wb") as f:
                f.write(content)
            try:
                tok.read_merges(p)
                check("merges %r refused" % content, "accepted", "ValueError")
            except ValueError as e:
                check("merges %r message" % content, needle in str(e) and p in str(e), True)
        # CRLF accepted; a duplicate keeps its first rank
        with open(p, "wb") as f:
            f.write(b"l o\r\ne r\r\nlo w\r\ne r\r\nl o\r\n")
        odd = tok.read_merges(p)
        check("crlf merges", odd, [("l", "o"), ("e", "r"), ("lo", "w"), ("e", "r"), ("l", "o")])
        odd_tok = tok.Tokenizer({"normalizer": "none", "level": "bpe"}, merges=odd)
        check("duplicate keeps first rank", odd_tok.ranks[("l", "o")], 0)
        check("duplicate keeps first rank (e r)", odd_tok.ranks[("e", "r")], 1)
        for w in ["lower", "lowlow", "error", "ol"]:
            clean = tok.Tokenizer({"normalizer": "none", "level": "bpe"}, merges=[("l", "o"), ("lo", "w"), ("e", "r")])
            check("crlf+duplicates pieces of " + w, odd_tok.split(w), clean.split(w))


def naive_learn_bpe(texts, cfg, num_merges):
    """Reference: recount every pair after every merge (slow, obviously right)."""
    counts = tok._word_counts(texts, cfg)
    vocab = {tuple(w): c for w, c in counts.items() if 2 <= len(w) <= tok.BPE_MAX_WORD_CHARS}
    merges = []
    for _ in range(num_merges):
        pc = {}
        for w, c in vocab.items():
            for i in range(len(w) - 1):
                pc[(w[i], w[i + 1])] = pc.get((w[i], w[i + 1]), 0) + c
        if not pc:
            break
        best = min(pc, key=lambda p: (-pc[p], p))
        if pc[best] < 2:
            break
        merges.append(best)
        nv = {}
        for w, c in vocab.items():
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and (w[i], w[i + 1]) == best:
                    out.append(w[i] + w[i + 1])
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            nv[tuple(out)] = nv.get(tuple(out), 0) + c
        vocab = nv
    return merges


def learn_bpe_matches_naive():
    lines = read("inputs-test.txt").split("\n")[:-1][::20]
    for cfg in ({"normalizer": "text", "lowercase": True}, {"normalizer": "none"}):
        fast = tok.learn_bpe(lines, cfg, 150)
        check("learn_bpe == naive (%s)" % cfg["normalizer"], fast, naive_learn_bpe(lines, cfg, 150))
        check("learn_bpe learned 150", len(fast), 150)


def committed_goldens():
    """Recomputes the goldens from the committed inputs and merges."""
    merges = tok.read_merges(os.path.join(FIX, "merges-2000.txt"))
    sets = {"eng-fra": read("inputs-eng-fra.txt").split("\n")[:-1],
            "test": read("inputs-test.txt").split("\n")[:-1],
            "test-numbers": read("inputs-test-numbers.txt").split("\n")[:-1]}
    check("eng-fra inputs >= 2000", len(sets["eng-fra"]) >= 2000, True)
    for setname, name, cfg, step in mg.CONFIGS:
        tk = tok.Tokenizer(cfg, merges=merges if cfg["level"] == "bpe" else None)
        fname = "golden-%s-%s.tsv" % (setname, name)
        got = mg.golden_lines(tk, sets[setname], step)
        check(fname, got == read(fname), True)
    check("tricky.json", mg.tricky_json(merges) == read("tricky.json"), True)
    check("utf8-lenient.tsv", mg.utf8_cases() == read("utf8-lenient.tsv"), True)
    check("unicode-tables.tsv", mg.unicode_tables() == read("unicode-tables.tsv"), True)


def with_shared():
    shared = mg.shared_dir()
    if not os.path.isfile(os.path.join(shared, "data", "tatoeba-eng-fra", "eng-fra.txt")):
        print("SKIP shared-data checks: %s/data/tatoeba-eng-fra not found" % shared)
        return
    files = mg.build_all(shared, tables=False)
    for name, text in sorted(files.items()):
        check("rebuilt " + name, text == read(name), True)


def main():
    hand_examples()
    learn_bpe_matches_naive()
    committed_goldens()
    with_shared()
    H.finish()


if __name__ == "__main__":
    main()
