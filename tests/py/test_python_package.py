#!/usr/bin/python3
"""The Python package s2s (tools/python/s2s) on its own terms:

  - against the PyTorch golden fixtures (tests/fixtures/models/*/expected.json,
    made by the reference implementation, not by s2s): greedy tokens equal,
    scores within the fixtures' 1e-3, attention matrices (numpy,
    n_steps x n_source) within 1e-4, beam n-best lists where the fixture
    has no ties;
  - errors: each library status raises its own s2s.Error subclass carrying
    status name, code and the library's message; errors="return" gives an
    error object for the bad line only and the others equal their
    translations alone; a bad option raises for the whole call; the raised
    error is the lowest-index bad line for any number of threads; a blank
    line is one empty hypothesis, not an error;
  - score(): the score of a model's own greedy output equals the greedy
    score, and equals the sum of its per-step log-probabilities;
  - tokenize() equals `s2s tokenize --show ids`; info equals `s2s info --format json`;
  - threads: threads=N gives the same output as threads=1; two Python
    threads, one Model each, translate at once and get the serial results
    (the speed-up is printed, not asserted); the GIL is released during the
    library's batch call (another thread runs Python code meanwhile);
  - results, errors and hypotheses pickle (for Dask); abort callback;
    a closed model refuses work.
"""
import glob
import json
import os
import pickle
import struct
import subprocess
import threading
import time

import numpy as np

from pkg_common import MODELS, ROOT, S2S, Skip, finish, need_command, report, run_command, spread, tatoeba_pairs

import s2s

FIX = os.path.join(ROOT, "tests", "fixtures", "models")
FRA_ENG = os.path.join(MODELS, "fra-eng")
TUTORIAL = os.path.join(MODELS, "tutorial-fra-eng")


def need(path):
    if not os.path.isdir(path):
        raise Skip("%s is missing" % path)
    return path


def fixture_text(m, ids, append_eos):
    """The text whose source ids are `ids` (word level, no normalizer)."""
    vocab = m.vocabulary("source")
    if append_eos:
        ids = ids[:-1]
    return " ".join(vocab[i] for i in ids)


def test_golden():
    dirs = sorted(d for d in glob.glob(os.path.join(FIX, "*")) if os.path.exists(os.path.join(d, "expected.json")))
    if not dirs:
        raise Skip("no golden fixtures in %s" % FIX)
    n_greedy = n_beam = 0
    for d in dirs:
        exp = json.load(open(os.path.join(d, "expected.json")))
        cfg = json.load(open(os.path.join(d, "config.json")))
        if cfg["tokenizer"].get("normalizer") != "none":
            continue
        m = s2s.Model(d)
        tol_a, tol_s = exp["tolerance"]["attention"], exp["tolerance"]["score"]
        append_eos = m.info["encoder"]["append_eos"]
        unk = m.info["special_tokens"]["unk"]
        unk_id = m.vocabulary("source").index(unk) if unk in m.vocabulary("source") else -1
        for case in exp["cases"]:
            if m.info["decoder"].get("copy") and unk_id in case["source"]:
                continue  # the reference's unk stands for a piece no text spells
            text = fixture_text(m, case["source"], append_eos)
            if m.tokenize(text).ids != case["source"]:
                continue
            g = case["greedy"]
            if g.get("min_margin") is not None and g["min_margin"] < 1e-4:
                continue
            max_length = case["max_length"] or 0
            h = m.translate([text], max_length=max_length, return_attention=True)[0][0]
            name = "%s %s" % (os.path.basename(d), case["source"])
            assert h.ids == g["tokens"], "%s: greedy %s, reference %s" % (name, h.ids, g["tokens"])
            assert abs(h.score - g["score"]) <= tol_s, "%s: score %r vs %r" % (name, h.score, g["score"])
            assert h.finished == g["finished"], name
            att = np.array(g["attention"], dtype=np.float64)
            assert isinstance(h.attention, np.ndarray) and h.attention.dtype == np.float32, type(h.attention)
            assert h.attention.shape == att.shape == (h.n_steps, len(case["source"])), (h.attention.shape, att.shape)
            assert np.abs(h.attention - att).max() <= tol_a, "%s: attention off by %g" % (
                name, np.abs(h.attention - att).max())
            assert np.allclose(h.token_logprobs, g["token_logprobs"], atol=tol_s), name
            n_greedy += 1
            for b in case.get("beam", []):
                if b.get("ties") or b.get("order_ties"):
                    continue
                r = m.translate([text], beam=b["beam_size"], n_best=b["n_best"], length_penalty=b["length_penalty"],
                                max_length=max_length, return_attention=True)[0]
                assert [x.ids for x in r] == [x["tokens"] for x in b["hyps"]], "%s beam %d: %s vs %s" % (
                    name, b["beam_size"], [x.ids for x in r], [x["tokens"] for x in b["hyps"]])
                for x, y in zip(r, b["hyps"]):
                    assert abs(x.ranking_score - y["ranking_score"]) <= tol_s, name
                    assert np.abs(x.attention - np.array(y["attention"])).max() <= tol_a, name
                n_beam += 1
    assert n_greedy >= 100 and n_beam >= 50, (n_greedy, n_beam)
    print("     %d greedy cases and %d beam cases equal the PyTorch reference" % (n_greedy, n_beam))


