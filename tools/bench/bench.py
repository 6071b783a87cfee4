#!/usr/bin/python3
"""bench - `make bench`: s2s against PyTorch and ONNX Runtime, in one run.

    PYTHONPATH=tools/python /usr/bin/python3 tools/bench/bench.py --s2s build/s2s --bin build/bench [--quick]

For every case it decodes the same input lines with the same model in
PyTorch (tools/bench/bench_torch.py: one at a time and in batches), ONNX
Runtime for Node.js (tools/bench/onnx_export.py + bench_ort.js, greedy: one
at a time and in batches; skipped with a note when not installed) and s2s
(lines piped one at a time, and a file), checks the outputs against PyTorch,
and writes docs/bench.md (tools/bench/bench.md.in with this run's tables):
sentences/s (wall clock and per CPU-second), the s2s/peer ratios, latency,
the share of the FMA peak measured by tools/bench/peak.c in the same run,
matmul_wp alone (gemm.c), model load (load.c) and the targets.

Models: random-weight models made here with s2s_tools.reference (seeded) in
work-tmp/bench/, plus models/tutorial-fra-eng and models/fra-eng when they
exist (skipped with a note otherwise).
"""

import argparse
import io
import json
import os
import random
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PY = "/usr/bin/python3"
BENCH_TORCH = os.path.join(HERE, "bench_torch.py")
TEST_TSV = os.path.normpath(os.path.join(ROOT, "..", "shared", "data", "tatoeba-eng-fra", "test.tsv"))


# --------------------------------------------------------------------------
# processes
# --------------------------------------------------------------------------

GNU_TIME = "/usr/bin/time"


def _timed(cmd, rss_file):
    """cmd under GNU time writing the peak RSS to rss_file, when GNU time is
    there (else cmd itself)."""
    return [GNU_TIME, "-q", "-f", "%M", "-o", rss_file] + list(cmd) \
        if os.access(GNU_TIME, os.X_OK) else list(cmd)


def _wait(p, full, rss_file):
    """Waits for p (started from `full`) -> (rusage, peak RSS kB:
    GNU time's figure when it ran, else wait4's)."""
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    rss_kb = ru.ru_maxrss
    if full[0] == GNU_TIME:
        try:
            rss_kb = int(open(rss_file).read().split()[-1])
        except (ValueError, IndexError, OSError):
            pass
    return ru, rss_kb


def run(cmd, stdin=None, stdout=None, env=None):
    """Runs cmd with stdin from the file `stdin` (or empty) and stdout to
    the file `stdout` (or captured) -> dict wall (s), cpu (user + system s,
    all threads, from wait4), rss_mb (peak RSS of the command alone), rc,
    out (captured stdout), err.

    The peak RSS comes from GNU time (`apt-get install time`) when present:
    a child forked straight from this Python process would inherit its
    resident size in ru_maxrss. Without it, os.wait4's figure is used, which
    is then an upper bound."""
    import tempfile
    with tempfile.TemporaryFile() as ferr, tempfile.TemporaryFile() as fcap, \
            tempfile.NamedTemporaryFile(suffix=".rss") as frss:
        fin = open(stdin, "rb") if stdin else subprocess.DEVNULL
        fout = open(stdout, "wb") if stdout else fcap
        full = _timed(cmd, frss.name)
        t0 = time.perf_counter()
        p = subprocess.Popen(full, stdin=fin, stdout=fout, stderr=ferr, env=env)
        ru, rss_kb = _wait(p, full, frss.name)
        wall = time.perf_counter() - t0
        if stdin:
            fin.close()
        if stdout:
            fout.close()
        fcap.seek(0)
        ferr.seek(0)
        return {"wall": wall, "cpu": ru.ru_utime + ru.ru_stime, "rss_mb": rss_kb / 1024.0,
                "rc": p.returncode, "out": fcap.read().decode("utf-8", "replace"),
                "err": ferr.read().decode("utf-8", "replace")}


def load_avg():
    try:
        return "%.2f %.2f %.2f" % os.getloadavg()
    except OSError:
        return "?"


# --------------------------------------------------------------------------
# models and inputs
# --------------------------------------------------------------------------

def make_random_model(path, seed, hidden, emb, v_src, v_tgt, out_scale, dtype="F32"):
    """A GRU + Bahdanau (before_rnn) model like the PyTorch tutorial's, with
    seeded random weights; the output layer is scaled by out_scale so that
    the next-token distributions are peaked (no near-ties, varied output)."""
    import torch
    from s2s_tools import reference as ref
    torch.manual_seed(seed)
    cfg = {"format": "s2s-rnn", "format_version": 1, "task": "translation",
           "special_tokens": {"sos": "SOS", "eos": "EOS"},
           "encoder": {"cell": "gru", "embedding_size": emb, "hidden_size": hidden},
           "decoder": {"cell": "gru", "embedding_size": emb, "hidden_size": hidden,
                       "attention": {"type": "bahdanau", "position": "before_rnn"}},
           "bridge": "final", "tokenizer": {"normalizer": "none", "level": "word"}}
    src_vocab = {"SOS": 0, "EOS": 1}
    src_vocab.update({"w%d" % i: i for i in range(2, v_src)})
    tgt_vocab = {"SOS": 0, "EOS": 1}
    tgt_vocab.update({"t%d" % i: i for i in range(2, v_tgt)})
    model = ref.Seq2Seq(cfg, v_src, v_tgt)
    with torch.no_grad():
        model.decoder.out.weight.mul_(out_scale)
        model.decoder.out.bias.mul_(out_scale)
    ref.save_model_dir(path, model, cfg, src_vocab, tgt_vocab, dtype=dtype)


# The version-2 features, each on the same base model (below): a label, the
# attention type, keys added to decoder.attention, and whether copy is on.
FEATURES = [("plain attention (Bahdanau)", "bahdanau", {}, False),
            ("coverage", "bahdanau", {"coverage": True}, False),
            ("copy", "bahdanau", {}, True),
            ("copy + coverage", "bahdanau", {"coverage": True}, True),
            ("local-m, window 8", "bahdanau", {"window": 8, "local": "monotonic"}, False),
            ("local-p, window 8", "bahdanau", {"window": 8, "local": "predictive"}, False),
            ("multi-head, 4 heads", "multihead", {"heads": 4}, False)]
FEATURE_SHAPE = dict(enc_hidden=128, dec_hidden=256, emb=192, v_src=6000, v_tgt=5000)
FEATURE_STEPS = 20   # every sentence decodes exactly this many steps
FEATURE_ROUNDS = 5   # runs of each feature model, taken in turn; the fastest is kept


def make_feature_model(path, seed, att_type, att_keys, copy):
    """A model of the fra-eng shape (bidirectional GRU encoder 2 x 128, GRU
    decoder 256, embeddings 192, vocabularies 6000/5000, attention after the
    decoder RNN) with one version-2 feature, and seeded random weights."""
    import torch
    from s2s_tools import reference as ref
    f = FEATURE_SHAPE
    att = {"type": att_type, "position": "after_rnn", "size": f["dec_hidden"]}
    att.update(att_keys)
    dec = {"cell": "gru", "embedding_size": f["emb"], "hidden_size": f["dec_hidden"], "attention": att}
    if copy:
        dec["copy"] = True
    cfg = {"format": "s2s-rnn", "format_version": 2, "task": "translation",
           "special_tokens": {"sos": "SOS", "eos": "EOS", "unk": "UNK"},
           "encoder": {"cell": "gru", "embedding_size": f["emb"], "hidden_size": f["enc_hidden"],
                       "bidirectional": True},
           "decoder": dec, "bridge": "final", "tokenizer": {"normalizer": "none", "level": "word"}}
    src_vocab = {"SOS": 0, "EOS": 1, "UNK": 2}
    src_vocab.update({"w%d" % i: i for i in range(3, f["v_src"])})
    tgt_vocab = {"SOS": 0, "EOS": 1, "UNK": 2}
    tgt_vocab.update({"t%d" % i: i for i in range(3, f["v_tgt"])})
    torch.manual_seed(seed)
    model = ref.Seq2Seq(cfg, f["v_src"], f["v_tgt"])
    ref.save_model_dir(path, model, cfg, src_vocab, tgt_vocab)


