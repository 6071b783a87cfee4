#!/usr/bin/python3
"""bench - `make bench`: s2s against the PyTorch reference, in one run.

    /usr/bin/python3 tools/bench.py --s2s build/s2s --bin build/bench [--quick]

For every case it decodes the same input lines with the same model in s2s
(`s2s translate --format jsonl`, one process per run) and in PyTorch
(tools/bench_torch.py, one process per run), checks that both give the same
tokens, and prints a Markdown table (also written to work-tmp/bench.md):
sentences/s, target tokens/s, the s2s/PyTorch ratio, peak resident memory
of each process, model load time, and a roofline line (FLOPs per decoded
token, GFLOP/s achieved, % of the single-core FMA peak measured by
bench/peak.c in the same run). bench/gemm.c measures the engine's
matmul_nt alone; bench/load.c times s2s_model_load. See docs/bench.md.

Models: random-weight models made here with s2s_torch (seeded) in
work-tmp/bench/, plus models/tutorial-fra-eng and models/fra-eng when they
exist (skipped with a note otherwise).
"""

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PY = "/usr/bin/python3"
TEST_TSV = os.path.normpath(os.path.join(ROOT, "..", "shared", "data", "tatoeba-eng-fra", "test.tsv"))


# --------------------------------------------------------------------------
# processes
# --------------------------------------------------------------------------

GNU_TIME = "/usr/bin/time"


def run(cmd, stdin=None, stdout=None, env=None):
    """Runs cmd with stdin from the file `stdin` (or empty) and stdout to
    the file `stdout` (or captured) -> (wall seconds, peak RSS in MB of the
    command alone, exit status, captured stdout, stderr).

    The peak RSS comes from GNU time (`apt-get install time`) when present:
    a child forked straight from this Python process would inherit its
    resident size in ru_maxrss. Without it, os.wait4's figure is used, which
    is then an upper bound."""
    import tempfile
    with tempfile.TemporaryFile() as ferr, tempfile.TemporaryFile() as fcap, \
            tempfile.NamedTemporaryFile(suffix=".rss") as frss:
        fin = open(stdin, "rb") if stdin else subprocess.DEVNULL
        fout = open(stdout, "wb") if stdout else fcap
        full = [GNU_TIME, "-q", "-f", "%M", "-o", frss.name] + list(cmd) \
            if os.access(GNU_TIME, os.X_OK) else list(cmd)
        t0 = time.perf_counter()
        p = subprocess.Popen(full, stdin=fin, stdout=fout, stderr=ferr, env=env)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        rss_kb = ru.ru_maxrss
        if full[0] == GNU_TIME:
            try:
                rss_kb = int(open(frss.name).read().split()[-1])
            except (ValueError, IndexError, OSError):
                pass
        if stdin:
            fin.close()
        if stdout:
            fout.close()
        fcap.seek(0)
        ferr.seek(0)
        return wall, rss_kb / 1024.0, p.returncode, \
            fcap.read().decode("utf-8", "replace"), ferr.read().decode("utf-8", "replace")


def load_avg():
    try:
        return "%.2f %.2f %.2f" % os.getloadavg()
    except OSError:
        return "?"


# --------------------------------------------------------------------------
# models and inputs
# --------------------------------------------------------------------------

def make_random_model(path, seed, hidden, emb, v_src, v_tgt, out_scale):
    """A GRU + Bahdanau (before_rnn) model like the PyTorch tutorial's, with
    seeded random weights; the output layer is scaled by out_scale so that
    the next-token distributions are peaked (no near-ties, varied output)."""
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    import torch
    import s2s_torch as st
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
    model = st.Seq2Seq(cfg, v_src, v_tgt)
    with torch.no_grad():
        model.decoder.out.weight.mul_(out_scale)
        model.decoder.out.bias.mul_(out_scale)
    st.save_model_dir(path, model, cfg, src_vocab, tgt_vocab)


def random_inputs(path, n, v_src, seed, lo=5, hi=15):
    rng = random.Random(seed)
    with open(path, "w") as f:
        for _ in range(n):
            f.write(" ".join("w%d" % rng.randrange(2, v_src) for _ in range(rng.randint(lo, hi))) + "\n")