def test_load_errors():
    try:
        s2s.Model("/nonexistent/model-dir")
        raise AssertionError("no error")
    except s2s.IoError as e:
        assert (e.status, e.code) == ("S2S_ERR_IO", 1), (e.status, e.code)
        assert "/nonexistent/model-dir" in e.message, e.message
        assert isinstance(e, s2s.Error)
    import shutil
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        d = os.path.join(tmp, "m")
        shutil.copytree(os.path.join(FIX, "gru_dot_before"), d)
        cfg = json.load(open(os.path.join(d, "config.json")))
        cfg["decoder"]["hidden_size"] = "big"
        json.dump(cfg, open(os.path.join(d, "config.json"), "w"))
        try:
            s2s.Model(d)
            raise AssertionError("no error")
        except s2s.ConfigError as e:
            assert e.status == "S2S_ERR_CONFIG" and e.code == 4 and "hidden_size" in e.message, (e.status, e.message)
        # a NaN weight: refused naming the tensor, unless allow_nonfinite
        d2 = os.path.join(tmp, "nan")
        shutil.copytree(os.path.join(FIX, "gru_dot_before"), d2)
        path = os.path.join(d2, "model.safetensors")
        raw = bytearray(open(path, "rb").read())
        n = struct.unpack("<Q", raw[:8])[0]
        head = json.loads(raw[8:8 + n])
        name = sorted(k for k in head if k != "__metadata__" and head[k]["dtype"] == "F32")[0]
        off = 8 + n + head[name]["data_offsets"][0]
        raw[off:off + 4] = struct.pack("<f", float("nan"))
        open(path, "wb").write(raw)
        try:
            s2s.Model(d2)
            raise AssertionError("a NaN weight was accepted")
        except s2s.TensorError as e:
            assert e.status == "S2S_ERR_TENSOR" and name in e.message, e.message
        s2s.Model(d2, allow_nonfinite=True).close()