def feature_costs(a, work, log, n):
    """The cost of each version-2 feature per decoding step: s2s translate
    (greedy, one thread) on the same n random lines with each FEATURES model,
    every sentence held to FEATURE_STEPS steps (eos counts as one) by
    --min-length/--max-length.
    -> list of dicts label, decode_s, decode_cpu_s, us_per_step (CPU)."""
    inputs = os.path.join(work, "features.txt")
    random_inputs(inputs, n, FEATURE_SHAPE["v_src"], 17)
    dirs = []
    for i, (label, att_type, keys, copy) in enumerate(FEATURES):
        d = os.path.join(work, "models", "feature-%d" % i)
        r = run([PY, os.path.abspath(__file__), "--make-feature-model", d, str(i)])
        if r["rc"] != 0:
            raise SystemExit("bench: making the %s model failed:\n%s" % (label, r["err"]))
        dirs.append(d)
    best = [None] * len(FEATURES)
    for rnd in range(FEATURE_ROUNDS):   # the models in turn, the fastest round of each kept
        log("features, round %d of %d" % (rnd + 1, FEATURE_ROUNDS))
        for i, d in enumerate(dirs):
            x = run_s2s(a, d, inputs, os.path.join(work, "feature-%d.out" % i), 1, 1, FEATURE_STEPS,
                        ("--min-length", str(FEATURE_STEPS - 1)))
            if best[i] is None or x["decode_cpu_s"] < best[i]["decode_cpu_s"]:
                best[i] = x
    for (label, _, _, _), x in zip(FEATURES, best):
        x.update(label=label, us_per_step=1e6 * x["decode_cpu_s"] / (n * FEATURE_STEPS))
    return best


def report_features(feats, n):
    base = feats[0]["us_per_step"]
    L = ["Cost of each format-version-2 feature per decoding step: models of the fra-eng "
         "shape (bidirectional GRU encoder 2 x 128, GRU decoder 256, vocabularies 6000/5000, "
         "attention after the decoder RNN) with seeded random weights, `s2s translate` greedy on "
         "one thread, %d random lines of 5-15 words, each held to exactly %d decoding steps "
         "(`--min-length %d --max-length %d`, eos included). CPU time per step over all lines, "
         "the fastest of %d runs taken in turn, the encoder included (the same for every row); "
         "copy inputs are all words the target vocabulary lacks, so every source word has an "
         "extended id." % (n, FEATURE_STEPS, FEATURE_STEPS - 1, FEATURE_STEPS, FEATURE_ROUNDS),
         "", "| attention | us per step (CPU) | vs plain |", "|---|---:|---:|"]
    for f in feats:
        L.append("| %s | %.1f | %+.1f%% |" % (f["label"], f["us_per_step"],
                                            100 * (f["us_per_step"] / base - 1)))
    L.append("")
    return "\n".join(L)


SHARED = os.path.normpath(os.path.join(ROOT, "..", "shared", "data"))


def shipped_inputs(name, n, work):
    """Held-out input lines of a shipped model (its test data), or None."""
    tat = os.path.join(SHARED, "tatoeba-eng-fra", "test.tsv")
    col = {"fra-eng": (tat, 1), "eng-fra": (tat, 0), "arxiv-title": (os.path.join(SHARED, "arxiv-titles",
                                                                                    "test.tsv"), 0)}
    if name == "dates":
        from s2s_tools import dates
        _, _, test = dates.generate(60000, 1000, 1000, 1234)
        return [s for s, _ in test[:n]]
    if name == "tutorial-fra-eng":
        out = os.path.join(work, "tutorial-inputs.txt")
        real_inputs(out, n, os.path.join(ROOT, "models", name))
        return open(out, encoding="utf-8").read().splitlines()
    if name not in col or not os.path.exists(col[name][0]):
        return None
    path, c = col[name]
    lines = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            cols = line.rstrip("\n").split("\t")
            if len(cols) > c and cols[c].strip():
                lines.append(cols[c])
            if len(lines) >= n:
                break
    return lines