def real_inputs(path, n, model_dir, max_tokens=15):
    """The first n French sentences of the Tatoeba test set that tokenize
    (1..max_tokens tokens) with no word unknown to a model without unk."""
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    from s2s_tokenizer import Tokenizer
    cfg = json.load(open(os.path.join(model_dir, "config.json"), encoding="utf-8"))
    tok = Tokenizer(cfg.get("tokenizer", {}), model_dir)
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
            toks = tok.split(fr, vocab)
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


def model_facts(model_dir):
    cfg = json.load(open(os.path.join(model_dir, "config.json"), encoding="utf-8"))
    wfile = os.path.join(model_dir, cfg.get("weights", "model.safetensors"))
    return cfg, os.path.getsize(wfile)


# --------------------------------------------------------------------------
# FLOPs (multiply-add = 2) of the architecture, spec section 4
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
# one case
# --------------------------------------------------------------------------

def s2s_tokens(path):
    """id -> tokens list (or None for an error line) from s2s jsonl."""
    res = {}
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f):
            o = json.loads(line)
            if "error" in o or not o.get("hypotheses"):
                res[o.get("id", i)] = None
            else:
                res[o["id"]] = o["hypotheses"][0]["tokens"]
    return res


def run_s2s(a, model, inputs, out, beam, threads, max_len, repeat):
    cmd = [a.s2s, "translate", "-m", model, "--format", "jsonl", "--beam", str(beam),
           "--threads", str(threads), "--max-length", str(max_len), "-q"]
    # start-up + model load: the same command on empty input (best of 3)
    empty = min(run(cmd)[0] for _ in range(3))
    best = None
    for _ in range(repeat):
        wall, rss, rc, _, err = run(cmd, stdin=inputs, stdout=out)
        if rc != 0:
            raise SystemExit("bench: s2s failed (%d): %s\n%s" % (rc, " ".join(cmd), err[-2000:]))
        if best is None or wall < best[0]:
            best = (wall, rss)
    return {"wall_s": best[0], "startup_s": empty, "decode_s": max(best[0] - empty, 1e-9),
            "rss_mb": best[1], "cmd": " ".join(cmd)}


def run_torch(a, model, inputs, out, beam, threads, max_len, batch, check, repeat):
    cmd = [PY, os.path.join(ROOT, "tools", "bench_torch.py"), "-m", model, "-i", inputs,
           "--out", out, "--beam", str(beam), "--threads", str(threads),
           "--max-length", str(max_len), "--batch", str(batch), "--check", str(check)]
    best = None
    for r in range(repeat):
        c = cmd if r == 0 else cmd[:-1] + ["0"]
        wall, rss, rc, stdout, err = run(c)
        if rc != 0:
            raise SystemExit("bench: bench_torch failed (%d): %s\n%s" % (rc, " ".join(c), err[-3000:]))
        res = json.loads(stdout.strip().splitlines()[-1])
        res["rss_mb"] = rss
        res["stderr"] = err
        if best is None:
            best = res
        elif res["decode_s"] < best["decode_s"]:
            res["check_n"], res["check_mismatches"] = best["check_n"], best["check_mismatches"]
            best = res
    best["cmd"] = " ".join(cmd)
    return best


def compare(s2s_out, torch_out):
    s = s2s_tokens(s2s_out)
    n = mism = errors = 0
    first = None
    with open(torch_out, encoding="utf-8") as f:
        for line in f:
            o = json.loads(line)
            n += 1
            got = s.get(o["id"])
            if got is None:
                errors += 1
            elif got != o["tokens"]:
                mism += 1
                if first is None:
                    first = (o["id"], got[:10], o["tokens"][:10])
    return {"n": n, "mismatches": mism, "s2s_errors": errors, "first": first,
            "s2s_lines": len(s)}


