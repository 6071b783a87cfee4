#!/usr/bin/python3
"""make_tokenizer_golden.py - writes the tokenizer parity goldens that the C
tokenizer is tested against (tests/test_tokenizer_parity.c), from the Python
twin tools/s2s_tokenizer.py.

    /usr/bin/python3 tools/make_tokenizer_golden.py [--shared DIR] [--out DIR]

Needs ../shared/data/tatoeba-eng-fra (eng-fra.txt, test.tsv). Writes into
tests/fixtures/tokenizer/:

  merges-2000.txt          2,000 BPE merges learned on eng-fra.txt (both
                           sides, "text" normalizer, case kept)
  inputs-eng-fra.txt       every 50th pair of eng-fra.txt, English then French
  inputs-test.txt          every line of test.tsv, English then French
  golden-<set>-<cfg>.tsv   one line per covered input line (every step-th,
                           see CONFIGS): the join of the tokens ("" when it
                           equals the input, else "=" + the join), then the
                           tokens, all separated by TAB
  tricky.json              hand-written hard inputs and their tokens under
                           every normalizer/level combination
  unicode-tables.tsv       per-code-point behaviour of Python (Unicode
                           version of its unicodedata): tutorial output of
                           "a" + c + "b" where it is not "a b", lowercase
                           and NFKC mappings that change c, the "text"
                           normalizer's class of c, unassigned ranges
  utf8-lenient.tsv         random byte strings, hex, with Python's strict
                           error offset and its errors="replace" decoding

The same functions are imported by tests/py/test_tokenizer_parity.py, which
checks that the committed files still equal what this module computes.
"""

import argparse
import json
import os
import random
import sys
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import s2s_tokenizer as st  # noqa: E402

NUM_MERGES = 2000
EF_STEP = 50  # every 50th pair of eng-fra.txt -> 2,856 pairs, 5,712 lines

# (set, name, tokenizer cfg, step): the golden covers every step-th input
# line (line numbers 0, step, 2*step, ...); bpe uses merges-2000.txt
CONFIGS = [
    ("eng-fra", "tutorial-word", {"normalizer": "tutorial", "level": "word"}, 1),
    ("test", "text-word", {"normalizer": "text", "level": "word"}, 1),
    ("test", "text-bpe", {"normalizer": "text", "level": "bpe"}, 1),
    ("test", "text-word-lower", {"normalizer": "text", "level": "word", "lowercase": True}, 5),
    ("test", "text-char-lower", {"normalizer": "text", "level": "char", "lowercase": True}, 5),
    ("test", "tutorial-word", {"normalizer": "tutorial", "level": "word"}, 3),
    ("test", "tutorial-bpe", {"normalizer": "tutorial", "level": "bpe"}, 3),
    ("test", "none-bpe", {"normalizer": "none", "level": "bpe"}, 3),
]

# Hand-written hard inputs (no NUL: the C test reads them with cJSON).
TRICKY = [
    "", "   ", "\t\n\r\x0b\x0c", "Hello, world!", "I'm fine, thanks.", "Où est la gare ?",
    "Il fait beau aujourd'hui.", "naïve café résumé", "cœur Œuvre", "ﬁne ﬂour", "ＡＢＣ１２３！",
    "e\u0301t\u0301e\u0301", "\u00a0a\u00a0b\u2003c\u3000d\u202fe", "a\u200bb\u200cc\u200dd\ufeffe",
    "👨\u200d👩\u200d👧 ❤️ 👍🏽", "مرحبا بالعالم!", "שָׁלוֹם, עוֹלָם.", "a\x01b\x7fc\x1fd",
    "İstanbul ΣΟΦΟΣ ὈΔΥΣΣΕΎΣ", "Straße STRASSE ǅ ﬀ", "3.14 1,000 -5 ２０２６年", "«Bonjour»—dit-il…",
    "\u2028line\u2029para\x85next", "a\u0301\u0302b", "\u0301start", "!!!???...", "x" * 200,
    "\ufffd\ufffe\U0010FFFF\ue000", "tab\tsep\x1cfs", "l'homme qu'il a vu", "C++ & C# > Java?",
    "http://example.com/a_b?c=d", "\uffed joiner \uffed", "Ǆemal ǈ ǋ", "K Å Ω ℌ",
]


def shared_dir(arg=None):
    if arg:
        return arg
    root = os.environ.get("S2S_ROOT") or os.path.dirname(HERE)
    return os.environ.get("S2S_SHARED") or os.path.join(root, "..", "shared")


def read_inputs(shared):
    d = os.path.join(shared, "data", "tatoeba-eng-fra")
    ef = []
    with open(os.path.join(d, "eng-fra.txt"), encoding="utf-8") as f:
        pairs = [line.rstrip("\n").split("\t") for line in f]
    for p in pairs:
        if len(p) < 2:
            raise ValueError("eng-fra.txt: line without TAB")
    ef_sample = [p for i, p in enumerate(pairs) if i % EF_STEP == 0]
    ef = [p[0] for p in ef_sample] + [p[1] for p in ef_sample]
    with open(os.path.join(d, "test.tsv"), encoding="utf-8") as f:
        tpairs = [line.rstrip("\n").split("\t") for line in f]
    test = [p[0] for p in tpairs] + [p[1] for p in tpairs]
    all_ef = [p[0] for p in pairs] + [p[1] for p in pairs]
    return all_ef, {"eng-fra": ef, "test": test}