def test_line_errors():
    m = s2s.Model(need(TUTORIAL))
    lines = ["je suis content .", "je suis xyzzyplugh .", "il est grand .", b"caf\xe9 .", "tu es fatigue ."]
    got = m.translate(lines, errors="return")
    for i in (0, 2, 4):
        assert got[i] == m.translate([lines[i]])[0], i
    assert isinstance(got[1], s2s.UnknownTokenError) and got[1].index == 1, repr(got[1])
    assert (got[1].status, got[1].code) == ("S2S_ERR_UNKNOWN_TOKEN", 9) and "xyzzyplugh" in got[1].message
    assert isinstance(got[3], s2s.Utf8Error) and got[3].index == 3 and got[3].code == 8, repr(got[3])
    # the command writes the same error objects in place
    want = run_command(["translate", "-m", TUTORIAL, "--format", "jsonl"], ["je suis xyzzyplugh ."])
    assert s2s.format_jsonl(got[1], 0) == want, (s2s.format_jsonl(got[1], 0), want)
    # errors="raise": the lowest-index bad line, whatever the threads
    for threads in (1, 2, 5):
        try:
            m.translate(lines, errors="raise", threads=threads, batch_size=1)
            raise AssertionError("no error")
        except s2s.UnknownTokenError as e:
            assert e.index == 1, (threads, e.index)
    # lenient: invalid UTF-8 becomes U+FFFD instead of an error
    fr = s2s.Model(need(FRA_ENG))
    assert isinstance(fr.translate([b"caf\xe9 ."], errors="return")[0], s2s.Utf8Error)
    r = fr.translate([b"caf\xe9 ."], lenient=True)[0]
    assert "\ufffd" in "".join(r.source_tokens) or "<unk>" in r.source_tokens, r.source_tokens
    # a blank line is not decoded: one empty, finished hypothesis of score 0 (section 9.5)
    m2 = s2s.Model(os.path.join(FIX, "no_append_eos"))
    r = m2.translate(["", "a b", " \u3000"], n_best=2, return_attention=True)
    for k in (0, 2):
        assert len(r[k]) == 1 and r[k].source_tokens == [], r[k]
        h = r[k][0]
        assert (h.text, h.ids, h.score, h.finished, h.token_logprobs) == ("", [], 0.0, True, []), h
        assert h.attention.shape == (0, 0)
    assert len(r[1]) >= 1 and r[1][0].n_steps > 0


def test_option_errors():
    m = s2s.Model(need(FRA_ENG))
    for kw, words in ((dict(beam=0), "beam size 0"), (dict(beam=2, n_best=3), "n-best 3"),
                      (dict(length_penalty=-1.0), "length penalty"), (dict(max_length=100000), "max length")):
        try:
            m.translate(["Bonjour."], errors="return", **kw)
            raise AssertionError("no error for %s" % kw)
        except s2s.InvalidArgumentError as e:
            assert e.code == 11 and words in e.message and e.index is None, (kw, e.message)
    for bad in (dict(threads=0), dict(batch_size=0), dict(errors="ignore")):
        try:
            m.translate(["Bonjour."], **bad)
            raise AssertionError("no error for %s" % bad)
        except ValueError:
            pass
    try:
        m.translate(["Bonjour."], beam_width=3)
        raise AssertionError("no error for an unknown option")
    except TypeError:
        pass
    try:
        m.translate("Bonjour.")
        raise AssertionError("a str was taken for a list")
    except TypeError:
        pass
    # a field of s2s_decode_params by its C name passes through
    assert m.translate(["Bonjour."], beam_size=3)[0] == m.translate(["Bonjour."], beam=3)[0]


def test_score():
    m = s2s.Model(need(FRA_ENG))
    src = [p[1] for p in spread(tatoeba_pairs(), 40)]
    tr = m.translate(src, beam=1, length_penalty=0.0, keep_numbers=False)
    hyps = [t[0] for t in tr]
    # errors="return": a copy model's output may hold a copied piece that the
    # text re-tokenizes into a token neither vocabulary nor source has
    sc = m.score(src, [h.text for h in hyps], return_attention=True, errors="return")
    same = 0
    unknown = [s for s in sc if isinstance(s, s2s.UnknownTokenError)]
    assert len(unknown) <= 5, "%d of 40 outputs hold unknown tokens: %s" % (len(unknown), unknown[:2])
    for h, s in zip(hyps, sc):
        if isinstance(s, s2s.UnknownTokenError):
            continue
        assert abs(s.score - float(np.float32(sum(np.float32(x) for x in s.token_logprobs)))) < 1e-3
        assert s.finished and s.attention.shape == (s.n_steps, s.n_source)
        if s.ids == h.ids and h.finished:  # the text re-tokenizes into the same tokens
            assert abs(s.score - h.score) < 1e-4, (s.score, h.score)
            same += 1
    assert same >= 30, "only %d of 40 outputs re-tokenize to themselves" % same
    r = m.score(["Bonjour.", "Bonjour."], ["Hello.", b"\xff"], errors="return")
    assert isinstance(r[1], s2s.Utf8Error) and r[1].message.startswith("target: "), repr(r[1])


