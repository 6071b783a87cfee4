#!/usr/bin/python3
"""The Python package gives what the command gives, on the Tatoeba test set
(tatoeba-eng-fra/test.tsv, the source side each model reads), for every
model in models/. Both decode each line whole, as written (the command with
--no-split-sentences --case off; by default it splits a line into sentences
and handles ALL-CAPS and Title Case lines, which the package does not do:
how many lines that changes is printed):

  - greedy and beam 5: every line of `s2s translate --format jsonl` equals,
    byte for byte, s2s.format_jsonl() of Model.translate(..., return_attention=True)
    (texts, tokens, scores, token log-probabilities and attention all written
    with the command's "%.9g"); a differing line is also compared field by
    field to say what differs;
  - the other options on a smaller part: n-best 3 with a length penalty,
    min/max length, n-gram blocking, coverage penalty, target prefixes
    (--prefix, --prefix-column), sampling (seed, samples, temperature,
    top-k, top-p), --replace-unk, and the text layouts (--scores,
    --alignment hard|soft, --n-best), `s2s summarize` against
    Model.summarize, and `s2s score --format jsonl` against Model.score.

S2S_PARITY_LINES sets the lines per model and mode (default 300, spread over
the test split; "all" for the whole split of 6,847 lines),
S2S_PARITY_OPTION_LINES those of each other option set (default 24).
"""
import json
import os
import random
import shutil
import struct
import tempfile

from pkg_common import (MODELS, ROOT, Skip, finish, model_dirs, report, run_command, source_column, spread,
                        tatoeba_pairs)

import s2s

N = os.environ.get("S2S_PARITY_LINES", "300")
N = None if N == "all" else int(N)
N_OPTIONS = int(os.environ.get("S2S_PARITY_OPTION_LINES", "24"))  # lines for each of the other option sets


def first_difference(c_line, p_line):
    """Where two jsonl lines differ, in words."""
    try:
        a = json.loads(c_line, parse_float=str)
        b = json.loads(p_line, parse_float=str)
    except ValueError as e:
        return "not JSON: %s" % e
    if a.keys() != b.keys():
        return "keys %s vs %s" % (sorted(a), sorted(b))
    for k in a:
        if k != "hypotheses" and a[k] != b[k]:
            return "%s: %r vs %r" % (k, a[k], b[k])
    for i, (ha, hb) in enumerate(zip(a["hypotheses"], b["hypotheses"])):
        for k in ha:
            if ha[k] != hb.get(k):
                return "hypothesis %d %s: %.200r vs %.200r" % (i, k, ha[k], hb.get(k))
    return "hypotheses %d vs %d" % (len(a["hypotheses"]), len(b["hypotheses"]))


def compare(what, c_out, p_out, n_in):
    c_lines = c_out.splitlines(keepends=True)
    p_lines = p_out.splitlines(keepends=True)
    assert len(c_lines) == len(p_lines), "%s: %d command lines, %d package lines" % (what, len(c_lines), len(p_lines))
    bad = [i for i, (a, b) in enumerate(zip(c_lines, p_lines)) if a != b]
    if bad:
        i = bad[0]
        raise AssertionError("%s: %d of %d lines differ; first, line %d: %s\n  command: %.300s\n  package: %.300s"
                             % (what, len(bad), len(c_lines), i, first_difference(c_lines[i], p_lines[i]),
                                c_lines[i], p_lines[i]))
    return len(c_lines)


def jsonl_of(results):
    return "".join(s2s.format_jsonl(r, i) for i, r in enumerate(results))


def lines_for(name, n):
    col = source_column(name)
    return spread([p[col] for p in tatoeba_pairs()], n)


counts = {}


def test_jsonl(name, beam):
    def t():
        lines = lines_for(name, N)
        mdir = os.path.join(MODELS, name)
        args = ["translate", "-m", mdir, "--format", "jsonl", "--beam", str(beam)]
        c_out = run_command(args, lines)
        m = s2s.Model(mdir)
        res = m.translate(lines, beam=beam, return_attention=True, errors="return")
        n = compare("%s beam %d" % (name, beam), c_out, jsonl_of(res), len(lines))
        errors = sum(isinstance(r, s2s.Error) for r in res)
        counts[(name, beam)] = (n, errors)
        default = run_command(args, lines, as_written=False).splitlines(keepends=True)
        other = sum(a != b for a, b in zip(default, c_out.splitlines(keepends=True)))
        print("     models/%s beam %d: %d lines identical (%d error lines); the command's default sentence "
              "splitting and case handling change %d of them" % (name, beam, n, errors, other))
    return t


