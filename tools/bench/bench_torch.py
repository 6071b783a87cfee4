#!/usr/bin/python3
"""bench_torch - the PyTorch side of `make bench`: decodes a file of input
lines with a model directory, as fast as plain PyTorch eager code can, and
reports the time taken.

    PYTHONPATH=tools/python /usr/bin/python3 tools/bench/bench_torch.py -m MODEL_DIR \
        -i INPUTS --out OUT.jsonl [--beam K] [--threads N] [--max-length L] [--batch B] [--check N]

It is the PyTorch reference, s2s_tools.reference (same modules, same weights,
its batched encoder, bridge and decoder step), with the per-sentence Python
loops replaced by batched tensor work:
  - the encoder runs a batch of sentences at once (packed sequences), and the
    Bahdanau/general key projections are computed once per sentence;
  - greedy decoding steps the whole batch at once (padding + attention
    masks), with torch.argmax (first index on a tie, as the model format says);
  - beam search keeps K rows per sentence for a batch of sentences; the
    candidate ranking takes the top 2K of every sentence with topk and then
    orders them by (score desc, hypothesis, token), falling back to an exact
    scan when a tie straddles the top-2K cut; scores are summed in float64
    like the reference's Python floats;
  - finished sentences leave the batch; sentences are bucketed by length.
With --batch 1 every sentence is decoded alone (the latency case).

Everything runs under torch.inference_mode() with torch.set_num_threads(N);
OMP_NUM_THREADS and OPENBLAS_NUM_THREADS are set to N before torch is
imported, so OpenBLAS uses N threads as well, and OMP_WAIT_POLICY to
PASSIVE unless already set (with spinning OpenMP workers, 2-thread runs on
a loaded machine were several times slower than 1-thread runs).

OUT.jsonl gets one {"id", "source_tokens", "tokens", "score", "finished"}
per input line (best hypothesis; tokens as vocabulary strings, final eos
excluded; source_tokens as fed to the encoder, appended eos included).
Standard output gets one JSON object: load_s (load_model_dir), decode_s
(tokenizing + decoding every line, wall clock), decode_cpu_s (the same
span in CPU time of the whole process, all threads), sentences, target_tokens
(emitted tokens, eos included when emitted), source_tokens (eos
included), row_steps (decoder rows computed, padding rows of a beam
included), live_row_steps (rows of live hypotheses: the work the search
itself needs, as s2s does it), live_row_steps_x_source (the same weighted
by source length, for the attention FLOPs), check_n / check_mismatches
(the first --check lines decoded again with the reference's greedy/beam_search and
compared token by token), latencies_ms (with --batch 1: the time of each
sentence's decoding, tokenizing excluded), torch_threads and the BLAS
library in use.
"""

import argparse
import json
import math
import os
import sys
import time


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-m", "--model", required=True)
    ap.add_argument("-i", "--input", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--beam", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--max-length", type=int, default=0)
    ap.add_argument("--length-penalty", type=float, default=0.0)
    ap.add_argument("--batch", type=int, default=64, help="sentences per batch (1 = one at a time)")
    ap.add_argument("--repeat", type=int, default=1,
                    help="timed decodings of the whole input, the fastest reported")
    ap.add_argument("--check", type=int, default=0,
                    help="compare the first N lines with the reference's own decoding")
    ap.add_argument("--explain", default="",
                    help="comma-separated 0-based line ids: report how close to a tie the "
                         "reference decoding of each came (no timing, no --out written)")
    return ap.parse_args(argv)


ARGS = parse_args() if __name__ == "__main__" else None
if ARGS is not None:
    from s2s_tools.threads import limit_native_threads
    limit_native_threads(ARGS.threads, override=True)
    # Idle OpenMP workers sleep instead of spinning: on a shared machine the
    # spinning made 2-thread runs several times slower than 1-thread ones.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402  (after the thread variables)