def test_tokenize_and_info():
    need_command()
    for name in sorted(os.listdir(MODELS)):
        d = os.path.join(MODELS, name)
        if not os.path.exists(os.path.join(d, "config.json")):
            continue
        m = s2s.Model(d)
        info = json.loads(subprocess.run([S2S, "info", "-m", d, "--format", "json"], check=True,
                                         stdout=subprocess.PIPE).stdout)
        info.pop("dir_from", None)  # how the command found the model
        assert m.info == info, "models/%s: info differs" % name
        texts = ["Où est la gare ?", "le 3 mars 2021", "An abstract about neural networks."]
        want = run_command(["tokenize", "-m", d, "--show", "ids", "--lenient"], texts).splitlines()
        for t, w in zip(texts, want):
            if w == "":  # the command failed the line (a word the model does not know)
                try:
                    m.tokenize(t, lenient=True)
                    raise AssertionError("%s: %r tokenized" % (name, t))
                except s2s.UnknownTokenError:
                    continue
            got = m.tokenize(t, lenient=True)
            assert " ".join(map(str, got.ids)) == w, (name, t, got.ids, w)
            vocab = m.vocabulary("source")
            assert list(got) == [vocab[i] for i in got.ids] and len(got.pieces) == len(got.ids)
    m = s2s.Model(need(FRA_ENG))
    tgt = m.tokenize("Where is the station?", side="target")
    assert tgt[-1] != "</s>" and m.detokenize(tgt.ids) == "Where is the station?", (tgt, m.detokenize(tgt.ids))
    assert m.detokenize(list(tgt)) == "Where is the station?"


def test_threads_same_output():
    m = s2s.Model(need(FRA_ENG))
    lines = [p[1] for p in spread(tatoeba_pairs(), 120)] + ["", b"\xff bad"]
    one = m.translate(lines, beam=2, return_attention=True, errors="return")
    for threads, bs in ((2, 16), (3, 7), (8, 64)):
        got = m.translate(lines, beam=2, return_attention=True, errors="return", threads=threads, batch_size=bs)
        assert got == one, "threads=%d batch_size=%d differs" % (threads, bs)


def overlap(a, b):
    """Seconds during which some interval of `a` and some of `b` both run
    (each a list of disjoint (start, end) pairs)."""
    total = 0.0
    for s0, e0 in a:
        for s1, e1 in b:
            total += max(0.0, min(e0, e1) - max(s0, s1))
    return total


def test_two_threads_two_models():
    """Two threads, one Model each, decode at the same time: results equal
    the serial ones, and the two threads are inside the library's batch
    calls at the same time for most of the run (they would never be if the
    GIL were held there), whatever the number of free cores; the speed-up
    is printed, not asserted."""
    lines = [p[1] for p in spread(tatoeba_pairs(), 600)]
    halves = [lines[0::2], lines[1::2]]
    models = [s2s.Model(need(FRA_ENG)) for _ in range(2)]
    t0 = time.time()
    serial = [models[i].translate(halves[i], beam=3) for i in range(2)]
    t_serial = time.time() - t0
    lib = models[0]._lib
    real = lib.s2s_translate_inputs
    calls = {}

    def timed(*a):
        c0 = time.perf_counter()
        r = real(*a)
        calls.setdefault(threading.get_ident(), []).append((c0, time.perf_counter()))
        return r

    out = [None, None]

    def work(i):
        out[i] = models[i].translate(halves[i], beam=3)

    ths = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    lib.s2s_translate_inputs = timed
    try:
        t0 = time.time()
        for t in ths:
            t.start()
        for t in ths:
            t.join()
        t_par = time.time() - t0
    finally:
        lib.s2s_translate_inputs = real
    assert out == serial, "two threads gave other results than one after the other"
    both = overlap(*calls.values()) if len(calls) == 2 else 0.0
    print("     two threads, one model each, %d lines beam 3: serial %.2f s, concurrent %.2f s, speed-up %.2fx; "
          "both threads inside the library %.0f%% of the time" % (len(lines), t_serial, t_par, t_serial / t_par,
                                                                   100.0 * both / t_par))
    assert both > 0.5 * t_par, "the threads were in the library together only %.2f s of %.2f s" % (both, t_par)
    # one Model shared by two threads works too (a session each)
    shared = models[0]
    res = [None, None]
    ths = [threading.Thread(target=lambda i=i: res.__setitem__(i, shared.translate(halves[i], beam=3)))
           for i in range(2)]
    for t in ths:
        t.start()
    for t in ths:
        t.join()
    assert res == serial