def shipped_speeds(a, work, log, n):
    """Sentences per CPU-second of every shipped model: `s2s translate`
    (`summarize` for a summarization model, with its defaults) on n of its
    held-out inputs, one thread, the command's own batching, f32 and int8."""
    out = []
    mdir = os.path.join(ROOT, "models")
    for name in sorted(os.listdir(mdir)):
        d = os.path.join(mdir, name)
        if not os.path.exists(os.path.join(d, "config.json")):
            continue
        lines = shipped_inputs(name, n, work)
        if not lines:
            continue
        inp = os.path.join(work, "shipped-%s.txt" % name)
        with open(inp, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        task = json.load(open(os.path.join(d, "config.json"), encoding="utf-8")).get("task")
        cmd = [a.s2s, "summarize" if task == "summarization" else "translate", "-m", d, "-q", "--threads", "1"]
        row = {"name": name, "sentences": len(lines), "command": "summarize" if task == "summarization" else
               "translate"}
        log("shipped model %s" % name)
        for mode in ("f32", "int8"):
            runs = [run(cmd + ["--compute", mode], stdin=inp, stdout=os.devnull) for _ in range(2)]
            empty = min(run(cmd + ["--compute", mode])["cpu"] for _ in range(2))
            best = min(r["cpu"] for r in runs)
            row[mode] = len(lines) / max(best - empty, 1e-9)
        out.append(row)
    return out


def report_shipped(rows):
    L = ["## Shipped models", "",
         "Sentences per CPU-second of each model in `models/` on its own held-out inputs (Tatoeba test "
         "sentences, held-out tutorial pairs, generated test dates, arXiv test abstracts), `s2s translate` "
         "(`s2s summarize` for `arxiv-title`) with the model's decoding defaults, one thread, the "
         "command's batching of 16 lines, model load excluded. int8 is `--compute int8` (with the "
         "model's lexical shortlist when it has one), including the quantization of the weights the "
         "first call makes.", "",
         "| model | inputs | command | f32 | int8 |", "|---|---:|---|---:|---:|"]
    for r in rows:
        L.append("| `%s` | %d | %s | %s | %s |" % (r["name"], r["sentences"], r["command"], fmt(r["f32"]),
                                                   fmt(r["int8"])))
    L.append("")
    return "\n".join(L)


def without_copy(model_dir, out_dir):
    """The model with its copy gate left out, as a format-version-1 model
    (the same weights otherwise, its shortlist too): the PyTorch and ONNX
    Runtime peers of this bench implement version 1 only."""
    from s2s_tools import reference as ref
    model, cfg, sv, tv = ref.load_model_dir(model_dir)
    raw = json.load(open(os.path.join(model_dir, "config.json"), encoding="utf-8"))
    raw["format_version"] = 1
    raw["decoder"].pop("copy", None)
    state = {k: v for k, v in model.state_dict().items() if not k.startswith("decoder.copy_gate.")}
    extra = {}
    for name in ("merges.txt", "shortlist.txt"):
        p = os.path.join(model_dir, name)
        if os.path.exists(p):
            extra[name] = open(p, "rb").read()
    dtype = weights_dtype(model_dir)
    ref.save_model_dir(out_dir, state, raw, sv, tv, dtype=dtype if dtype in ("F32", "F16", "BF16") else "F32",
                       extra_files=extra)


def random_inputs(path, n, v_src, seed, lo=5, hi=15):
    rng = random.Random(seed)
    with open(path, "w") as f:
        for _ in range(n):
            f.write(" ".join("w%d" % rng.randrange(2, v_src) for _ in range(rng.randint(lo, hi))) + "\n")


def real_inputs(path, n, model_dir, max_tokens=15):
    """The first n French sentences of the Tatoeba test set that tokenize
    (1..max_tokens tokens) with no word unknown to a model without unk."""
    from s2s_tools import tokenizer as tok
    cfg = json.load(open(os.path.join(model_dir, "config.json"), encoding="utf-8"))
    tk = tok.Tokenizer(cfg.get("tokenizer", {}), model_dir)
    vocab = json.load(open(os.path.join(model_dir, cfg.get("source_vocab", "source.vocab.json")),
                           encoding="utf-8"))
    unk = (cfg.get("special_tokens") or {}).get("unk")
    out = []
    with open(TEST_TSV, encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 2:
                continue
            fr = parts[1].strip()
            toks = tk.split(fr, vocab)
            if not toks or len(toks) > max_tokens or "\n" in fr:
                continue
            if unk is None and any(t not in vocab for t in toks):
                continue
            out.append(fr)
            if len(out) == n:
                break
    with open(path, "w", encoding="utf-8") as f:
        f.write("".join(s + "\n" for s in out))
    return len(out)


def weights_dtype(model_dir):
    """The dtypes in the weights file's safetensors header, e.g. "F32"."""
    import struct
    cfg, _ = model_facts(model_dir)
    with open(os.path.join(model_dir, cfg.get("weights", "model.safetensors")), "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        h = json.loads(f.read(n))
    return "/".join(sorted({v["dtype"] for k, v in h.items() if k != "__metadata__"}))


def model_facts(model_dir):
    cfg = json.load(open(os.path.join(model_dir, "config.json"), encoding="utf-8"))
    wfile = os.path.join(model_dir, cfg.get("weights", "model.safetensors"))
    return cfg, os.path.getsize(wfile)


# --------------------------------------------------------------------------
# FLOPs (multiply-add = 2) of the architecture, model-format.md section 4
# --------------------------------------------------------------------------

def flop_model(model_dir):
    """-> dict: per_source_token (encoder + key projection), per_row (one
    decoder step of one hypothesis, without the attention over the source),
    per_row_source (the attention part, per source position)."""
    cfg, _ = model_facts(model_dir)
    enc, dec = cfg["encoder"], cfg["decoder"]
    tv = json.load(open(os.path.join(model_dir, cfg.get("target_vocab", "target.vocab.json")),
                        encoding="utf-8"))
    V = len(tv)
    gates = {"gru": 3, "lstm": 4}
    He, Le = enc["hidden_size"], enc.get("num_layers", 1)
    dirs = 2 if enc.get("bidirectional") else 1
    D = He * dirs
    Hd, Ld, Ed = dec["hidden_size"], dec.get("num_layers", 1), dec["embedding_size"]
    att = dec.get("attention", {})
    kind, pos = att.get("type", "bahdanau"), att.get("position", "before_rnn")
    A = att.get("size", Hd)
    feed = dec.get("input_feeding", False) and pos == "after_rnn"
    per_src = 0
    for l in range(Le):
        inp = enc["embedding_size"] if l == 0 else D
        per_src += dirs * 2 * gates[enc["cell"]] * He * (inp + He)
    if kind == "bahdanau":
        per_src += 2 * A * D
    elif kind == "general":
        per_src += 2 * Hd * D
    per_row = 0
    for l in range(Ld):
        if l == 0:
            inp = Ed + (D if pos == "before_rnn" else (Hd if feed else 0))
        else:
            inp = Hd
        per_row += 2 * gates[dec["cell"]] * Hd * (inp + Hd)
    per_row_src = 2 * D                      # context vector
    if kind == "bahdanau":
        per_row += 2 * A * Hd                # Wa q
        per_row_src += 3 * A                 # add + Va dot
    else:
        per_row_src += 2 * (Hd if kind == "general" else D)
    if pos == "after_rnn":
        per_row += 2 * Hd * (D + Hd)
    per_row += 2 * V * Hd                    # output projection
    return {"per_source_token": per_src, "per_row": per_row, "per_row_source": per_row_src,
            "target_vocab": V}


def case_flops(fm, t):
    """Total FLOPs of a run from bench_torch's counts (identical search)."""
    return (fm["per_source_token"] * t["source_tokens"] + fm["per_row"] * t["live_row_steps"]
            + fm["per_row_source"] * t["live_row_steps_x_source"])


# --------------------------------------------------------------------------
# the engines of one case
# --------------------------------------------------------------------------

BENCH_ORT = os.path.join(HERE, "bench_ort.js")
ONNX_EXPORT = os.path.join(HERE, "onnx_export.py")
NODE_MODULES = os.path.join(ROOT, "build", "bench", "node", "node_modules")
BATCH = 16   # the batched peers' batch size: what `s2s translate` takes from a file


def read_tokens(path):
    """id -> best hypothesis' tokens (None for an error line), from s2s jsonl
    (hypotheses) or the peers' jsonl (tokens)."""
    res = {}
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f):
            o = json.loads(line)
            if "tokens" in o:
                res[o["id"]] = o["tokens"]
            elif "error" in o or not o.get("hypotheses"):
                res[o.get("id", i)] = None
            else:
                res[o["id"]] = o["hypotheses"][0]["tokens"]
    return res


def compare(out, ref_out):
    """Lines of `out` whose tokens differ from `ref_out`'s -> dict n,
    mismatches, errors, ids, first (id, token index, ours, theirs)."""
    got, want = read_tokens(out), read_tokens(ref_out)
    mism, errors, ids, first = 0, 0, [], None
    for i, w in sorted(want.items()):
        g = got.get(i)
        if g is None:
            errors += 1
        elif g != w:
            mism += 1
            ids.append(i)
            if first is None:
                k = next(j for j in range(len(g) + 1) if j >= len(g) or j >= len(w) or g[j] != w[j])
                first = (i, k, g[k:k + 5], w[k:k + 5])
    return {"n": len(want), "mismatches": mism, "errors": errors, "ids": ids, "first": first}


PLAIN_SEARCH = ["--length-penalty", "0", "--min-length", "0", "--no-repeat-ngram", "0", "--coverage-penalty", "0",
                "--no-keep-numbers"]


def s2s_cmd(a, model, beam, threads, max_len, extra, fmt="text"):
    """The command as timed: text output, as a user translates a file (jsonl,
    with its per-token scores and attention matrices, is written by an
    untimed run of the same command for the token comparison)."""
    cmd = [a.s2s, "translate", "-m", model, "--format", fmt, "--beam", str(beam),
           "--threads", str(threads), "-q", "--no-split-sentences", "--case", "off"] + PLAIN_SEARCH + list(extra)
    # as PyTorch: whole lines, plain beam search whatever the model's config "decoding" defaults say
    if max_len:
        cmd += ["--max-length", str(max_len)]
    return cmd


def run_s2s(a, model, inputs, out, beam, threads, max_len, extra=()):
    """s2s translate reading the whole input file (it batches 16 lines),
    timed with text output; then, untimed, the jsonl of the same run to out."""
    cmd = s2s_cmd(a, model, beam, threads, max_len, extra)
    empty = [run(cmd) for _ in range(3)]   # start-up + model load, best of 3
    e_wall, e_cpu = min(x["wall"] for x in empty), min(x["cpu"] for x in empty)
    best = None
    for _ in range(a.repeat):
        r = run(cmd, stdin=inputs, stdout=out + ".txt")
        if r["rc"] != 0:
            raise SystemExit("bench: s2s failed (%d): %s\n%s" % (r["rc"], " ".join(cmd), r["err"][-2000:]))
        if best is None or r["wall"] < best["wall"]:
            best = r
    jsonl = s2s_cmd(a, model, beam, threads, max_len, extra, "jsonl")
    r = run(jsonl, stdin=inputs, stdout=out)
    if r["rc"] != 0:
        raise SystemExit("bench: s2s failed (%d): %s\n%s" % (r["rc"], " ".join(jsonl), r["err"][-2000:]))
    return {"decode_s": max(best["wall"] - e_wall, 1e-9), "decode_cpu_s": max(best["cpu"] - e_cpu, 1e-9),
            "rss_mb": best["rss_mb"], "cmd": " ".join(cmd) + " < FILE"}


THREADS_REPEAT = 3  # the thread cases' input, this many times over
THREADS_RUNS = 3    # runs of each thread count, taken in turn; the fastest kept


def run_threads(a, model, inputs, out, beam, max_len):
    """--threads 1 and --threads 2 on the case's input THREADS_REPEAT times
    over (a case of a few tenths of a second is mostly noise), the two
    commands run in turn THREADS_RUNS times each and the fastest run of each
    kept, start-up and model load subtracted as in run_s2s; the two outputs
    must be the same bytes."""
    lines = open(inputs, "rb").read()
    big = out + ".input"
    with open(big, "wb") as f:
        f.write(lines * THREADS_REPEAT)
    res = {}
    cmds = {t: s2s_cmd(a, model, beam, t, max_len, ()) for t in (1, 2)}
    empty_runs = {t: [run(cmds[t]) for _ in range(3)] for t in (1, 2)}  # start-up + model load, best of 3
    empty = {t: min(x["wall"] for x in empty_runs[t]) for t in (1, 2)}
    empty_cpu = {t: min(x["cpu"] for x in empty_runs[t]) for t in (1, 2)}
    for _ in range(THREADS_RUNS):
        for t in (1, 2):
            r = run(cmds[t], stdin=big, stdout="%s.t%d.txt" % (out, t))
            if r["rc"] != 0:
                raise SystemExit("bench: s2s failed (%d): %s\n%s" % (r["rc"], " ".join(cmds[t]), r["err"][-2000:]))
            if t not in res or r["wall"] < res[t]["wall"]:
                res[t] = r
    if open(out + ".t1.txt", "rb").read() != open(out + ".t2.txt", "rb").read():
        raise SystemExit("bench: --threads 2 gave other output than --threads 1 (%s)" % out)
    return {"sentences": lines.count(b"\n") * THREADS_REPEAT,
            "t1": {"decode_s": max(res[1]["wall"] - empty[1], 1e-9), "decode_cpu_s": max(res[1]["cpu"] - empty_cpu[1], 1e-9)},
            "t2": {"decode_s": max(res[2]["wall"] - empty[2], 1e-9), "decode_cpu_s": max(res[2]["cpu"] - empty_cpu[2], 1e-9)}}


def run_s2s_pipe(a, model, inputs, out, beam, max_len, extra=()):
    """One line written to s2s translate's standard input, its result read
    back, then the next line: every sentence is decoded alone. A first line
    is answered before the clock starts. Timed with text output; the jsonl
    of a second, untimed pass of the same kind goes to out."""
    cmd = s2s_cmd(a, model, beam, 1, max_len, extra)
    empty = [run(cmd) for _ in range(3)]
    e_cpu = min(x["cpu"] for x in empty)
    lines = open(inputs, "rb").read().splitlines(keepends=True)
    outs, _, _, _ = pipe_lines(s2s_cmd(a, model, beam, 1, max_len, extra, "jsonl"), lines)
    with open(out, "wb") as f:
        for i, o in enumerate(outs):   # renumber: the warm-up line took id 0
            d = json.loads(o)
            d["id"] = i
            f.write((json.dumps(d) + "\n").encode("utf-8"))
    _, lat, wall, (ru, rss_kb) = pipe_lines(cmd, lines)
    return {"decode_s": wall, "decode_cpu_s": max(ru.ru_utime + ru.ru_stime - e_cpu, 1e-9),
            "rss_mb": rss_kb / 1024.0, "latencies_ms": lat,
            "cmd": " ".join(cmd) + " (one line at a time)"}


def pipe_lines(cmd, lines):
    """Runs cmd, writes lines[0] and reads its answer, then, on the clock,
    each line and its answer in turn -> (answers, latencies ms, wall
    seconds, (rusage, peak RSS kB))."""
    import tempfile
    with tempfile.NamedTemporaryFile(suffix=".rss") as frss, tempfile.TemporaryFile() as ferr:
        full = _timed(cmd, frss.name)
        p = subprocess.Popen(full, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=ferr, bufsize=0)
        # unbuffered writes (each line goes out at once), buffered reads: a
        # raw pipe's readline() would read the answer one byte per system call
        reader = io.BufferedReader(p.stdout)
        outs, lat = [], []
        p.stdin.write(lines[0])
        reader.readline()
        t0 = time.perf_counter()
        for line in lines:
            t = time.perf_counter()
            p.stdin.write(line)
            outs.append(reader.readline())
            lat.append((time.perf_counter() - t) * 1e3)
        wall = time.perf_counter() - t0
        p.stdin.close()
        rest = reader.read()
        ru, rss_kb = _wait(p, full, frss.name)
        ferr.seek(0)
        err = ferr.read().decode("utf-8", "replace")
    if p.returncode != 0 or rest.strip():
        raise SystemExit("bench: s2s (pipe) failed (%d): %s\n%s" % (p.returncode, " ".join(cmd), err[-2000:]))
    return outs, lat, wall, (ru, rss_kb)


def run_torch(a, model, inputs, out, beam, max_len, batch, check):
    cmd = [PY, BENCH_TORCH, "-m", model, "-i", inputs, "--out", out, "--beam", str(beam),
           "--threads", "1", "--max-length", str(max_len or 0), "--batch", str(batch),
           "--check", str(check), "--repeat", str(a.repeat if batch > 1 else 1)]
    # glibc puts PyTorch's large per-step tensors on transparent huge pages,
    # as tools/train does: batched decoding measured 2-8% faster with it.
    env = dict(os.environ)
    env.setdefault("GLIBC_TUNABLES", "glibc.malloc.hugetlb=1")
    return run_peer("bench_torch", cmd, env=env)


def run_peer(name, cmd, env=None):
    """Runs a peer's timing script; its last output line is a JSON result,
    to which the peak RSS and the command are added."""
    r = run(cmd, env=env)
    if r["rc"] != 0:
        raise SystemExit("bench: %s failed (%d): %s\n%s" % (name, r["rc"], " ".join(cmd), r["err"][-3000:]))
    res = json.loads(r["out"].strip().splitlines()[-1])
    res["rss_mb"] = r["rss_mb"]
    res["cmd"] = " ".join(cmd)
    return res


def have_ort():
    return shutil.which("node") is not None and \
        os.path.exists(os.path.join(NODE_MODULES, "onnxruntime-node", "package.json"))


def ort_export(a, model, tag):
    """Exports model to ONNX once per run -> directory."""
    d = os.path.join(a.work, "onnx", tag)
    if not os.path.exists(os.path.join(d, "meta.json")):
        r = run([PY, ONNX_EXPORT, "-m", model, "-o", d])
        if r["rc"] != 0:
            raise SystemExit("bench: onnx_export failed: %s\n%s" % (model, r["err"][-3000:]))
    return d


def run_ort(a, onnx_dir, model, inputs, out, max_len, batch):
    ids = out + ".ids"
    r = run([PY, ONNX_EXPORT, "-m", model, "-i", inputs, "--ids", ids])
    if r["rc"] != 0:
        raise SystemExit("bench: onnx_export (ids) failed:\n" + r["err"][-3000:])
    cmd = ["node", BENCH_ORT, onnx_dir, ids, out, "--batch", str(batch), "--threads", "1",
           "--repeat", str(a.repeat if batch > 1 else 1)]
    if max_len:
        cmd += ["--max-length", str(max_len)]
    return run_peer("bench_ort", cmd, env=dict(os.environ, NODE_PATH=NODE_MODULES))


def s2s_has_int8(a):
    r = run([a.s2s, "translate", "--help"])
    return "--compute" in r["out"] + r["err"]


SHORT = {"torch_one": "PyTorch one at a time", "ort_one": "ONNX Runtime one at a time",
         "ort_batch": "ONNX Runtime batched", "s2s_pipe": "s2s piped", "s2s_file": "s2s file",
         "s2s_pipe_int8": "int8 piped", "s2s_file_int8": "int8 file", "s2s_file_t2": "s2s 2 threads"}

# engine key -> column heading
ENGINES = [("torch_one", "PyTorch, one at a time"), ("torch_batch", "PyTorch, batches of %d" % BATCH),
           ("ort_one", "ONNX Runtime, one at a time"), ("ort_batch", "ONNX Runtime, batches of %d" % BATCH),
           ("s2s_pipe", "s2s, lines piped one at a time"), ("s2s_file", "s2s, a file"),
           ("s2s_pipe_int8", "s2s --compute int8, piped one at a time"),
           ("s2s_file_int8", "s2s --compute int8, a file")]


def run_case(a, c, log):
    """c: name, model, inputs, beam, max_len, tag -> c plus runs {engine: result}
    and compare {engine: against PyTorch batched}."""
    w = lambda e: os.path.join(a.work, "%s.%s.jsonl" % (c["tag"], e))  # noqa: E731
    runs = {}
    log("  PyTorch ...")
    runs["torch_one"] = run_torch(a, c["model"], c["inputs"], w("torch_one"), c["beam"], c["max_len"], 1,
                                  c["check"])
    runs["torch_batch"] = run_torch(a, c["model"], c["inputs"], w("torch_batch"), c["beam"], c["max_len"],
                                    BATCH, 0)
    if c["beam"] == 1 and a.ort:
        log("  ONNX Runtime ...")
        d = ort_export(a, c["model"], c["model_tag"])
        runs["ort_one"] = run_ort(a, d, c["model"], c["inputs"], w("ort_one"), c["max_len"], 1)
        runs["ort_batch"] = run_ort(a, d, c["model"], c["inputs"], w("ort_batch"), c["max_len"], BATCH)
    log("  s2s ...")
    runs["s2s_pipe"] = run_s2s_pipe(a, c["model"], c["inputs"], w("s2s_pipe"), c["beam"], c["max_len"])
    runs["s2s_file"] = run_s2s(a, c["model"], c["inputs"], w("s2s_file"), c["beam"], 1, c["max_len"])
    if a.int8:
        runs["s2s_pipe_int8"] = run_s2s_pipe(a, c["model"], c["inputs"], w("s2s_pipe_int8"), c["beam"],
                                             c["max_len"], ["--compute", "int8"])
        runs["s2s_file_int8"] = run_s2s(a, c["model"], c["inputs"], w("s2s_file_int8"), c["beam"], 1,
                                        c["max_len"], ["--compute", "int8"])
    threads = None
    if c.get("threads2"):
        runs["s2s_file_t2"] = run_s2s(a, c["model"], c["inputs"], w("s2s_file_t2"), c["beam"], 2,
                                      c["max_len"])
        threads = run_threads(a, c["model"], c["inputs"], w("threads"), c["beam"], c["max_len"])
    ref_out = w("torch_batch")
    cmp_ = {e: compare(w(e), ref_out) for e in runs if e != "torch_batch"}
    t = runs["torch_batch"]
    fm = flop_model(c["model"])
    res = dict(c)
    res.update({"runs": runs, "compare": cmp_, "flops": case_flops(fm, t), "fm": fm, "threads": threads,
                "sentences": t["sentences"], "live_row_steps": t["live_row_steps"]})
    return res


# --------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------

def fmt(x, nd=1):
    if x is None:
        return "-"
    if abs(x) >= 100:
        return "%.0f" % x
    return ("%." + str(nd) + "f") % x


def sent_s(r, e, cpu=False):
    x = r["runs"].get(e)
    if not x:
        return None
    return r["sentences"] / (x["decode_cpu_s"] if cpu else x["decode_s"])


def ratio(r, num, den, cpu=False):
    x, y = sent_s(r, num, cpu), sent_s(r, den, cpu)
    return x / y if x and y else None


def pct_peak(r, e, peak):
    x = r["runs"].get(e)
    return 100 * r["flops"] / x["decode_cpu_s"] / 1e9 / peak if x else None


def report_results(a, env, peak_info, gemm, lsm, loads, cases, targets, notes, int8_cols):
    L = []
    L.append("Measured %s on %s (%s), %d cores. PyTorch %s with %s; ONNX Runtime for Node.js %s "
             "(Node.js %s). FMA peak "
             "measured in this run: **%.1f GFLOP/s** per core (%s; AVX2 alone: %.1f), the bound used "
             "below: the engine's matrix products use AVX-512 where the CPU has it. One core reads a "
             "buffer of %.0f MB (about the default model's decoder weights), again and again, at "
             "**%.1f GB/s** (tools/bench/peak.c): the bound of one sentence decoded alone, which reads "
             "the decoder's weights once per step."
             % (env["date"], env["cpu"], env["kernel"], os.cpu_count(),
                env["torch"], env["blas"], env["ort"], env["node"], peak_info["engine"],
                "AVX-512" if peak_info.get("avx512") else "AVX2", peak_info["avx2"],
                peak_info["read_mb"], peak_info["read_gbs"]))
    L.append("")
    L.append("Sentences per second, wall clock (per CPU-second in brackets); every run on one "
             "thread. The ratios are s2s's lines piped one at a time against ONNX Runtime "
             "one at a time, and s2s reading a file against ONNX Runtime in batches of %d "
             "(PyTorch where ONNX Runtime has no run)." % BATCH)
    L.append("")
    engines = [e for e in ENGINES if e[0] in ("torch_one", "torch_batch", "ort_one", "ort_batch",
                                               "s2s_pipe", "s2s_file") or (int8_cols and "int8" in e[0])]
    L.append("| case | sentences | " + " | ".join(h for _, h in engines) +
             " | s2s / peer, one at a time | s2s / peer, batched | lines that differ from PyTorch batched (int8 is not exact) |")
    L.append("|---|---:|" + "---:|" * len(engines) + "---:|---:|---|")
    for r in cases:
        cells = []
        for e, _ in engines:
            v, vc = sent_s(r, e), sent_s(r, e, True)
            cells.append("-" if v is None else "%s (%s)" % (fmt(v), fmt(vc)))
        one = "ort_one" if "ort_one" in r["runs"] else "torch_one"
        bat = "ort_batch" if "ort_batch" in r["runs"] else "torch_batch"
        r1, r1c = ratio(r, "s2s_pipe", one), ratio(r, "s2s_pipe", one, True)
        rb, rbc = ratio(r, "s2s_file", bat), ratio(r, "s2s_file", bat, True)
        diffs = []
        for e, h in engines:
            cm = r["compare"].get(e)
            if cm and (cm["mismatches"] or cm["errors"]):
                diffs.append("%s %d" % (SHORT[e], cm["mismatches"] + cm["errors"]))
        L.append("| %s | %d | %s | **%.2fx** (%.2fx)%s | **%.2fx** (%.2fx)%s | %s |" % (
            r["name"], r["sentences"], " | ".join(cells), r1, r1c, "" if one == "ort_one" else " vs PyTorch",
            rb, rbc, "" if bat == "ort_batch" else " vs PyTorch",
            "; ".join(diffs) if diffs else "none of %d" % r["sentences"]))
    L.append("")
    lat = [r for r in cases if r["beam"] == 1]
    if lat:
        L.append("Latency of one sentence decoded alone, median and 90th percentile, ms:")
        L.append("")
        L.append("| case | PyTorch | ONNX Runtime | s2s" + (" | s2s int8" if int8_cols else "") + " |")
        L.append("|---|---:|---:|---:" + ("|---:" if int8_cols else "") + "|")
        for r in lat:
            cells = []
            for e in ("torch_one", "ort_one", "s2s_pipe") + (("s2s_pipe_int8",) if int8_cols else ()):
                x = r["runs"].get(e)
                v = sorted((x or {}).get("latencies_ms") or [])
                cells.append("%.2f / %.2f" % (v[len(v) // 2], v[int(len(v) * 0.9)]) if v else "-")
            L.append("| %s | %s |" % (r["name"], " | ".join(cells)))
        L.append("")
    L.append("Roofline: the matrix products the model needs (multiply-add = 2, counted once, from "
             "the live hypotheses of the PyTorch run) per CPU-second, as a share of the FMA peak "
             "above; weights MB per step = the decoder's weights one step reads (F32), and GB/s = "
             "that many bytes per decoder step of the one-at-a-time run (greedy), with its share of "
             "the read rate above in brackets (an 8 MB buffer: smaller weights stay in a faster "
             "cache); int8 counts one byte per weight of the whole vocabulary (the shortlist, "
             "where a model has one, reads fewer).")
    L.append("")

    def weight_rate(r, run, mb):
        x = r["runs"].get(run)
        if r["beam"] != 1 or not x or not peak_info.get("read_gbs"):
            return "-"
        gbs = mb * r["live_row_steps"] / 1e3 / x["decode_cpu_s"]
        return "%s (%.0f%%)" % (fmt(gbs, 1), 100 * gbs / peak_info["read_gbs"])

    L.append("| case | MFLOP/token | s2s file | s2s piped | ONNX Runtime batched | PyTorch batched "
             + ("| s2s int8 file " if int8_cols else "") + "| weights MB/step | s2s piped GB/s "
             + ("| s2s int8 piped GB/s " if int8_cols else "") + "|")
    L.append("|---|---:|---:|---:|---:|---:|" + ("---:|" if int8_cols else "") + "---:|---:|"
             + ("---:|" if int8_cols else ""))
    for r in cases:
        wmb = 2 * r["fm"]["per_row"] / 1e6
        L.append("| %s | %.2f | %s | %s | %s | %s | %s%s | %s |%s" % (
            r["name"], r["flops"] / max(r["live_row_steps"], 1) / 1e6,
            fmt(pct_peak(r, "s2s_file", peak_info["engine"])) + "%",
            fmt(pct_peak(r, "s2s_pipe", peak_info["engine"])) + "%",
            (fmt(pct_peak(r, "ort_batch", peak_info["engine"])) + "%") if "ort_batch" in r["runs"] else "-",
            fmt(pct_peak(r, "torch_batch", peak_info["engine"])) + "%",
            ("%s%% | " % fmt(pct_peak(r, "s2s_file_int8", peak_info["engine"]))) if int8_cols else "",
            fmt(wmb, 2), weight_rate(r, "s2s_pipe", wmb),
            (" %s |" % weight_rate(r, "s2s_pipe_int8", wmb / 4)) if int8_cols else ""))
    L.append("")
    th = [r for r in cases if r.get("threads")]
    for r in th:
        x1, x2 = r["threads"]["t1"], r["threads"]["t2"]
        L.append("Threads, %s, the case's input %d times over (%d sentences), each thread count the fastest of "
                 "%d runs taken in turn: 1 thread %.2f s wall / %.2f CPU s; --threads 2 %.2f s wall / %.2f CPU s: "
                 "**%.2fx** wall speed-up with %.2f cores in use on average; work efficiency "
                 "(1-thread CPU / 2-thread CPU) %.0f%%; the same output." % (
                     r["name"], THREADS_REPEAT, r["threads"]["sentences"], THREADS_RUNS,
                     x1["decode_s"], x1["decode_cpu_s"], x2["decode_s"], x2["decode_cpu_s"],
                     x1["decode_s"] / x2["decode_s"], x2["decode_cpu_s"] / x2["decode_s"],
                     100 * x1["decode_cpu_s"] / x2["decode_cpu_s"]))
        L.append("")
    if gemm:
        L.append("The engine's matmul_wp alone (tools/bench/gemm.c, 1 thread, CPU time, W packed once), "
                 "Y (rows x out) = X W^T + b:")
        L.append("")
        L.append("| rows | out x in | GFLOP/s | % of peak | us per call |")
        L.append("|---:|---|---:|---:|---:|")
        for g in gemm:
            L.append("| %d | %d x %d | %.1f | %.0f%% | %.0f |" % (
                g["rows"], g["out"], g["in"], g["gflops"], 100 * g["gflops"] / peak_info["engine"],
                g["us_per_call"]))
        L.append("")
    L.append("Model load (tools/bench/load.c: s2s_model_load + s2s_model_free, 20 loads after a "
             "first one):")
    L.append("")
    L.append("| model | parameters | weights | s2s load ms: median (CPU) best | s2s first load ms |")
    L.append("|---|---:|---|---:|---:|")
    for m in loads:
        L.append("| %s | %s | %.1f MB %s | %.2f (%.2f) %.2f | %.2f |" % (
            m["label"], "{:,}".format(m["parameters"]), m["size_mb"], m.get("dtype", ""),
            m["median_ms"], m["cpu_median_ms"], m["min_ms"], m["first_ms"]))
    L.append("")
    L.append("Targets:")
    L.append("")
    L.append("| target | measured | met |")
    L.append("|---|---|---|")
    for t in targets:
        L.append("| %s | %s | %s |" % (t[0], t[1], {True: "yes", False: "**no**", None: "-"}[t[2]]))
    if notes:
        L.append("")
        for n in notes:
            L.append("- " + n)
    L.append("")
    return "\n".join(L)


README_START = "<!-- make bench: speed table -->"
README_END = "<!-- end of the make bench table -->"


def readme_table(env, cases, int8_cols):
    """The README's speed table: sentences per second of each engine, from
    the same run as docs/bench.md."""
    L = [README_START, "",
         "One `make bench` run (%s, %s); sentences per second, "
         "wall clock, with sentences per CPU-second in brackets; one thread each:"
         % (env["date"], env["cpu"]), "",
         "| case | PyTorch, one at a time | PyTorch, batches of %d | ONNX Runtime, one at a time | "
         "ONNX Runtime, batches of %d | s2s, lines piped | s2s, a file |%s" % (
             BATCH, BATCH, " s2s int8, piped | s2s int8, a file |" if int8_cols else ""),
         "|---|---:|---:|---:|---:|---:|---:|" + ("---:|---:|" if int8_cols else "")]
    keys = ["torch_one", "torch_batch", "ort_one", "ort_batch", "s2s_pipe", "s2s_file"] + \
        (["s2s_pipe_int8", "s2s_file_int8"] if int8_cols else [])
    for r in cases:
        cells = []
        for e in keys:
            v, vc = sent_s(r, e), sent_s(r, e, True)
            cells.append("-" if v is None else "%s (%s)" % (fmt(v), fmt(vc)))
        L.append("| %s | %s |" % (r["name"], " | ".join(cells)))
    L += ["", "Ratios, targets and how each figure is measured: [docs/bench.md](docs/bench.md).", "",
          README_END]
    return "\n".join(L)


def write_readme(env, cases, int8_cols):
    path = os.path.join(ROOT, "README.md")
    try:
        text = open(path, encoding="utf-8").read()
    except OSError:
        return
    a, b = text.find(README_START), text.find(README_END)
    if a < 0 or b < a:
        return
    text = text[:a] + readme_table(env, cases, int8_cols) + text[b + len(README_END):]
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def targets_of(cases, peak_info, int8_cols):
    T = []
    ex = [r for r in cases if r.get("target")]
    for r in ex:
        one = "ort_one" if "ort_one" in r["runs"] else "torch_one"
        bat = "ort_batch" if "ort_batch" in r["runs"] else "torch_batch"
        peer = "ONNX Runtime" if one == "ort_one" else "PyTorch (no ONNX Runtime run)"
        for num, den, what in (("s2s_pipe", one, "one at a time"), ("s2s_file", bat, "batched")):
            x, xc = ratio(r, num, den), ratio(r, num, den, True)
            T.append(("exact, %s: s2s >= 1.5x %s %s" % (r["name"], peer, what),
                      "%.2fx wall, %.2fx CPU time" % (x, xc), xc >= 1.5))
    if int8_cols:
        for r in ex:
            if r["model_tag"] == "small":
                continue
            one = "ort_one" if "ort_one" in r["runs"] else "torch_one"
            bat = "ort_batch" if "ort_batch" in r["runs"] else "torch_batch"
            for num, den, what in (("s2s_pipe_int8", one, "one at a time"), ("s2s_file_int8", bat, "batched")):
                x, xc = ratio(r, num, den), ratio(r, num, den, True)
                T.append(("int8, %s: s2s >= 3x the peer %s" % (r["name"], what),
                          "%.2fx wall, %.2fx CPU time" % (x, xc), xc >= 3))
    best = max((pct_peak(r, "s2s_file", peak_info["engine"]), r["name"]) for r in cases)
    worst = min((pct_peak(r, "s2s_file", peak_info["engine"]), r["name"]) for r in cases)
    T.append(("exact, batched (a file): useful FLOP rate >= 60% of the FMA peak",
              "%.0f%% (%s) to %.0f%% (%s)" % (worst[0], worst[1], best[0], best[1]), worst[0] >= 60))
    for r in cases:
        if r.get("threads"):
            x1, x2 = r["threads"]["t1"], r["threads"]["t2"]
            T.append(("--threads 2 >= 1.8x one thread, %s" % r["name"],
                      "%.2fx wall (%.2f cores in use); work efficiency %.0f%%" % (
                          x1["decode_s"] / x2["decode_s"], x2["decode_cpu_s"] / x2["decode_s"],
                          100 * x1["decode_cpu_s"] / x2["decode_cpu_s"]),
                      x1["decode_s"] / x2["decode_s"] >= 1.8))
    exact = ("torch_one", "ort_one", "ort_batch", "s2s_pipe", "s2s_file")
    mism = sum(r["compare"][e]["mismatches"] + r["compare"][e]["errors"]
               for r in cases for e in exact if e in r["compare"] and e.startswith("s2s"))
    n = sum(r["sentences"] * sum(1 for e in r["compare"] if e in ("s2s_pipe", "s2s_file")) for r in cases)
    T.append(("exact mode: s2s outputs identical to PyTorch's", "%d of %d lines differ" % (mism, n), mism == 0))
    return T


# --------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description="s2s against PyTorch and ONNX Runtime (make bench)")
    ap.add_argument("--s2s", default=os.path.join(ROOT, "build", "s2s"))
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "bench"),
                    help="directory with the peak, gemm and load programs")
    ap.add_argument("--work", default=os.path.join(ROOT, "work-tmp", "bench"))
    ap.add_argument("--md", default=os.path.join(ROOT, "docs", "bench.md"),
                    help="the report: tools/bench/bench.md.in with this run's results")
    ap.add_argument("--quick", action="store_true", help="fewer sentences (a smoke run)")
    ap.add_argument("--repeat", type=int, default=3,
                    help="timed runs of every batched run (s2s from a file, PyTorch and ONNX Runtime in "
                         "batches of 16), the fastest kept")
    ap.add_argument("--sentences", type=int, default=500, help="sentences of the greedy cases")
    ap.add_argument("--beam-sentences", type=int, default=200, help="sentences of the beam 5 cases")
    ap.add_argument("--no-ort", action="store_true", help="leave ONNX Runtime out")
    a = ap.parse_args()
    a.s2s = os.path.abspath(a.s2s)
    if a.quick:
        a.sentences, a.beam_sentences = 60, 30
    t_start = time.time()
    os.makedirs(a.work, exist_ok=True)

    def log(msg):
        print("[bench %5.1fs] %s" % (time.time() - t_start, msg), file=sys.stderr, flush=True)

    env = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "load_start": load_avg(),
           "kernel": os.uname().release, "cpu": "?", "torch": "?", "blas": "?", "ort": "-", "node": "-"}
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                env["cpu"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    notes = []
    a.ort = not a.no_ort and have_ort()
    if a.ort:
        env["node"] = run(["node", "--version"])["out"].strip()
        env["ort"] = json.load(open(os.path.join(NODE_MODULES, "onnxruntime-node", "package.json")))["version"]
    else:
        notes.append("ONNX Runtime for Node.js is not installed (node and %s/onnxruntime-node): its "
                     "runs were skipped; `make bench` installs it with npm." % os.path.relpath(NODE_MODULES, ROOT))
    a.int8 = s2s_has_int8(a)

    def bench_bin(*args):
        r = run([os.path.join(a.bin, args[0])] + [str(x) for x in args[1:]])
        if r["rc"] != 0:
            raise SystemExit("bench: %s failed: %s" % (" ".join(map(str, args)), r["err"]))
        return [json.loads(x) for x in r["out"].split("\n") if x.strip()]

    log("FMA peak, matmul_wp ...")
    peaks = bench_bin("peak", 1)
    kern = bench_bin("gemm", 0.5, 8192, 256, 1, 16, 64) + bench_bin("gemm", 0.3, 768, 256, 1, 16)
    gemm = [k for k in kern if "rows" in k]
    lsm = [k for k in kern if k.get("kernel") == "log_softmax"]

    mdir = os.path.join(a.work, "models")
    shutil.rmtree(mdir, ignore_errors=True)
    shutil.rmtree(os.path.join(a.work, "onnx"), ignore_errors=True)
    small = os.path.join(mdir, "random-h128")
    mid = os.path.join(mdir, "random-h256-v12k")
    log("making random models ...")
    r = run([PY, os.path.abspath(__file__), "--make-models", small, mid])
    if r["rc"] != 0:
        raise SystemExit("bench: making the models failed:\n" + r["err"])
    N, NB, ML = a.sentences, a.beam_sentences, 20
    inp = {}
    for key, n, vs, seed in (("small", N, SMALL[2], 11), ("small_b", NB, SMALL[2], 12), ("mid", N, MID[2], 13),
                             ("mid_b", NB, MID[2], 14)):
        inp[key] = os.path.join(a.work, "%s.txt" % key)
        random_inputs(inp[key], n, vs, seed)
    models = [("tutorial-sized random: GRU h128, V 4.5k/2.8k", small),
              ("mid-size random: GRU h256, V 12k/12k", mid)]
    tut = os.path.join(ROOT, "models", "tutorial-fra-eng")
    dflt = os.path.join(ROOT, "models", "fra-eng")
    cases = [
        dict(name="tutorial-sized, greedy", model=small, model_tag="small", inputs=inp["small"], beam=1,
             max_len=ML, check=20, target=True),
        dict(name="tutorial-sized, beam 5", model=small, model_tag="small", inputs=inp["small_b"], beam=5,
             max_len=ML, check=2, target=True),
        dict(name="mid-size, greedy", model=mid, model_tag="mid", inputs=inp["mid"], beam=1, max_len=ML,
             check=0, target=True),
        dict(name="mid-size, beam 5", model=mid, model_tag="mid", inputs=inp["mid_b"], beam=5, max_len=ML,
             check=2, target=True, threads2=True),
    ]
    if os.path.exists(os.path.join(tut, "config.json")):
        models.append(("models/tutorial-fra-eng", tut))
        inp["tut"] = os.path.join(a.work, "tutorial-fra-eng.txt")
        real_inputs(inp["tut"], N, tut)
        cases.append(dict(name="tutorial-fra-eng, greedy", model=tut, model_tag="tut", inputs=inp["tut"],
                          beam=1, max_len=None, check=0))
    else:
        notes.append("models/tutorial-fra-eng is absent: its case was skipped.")
    dflt_name = "fra-eng (default)"
    if os.path.exists(os.path.join(dflt, "config.json")) and \
            json.load(open(os.path.join(dflt, "config.json"), encoding="utf-8"))["decoder"].get("copy"):
        v1 = os.path.join(mdir, "fra-eng-without-copy")
        r = run([PY, os.path.abspath(__file__), "--without-copy", dflt, v1])
        if r["rc"] != 0:
            raise SystemExit("bench: making fra-eng without copy failed:\n" + r["err"])
        notes.append("The default model fra-eng has copy attention (format version 2), which the PyTorch and ONNX "
                     "Runtime peers of this bench do not implement: its cases run it with the copy gate left out "
                     "(a version-1 model with its other weights; copy adds a few percent per step, see the "
                     "feature table).")
        dflt, dflt_name = v1, "fra-eng (default) without copy"
    if os.path.exists(os.path.join(dflt, "config.json")):
        models.append(("models/" + dflt_name, dflt))
        inp["dflt"] = os.path.join(a.work, "fra-eng.txt")
        inp["dflt_b"] = os.path.join(a.work, "fra-eng.beam.txt")
        real_inputs(inp["dflt"], N, dflt)
        real_inputs(inp["dflt_b"], NB, dflt)
        cases += [dict(name=dflt_name + ", greedy", model=dflt, model_tag="dflt", inputs=inp["dflt"],
                       beam=1, max_len=None, check=0, target=True, threads2=True),
                  dict(name=dflt_name + ", beam 5", model=dflt, model_tag="dflt", inputs=inp["dflt_b"],
                       beam=5, max_len=None, check=0, target=True)]
    else:
        notes.append("models/fra-eng (the default model) is absent: its cases were skipped.")
    for c in cases:
        c["tag"] = c["name"].replace(" ", "_").replace(",", "").replace("(", "").replace(")", "")

    log("model load times ...")
    loads = []
    for label, d in models:
        _, size = model_facts(d)
        m = bench_bin("load", d, 20)[0]
        m.update({"label": label, "dir": d, "size_mb": size / 1e6, "dtype": weights_dtype(d)})
        loads.append(m)

    results = []
    for c in cases:
        log("case %s" % c["name"])
        results.append(run_case(a, c, log))
        t = results[-1]["runs"]["torch_batch"]
        env["torch"] = t.get("torch_version", "?")
        env["blas"] = ", ".join(t.get("blas", [])) or "no BLAS library mapped"

    log("cost of each version-2 feature ...")
    feature_lines = max(60, 2 * N)
    feats = feature_costs(a, a.work, log, feature_lines)
    log("shipped models ...")
    shipped = shipped_speeds(a, a.work, log, N)

    log("FMA peak again ...")
    peaks += bench_bin("peak", 1)
    peak_info = {"avx2": max(p["avx2_fma_gflops"] for p in peaks),
                 "avx512": max((p["avx512_fma_gflops"] or 0) for p in peaks) or None}
    # the engine's matrix products use AVX-512 where the CPU has it: its peak is the bound
    peak_info["engine"] = peak_info["avx512"] or peak_info["avx2"]
    peak_info["read_gbs"] = max((p.get("read_gbs") or 0.0) for p in peaks)
    peak_info["read_mb"] = peaks[0].get("read_mb") or 0.0
    targets = targets_of(results, peak_info, a.int8)
    chk = sum(r["runs"]["torch_one"]["check_mismatches"] for r in results)
    chk_n = sum(r["runs"]["torch_one"]["check_n"] for r in results)
    notes.append("PyTorch's loops (tools/bench/bench_torch.py) were checked against the reference's "
                 "own greedy/beam_search on the first lines of some cases: %d of %d differ." % (chk, chk_n))
    notes.append("Random models: seeded s2s_tools.reference weights (output layer x4), inputs random "
                 "word ids, 5-15 per line, --max-length %d on every side. Shipped models: French "
                 "sentences of the Tatoeba test set (1-15 tokens), default max length." % ML)
    for r in results:
        for e, cm in sorted(r["compare"].items()):
            if cm["first"]:
                i, k, x, y = cm["first"]
                notes.append("%s, %s: %d line(s) differ from PyTorch batched; first, line %d from token "
                             "%d: %s vs %s." % (r["name"], e, cm["mismatches"], i, k, x, y))
    notes.append("This run of tools/bench/bench.py took %.0f s." % (time.time() - t_start))
    md = report_results(a, env, peak_info, gemm, lsm, loads, results, targets, notes, a.int8)
    md += "\n" + report_features(feats, feature_lines)
    md += "\n" + report_shipped(shipped)
    print(md)
    tmpl = open(os.path.join(HERE, "bench.md.in"), encoding="utf-8").read()
    with open(a.md, "w", encoding="utf-8") as f:
        f.write(tmpl.replace("@RESULTS@", md.rstrip("\n")))
    with open(os.path.join(a.work, "results.json"), "w") as f:
        json.dump({"env": env, "peak": peak_info, "gemm": gemm, "loads": loads, "cases": results, "features": feats, "shipped": shipped,
                   "targets": targets, "int8": a.int8}, f, indent=1, default=str)
    if not a.quick:
        write_readme(env, results, a.int8)
    log("wrote %s" % a.md)


# (hidden, embedding, source vocabulary, target vocabulary, seed)
SMALL = (128, 128, 4500, 2800, 1)
MID = (256, 256, 12000, 12000, 2)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--readme-from":   # README table from a results.json
        res = json.load(open(sys.argv[2]))
        write_readme(res["env"], res["cases"], res.get("int8", True))
    elif len(sys.argv) == 4 and sys.argv[1] == "--without-copy":
        without_copy(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 4 and sys.argv[1] == "--make-feature-model":
        _, att_type, keys, copy = FEATURES[int(sys.argv[3])]
        make_feature_model(sys.argv[2], 5, att_type, keys, copy)
    elif len(sys.argv) == 4 and sys.argv[1] == "--make-models":
        for path, (h, e, vs, vt, seed) in zip(sys.argv[2:], (SMALL, MID)):
            make_random_model(path, seed, h, e, vs, vt, 4.0)
    else:
        main()