def golden_lines(tok, lines, step):
    out = []
    for line in lines[::step]:
        toks = tok.split(line)
        for t in toks:
            if "\t" in t or "\n" in t:
                raise ValueError("token with TAB or LF: %r" % t)
        j = tok.join(toks)
        out.append("\t".join(["" if j == line else "=" + j] + toks))
    return "".join(x + "\n" for x in out)


def merges_text(merges):
    return st.MERGES_VERSION_LINE + "\n" + "".join("%s %s\n" % m for m in merges)


def tricky_json(merges):
    res = {"inputs": TRICKY, "configs": []}
    for norm in st.NORMALIZERS:
        for level in st.LEVELS:
            for lower in (False, True):
                if lower and norm != "text":
                    continue
                cfg = {"normalizer": norm, "level": level, "lowercase": lower}
                tok = st.Tokenizer(cfg, merges=merges if level == "bpe" else None)
                entry = {"cfg": cfg, "tokens": [], "joined": []}
                for s in TRICKY:
                    toks = tok.split(s)
                    entry["tokens"].append(toks)
                    entry["joined"].append(tok.join(toks))
                res["configs"].append(entry)
    return json.dumps(res, ensure_ascii=True, indent=0) + "\n"


def _cls(c):
    if c.isspace():
        return "s"
    cat = unicodedata.category(c)
    if cat in ("Cc", "Cf"):
        return "x"
    if cat[0] in "PS":
        return "p"
    if cat[0] == "M":
        return "m"
    return "w"


def unicode_tables():
    """Lines: 'T hex out' tutorial, 'L hex seq' lower, 'K hex seq' NFKC,
    'C start end class' text classes (run-length), 'U start end' unassigned."""
    out = ["# Python %s, unicodedata %s" % (sys.version.split()[0], unicodedata.unidata_version)]
    runs = []
    unassigned = []
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        c = chr(cp)
        cat = unicodedata.category(c)
        if cat == "Cn":
            if unassigned and unassigned[-1][1] == cp - 1:
                unassigned[-1][1] = cp
            else:
                unassigned.append([cp, cp])
            continue
        t = st.tutorial_normalize("a" + c + "b")
        if t != "a b":
            out.append("T\t%x\t%s" % (cp, t))
        lo = c.lower()
        if lo != c:
            out.append("L\t%x\t%s" % (cp, " ".join("%x" % ord(x) for x in lo)))
        k = unicodedata.normalize("NFKC", c)
        if k != c:
            out.append("K\t%x\t%s" % (cp, " ".join("%x" % ord(x) for x in k)))
        cl = _cls(c)
        if runs and runs[-1][2] == cl and runs[-1][1] == cp - 1:
            runs[-1][1] = cp
        else:
            runs.append([cp, cp, cl])
    out += ["C\t%x\t%x\t%s" % tuple(r) for r in runs]
    out += ["U\t%x\t%x" % tuple(r) for r in unassigned]
    return "".join(x + "\n" for x in out)


def utf8_cases():
    rng = random.Random(20261121)
    pieces = [b"a", b" ", b"\xc3\xa9", b"\xe2\x82\xac", b"\xf0\x9f\x98\x80", b"\x80", b"\xbf",
              b"\xc0", b"\xc1", b"\xc2", b"\xe0", b"\xe0\x80", b"\xe0\xa0", b"\xed\xa0", b"\xed\x9f",
              b"\xef\xbf", b"\xf0", b"\xf0\x8f", b"\xf0\x90", b"\xf4\x8f\xbf", b"\xf4\x90", b"\xf5",
              b"\xfe", b"\xff", b"\xe2", b"\xe2\x82"]
    cases = []
    for i in range(600):
        n = rng.randint(0, 8)
        if i % 3 == 0:
            b = bytes(rng.randrange(256) for _ in range(rng.randint(0, 12)))
        else:
            b = b"".join(rng.choice(pieces) for _ in range(n))
        cases.append(b)
    lines = []
    for b in cases:
        try:
            b.decode("utf-8")
            off = -1
        except UnicodeDecodeError as e:
            off = e.start
        dec = b.decode("utf-8", "replace")
        lines.append("%s\t%d\t%s" % (b.hex(), off, " ".join("%x" % ord(c) for c in dec)))
    return "".join(x + "\n" for x in lines)


def build_all(shared, tables=True):
    """Returns {file name: text} of every golden file (without the
    data-independent unicode-tables.tsv and utf8-lenient.tsv unless `tables`)."""
    all_ef, sets = read_inputs(shared)
    merges = st.learn_bpe(all_ef, {"normalizer": "text"}, NUM_MERGES)
    files = {"merges-2000.txt": merges_text(merges)}
    files["inputs-eng-fra.txt"] = "".join(x + "\n" for x in sets["eng-fra"])
    files["inputs-test.txt"] = "".join(x + "\n" for x in sets["test"])
    for setname, name, cfg, step in CONFIGS:
        tok = st.Tokenizer(cfg, merges=merges if cfg["level"] == "bpe" else None)
        files["golden-%s-%s.tsv" % (setname, name)] = golden_lines(tok, sets[setname], step)
    files["tricky.json"] = tricky_json(merges)
    if tables:
        files["unicode-tables.tsv"] = unicode_tables()
        files["utf8-lenient.tsv"] = utf8_cases()
    return files


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", help="the shared directory (default $S2S_ROOT/../shared)")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(HERE), "tests", "fixtures", "tokenizer"))
    a = ap.parse_args()
    files = build_all(shared_dir(a.shared))
    os.makedirs(a.out, exist_ok=True)
    for name, text in sorted(files.items()):
        with open(os.path.join(a.out, name), "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        print("%-40s %9d bytes" % (name, len(text.encode("utf-8"))))


if __name__ == "__main__":
    main()