def test_options(name):
    """n-best with a length penalty, min/max length, replace-unk, lenient,
    n-gram blocking, coverage penalty, keep-numbers, target prefixes (one for all lines,
    and one per line as --prefix-column reads them), sampling."""
    def t():
        col = source_column(name)
        pairs = spread(tatoeba_pairs(), N_OPTIONS)
        lines = [p[col] for p in pairs]
        prefixes = [p[1 - col].split(" ")[0] for p in pairs]  # first word of the reference
        mdir = os.path.join(MODELS, name)
        m = s2s.Model(mdir)
        cases = [
            (["--beam", "4", "--n-best", "3", "--length-penalty", "0.6"],
             dict(beam=4, n_best=3, length_penalty=0.6)),
            (["--n-best", "2"], dict(n_best=2)),                 # beam follows n-best, as in the command
            (["--min-length", "3", "--max-length", "7"], dict(min_length=3, max_length=7)),
            (["--replace-unk", "--beam", "3"], dict(replace_unk=True, beam=3)),
            (["--lenient", "--max-length", "4"], dict(lenient=True, max_length=4)),
            (["--no-repeat-ngram", "1", "--beam", "3"], dict(no_repeat_ngram=1, beam=3)),
            (["--coverage-penalty", "0.3", "--beam", "4", "--length-penalty", "1"],
             dict(coverage_penalty=0.3, beam=4, length_penalty=1.0)),
            (["--prefix", prefixes[0], "--beam", "2"], dict(prefix=prefixes[0], beam=2)),
            (["--keep-numbers", "--beam", "3"], dict(keep_numbers=True, beam=3)),
            (["--no-keep-numbers", "--beam", "3"], dict(keep_numbers=False, beam=3)),
            (["--compute", "int8", "--beam", "2"], dict(compute="int8", beam=2)),
            (["--sample", "--seed", "7", "--num-samples", "3", "--temperature", "0.8", "--top-k", "20",
              "--top-p", "0.9"], dict(sampling=True, seed=7, num_samples=3, temperature=0.8, top_k=20, top_p=0.9)),
        ]
        local = bool(m.info["decoder"]["attention"].get("window"))
        for args, kw in cases:
            if local and "coverage_penalty" in kw:
                # section 9.5: a coverage penalty with local attention is an invalid argument
                try:
                    m.translate(lines, **kw)
                except s2s.InvalidArgumentError as e:
                    assert "local attention" in str(e), str(e)
                else:
                    raise AssertionError("%s: a coverage penalty with local attention was accepted" % name)
                continue
            c_out = run_command(["translate", "-m", mdir, "--format", "jsonl"] + args, lines)
            res = m.translate(lines, return_attention=True, errors="return", **kw)
            compare("%s %s" % (name, " ".join(args)), c_out, jsonl_of(res), len(lines))
        # blank lines are not decoded: one empty hypothesis (the prefix unused), whatever n-best
        blanks = ["", "   ", "\u3000\u2028", "\t", "...", lines[0]]
        for args, kw in (([], {}), (["--beam", "3", "--n-best", "2", "--prefix", prefixes[0]],
                                    dict(beam=3, n_best=2, prefix=prefixes[0]))):
            c_out = run_command(["translate", "-m", mdir, "--format", "jsonl"] + args, blanks)
            res = m.translate(blanks, return_attention=True, errors="return", **kw)
            compare("%s blank lines %s" % (name, " ".join(args)), c_out, jsonl_of(res), len(blanks))
        # one prefix per line
        c_out = run_command(["translate", "-m", mdir, "--format", "jsonl", "--prefix-column"],
                            [a + "\t" + b for a, b in zip(lines, prefixes)])
        res = m.translate(lines, prefix=prefixes, return_attention=True, errors="return")
        compare("%s --prefix-column" % name, c_out, jsonl_of(res), len(lines))
        # sampling streams follow the line number: a slice with stream_offset draws the same samples
        k = len(lines) // 2
        part = m.translate(lines[k:], sampling=True, seed=7, stream_offset=k, return_attention=True, errors="return")
        full = m.translate(lines, sampling=True, seed=7, return_attention=True, errors="return")
        def plain(rs):  # errors by kind and message (their index is relative to the call)
            return [(type(r), r.message) if isinstance(r, s2s.Error) else r for r in rs]
        assert plain(part) == plain(full[k:]), "%s: sampling depends on more than (seed, line number)" % name
    return t