def run_case(a, c, peak, log):
    """c: dict name, model, inputs, beam, threads, max_len, batch, check."""
    tag = c["name"].replace(" ", "_").replace(",", "").replace("/", "-")
    s_out = os.path.join(a.work, tag + ".s2s.jsonl")
    t_out = os.path.join(a.work, tag + ".torch.jsonl")
    log("  %s: s2s ..." % c["name"])
    s = run_s2s(a, c["model"], c["inputs"], s_out, c["beam"], c["threads"], c["max_len"], a.repeat)
    log("  %s: s2s %.2fs decode; PyTorch ..." % (c["name"], s["decode_s"]))
    t = run_torch(a, c["model"], c["inputs"], t_out, c["beam"], c["threads"], c["max_len"],
                  c["batch"], c["check"], a.repeat)
    log("  %s: PyTorch %.2fs decode" % (c["name"], t["decode_s"]))
    cmp_ = compare(s_out, t_out)
    fm = flop_model(c["model"])
    flops = case_flops(fm, t)
    n = t["sentences"]
    res = dict(c)
    res.update({
        "s2s": s, "torch": t, "compare": cmp_, "flops_total": flops,
        "flops_per_token": flops / max(t["live_row_steps"], 1),
        "s2s_sent_s": n / s["decode_s"], "torch_sent_s": n / t["decode_s"],
        "s2s_tok_s": t["target_tokens"] / s["decode_s"], "torch_tok_s": t["target_tokens"] / t["decode_s"],
        "s2s_gflops": flops / s["decode_s"] / 1e9, "torch_gflops": flops / t["decode_s"] / 1e9,
    })
    res["ratio"] = res["s2s_sent_s"] / res["torch_sent_s"]
    res["s2s_peak_pct"] = 100 * res["s2s_gflops"] / (peak * c["threads"]) if peak else None
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