from s2s_tools import reference as ref  # noqa: E402
from s2s_tools import tokenizer as tok  # noqa: E402

NEG_INF = float("-inf")


# --------------------------------------------------------------------------
# batched encoder, attention, decoder step
# --------------------------------------------------------------------------

class Batch:
    """Encoder output of S sentences: memory (S, n, D), keys (S, n, *) or
    None, mask (S, 1, n) bool (None when no sentence is padded), lens list,
    decoder state (L, S, H) or (h, c)."""

    def __init__(self, model, srcs):
        self.memory, self.state, self.lens = model.encode_batch(srcs)
        n = max(self.lens)
        self.mask = None if min(self.lens) == n else \
            (torch.arange(n).unsqueeze(0) < torch.tensor(self.lens).unsqueeze(1)).unsqueeze(1)
        att = model.decoder.attention
        self.keys = None
        if att.kind == "bahdanau":
            self.keys = att.Ua(self.memory)                    # (S, n, A)
        elif att.kind == "general":
            self.keys = att.Wa(self.memory).transpose(1, 2).contiguous()  # (S, H, n)
        self.mem_t = self.memory.transpose(1, 2).contiguous() if att.kind in ("dot", "scaled_dot") \
            else None

    def keep(self, idx):
        """Keeps sentences idx (LongTensor) of memory, keys and mask."""
        self.memory = self.memory.index_select(0, idx)
        if self.mask is not None:
            self.mask = self.mask.index_select(0, idx)
        if self.keys is not None:
            self.keys = self.keys.index_select(0, idx)
        if self.mem_t is not None:
            self.mem_t = self.mem_t.index_select(0, idx)


def _attend(model, q, b, k):
    """q (S*k, H_d) -> alpha (S*k, n), context (S*k, D); k query rows per sentence."""
    att = model.decoder.attention
    S = b.memory.shape[0]
    if att.kind == "bahdanau":
        wq = att.Wa(q).view(S, k, 1, -1)
        e = att.Va(torch.tanh(wq + b.keys.unsqueeze(1))).squeeze(3)      # (S, k, n)
    elif att.kind == "general":
        e = torch.bmm(q.view(S, k, -1), b.keys)
    else:
        e = torch.bmm(q.view(S, k, -1), b.mem_t)
        if att.kind == "scaled_dot":
            e = e / math.sqrt(att.query_size)
    if b.mask is not None:
        e = e.masked_fill(~b.mask, NEG_INF)
    alpha = torch.softmax(e, dim=2)
    ctx = torch.bmm(alpha, b.memory)                                       # (S, k, D)
    return alpha.view(S * k, -1), ctx.view(S * k, -1)


def _step(model, y, state, feed, b, k):
    """One decoder step for S*k rows -> (logprobs (S*k, V), state, feed):
    the reference's decoder step with the batched attention above."""
    lp, _, state, feed = model.decoder.step(y, state, feed, lambda q: _attend(model, q, b, k))
    return lp, state, feed


# --------------------------------------------------------------------------
# greedy, a batch at a time
# --------------------------------------------------------------------------