def test_text_layouts(name):
    def t():
        lines = lines_for(name, N_OPTIONS)
        mdir = os.path.join(MODELS, name)
        m = s2s.Model(mdir)
        cases = [
            ([], {}, {}),
            (["--scores"], {}, dict(scores=True)),
            (["--alignment", "hard", "--scores"], dict(return_attention=True), dict(scores=True, alignment="hard")),
            (["--alignment", "soft"], dict(return_attention=True), dict(alignment="soft")),
            (["--beam", "3", "--n-best", "2"], dict(beam=3, n_best=2), dict(n_best=True)),
            (["--sample", "--num-samples", "2", "--seed", "3"], dict(sampling=True, num_samples=2, seed=3),
             dict(n_best=True)),
        ]
        for args, kw, fmt in cases:
            c_out = run_command(["translate", "-m", mdir] + args, lines)
            res = m.translate(lines, errors="return", **kw)
            p_out = "".join(s2s.format_text(r, i, **fmt) for i, r in enumerate(res))
            compare("%s text %s" % (name, " ".join(args)), c_out, p_out, len(lines))
    return t


def unk_copy(name, tmp, boost, src=None, tokenizer=None):
    """A copy of models/NAME (or of the directory `src`) whose
    decoder.out.bias entry of unk is raised by `boost`, so that the model
    emits unk now and then; `tokenizer` replaces its tokenizer settings."""
    d = os.path.join(tmp, name)
    shutil.copytree(src or os.path.join(MODELS, name), d)
    if tokenizer:
        cfg = json.load(open(os.path.join(d, "config.json"), encoding="utf-8"))
        cfg["tokenizer"] = tokenizer
        json.dump(cfg, open(os.path.join(d, "config.json"), "w", encoding="utf-8"))
    cfg = json.load(open(os.path.join(d, "config.json"), encoding="utf-8"))
    unk = cfg["special_tokens"]["unk"]
    if unk is None:
        return None
    unk_id = json.load(open(os.path.join(d, cfg.get("target_vocab", "target.vocab.json")), encoding="utf-8"))[unk]
    path = os.path.join(d, cfg.get("weights", "model.safetensors"))
    raw = bytearray(open(path, "rb").read())
    n = struct.unpack("<Q", raw[:8])[0]
    t = json.loads(raw[8:8 + n])["decoder.out.bias"]
    fmt, size = {"F32": ("<f", 4), "F16": ("<e", 2)}[t["dtype"]]
    off = 8 + n + t["data_offsets"][0] + size * unk_id
    raw[off:off + size] = struct.pack(fmt, struct.unpack(fmt, raw[off:off + size])[0] + boost)
    open(path, "wb").write(raw)
    return d


# Words whose pieces the tokenizer changes (accented capitals lowercased, NFKC,
# punctuation split off), so that the original spelling is looked up in other ways.
UNK_LINES = ["Émile Zola a écrit « Germinal » en 1885.", "ÉCOLE, Überall! (Ça va ?)", "ﬁn ÀÉÎÕÜ  İstanbul,Ǆemal",
             "«Œuvre» — l'Été ÉTÉ été", "Le 12 MARS 2021 à Zürich.", "ÇA, c'est \"ÉNORME\"..."]


# For the word-level fixture with the tutorial normalizer, which drops
# punctuation: a one-piece word is then found with its punctuation trimmed.
FIXTURE_UNK_LINES = ["Zürich, Été! (Noël)", "¿Qué? «Ça» ÉTÉ!", "x-y z... 'k'", "Müller: a b", "Zürich, B C"]


def hypotheses_with(token, results):
    """How many hypotheses of `results` (s2s.Model.translate with errors="return") hold `token`."""
    return sum(1 for r in results if not isinstance(r, s2s.Error) for h in r if token in h.tokens)


