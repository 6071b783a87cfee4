#!/usr/bin/python3
"""bench - `make bench`: s2s against the PyTorch reference, in one run.

    PYTHONPATH=tools/python /usr/bin/python3 tools/bench/bench.py --s2s build/s2s --bin build/bench [--quick]

For every case it decodes the same input lines with the same model in s2s
(`s2s translate --format jsonl`, one process per run) and in PyTorch
(tools/bench/bench_torch.py, one process per run), checks that both give the same
tokens, and prints a Markdown table (also written to work-tmp/bench.md):
sentences/s, target tokens/s, the s2s/PyTorch ratio, peak resident memory
of each process, model load time, and a roofline line (FLOPs per decoded
token, GFLOP/s achieved, % of the single-core FMA peak measured by
tools/bench/peak.c in the same run). tools/bench/gemm.c measures the
engine's matmul_nt alone; tools/bench/load.c times s2s_model_load. See
docs/bench.md.

Models: random-weight models made here with s2s_tools.reference (seeded) in
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
# one case
# --------------------------------------------------------------------------

def s2s_tokens(path):
    """id -> (source tokens, best hypothesis' tokens), or None for an error
    line, from s2s jsonl."""
    res = {}
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f):
            o = json.loads(line)
            if "error" in o or not o.get("hypotheses"):
                res[o.get("id", i)] = None
            else:
                res[o["id"]] = (o.get("source_tokens"), o["hypotheses"][0]["tokens"])
    return res


def run_s2s(a, model, inputs, out, beam, threads, max_len, repeat):
    cmd = [a.s2s, "translate", "-m", model, "--format", "jsonl", "--beam", str(beam),
           "--threads", str(threads), "-q", "--no-split-sentences", "--case", "off"]  # as PyTorch: whole lines
    if max_len:
        cmd += ["--max-length", str(max_len)]
    # start-up + model load: the same command on empty input (best of 3)
    empty = [run(cmd) for _ in range(3)]
    e_wall, e_cpu = min(x["wall"] for x in empty), min(x["cpu"] for x in empty)
    best = None
    for _ in range(repeat):
        r = run(cmd, stdin=inputs, stdout=out)
        if r["rc"] != 0:
            raise SystemExit("bench: s2s failed (%d): %s\n%s" % (r["rc"], " ".join(cmd), r["err"][-2000:]))
        if best is None or r["wall"] < best["wall"]:
            best = r
    return {"wall_s": best["wall"], "startup_s": e_wall, "decode_s": max(best["wall"] - e_wall, 1e-9),
            "decode_cpu_s": max(best["cpu"] - e_cpu, 1e-9), "rss_mb": best["rss_mb"],
            "cmd": " ".join(cmd) + " < " + inputs}


def run_s2s_interactive(a, model, inputs, out, max_len):
    """Latency: one line written, its result read back, then the next line
    (so s2s decodes every sentence alone, whatever its input batching).
    A first warm-up line (the first input line) is sent and answered before
    the clock starts; its output is not kept. -> dict like run_s2s plus
    latencies_ms (one per line)."""
    import tempfile
    cmd = [a.s2s, "translate", "-m", model, "--format", "jsonl", "--threads", "1", "-q"]
    if max_len:
        cmd += ["--max-length", str(max_len)]
    empty = [run(cmd) for _ in range(3)]
    e_cpu = min(x["cpu"] for x in empty)
    lines = open(inputs, "rb").read().splitlines(keepends=True)
    with tempfile.NamedTemporaryFile(suffix=".rss") as frss, tempfile.TemporaryFile() as ferr:
        full = _timed(cmd, frss.name)
        p = subprocess.Popen(full, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=ferr,
                             bufsize=0)
        outs, lat = [], []
        p.stdin.write(lines[0])
        p.stdout.readline()
        t0 = time.perf_counter()
        for line in lines:
            t = time.perf_counter()
            p.stdin.write(line)
            outs.append(p.stdout.readline())
            lat.append((time.perf_counter() - t) * 1e3)
        wall = time.perf_counter() - t0
        p.stdin.close()
        rest = p.stdout.read()
        ru, rss_kb = _wait(p, full, frss.name)
        ferr.seek(0)
        err = ferr.read().decode("utf-8", "replace")
    if p.returncode != 0 or rest.strip():
        raise SystemExit("bench: s2s (interactive) failed (%d): %s\n%s" % (p.returncode, " ".join(cmd), err[-2000:]))
    with open(out, "wb") as f:
        for i, o in enumerate(outs):   # renumber: the warm-up line took id 0
            d = json.loads(o)
            d["id"] = i
            f.write((json.dumps(d) + "\n").encode("utf-8"))
    cpu = ru.ru_utime + ru.ru_stime
    return {"wall_s": wall, "startup_s": None, "decode_s": wall,
            "decode_cpu_s": max(cpu - e_cpu, 1e-9), "rss_mb": rss_kb / 1024.0,
            "latencies_ms": lat, "cmd": " ".join(cmd) + " (one line at a time)"}


def run_torch(a, model, inputs, out, beam, threads, max_len, batch, check, repeat):
    cmd = [PY, BENCH_TORCH, "-m", model, "-i", inputs,
           "--out", out, "--beam", str(beam), "--threads", str(threads),
           "--max-length", str(max_len or 0), "--batch", str(batch), "--check", str(check)]
    best = None
    for i in range(repeat):
        c = cmd if i == 0 else cmd[:-1] + ["0"]
        r = run(c)
        if r["rc"] != 0:
            raise SystemExit("bench: bench_torch failed (%d): %s\n%s" % (r["rc"], " ".join(c), r["err"][-3000:]))
        res = json.loads(r["out"].strip().splitlines()[-1])
        res["rss_mb"] = r["rss_mb"]
        res["stderr"] = r["err"]
        if best is None:
            best = res
        elif res["decode_s"] < best["decode_s"]:
            res["check_n"], res["check_mismatches"] = best["check_n"], best["check_mismatches"]
            best = res
    best["cmd"] = " ".join(cmd)
    return best


def compare(s2s_out, torch_out):
    s = s2s_tokens(s2s_out)
    n = mism = errors = src_diff = 0
    first = None
    ids = []
    with open(torch_out, encoding="utf-8") as f:
        for line in f:
            o = json.loads(line)
            n += 1
            got = s.get(o["id"])
            if got is None:
                errors += 1
                continue
            if got[0] is not None and got[0] != o.get("source_tokens", got[0]):
                src_diff += 1
            got = got[1]
            if got != o["tokens"]:
                mism += 1
                ids.append(o["id"])
                if first is None:
                    k = next(j for j in range(len(got) + 1)
                             if j >= len(got) or j >= len(o["tokens"]) or got[j] != o["tokens"][j])
                    first = (o["id"], k, got[k:k + 5], o["tokens"][k:k + 5])
    return {"n": n, "mismatches": mism, "s2s_errors": errors, "first": first, "ids": ids,
            "source_differs": src_diff, "s2s_lines": len(s)}


def run_case(a, c, log):
    """c: dict name, model, inputs, beam, threads, max_len, batch, check."""
    tag = c["name"].replace(" ", "_").replace(",", "").replace("/", "-")
    s_out = os.path.join(a.work, tag + ".s2s.jsonl")
    t_out = os.path.join(a.work, tag + ".torch.jsonl")
    log("  s2s ...")
    if c.get("latency"):
        s = run_s2s_interactive(a, c["model"], c["inputs"], s_out, c["max_len"])
    else:
        s = run_s2s(a, c["model"], c["inputs"], s_out, c["beam"], c["threads"], c["max_len"], a.repeat)
    log("  s2s: %.2f s decode (%.2f CPU s); PyTorch ..." % (s["decode_s"], s["decode_cpu_s"]))
    t = run_torch(a, c["model"], c["inputs"], t_out, c["beam"], c["threads"], c["max_len"],
                  c["batch"], c["check"], a.repeat)
    log("  PyTorch: %.2f s decode (%.2f CPU s)" % (t["decode_s"], t["decode_cpu_s"]))
    cmp_ = compare(s_out, t_out)
    if cmp_["ids"]:
        ids = cmp_["ids"][:10]
        r = run([PY, BENCH_TORCH, "-m", c["model"], "-i",
                 c["inputs"], "--out", os.devnull, "--beam", str(c["beam"]), "--max-length",
                 str(c["max_len"] or 0), "--explain", ",".join(map(str, ids))])
        try:
            cmp_["explain"] = json.loads(r["out"].strip().splitlines()[-1])["explain"]
        except (ValueError, IndexError, KeyError):
            cmp_["explain"] = {}
    fm = flop_model(c["model"])
    flops = case_flops(fm, t)
    n, toks = t["sentences"], t["target_tokens"]
    res = dict(c)
    res.update({"s2s": s, "torch": t, "compare": cmp_, "flops_total": flops,
                "flops_per_token": flops / max(t["live_row_steps"], 1)})
    for side, d in (("s2s", s), ("torch", t)):
        res[side + "_sent_s"] = n / d["decode_s"]
        res[side + "_sent_cpu"] = n / d["decode_cpu_s"]
        res[side + "_tok_s"] = toks / d["decode_s"]
        res[side + "_tok_cpu"] = toks / d["decode_cpu_s"]
        res[side + "_gflops_cpu"] = flops / d["decode_cpu_s"] / 1e9
        res[side + "_gflops_wall"] = flops / d["decode_s"] / 1e9
    res["ratio"] = res["s2s_sent_s"] / res["torch_sent_s"]
    res["ratio_cpu"] = res["s2s_sent_cpu"] / res["torch_sent_cpu"]
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


def report(a, env, peak_info, gemm, lsm, loads, cases, scaling, targets, notes):
    L = []
    L.append("# s2s benchmark")
    L.append("")
    L.append("Measured %s on %s (%s), %d cores; load average (1/5/15 min) at start %s, at end %s. "
             "PyTorch %s with %s." % (env["date"], env["cpu"], env["kernel"], os.cpu_count(),
                                       env["load_start"], load_avg(), env["torch"], env["blas"]))
    L.append("")
    L.append("s2s time = `s2s translate` minus the same command on empty input (start-up + model "
             "load); PyTorch time = tokenizing + decoding inside its process (`import torch` and "
             "model load excluded). Each figure is wall clock, with the CPU-time figure "
             "(user + system, all threads) in brackets: on a machine shared with other jobs the "
             "CPU-time figures are the steadier ones for 1-thread runs. Token counts are "
             "emitted target tokens (eos included).")
    L.append("")
    L.append("| case | decode | sentences | s2s sent/s | PyTorch sent/s | s2s/PyTorch | "
             "s2s tok/s | PyTorch tok/s | s2s peak RSS MB | PyTorch peak RSS MB | outputs differ |")
    L.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in cases:
        cm = r["compare"]
        diff = "%d / %d" % (cm["mismatches"], cm["n"])
        if cm["s2s_errors"]:
            diff += " (+%d s2s errors)" % cm["s2s_errors"]
        if cm["source_differs"]:
            diff += " (source tokens differ on %d)" % cm["source_differs"]
        L.append("| %s | %s | %d | %s (%s) | %s (%s) | **%.1fx** (%.1fx) | %s (%s) | %s (%s) | "
                 "%.1f | %.0f | %s |" % (
                     r["name"], r["mode"], r["torch"]["sentences"],
                     fmt(r["s2s_sent_s"]), fmt(r["s2s_sent_cpu"]),
                     fmt(r["torch_sent_s"]), fmt(r["torch_sent_cpu"]), r["ratio"], r["ratio_cpu"],
                     fmt(r["s2s_tok_s"]), fmt(r["s2s_tok_cpu"]),
                     fmt(r["torch_tok_s"]), fmt(r["torch_tok_cpu"]),
                     r["s2s"]["rss_mb"], r["torch"]["rss_mb"], diff))
    L.append("")
    lat = [r for r in cases if r.get("latency")]
    if lat:
        L.append("Latency, one sentence at a time (s2s: a line written to `s2s translate`, its "
                 "result read back, then the next line; PyTorch: one sentence per call):")
        L.append("")
        L.append("| case | s2s median ms | s2s 90th pct ms | PyTorch median ms | PyTorch 90th pct ms |")
        L.append("|---|---:|---:|---:|---:|")
        for r in lat:
            sl, tl = sorted(r["s2s"]["latencies_ms"]), sorted(r["torch"].get("latencies_ms") or [0])
            L.append("| %s | %.2f | %.2f | %.2f | %.2f |" % (
                r["name"], sl[len(sl) // 2], sl[int(len(sl) * 0.9)], tl[len(tl) // 2],
                tl[int(len(tl) * 0.9)]))
        L.append("")
    if scaling:
        L.append("Threads (s2s alone, same %d sentences): 1 thread %.2f s wall / %.2f CPU s; "
                 "--threads 2 %.2f s wall / %.2f CPU s: **%.2fx** wall speed-up, with %.2f cores "
                 "in use on average; work efficiency (1-thread CPU / 2-thread CPU) %.0f%%, i.e. "
                 "%.2fx on two otherwise idle cores." % (
                     scaling["n"], scaling["w1"], scaling["c1"], scaling["w2"], scaling["c2"],
                     scaling["speedup"], scaling["c2"] / scaling["w2"], 100 * scaling["eff"],
                     2 * scaling["eff"]))
        L.append("")
    L.append("Roofline: MFLOP/token = one decoder step of one live hypothesis (RNN, attention "
             "over the source, output projection; multiply-add = 2) plus the encoder's share. "
             "GFLOP/s per CPU-second, against the measured single-core AVX2 FMA peak "
             "**%.1f GFLOP/s** (tools/bench/peak.c, CPU time; AVX-512: %s GFLOP/s; s2s uses AVX2)." % (
                 peak_info["avx2"], fmt(peak_info.get("avx512"))))
    L.append("")
    L.append("| case | MFLOP/token | s2s GFLOP/s | s2s % of peak | PyTorch GFLOP/s |")
    L.append("|---|---:|---:|---:|---:|")
    for r in cases:
        L.append("| %s | %.2f | %.2f | %.1f%% | %.2f |" % (
            r["name"], r["flops_per_token"] / 1e6, r["s2s_gflops_cpu"],
            100 * r["s2s_gflops_cpu"] / peak_info["avx2"], r["torch_gflops_cpu"]))
    L.append("")
    if gemm:
        L.append("The engine's matmul_nt alone (tools/bench/gemm.c, 1 thread, CPU time), "
                 "Y (rows x out) = X W^T + b:")
        L.append("")
        L.append("| rows | out x in | GFLOP/s | % of AVX2 peak | us per call |")
        L.append("|---:|---|---:|---:|---:|")
        for g in gemm:
            L.append("| %d | %d x %d | %.1f | %.0f%% | %.0f |" % (
                g["rows"], g["out"], g["in"], g["gflops"], 100 * g["gflops"] / peak_info["avx2"],
                g["us_per_call"]))
        L.append("")
    if lsm:
        L.append("The engine's log_softmax over one row of logits (tools/bench/gemm.c), next to the "
                 "output projection that produces the row:")
        L.append("")
        L.append("| logits | log_softmax us | ns per logit | projection us, 1 row | "
                 "projection us per row, 16 rows |")
        L.append("|---:|---:|---:|---:|---:|")
        for k in lsm:
            one = [g for g in gemm if g["out"] == k["n"] and g["rows"] == 1]
            six = [g for g in gemm if g["out"] == k["n"] and g["rows"] == 16]
            L.append("| %d | %.1f | %.2f | %s | %s |" % (
                k["n"], k["us_per_call"], k["ns_per_element"],
                "%.1f" % one[0]["us_per_call"] if one else "-",
                "%.1f" % (six[0]["us_per_call"] / 16) if six else "-"))
        L.append("")
    L.append("Model load: s2s = tools/bench/load.c (s2s_model_load + s2s_model_free, 20 loads after "
             "a first one: median wall clock, median CPU time, best wall clock); PyTorch = "
             "s2s_tools.reference.load_model_dir, once.")
    L.append("")
    L.append("| model | parameters | weights | s2s load ms: median (CPU) best | s2s first load ms "
             "| PyTorch load ms |")
    L.append("|---|---:|---|---:|---:|---:|")
    for m in loads:
        L.append("| %s | %s | %.1f MB %s | %.2f (%.2f) %.2f | %.2f | %s |" % (
            m["label"], "{:,}".format(m["parameters"]), m["size_mb"], m.get("dtype", ""),
            m["median_ms"], m["cpu_median_ms"], m["min_ms"], m["first_ms"],
            fmt(m.get("torch_ms"))))
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
    ap.add_argument("--real-sentences", type=int, default=500,
                    help="sentences of the shipped default model's beam cases")
    ap.add_argument("--latency-sentences", type=int, default=300,
                    help="sentences of the one-at-a-time greedy cases")
    a = ap.parse_args()
    a.s2s = os.path.abspath(a.s2s)
    if a.quick:
        a.sentences, a.real_sentences, a.latency_sentences = 100, 100, 50
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

    def bench_bin(*args):
        r = run([os.path.join(a.bin, args[0])] + [str(x) for x in args[1:]])
        if r["rc"] != 0:
            raise SystemExit("bench: %s failed: %s" % (" ".join(map(str, args)), r["err"]))
        return [json.loads(x) for x in r["out"].split("\n") if x.strip()]

    # ---- micro-benchmarks ------------------------------------------------
    log("FMA peak, matmul_nt ...")
    peaks = bench_bin("peak", 1)
    kern = bench_bin("gemm", 0.5, 8192, 256, 1, 5, 16, 32, 64) + \
        bench_bin("gemm", 0.3, 2800, 128, 1, 5, 16) + bench_bin("gemm", 0.3, 768, 256, 1, 5, 16)
    gemm = [k for k in kern if "rows" in k]
    lsm = [k for k in kern if k.get("kernel") == "log_softmax" and k["n"] != 768]

    # ---- models and inputs -----------------------------------------------
    notes = []
    mdir = os.path.join(a.work, "models")
    shutil.rmtree(mdir, ignore_errors=True)
    small = os.path.join(mdir, "random-h128")
    mid = os.path.join(mdir, "random-h256-v12k")
    log("making random models ...")
    mid16 = os.path.join(mdir, "random-h256-v12k-f16")
    r = run([PY, os.path.abspath(__file__), "--make-models", small, mid, mid16])
    if r["rc"] != 0:
        raise SystemExit("bench: making the models failed:\n" + r["err"])
    inp = {}
    inp["small_lat"] = os.path.join(a.work, "small.latency.txt")
    random_inputs(inp["small_lat"], a.latency_sentences, SMALL[3], 11)
    inp["small_tp"] = os.path.join(a.work, "small.throughput.txt")
    random_inputs(inp["small_tp"], a.sentences, SMALL[3], 12)
    inp["mid"] = os.path.join(a.work, "mid.txt")
    random_inputs(inp["mid"], a.sentences, MID[3], 13)

    models = [("tutorial-sized random: GRU h128, V 4.5k/2.8k", small),
              ("mid-size random: GRU h256, V 12k/12k", mid),
              ("mid-size random, weights stored as F16 (load only)", mid16)]
    tut = os.path.join(ROOT, "models", "tutorial-fra-eng")
    dflt = os.path.join(ROOT, "models", "fra-eng")
    have_tut = os.path.exists(os.path.join(tut, "config.json"))
    have_dflt = os.path.exists(os.path.join(dflt, "config.json"))
    if have_tut:
        models.append(("models/tutorial-fra-eng", tut))
        inp["tut"] = os.path.join(a.work, "tutorial-fra-eng.txt")
        k = real_inputs(inp["tut"], a.latency_sentences, tut)
        notes.append("models/tutorial-fra-eng: the first %d French sentences of the Tatoeba test "
                     "set with 1-15 tokens, all in its vocabulary (it has no unk); default "
                     "max length." % k)
    else:
        notes.append("models/tutorial-fra-eng is absent: its case was skipped.")
    if have_dflt:
        models.append(("models/fra-eng (default)", dflt))
        inp["dflt_lat"] = os.path.join(a.work, "fra-eng.latency.txt")
        inp["dflt_tp"] = os.path.join(a.work, "fra-eng.throughput.txt")
        real_inputs(inp["dflt_lat"], a.latency_sentences, dflt)
        k = real_inputs(inp["dflt_tp"], a.real_sentences, dflt)
        notes.append("models/fra-eng: French sentences of the Tatoeba test set (1-15 tokens; "
                     "%d for beam search); default max length." % k)
    else:
        notes.append("models/fra-eng (the default model) is absent: its cases and the load-time "
                     "target were skipped.")

    # ---- model load --------------------------------------------------------
    log("model load times ...")
    loads = []
    for label, d in models:
        _, size = model_facts(d)
        m = bench_bin("load", d, 20)[0]
        m.update({"label": label, "dir": d, "size_mb": size / 1e6, "dtype": weights_dtype(d)})
        r = run([PY, "-c", "import time; from s2s_tools import reference as ref; "
                 "t = time.perf_counter(); ref.load_model_dir(%r); print(time.perf_counter() - t)"
                 % d])
        m["torch_ms"] = float(r["out"]) * 1e3 if r["rc"] == 0 else None
        loads.append(m)

    # ---- cases -------------------------------------------------------------
    ML = 20
    N, NR = a.sentences, a.real_sentences

    def latency(label, model, inputs, max_len):
        return dict(name="greedy latency, " + label, model=model, inputs=inputs, beam=1,
                    threads=1, max_len=max_len, batch=1, check=20, latency=True,
                    mode="greedy, one sentence at a time, 1 thread")

    def beam5(label, model, inputs, max_len, n):
        """beam 5 on 1 thread (the first 2 lines checked), then on 2."""
        return [dict(name="beam 5, %s, 1 thread" % label, model=model, inputs=inputs, beam=5,
                     threads=1, max_len=max_len, batch=64, check=2,
                     mode="beam 5, %d sentences, 1 thread (PyTorch batches of 64)" % n),
                dict(name="beam 5, %s, 2 threads" % label, model=model, inputs=inputs, beam=5,
                     threads=2, max_len=max_len, batch=64, check=0,
                     mode="beam 5, %d sentences, --threads 2 (PyTorch 2 threads, batches of 64)" % n)]

    cases = [
        latency("tutorial-sized", small, inp["small_lat"], ML),
        dict(name="greedy batch, tutorial-sized", model=small, inputs=inp["small_tp"], beam=1,
             threads=1, max_len=ML, batch=128, check=0,
             mode="greedy, %d sentences, 1 thread (PyTorch batches of 128)" % N),
    ] + beam5("mid-size", mid, inp["mid"], ML, N)
    if have_tut:
        cases.append(latency("tutorial-fra-eng", tut, inp["tut"], None))
    if have_dflt:
        cases += [latency("fra-eng", dflt, inp["dflt_lat"], None)] + \
            beam5("fra-eng", dflt, inp["dflt_tp"], None, NR)
    results = []
    for c in cases:
        log("case %s" % c["name"])
        results.append(run_case(a, c, log))
        env["torch"] = results[-1]["torch"].get("torch_version", "?")
        env["blas"] = ", ".join(results[-1]["torch"].get("blas", [])) or "no BLAS library mapped"

    log("FMA peak again ...")
    peaks += bench_bin("peak", 1)
    peak_info = {"avx2": max(p["avx2_fma_gflops"] for p in peaks),
                 "avx512": max((p["avx512_fma_gflops"] or 0) for p in peaks) or None}

    # ---- targets ------------------------------------------------------------
    by = {r["name"]: r for r in results}
    targets = []
    r = by["greedy latency, tutorial-sized"]
    targets.append(("greedy one sentence at a time, tutorial-sized, 1 thread: s2s >= 25x PyTorch "
                    "sentences/s", "%.1fx wall, %.1fx CPU time" % (r["ratio"], r["ratio_cpu"]),
                    r["ratio_cpu"] >= 25))
    r = by["beam 5, mid-size, 1 thread"]
    targets.append(("beam 5 throughput, mid-size, 1 thread: s2s >= 10x PyTorch",
                    "%.1fx wall, %.1fx CPU time" % (r["ratio"], r["ratio_cpu"]), r["ratio_cpu"] >= 10))
    r1, r2 = by["beam 5, mid-size, 1 thread"], by["beam 5, mid-size, 2 threads"]
    scaling = {"n": r1["torch"]["sentences"], "w1": r1["s2s"]["decode_s"], "c1": r1["s2s"]["decode_cpu_s"],
               "w2": r2["s2s"]["decode_s"], "c2": r2["s2s"]["decode_cpu_s"]}
    scaling["speedup"] = scaling["w1"] / scaling["w2"]
    scaling["eff"] = scaling["c1"] / scaling["c2"]
    targets.append(("--threads 2 >= 1.7x the 1-thread throughput (%d sentences, mid-size, beam 5)"
                    % scaling["n"], "%.2fx wall (%.2fx on idle cores, from CPU time)"
                    % (scaling["speedup"], 2 * scaling["eff"]), scaling["speedup"] >= 1.7))
    big = [g for g in gemm if g["rows"] >= 16 and g["out"] == 8192]
    if big:
        worst = min(g["gflops"] for g in big) / peak_info["avx2"] * 100
        targets.append(("matrix-matrix work (matmul_nt, >= 16 rows, 8192 x 256) >= 50% of "
                        "single-core FMA peak", "%.0f%% (worst of %s rows)"
                        % (worst, "/".join(str(g["rows"]) for g in big)), worst >= 50))
    if have_dflt:
        m = [x for x in loads if x["dir"] == dflt][0]
        targets.append(("loading the default model < 10 ms",
                        "%.2f ms median wall, %.2f ms median CPU, %.2f ms best (first load %.2f ms)"
                        % (m["median_ms"], m["cpu_median_ms"], m["min_ms"], m["first_ms"]),
                        m["cpu_median_ms"] < 10))
    else:
        targets.append(("loading the default model < 10 ms", "models/fra-eng absent", None))
    for r in results:
        if r["torch"]["sentences"] >= 1000:
            sz = [x for x in loads if x["dir"] == r["model"]][0]["size_mb"]
            targets.append(("s2s peak memory <= model size + 20 MB, %s" % r["name"],
                            "%.1f MB vs %.1f + 20 MB" % (r["s2s"]["rss_mb"], sz),
                            r["s2s"]["rss_mb"] <= sz + 20))
    mism = sum(r["compare"]["mismatches"] + r["compare"]["s2s_errors"] for r in results)
    targets.append(("identical outputs, s2s vs PyTorch (all cases)",
                    "%d of %d lines differ" % (mism, sum(r["compare"]["n"] for r in results)), mism == 0))
    chk = sum(r["torch"]["check_mismatches"] for r in results)
    chk_n = sum(r["torch"]["check_n"] for r in results)
    notes.append("The batched PyTorch decoding (tools/bench/bench_torch.py) was checked against "
                 "the reference's greedy/beam_search on the first lines of each case: %d of %d differ."
                 % (chk, chk_n))
    notes.append("Random models: seeded s2s_tools.reference weights (output layer x4), inputs random word "
                 "ids, 5-15 per line, fixed --max-length %d on both sides." % ML)
    for r in results:
        cm = r["compare"]
        if cm["first"]:
            i, k, a_, b_ = cm["first"]
            why = []
            for lid, e in sorted(cm.get("explain", {}).items(), key=lambda kv: int(kv[0])):
                if "min_margin" in e:
                    why.append("line %s: %.1e" % (lid, e["min_margin"]))
                else:
                    why.append("line %s: %d" % (lid, e["n_near_ties"]))
            kind = ("smallest gap between the best and second log-probability in the reference's "
                    "greedy decoding" if r["beam"] == 1 else
                    "near ties (within 1e-4) in the reference's beam search")
            notes.append("%s: %d line(s) differ; first, line id %d, from token %d: s2s %s vs "
                         "PyTorch %s. %s: %s." % (r["name"], cm["mismatches"], i, k, a_, b_,
                                                  kind[0].upper() + kind[1:], "; ".join(why) or "?"))
    total = time.time() - t_start
    notes.append("This run of tools/bench/bench.py took %.0f s." % total)

    md = report(a, env, peak_info, gemm, lsm, loads, results, scaling, targets, notes)
    print(md)
    os.makedirs(os.path.dirname(a.md), exist_ok=True)
    with open(a.md, "w", encoding="utf-8") as f:
        f.write(md)
    with open(os.path.join(a.work, "results.json"), "w") as f:
        json.dump({"env": env, "peak": peak_info, "gemm": gemm, "log_softmax": lsm,
                   "loads": loads, "cases": results,
                   "scaling": scaling, "targets": targets}, f, indent=1, default=str)
    log("wrote %s" % a.md)


# (hidden, embedding, source vocabulary, target vocabulary, seed)
SMALL = (128, 128, 4500, 2800, 1)
MID = (256, 256, 12000, 12000, 2)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--make-models":
        for path, (h, e, vs, vt, seed), dt in zip(sys.argv[2:], (SMALL, MID, MID),
                                                  ("F32", "F32", "F16")):
            make_random_model(path, seed, h, e, vs, vt, 4.0, dt)
    else:
        main()