def greedy_batch(model, srcs, max_length=0):
    """-> (list of (tokens without eos, score, finished), one per source;
    (rows computed, live rows, sum of live rows x source length))."""
    sos, eos = model.sos_id, model.eos_id
    b = Batch(model, srcs)
    S = len(srcs)
    limit = [ref.max_steps(model, n, max_length) for n in b.lens]
    alive = list(range(S))           # batch position -> sentence index
    state = b.state
    feed = ref.init_feed(model, S)
    y = torch.full((S,), sos, dtype=torch.long)
    score = torch.zeros(S, dtype=torch.float64)
    toks = [[] for _ in range(S)]
    result = [None] * S
    rows = rows_n = 0
    b_lens = b.lens
    t = 0
    while alive:
        t += 1
        lp, state, feed = _step(model, y, state, feed, b, 1)
        rows += len(alive)
        rows_n += sum(b_lens[s] for s in alive)
        best = lp.argmax(dim=1)
        best_lp = lp.gather(1, best.unsqueeze(1)).squeeze(1)
        score += best_lp.double()
        bl = best.tolist()
        keep = []
        for pos, sent in enumerate(alive):
            v = bl[pos]
            if v == eos:
                result[sent] = (toks[sent], float(score[pos]), True)
            elif t >= limit[sent]:
                toks[sent].append(v)
                result[sent] = (toks[sent], float(score[pos]), False)
            else:
                toks[sent].append(v)
                keep.append(pos)
        if len(keep) < len(alive):
            if not keep:
                break
            idx = torch.tensor(keep, dtype=torch.long)
            alive = [alive[p] for p in keep]
            b.keep(idx)
            state = ref.select_state(state, idx)
            if feed is not None:
                feed = feed.index_select(0, idx)
            best = best.index_select(0, idx)
            score = score.index_select(0, idx)
        y = best
    return result, (rows, rows, rows_n)


# --------------------------------------------------------------------------
# beam search, K rows per sentence, a batch of sentences at a time
# --------------------------------------------------------------------------

def _ranked(tot_row, vals, idx, clean_cut):
    """Candidates of one sentence, (score, flat index) best first, ties by
    flat index (= hypothesis, then token). `vals`, `idx`: its top-k2 (any
    order among equal values); `clean_cut`: no candidate outside them equals
    the smallest. Exact even when a tie crosses the cut (then every
    candidate >= the cut value is taken)."""
    cut = vals[-1]
    if cut == NEG_INF:
        pairs = [(v, i) for v, i in zip(vals, idx) if v != NEG_INF]
    elif clean_cut:
        pairs = list(zip(vals, idx))
    else:
        sel = torch.nonzero(tot_row >= cut).squeeze(1)
        pairs = list(zip(tot_row[sel].tolist(), sel.tolist()))
    pairs.sort(key=lambda p: (-p[0], p[1]))
    return pairs