def test_replace_unk(name, boost):
    def t():
        if name == "unk_gru":  # the tiny word-level fixture, tutorial normalizer
            src = os.path.join(ROOT, "tests", "fixtures", "models", "unk_gru")
            if not os.path.isdir(src):
                raise Skip("%s is missing" % src)
            lines, tok = FIXTURE_UNK_LINES * 4, {"normalizer": "tutorial", "level": "word"}
        else:
            src, tok = None, None
            lines = lines_for(name, N_OPTIONS) + UNK_LINES
        with tempfile.TemporaryDirectory() as tmp:
            # The boost that makes a model write unk often enough moves as the
            # model is retrained: raise it (by 2, ten times at most) until a
            # quarter of the greedy outputs hold an unk.
            for extra in range(0, 22, 2):
                mdir = unk_copy(name, os.path.join(tmp, str(extra)), boost + extra, src, tok)
                if mdir is None:
                    raise Skip("models/%s has no unk" % name)
                m = s2s.Model(mdir)
                unk = m.info["special_tokens"]["unk"]
                res = m.translate(lines, replace_unk=True, errors="return")
                if hypotheses_with(unk, res) >= len(lines) // 4:
                    break
            for args, kw in ((["--replace-unk"], dict(replace_unk=True)),
                             (["--replace-unk", "--beam", "3", "--n-best", "2"], dict(replace_unk=True, beam=3, n_best=2))):
                c_out = run_command(["translate", "-m", mdir, "--format", "jsonl"] + args, lines)
                res = m.translate(lines, return_attention=True, errors="return", **kw)
                compare("%s+unk %s" % (name, " ".join(args)), c_out, jsonl_of(res), len(lines))
                replaced = hypotheses_with(unk, res)
                assert replaced >= len(lines) // 4, "only %d hypotheses have an unk to replace" % replaced
            print("     models/%s with unk favoured (bias +%g): %d hypotheses with unks replaced alike" % (name, boost + extra, replaced))
    return t