def test_gil_released():
    """Another thread runs Python code while the library decodes one batch."""
    m = s2s.Model(need(FRA_ENG))
    lines = [p[1] for p in spread(tatoeba_pairs(), 64)]
    lib = m._lib
    real = lib.s2s_translate_inputs
    window = []

    class Timed:
        def __call__(self, *a):
            t0 = time.perf_counter()
            r = real(*a)
            window.append((t0, time.perf_counter()))
            return r

    ticks = []
    stop = threading.Event()

    def spin():
        while not stop.is_set():
            ticks.append(time.perf_counter())

    lib.s2s_translate_inputs = Timed()
    try:
        t = threading.Thread(target=spin)
        t.start()
        m.translate(lines, beam=5, batch_size=len(lines))
        stop.set()
        t.join()
    finally:
        lib.s2s_translate_inputs = real
    a, b = max(window, key=lambda w: w[1] - w[0])
    inside = sum(1 for x in ticks if a < x < b)
    print("     one batch call of %.2f s; the other thread ran %d loop iterations meanwhile" % (b - a, inside))
    assert b - a > 0.05 and inside > 100, (b - a, inside)


def test_pickle_and_misc():
    m = s2s.Model(need(FRA_ENG))
    r = m.translate(["Où est la gare ?", b"\xff"], return_attention=True, n_best=2, errors="return")
    back = pickle.loads(pickle.dumps(r))
    assert back == r and isinstance(back[0], s2s.Translation) and back[0].source_tokens == r[0].source_tokens
    assert isinstance(back[1], s2s.Utf8Error) and back[1].index == 1
    sc = m.score(["Bonjour."], ["Hello."])
    assert pickle.loads(pickle.dumps(sc)) == sc
    try:
        pickle.dumps(m)
        raise AssertionError("a Model pickled")
    except TypeError:
        pass
    # hard alignment: argmax of each emitted token's attention row
    h = r[0][0]
    assert h.alignment() == [(int(np.argmax(h.attention[i])), i) for i in range(len(h.ids))]
    # abort
    calls = [0]

    def abort():
        calls[0] += 1
        return calls[0] > 3

    a = m.translate(["Je suis très content de te voir.", "Merci."], abort=abort, errors="return")
    assert all(isinstance(x, s2s.AbortedError) for x in a), a
    # closed model
    with s2s.Model(FRA_ENG) as m2:
        assert m2.translate(["Merci."])[0].text
    try:
        m2.translate(["Merci."])
        raise AssertionError("a closed model translated")
    except s2s.InvalidArgumentError:
        pass


def main():
    report("golden fixtures: greedy, beam, attention as numpy", test_golden)
    report("load errors carry status and message", test_load_errors)
    report("line errors in place, lowest-index raise, lenient, empty", test_line_errors)
    report("option errors raise for the call", test_option_errors)
    report("score", test_score)
    report("tokenize and info equal the command's", test_tokenize_and_info)
    report("threads=N equals threads=1", test_threads_same_output)
    report("two threads, two models: serial results", test_two_threads_two_models)
    report("GIL released during decoding", test_gil_released)
    report("pickle, alignment, abort, close", test_pickle_and_misc)
    finish()


if __name__ == "__main__":
    main()