def beam_batch(model, srcs, k, n_best=1, max_length=0, alpha=0.0):
    """-> (list of (tokens, score, finished) of the best hypothesis per
    source, exactly as ref.beam_search(...)[0]; (rows computed, the
    padding rows of sentences with fewer than k live hypotheses included,
    live rows, sum of live rows x source length))."""
    sos, eos = model.sos_id, model.eos_id
    b = Batch(model, srcs)
    S = len(srcs)
    V = model.decoder.out.out_features
    limit = [ref.max_steps(model, n, max_length) for n in b.lens]
    alive = list(range(S))
    k2 = min(2 * k, k * V)
    # rows: sentence position p owns rows p*k .. p*k+k-1
    rows_of = torch.arange(S).repeat_interleave(k)
    state = ref.select_state(b.state, rows_of)
    feed = ref.init_feed(model, S * k)
    y = torch.full((S * k,), sos, dtype=torch.long)
    scores = torch.full((S, k), NEG_INF, dtype=torch.float64)
    scores[:, 0] = 0.0
    hist = [[[]] + [None] * (k - 1) for _ in range(S)]   # token lists of live slots
    finished = [[] for _ in range(S)]
    result = [None] * S
    nlive = [1] * S
    rows = live_rows = live_rows_n = 0
    t = 0
    while alive:
        t += 1
        P = len(alive)
        lp, state, feed = _step(model, y, state, feed, b, k)
        rows += P * k
        for sent in alive:
            live_rows += nlive[sent]
            live_rows_n += nlive[sent] * b.lens[sent]
        tot = (scores.unsqueeze(2) + lp.view(P, k, V).double()).view(P, k * V)
        vals, idx = tot.topk(k2, dim=1)
        at_cut = (tot >= vals[:, -1:]).sum(dim=1).tolist()
        vals_l, idx_l = vals.tolist(), idx.tolist()
        gather, new_scores, new_y, keep = [], [], [], []
        for p, sent in enumerate(alive):
            cands = _ranked(tot[p], vals_l[p], idx_l[p], at_cut[p] == k2)
            nxt = []
            h = hist[sent]
            for r, (s, flat) in enumerate(cands):
                if r >= k and len(nxt) >= k:
                    break
                slot, v = divmod(flat, V)
                if v == eos:
                    if r < k:
                        ln = len(h[slot]) + 1
                        finished[sent].append((list(h[slot]), s, s / ref.gnmt_lp(ln, alpha)))
                    continue
                if len(nxt) < k:
                    nxt.append((slot, v, s))
            new_hist = [h[slot] + [v] for slot, v, _ in nxt]
            fin = finished[sent]
            unf = None      # None: go on; []: stop, nothing unfinished kept
            if not nxt:
                unf = []
            elif len(fin) >= n_best and not (
                    max(s for _, _, s in nxt) / ref.gnmt_lp(limit[sent], alpha)
                    > sorted(fin, key=lambda f: -f[2])[n_best - 1][2]):
                unf = []
            elif t >= limit[sent]:
                unf = sorted([(toks, s, s / ref.gnmt_lp(len(toks), alpha))
                              for toks, (_, _, s) in zip(new_hist, nxt)], key=lambda f: -f[2])
            if unf is not None:
                ranked = [(f, True) for f in sorted(fin, key=lambda f: -f[2])] + \
                         [(u, False) for u in unf]
                if ranked:
                    (toks, s, _), fflag = ranked[0]
                    result[sent] = (toks, s, fflag)
                else:
                    result[sent] = ([], NEG_INF, False)
                continue
            keep.append(p)
            nlive[sent] = len(nxt)
            hist[sent] = new_hist + [None] * (k - len(nxt))
            base = p * k
            for j in range(k):
                slot, v, s = nxt[j] if j < len(nxt) else (0, eos, NEG_INF)
                gather.append(base + slot)
                new_y.append(v)
                new_scores.append(s)
        if not keep:
            break
        if len(keep) < P:
            b.keep(torch.tensor(keep, dtype=torch.long))
            alive = [alive[p] for p in keep]
        gidx = torch.tensor(gather, dtype=torch.long)
        state = ref.select_state(state, gidx)
        if feed is not None:
            feed = feed.index_select(0, gidx)
        y = torch.tensor(new_y, dtype=torch.long)
        scores = torch.tensor(new_scores, dtype=torch.float64).view(len(keep), k)
    return result, (rows, live_rows, live_rows_n)


# --------------------------------------------------------------------------
# driver
# --------------------------------------------------------------------------

def blas_library():
    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1] for line in f if "blas" in line.lower()}
        return sorted(os.path.basename(x) for x in libs)
    except OSError:
        return []


def explain(a):
    """For lines where s2s and PyTorch disagree: the reference's smallest
    best-vs-second log-probability gap (greedy) or its near-tie notes (beam,
    tie_eps 1e-4), to tell rounding at a near tie from a real difference."""
    model, cfg, src_vocab, _ = ref.load_model_dir(a.model)
    tk = tok.Tokenizer(cfg["tokenizer"], a.model)
    with open(a.input, encoding="utf-8") as f:
        lines = [line.rstrip("\n") for line in f]
    out = {}
    for i in [int(x) for x in a.explain.split(",") if x.strip()]:
        src = ref.source_ids(tk.split(lines[i], src_vocab), src_vocab, cfg)
        if a.beam > 1:
            notes = []
            ref.beam_search(model, src, a.beam, 1, a.max_length or None, a.length_penalty,
                           tie_eps=1e-4, tie_report=notes)
            out[i] = {"near_ties": notes[:5], "n_near_ties": len(notes)}
        else:
            g = ref.greedy_full(model, src, a.max_length or None)
            out[i] = {"min_margin": g["min_margin"]}
    print(json.dumps({"explain": out}))