def copy_variant(name, tmp, bias, scale=0.05, seed=1):
    """models/NAME made a pointer-generator (format version 2, decoder.copy)
    with a random copy gate (F32 tensors appended to its safetensors file),
    so that source pieces the target vocabulary lacks get extended ids."""
    d = os.path.join(tmp, name + "-copy")
    shutil.copytree(os.path.join(MODELS, name), d)
    cfg = json.load(open(os.path.join(d, "config.json"), encoding="utf-8"))
    if cfg["special_tokens"].get("unk") is None:
        return None
    cfg["format_version"] = 2
    cfg["decoder"]["copy"] = True
    json.dump(cfg, open(os.path.join(d, "config.json"), "w", encoding="utf-8"), ensure_ascii=False)
    path = os.path.join(d, cfg.get("weights", "model.safetensors"))
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    head = json.loads(raw[8:8 + n])
    # a model that copies already: its own gate is left out (the data laid
    # out again without it) and replaced by the random one below
    old_data, data = raw[8 + n:], bytearray()
    meta = head.pop("__metadata__", None)
    for tname in sorted(head, key=lambda k: head[k]["data_offsets"][0]):
        a, b = head[tname]["data_offsets"]
        if tname.startswith("decoder.copy_gate."):
            del head[tname]
            continue
        head[tname]["data_offsets"] = [len(data), len(data) + (b - a)]
        data += old_data[a:b]
    if meta is not None:
        head["__metadata__"] = meta
    enc = cfg["encoder"]
    size = (enc["hidden_size"] * (2 if enc.get("bidirectional") else 1) + head["decoder.out.weight"]["shape"][1]
            + head["decoder.embedding.weight"]["shape"][1])
    rng = random.Random(seed)
    for tname, vals in (("decoder.copy_gate.weight", [rng.gauss(0, scale) for _ in range(size)]),
                        ("decoder.copy_gate.bias", [bias])):
        start = len(data)
        data += struct.pack("<%df" % len(vals), *vals)
        head[tname] = {"dtype": "F32", "shape": [1, size] if tname.endswith("weight") else [1],
                       "data_offsets": [start, len(data)]}
    h = json.dumps(head, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    open(path, "wb").write(struct.pack("<Q", len(h)) + h + bytes(data))
    return d


def test_copy_model(name, bias):
    """A copy model: extended ids in tokens and text, prefixes and scored
    targets holding source words the target vocabulary lacks."""
    def t():
        col = source_column(name)
        pairs = spread(tatoeba_pairs(), N_OPTIONS)
        lines = [p[col] for p in pairs]
        with tempfile.TemporaryDirectory() as tmp:
            mdir = copy_variant(name, tmp, bias)
            m = s2s.Model(mdir)
            assert m.info["decoder"]["copy"] is True and m.info["format_version"] == 2
            V = m.info["target_vocab_size"]
            for args, kw in (([], {}), (["--beam", "3", "--n-best", "2"], dict(beam=3, n_best=2)),
                             (["--replace-unk"], dict(replace_unk=True))):
                c_out = run_command(["translate", "-m", mdir, "--format", "jsonl"] + args, lines)
                res = m.translate(lines, return_attention=True, errors="return", **kw)
                compare("%s+copy %s" % (name, " ".join(args)), c_out, jsonl_of(res), len(lines))
            copied = sum(1 for r in res if not isinstance(r, s2s.Error) for h in r if any(i >= V for i in h.ids))
            assert copied >= len(lines) // 4, "only %d hypotheses copy a source piece" % copied
            # a source word the target vocabulary lacks, as a prefix and in a scored target
            tv = set(m.vocabulary("target"))
            words = []
            for line in lines:
                pieces = [p for p in m.tokenize(line).pieces[:-1] if p not in tv and "\uffed" not in p]
                words.append(pieces[0] if pieces else line.split(" ")[0])
            c_out = run_command(["translate", "-m", mdir, "--format", "jsonl", "--prefix-column"],
                                [a + "\t" + b for a, b in zip(lines, words)])
            compare("%s+copy --prefix-column" % name, c_out,
                    jsonl_of(m.translate(lines, prefix=words, return_attention=True, errors="return")), len(lines))
            tgts = [w + " " + p[1 - col] for w, p in zip(words, pairs)]
            c_out = run_command(["score", "-m", mdir, "--format", "jsonl"], [a + "\t" + b for a, b in zip(lines, tgts)])
            compare("%s+copy score" % name, c_out, jsonl_of(m.score(lines, tgts, return_attention=True,
                                                                      errors="return")), len(lines))
            print("     models/%s as a copy model: %d hypotheses with copied pieces, alike" % (name, copied))
    return t


def test_summarize():
    def t():
        if "arxiv-title" not in model_dirs():
            raise Skip("models/arxiv-title is missing")
        mdir = os.path.join(MODELS, "arxiv-title")
        lines = lines_for("arxiv-title", N_OPTIONS)
        m = s2s.Model(mdir)
        for args, kw in (([], {}), (["--beam", "2", "--max-length", "6"], dict(beam=2, max_length=6))):
            c_out = run_command(["summarize", "-m", mdir, "--format", "jsonl"] + args, lines)
            compare("summarize %s" % args, c_out, jsonl_of(m.summarize(lines, return_attention=True, **kw)),
                    len(lines))
    return t


def test_score(name):
    def t():
        col = source_column(name)
        pairs = spread(tatoeba_pairs(), N_OPTIONS)
        src = [p[col] for p in pairs]
        tgt = [p[1 - col] for p in pairs]
        mdir = os.path.join(MODELS, name)
        c_out = run_command(["score", "-m", mdir, "--format", "jsonl"], [a + "\t" + b for a, b in zip(src, tgt)])
        res = s2s.Model(mdir).score(src, tgt, return_attention=True, errors="return")
        compare("%s score" % name, c_out, jsonl_of(res), len(src))
    return t


def main():
    names = model_dirs()
    report("models present", lambda: None if names else (_ for _ in ()).throw(AssertionError("no models")))
    for name in names:
        for beam in (1, 5):
            report("jsonl parity [%s, beam %d]" % (name, beam), test_jsonl(name, beam))
    for name in names:
        report("option parity [%s]" % name, test_options(name))
        report("text layout parity [%s]" % name, test_text_layouts(name))
        report("score parity [%s]" % name, test_score(name))
    for name, boost in (("fra-eng", 14.0), ("arxiv-title", 6.0), ("dates", 12.0), ("unk_gru", 6.0)):
        if name in names or name == "unk_gru":
            report("replace-unk parity [%s]" % name, test_replace_unk(name, boost))
    for name, bias in (("fra-eng", 1.0), ("dates", 0.0)):
        if name in names:
            report("copy model parity [%s]" % name, test_copy_model(name, bias))
    report("summarize parity [arxiv-title]", test_summarize())
    total = sum(n for n, _ in counts.values())
    print("     jsonl lines compared: %d (%s per model and mode)" % (total, N or "all"))
    finish()


if __name__ == "__main__":
    main()