def report(a, env, peak_info, gemm, loads, cases, targets, notes):
    L = []
    L.append("# s2s benchmark")
    L.append("")
    L.append("Measured %s on %s (%s), %d cores; load average at start %s, at end %s. "
             "PyTorch %s with %s. s2s time = wall clock of `s2s translate` minus the same "
             "command on empty input (start-up + model load); PyTorch time = tokenizing + "
             "decoding inside the process (model load and `import torch` excluded). "
             "Every figure is from one run on a machine shared with other jobs: "
             "expect +-20%%." % (env["date"], env["cpu"], env["kernel"], os.cpu_count(),
                                 env["load_start"], load_avg(), env["torch"], env["blas"]))
    L.append("")
    L.append("| case | model | decode | sentences | s2s sent/s | PyTorch sent/s | s2s/PyTorch | "
             "s2s tok/s | PyTorch tok/s | s2s peak RSS MB | PyTorch peak RSS MB | outputs differ |")
    L.append("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in cases:
        cm = r["compare"]
        diff = "%d / %d" % (cm["mismatches"], cm["n"])
        if cm["s2s_errors"]:
            diff += " (+%d s2s errors)" % cm["s2s_errors"]
        L.append("| %s | %s | %s | %d | %s | %s | **%.1fx** | %s | %s | %.1f | %.0f | %s |" % (
            r["name"], r["model_label"], r["mode"], r["torch"]["sentences"], fmt(r["s2s_sent_s"]),
            fmt(r["torch_sent_s"]), r["ratio"], fmt(r["s2s_tok_s"]), fmt(r["torch_tok_s"]),
            r["s2s"]["rss_mb"], r["torch"]["rss_mb"], diff))
    L.append("")
    L.append("Roofline: FLOPs per decoded token = one decoder step of one hypothesis (RNN, "
             "attention over the source, output projection) plus the encoder's share; "
             "peak = measured single-core AVX2 FMA peak **%.1f GFLOP/s** (x threads) "
             "(AVX-512 FMA: %s GFLOP/s; s2s uses AVX2)." % (
                 peak_info["avx2"], fmt(peak_info.get("avx512"))))
    L.append("")
    L.append("| case | MFLOP/token | s2s GFLOP/s | % of peak | PyTorch GFLOP/s |")
    L.append("|---|---:|---:|---:|---:|")
    for r in cases:
        L.append("| %s | %.2f | %.2f | %.1f%% | %.2f |" % (
            r["name"], r["flops_per_token"] / 1e6, r["s2s_gflops"], r["s2s_peak_pct"] or 0,
            r["torch_gflops"]))
    L.append("")
    if gemm:
        L.append("Engine matmul_nt alone (bench/gemm.c), Y = X W^T, W %d x %d (%.0f MB, "
                 "outside L2), 1 thread:" % (gemm[0]["out"], gemm[0]["in"],
                                             gemm[0]["out"] * gemm[0]["in"] * 4 / 1e6))
        L.append("")
        L.append("| rows | GFLOP/s | % of AVX2 peak | us per call |")
        L.append("|---:|---:|---:|---:|")
        for g in gemm:
            L.append("| %d | %.1f | %.0f%% | %.0f |" % (g["rows"], g["gflops"],
                                                        100 * g["gflops"] / peak_info["avx2"],
                                                        g["us_per_call"]))
        L.append("")
    L.append("Model load (bench/load.c: s2s_model_load + s2s_model_free, median of 20 after "
             "one warm-up; PyTorch: s2s_torch.load_model_dir):")
    L.append("")
    L.append("| model | parameters | weights MB | s2s load ms | PyTorch load ms |")
    L.append("|---|---:|---:|---:|---:|")
    for m in loads:
        L.append("| %s | %s | %.1f | %.2f | %s |" % (m["label"], "{:,}".format(m["parameters"]),
                                                     m["size_mb"], m["median_ms"],
                                                     fmt(m.get("torch_ms"))))
    L.append("")
    L.append("Targets (issue 7):")
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


# --------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description="s2s vs PyTorch benchmark (make bench)")
    ap.add_argument("--s2s", default=os.path.join(ROOT, "build", "s2s"))
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "bench"),
                    help="directory with the peak, gemm and load programs")
    ap.add_argument("--work", default=os.path.join(ROOT, "work-tmp", "bench"))
    ap.add_argument("--md", default=os.path.join(ROOT, "work-tmp", "bench.md"))
    ap.add_argument("--quick", action="store_true", help="fewer sentences (a smoke run)")
    ap.add_argument("--repeat", type=int, default=1, help="runs per side, the fastest kept")
    ap.add_argument("--sentences", type=int, default=1000, help="sentences of the throughput cases")
    ap.add_argument("--latency-sentences", type=int, default=300,
                    help="sentences of the one-at-a-time greedy cases")
    a = ap.parse_args()
    a.s2s = os.path.abspath(a.s2s)
    if a.quick:
        a.sentences, a.latency_sentences = 100, 50
    t_start = time.time()
    os.makedirs(a.work, exist_ok=True)

    def log(msg):
        print("[bench %5.1fs] %s" % (time.time() - t_start, msg), file=sys.stderr, flush=True)

    env = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "load_start": load_avg(),
           "kernel": os.uname().release, "cpu": "?", "torch": "?", "blas": "?"}
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                env["cpu"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass

    # ---- micro-benchmarks ------------------------------------------------
    log("FMA peak ...")
    peaks = []
    _, _, _, out, _ = run([os.path.join(a.bin, "peak"), "1"])
    peaks.append(json.loads(out))
    log("matmul_nt GEMM ...")
    _, _, _, out, _ = run([os.path.join(a.bin, "gemm"), "0.5", "8192", "256", "1", "5", "16", "32", "64"])
    gemm = [json.loads(x) for x in out.split("\n") if x.strip()]

    # ---- models ------------------------------------------------------------
    notes = []
    mdir = os.path.join(a.work, "models")
    shutil.rmtree(mdir, ignore_errors=True)
    small = os.path.join(mdir, "random-h128")
    mid = os.path.join(mdir, "random-h256-v16k")
    log("making random models ...")
    make_random_model(small, 1, 128, 128, 4500, 2800, 4.0)
    make_random_model(mid, 2, 256, 256, 16000, 16000, 4.0)
    inp = {}
    inp["small_lat"] = os.path.join(a.work, "small.latency.txt")
    random_inputs(inp["small_lat"], a.latency_sentences, 4500, 11)
    inp["small_tp"] = os.path.join(a.work, "small.throughput.txt")
    random_inputs(inp["small_tp"], a.sentences, 4500, 12)
    inp["mid"] = os.path.join(a.work, "mid.txt")
    random_inputs(inp["mid"], a.sentences, 16000, 13)

    models = [("tutorial-sized random (h128, V 4.5k/2.8k)", small),
              ("mid-size random (h256, V 16k/16k)", mid)]
    tut = os.path.join(ROOT, "models", "tutorial-fra-eng")
    dflt = os.path.join(ROOT, "models", "fra-eng")
    have_tut = os.path.exists(os.path.join(tut, "config.json"))
    have_dflt = os.path.exists(os.path.join(dflt, "config.json"))
    if have_tut:
        models.append(("models/tutorial-fra-eng", tut))
        inp["tut"] = os.path.join(a.work, "tutorial-fra-eng.txt")
        k = real_inputs(inp["tut"], a.latency_sentences, tut)
        notes.append("models/tutorial-fra-eng: the first %d French sentences of the Tatoeba test "
                     "set whose words are all in its vocabulary (it has no unk)." % k)
    else:
        notes.append("models/tutorial-fra-eng is absent: its cases were skipped.")
    if have_dflt:
        models.append(("models/fra-eng (default)", dflt))
        inp["dflt_lat"] = os.path.join(a.work, "fra-eng.latency.txt")
        inp["dflt_tp"] = os.path.join(a.work, "fra-eng.throughput.txt")
        real_inputs(inp["dflt_lat"], a.latency_sentences, dflt)
        k = real_inputs(inp["dflt_tp"], a.sentences, dflt)
        notes.append("models/fra-eng: French sentences of the Tatoeba test set (%d, at most 15 "
                     "tokens, none unknown when the model has no unk)." % k)
    else:
        notes.append("models/fra-eng (the default model) is absent: its cases and the load-time "
                     "target were skipped.")

    # ---- model load --------------------------------------------------------
    log("model load times ...")
    loads = []
    for label, d in models:
        _, size = model_facts(d)
        _, _, rc, out, err = run([os.path.join(a.bin, "load"), d, "20"])
        if rc != 0:
            raise SystemExit("bench: load %s failed: %s" % (d, err))
        m = json.loads(out)
        m.update({"label": label, "dir": d, "size_mb": size / 1e6})
        _, _, rc, out, _ = run([PY, "-c", "import sys, time; sys.path.insert(0, %r); "
                                "import s2s_torch as st; t = time.perf_counter(); "
                                "st.load_model_dir(%r); print(time.perf_counter() - t)"
                                % (os.path.join(ROOT, "tools"), d)])
        m["torch_ms"] = float(out) * 1e3 if rc == 0 else None
        loads.append(m)

    # ---- cases -------------------------------------------------------------
    ML = 20
    cases = [
        dict(name="greedy latency, tutorial-sized", model=small, model_label="random h128",
             inputs=inp["small_lat"], beam=1, threads=1, max_len=ML, batch=1, check=20,
             mode="greedy, 1 sentence at a time, 1 thread"),
        dict(name="greedy batch, tutorial-sized", model=small, model_label="random h128",
             inputs=inp["small_tp"], beam=1, threads=1, max_len=ML, batch=128, check=0,
             mode="greedy, %d sentences, 1 thread (PyTorch batch 128)" % a.sentences),
        dict(name="beam 5, mid-size, 1 thread", model=mid, model_label="random h256 V16k",
             inputs=inp["mid"], beam=5, threads=1, max_len=ML, batch=64, check=2,
             mode="beam 5, %d sentences, 1 thread (PyTorch batch 64)" % a.sentences),
        dict(name="beam 5, mid-size, 2 threads", model=mid, model_label="random h256 V16k",
             inputs=inp["mid"], beam=5, threads=2, max_len=ML, batch=64, check=0,
             mode="beam 5, %d sentences, --threads 2 (PyTorch 2 threads, batch 64)" % a.sentences),
    ]
    if have_tut:
        cases.append(dict(name="greedy latency, tutorial-fra-eng", model=tut,
                          model_label="tutorial-fra-eng", inputs=inp["tut"], beam=1, threads=1,
                          max_len=ML, batch=1, check=20,
                          mode="greedy, 1 sentence at a time, 1 thread"))
    if have_dflt:
        cases += [
            dict(name="greedy latency, fra-eng", model=dflt, model_label="fra-eng",
                 inputs=inp["dflt_lat"], beam=1, threads=1, max_len=ML, batch=1, check=20,
                 mode="greedy, 1 sentence at a time, 1 thread"),
            dict(name="beam 5, fra-eng, 1 thread", model=dflt, model_label="fra-eng",
                 inputs=inp["dflt_tp"], beam=5, threads=1, max_len=ML, batch=64, check=2,
                 mode="beam 5, %d sentences, 1 thread (PyTorch batch 64)" % a.sentences),
            dict(name="beam 5, fra-eng, 2 threads", model=dflt, model_label="fra-eng",
                 inputs=inp["dflt_tp"], beam=5, threads=2, max_len=ML, batch=64, check=0,
                 mode="beam 5, %d sentences, --threads 2 (PyTorch 2 threads, batch 64)" % a.sentences),
        ]
    results = []
    for c in cases:
        log("case %s" % c["name"])
        results.append(run_case(a, c, peaks[0]["avx2_fma_gflops"], log))
        try:
            env["torch"] = results[-1]["torch"]["torch_version"]
            env["blas"] = ", ".join(results[-1]["torch"]["blas"]) or "no BLAS library mapped"
        except KeyError:
            pass

    log("FMA peak again ...")
    _, _, _, out, _ = run([os.path.join(a.bin, "peak"), "1"])
    peaks.append(json.loads(out))
    peak_info = {"avx2": max(p["avx2_fma_gflops"] for p in peaks),
                 "avx512": max((p["avx512_fma_gflops"] or 0) for p in peaks) or None}
    for r in results:
        r["s2s_peak_pct"] = 100 * r["s2s_gflops"] / (peak_info["avx2"] * r["threads"])

    # ---- targets ------------------------------------------------------------
    by = {r["name"]: r for r in results}
    targets = []
    r = by["greedy latency, tutorial-sized"]
    targets.append(("greedy 1 sentence at a time, tutorial-sized, 1 thread: s2s >= 25x PyTorch",
                    "%.1fx" % r["ratio"], r["ratio"] >= 25))
    r = by["beam 5, mid-size, 1 thread"]
    targets.append(("beam 5 throughput, mid-size, 1 thread: s2s >= 10x PyTorch",
                    "%.1fx" % r["ratio"], r["ratio"] >= 10))
    r1, r2 = by["beam 5, mid-size, 1 thread"], by["beam 5, mid-size, 2 threads"]
    sc = r2["s2s_sent_s"] / r1["s2s_sent_s"]
    targets.append(("--threads 2 >= 1.7x the 1-thread throughput (%d sentences, mid-size beam 5)"
                    % r1["torch"]["sentences"], "%.2fx" % sc, sc >= 1.7))
    big = [g for g in gemm if g["rows"] >= 16]
    if big:
        worst = min(g["gflops"] for g in big) / peak_info["avx2"] * 100
        targets.append(("matrix-matrix work (matmul_nt, >= 16 rows) >= 50% of single-core FMA peak",
                        "%.0f%% (worst of %s rows)" % (worst, "/".join(str(g["rows"]) for g in big)),
                        worst >= 50))
    if have_dflt:
        m = [x for x in loads if x["dir"] == dflt][0]
        targets.append(("loading the default model < 10 ms", "%.2f ms (median; first %.2f ms)"
                        % (m["median_ms"], m["first_ms"]), m["median_ms"] < 10))
    else:
        targets.append(("loading the default model < 10 ms", "models/fra-eng absent", None))
    for r in results:
        if r["torch"]["sentences"] >= 1000:
            sz = [x for x in loads if x["dir"] == r["model"]][0]["size_mb"]
            targets.append(("peak memory <= model size + 20 MB, %s" % r["name"],
                            "%.1f MB vs %.1f + 20 MB" % (r["s2s"]["rss_mb"], sz),
                            r["s2s"]["rss_mb"] <= sz + 20))
    mism = sum(r["compare"]["mismatches"] + r["compare"]["s2s_errors"] for r in results)
    targets.append(("identical outputs s2s vs PyTorch (every case)",
                    "%d differing of %d" % (mism, sum(r["compare"]["n"] for r in results)), mism == 0))
    chk = sum(r["torch"]["check_mismatches"] for r in results)
    chk_n = sum(r["torch"]["check_n"] for r in results)
    notes.append("PyTorch batched decoding checked against s2s_torch.greedy/beam_search on the "
                 "first lines of each case: %d of %d differ." % (chk, chk_n))
    notes.append("Random models decode a fixed --max-length %d on both sides; inputs are random "
                 "word ids, 5-15 per line." % ML)
    for r in results:
        if r["compare"]["first"]:
            notes.append("%s: first differing line id %d: s2s %s vs PyTorch %s" % (
                (r["name"],) + tuple(r["compare"]["first"])))
    total = time.time() - t_start
    notes.append("make bench took %.0f s." % total)

    md = report(a, env, peak_info, gemm, loads, results, targets, notes)
    print(md)
    os.makedirs(os.path.dirname(a.md), exist_ok=True)
    with open(a.md, "w", encoding="utf-8") as f:
        f.write(md)
    with open(os.path.join(a.work, "results.json"), "w") as f:
        json.dump({"env": env, "peak": peak_info, "gemm": gemm, "loads": loads,
                   "cases": [{k: v for k, v in r.items() if k != "torch" or True} for r in results],
                   "targets": targets}, f, indent=1, default=str)
    log("wrote %s" % a.md)


if __name__ == "__main__":
    main()