def main():
    a = ARGS
    if a.explain:
        torch.set_num_threads(a.threads)
        return explain(a)
    torch.set_num_threads(a.threads)
    t0 = time.perf_counter()
    model, cfg, src_vocab, tgt_vocab = ref.load_model_dir(a.model)
    load_s = time.perf_counter() - t0
    inv = {i: w for w, i in tgt_vocab.items()}
    tk = tok.Tokenizer(cfg["tokenizer"], a.model)
    with open(a.input, encoding="utf-8") as f:
        lines = [line.rstrip("\n") for line in f]
    if a.beam > 1:
        decode = lambda srcs: beam_batch(model, srcs, a.beam, 1, a.max_length, a.length_penalty)  # noqa: E731
    else:
        decode = lambda srcs: greedy_batch(model, srcs, a.max_length)  # noqa: E731

    with torch.inference_mode():
        # warm-up (first-call allocations, OpenBLAS thread start), not timed
        decode([ref.source_ids(tk.split(lines[0], src_vocab), src_vocab, cfg)])
        decode_s = None
        for _ in range(max(a.repeat, 1)):  # the same work each time; the fastest is kept
            t0, c0 = time.perf_counter(), time.process_time()
            srcs = [ref.source_ids(tk.split(line, src_vocab), src_vocab, cfg) for line in lines]
            order = sorted(range(len(srcs)), key=lambda i: len(srcs[i])) if a.batch > 1 \
                else list(range(len(srcs)))
            results = [None] * len(srcs)
            row_steps = [0, 0, 0]
            run_latencies = []
            for s in range(0, len(order), a.batch):
                chunk = order[s:s + a.batch]
                t1 = time.perf_counter()
                res, rows = decode([srcs[i] for i in chunk])
                run_latencies.append((time.perf_counter() - t1) * 1e3)
                row_steps = [x + y for x, y in zip(row_steps, rows)]
                for i, r in zip(chunk, res):
                    results[i] = r
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            if decode_s is None or wall < decode_s:
                decode_s, decode_cpu_s, latencies = wall, cpu, run_latencies

    target_tokens = sum(len(r[0]) + (1 if r[2] else 0) for r in results)
    inv_src = {i: w for w, i in src_vocab.items()}
    with open(a.out, "w", encoding="utf-8") as f:
        for i, (toks, score, fin) in enumerate(results):
            f.write(json.dumps({"id": i, "source_tokens": [inv_src[x] for x in srcs[i]],
                                "tokens": [inv[x] for x in toks], "score": score,
                                "finished": fin}, ensure_ascii=False) + "\n")

    mismatches = 0
    n_check = min(a.check, len(srcs))
    for i in range(n_check):
        if a.beam > 1:
            best = ref.beam_search(model, srcs[i], a.beam, 1, a.max_length or None, a.length_penalty)[0]
            ref_toks = best["tokens"]
        else:
            ref_toks = ref.greedy(model, srcs[i], a.max_length or None)[0]
        if list(ref_toks) != list(results[i][0]):
            mismatches += 1
            print("bench_torch: line %d differs from the reference: %s vs %s"
                  % (i + 1, ref_toks[:12], results[i][0][:12]), file=sys.stderr)

    print(json.dumps({"load_s": load_s, "decode_s": decode_s, "decode_cpu_s": decode_cpu_s,
                      "sentences": len(srcs),
                      "target_tokens": target_tokens, "row_steps": row_steps[0],
                      "live_row_steps": row_steps[1], "live_row_steps_x_source": row_steps[2],
                      "source_tokens": sum(len(x) for x in srcs),
                      "latencies_ms": latencies if a.batch == 1 else None,
                      "check_n": n_check, "check_mismatches": mismatches,
                      "torch_threads": torch.get_num_threads(), "batch": a.batch,
                      "blas": blas_library(), "torch_version": torch.__version__}))


if __name__ == "__main__":
    main()
