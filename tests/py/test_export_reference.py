#!/usr/bin/python3
"""Independent check of the golden fixtures (tests/fixtures/models/*).

expected.json files are written by tests/fixtures/make_models.py from the
PyTorch reference (s2s_tools.reference). This test does not use torch or the
reference: it reads each model directory with its own safetensors reader,
runs model-format.md section 4 written out by hand in numpy (float64; GRU and LSTM
gate equations, bridges, the four attention kinds, both positions, input
feeding) and model-format.md section 6 (its own greedy, beam search and forced
decoding), and compares with expected.json: tokens equal, scores within
1e-3, attention within 1e-4. A wrong reference (or a fixture that no longer
matches its weights) fails here.

Format version 2 (model-format.md section 9) is written out here too: coverage
attention, local-m and local-p windows, multi-head attention (per-head
projections, scaled dot products and the head-averaged weights, without
torch.nn.MultiheadAttention), the pointer-generator copy with its extended
vocabulary built from the case's source pieces, and the decoding options of
section 9.5 (no-repeat n-grams, GNMT coverage penalty, target prefix) in
this file's own beam search.

Run with /usr/bin/python3 (numpy). Prints "N passed, M failed".
"""

import glob
import json
import math
import os
import struct
import sys

import harness as H
from harness import check

try:
    import numpy as np
except ImportError:
    H.skip_all("numpy is not available to %s" % sys.executable)


# ---- reading a model directory -------------------------------------------

def read_weights(path):
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    header.pop("__metadata__", None)
    data = raw[8 + n:]
    out = {}
    for name, e in header.items():
        b, end = e["data_offsets"]
        chunk = data[b:end]
        if e["dtype"] == "F32":
            a = np.frombuffer(chunk, "<f4").astype(np.float64)
        elif e["dtype"] == "F16":
            a = np.frombuffer(chunk, "<f2").astype(np.float64)
        elif e["dtype"] == "BF16":
            bits = np.frombuffer(chunk, "<u2").astype(np.uint32) << 16
            a = bits.view(np.float32).astype(np.float64)
        else:
            continue
        out[name] = a.reshape(e["shape"])
    return out


class Model:
    def __init__(self, d):
        with open(os.path.join(d, "config.json")) as f:
            c = json.load(f)
        self.c = c
        self.W = read_weights(os.path.join(d, c.get("weights", "model.safetensors")))
        with open(os.path.join(d, c.get("target_vocab", "target.vocab.json"))) as f:
            tv = json.load(f)
        self.eos = tv[c["special_tokens"]["eos"]]
        self.sos = tv[c["special_tokens"]["sos"]]
        enc, dec = c["encoder"], c["decoder"]
        self.ecell, self.dcell = enc["cell"], dec["cell"]
        self.elayers, self.dlayers = enc.get("num_layers", 1), dec.get("num_layers", 1)
        self.bi = enc.get("bidirectional", False)
        self.bridge = c.get("bridge", "final")
        att = dec.get("attention", {})
        self.att = att.get("type", "bahdanau")
        self.pos = att.get("position", "before_rnn")
        self.feed = dec.get("input_feeding", False) and self.pos == "after_rnn"
        self.Hd = dec["hidden_size"]
        self.max_length = c.get("decoding", {}).get("max_length")
        self.tv = tv
        self.V = len(tv)
        v2 = c["format_version"] == 2
        self.coverage = v2 and att.get("coverage", False)
        self.window = att.get("window") if v2 else None
        self.local = (att.get("local") or "predictive") if self.window else None
        self.heads = att.get("heads") if v2 and self.att == "multihead" else None
        self.copy = v2 and dec.get("copy", False)
        self.unk = tv.get(c["special_tokens"].get("unk")) if self.copy else None
        self.append_eos = enc.get("append_eos", True)

    # one cell step; returns (h, c)
    def cell(self, kind, prefix, k, x, h, c):
        W = self.W
        gi = W["%s.weight_ih_l%s" % (prefix, k)] @ x + W["%s.bias_ih_l%s" % (prefix, k)]
        gh = W["%s.weight_hh_l%s" % (prefix, k)] @ h + W["%s.bias_hh_l%s" % (prefix, k)]
        H = h.shape[0]
        sig = lambda v: 1.0 / (1.0 + np.exp(-v))  # noqa: E731
        if kind == "gru":
            r = sig(gi[:H] + gh[:H])
            z = sig(gi[H:2 * H] + gh[H:2 * H])
            n = np.tanh(gi[2 * H:] + r * gh[2 * H:])
            return (1 - z) * n + z * h, None
        g = gi + gh
        i, f, gg, o = sig(g[:H]), sig(g[H:2 * H]), np.tanh(g[2 * H:3 * H]), sig(g[3 * H:])
        c2 = f * c + i * gg
        return o * np.tanh(c2), c2

    def encode(self, src):
        W = self.W
        xs = [W["encoder.embedding.weight"][t] for t in src]
        H = self.c["encoder"]["hidden_size"]
        finals = []  # per layer: (h, c) forward, (h, c) backward
        for layer in range(self.elayers):
            outs = []
            fin = []
            for direction in ((0, 1) if self.bi else (0,)):
                suffix = "%d%s" % (layer, "_reverse" if direction else "")
                h, c = np.zeros(H), np.zeros(H)
                seq = [None] * len(xs)
                order = range(len(xs) - 1, -1, -1) if direction else range(len(xs))
                for j in order:
                    h, c = self.cell(self.ecell, "encoder.rnn", suffix, xs[j], h, c)
                    seq[j] = h
                outs.append(seq)
                fin.append((h, c))
            xs = [np.concatenate([o[j] for o in outs]) for j in range(len(xs))]
            finals.append(fin)
        memory = np.stack(xs)
        L, Hd = self.dlayers, self.Hd
        if self.bridge == "final":
            hs = [np.concatenate([d[0] for d in f]) for f in finals]
            cs = [np.concatenate([d[1] for d in f]) if self.ecell == "lstm" else None for f in finals]
        elif self.bridge == "zeros":
            hs = [np.zeros(Hd) for _ in range(L)]
            cs = [np.zeros(Hd) for _ in range(L)]
        else:
            s0 = np.tanh(W["bridge.weight"] @ memory.mean(axis=0) + W["bridge.bias"])
            hs = [s0.copy() for _ in range(L)]
            cs = [np.zeros(Hd) for _ in range(L)]
        if self.dcell == "gru":
            cs = [None] * L
        return memory, (hs, cs)

    def attend(self, q, memory, cov=None, t=1):
        """-> (alpha (n,), context). Sections 4, 9.1, 9.2, 9.3."""
        W = self.W
        if self.att == "multihead":
            return self.multihead(q, memory)
        if self.att == "bahdanau":
            wq = W["decoder.attention.Wa.weight"] @ q + W["decoder.attention.Wa.bias"]
            uh = memory @ W["decoder.attention.Ua.weight"].T + W["decoder.attention.Ua.bias"]
            pre = wq + uh
            if self.coverage:  # e_j = Va(tanh(Wa q + Ua h_j + Wc cov_j))
                pre = pre + np.outer(cov, W["decoder.attention.Wc.weight"][:, 0])
            e = np.tanh(pre) @ W["decoder.attention.Va.weight"][0] + W["decoder.attention.Va.bias"][0]
        elif self.att == "general":
            e = (memory @ W["decoder.attention.Wa.weight"].T) @ q
        else:
            e = memory @ q
            if self.att == "scaled_dot":
                e = e / math.sqrt(self.Hd)
        n = len(e)
        if self.window:
            if self.local == "monotonic":
                p = float(min(t, n))
            else:
                z = W["decoder.attention.vp.weight"][0] @ np.tanh(W["decoder.attention.Wp.weight"] @ q)
                p = n / (1.0 + math.exp(-z))
            js = np.arange(1, n + 1, dtype=np.float64)
            inside = np.abs(js - p) <= self.window
            a = np.zeros(n)
            ew = e[inside] - e[inside].max()
            a[inside] = np.exp(ew) / np.exp(ew).sum()
            if self.local == "predictive":
                sigma = self.window / 2.0
                a = a * np.exp(-(js - p) ** 2 / (2 * sigma * sigma))
            return a, a @ memory
        e = e - e.max()
        a = np.exp(e) / np.exp(e).sum()
        return a, a @ memory

    def multihead(self, q, memory):
        """torch.nn.MultiheadAttention's formulas for one query: per-head
        softmax(Q_i K_i^T / sqrt(d)) V_i, out_proj of the concatenation, and
        the weights averaged over the heads."""
        W = self.W
        H, k = self.Hd, self.heads
        d = H // k
        pre = "decoder.attention.mha."
        if pre + "in_proj_weight" in W:
            Wq, Wk, Wv = np.split(W[pre + "in_proj_weight"], 3)
        else:
            Wq, Wk, Wv = W[pre + "q_proj_weight"], W[pre + "k_proj_weight"], W[pre + "v_proj_weight"]
        bq, bk, bv = np.split(W[pre + "in_proj_bias"], 3)
        Q = Wq @ q + bq
        K = memory @ Wk.T + bk
        Vv = memory @ Wv.T + bv
        heads, avg = [], np.zeros(len(memory))
        for i in range(k):
            sl = slice(i * d, (i + 1) * d)
            e = K[:, sl] @ Q[sl] / math.sqrt(d)
            e = e - e.max()
            a = np.exp(e) / np.exp(e).sum()
            heads.append(a @ Vv[:, sl])
            avg += a / k
        ctx = W[pre + "out_proj.weight"] @ np.concatenate(heads) + W[pre + "out_proj.bias"]
        return avg, ctx

    def rnn(self, x, state):
        hs, cs = state
        hs, cs = list(hs), list(cs)
        for layer in range(self.dlayers):
            hs[layer], cs[layer] = self.cell(self.dcell, "decoder.rnn", str(layer), x, hs[layer], cs[layer])
            x = hs[layer]
        return (hs, cs)

    def copy_ids(self, pieces):
        """Section 9.4: (m_j per source position, extended pieces)."""
        m, ext = [], []
        for j, piece in enumerate(pieces):
            if self.append_eos and j == len(pieces) - 1:
                m.append(self.eos)
            elif piece in self.tv:
                m.append(self.tv[piece])
            else:
                if piece not in ext:
                    ext.append(piece)
                m.append(self.V + ext.index(piece))
        return m, ext

    def step(self, y, state, feed, memory, cov=None, t=1, cmap=None):
        """-> (log p over the target (extended) vocabulary, alpha, state, feed)."""
        W = self.W
        if self.copy and y >= self.V:
            y = self.unk  # an extended id is fed back as unk
        emb = W["decoder.embedding.weight"][y]
        if self.pos == "before_rnn":
            a, ctx = self.attend(state[0][-1], memory, cov, t)
            state = self.rnn(np.concatenate([emb, ctx]), state)
            o = state[0][-1]
        else:
            state = self.rnn(np.concatenate([emb, feed]) if self.feed else emb, state)
            q = state[0][-1]
            a, ctx = self.attend(q, memory, cov, t)
            z = W["decoder.attention_out.weight"] @ np.concatenate([ctx, q])
            if "decoder.attention_out.bias" in W:
                z = z + W["decoder.attention_out.bias"]
            o = np.tanh(z)
            feed = o
        logits = W["decoder.out.weight"] @ o + W["decoder.out.bias"]
        m = logits.max()
        if not self.copy:
            lp = logits - m - math.log(np.exp(logits - m).sum())
            return lp, a, state, feed
        g = W["decoder.copy_gate.weight"][0] @ np.concatenate([ctx, o, emb]) + W["decoder.copy_gate.bias"][0]
        p_gen = 1.0 / (1.0 + math.exp(-g))
        ids, width = cmap
        P = np.zeros(width)
        P[:self.V] = p_gen * np.exp(logits - m) / np.exp(logits - m).sum()
        for j, w in enumerate(ids):
            P[w] += (1.0 - p_gen) * a[j]
        with np.errstate(divide="ignore"):
            return np.log(P), a, state, feed


class Run:
    """One source: memory, initial state and the copy map of its pieces."""

    def __init__(self, m, src, pieces):
        self.m = m
        self.memory, self.state0 = m.encode(src)
        self.cmap = None
        self.extended = []
        if m.copy:
            ids, self.extended = m.copy_ids(pieces)
            self.cmap = (ids, m.V + len(self.extended))

    def start(self):
        n = len(self.memory)
        return dict(state=self.state0, feed=np.zeros(self.m.Hd), cov=np.zeros(n) if self.m.coverage else None)

    def step(self, y, st, t):
        lp, a, state, feed = self.m.step(y, st["state"], st["feed"], self.memory, st["cov"], t, self.cmap)
        cov = st["cov"] + a if st["cov"] is not None else None
        return lp, a, dict(state=state, feed=feed, cov=cov)


def block(lp, toks, N):
    """Section 9.5: -inf for each token completing an N-gram already in toks."""
    if N < 1 or len(toks) < N - 1:
        return lp
    lp = lp.copy()
    tail = toks[len(toks) - (N - 1):] if N > 1 else []
    for s in range(len(toks) - N + 1):
        if toks[s:s + N - 1] == tail:
            lp[toks[s + N - 1]] = -np.inf
    return lp


def cov_penalty(rows, beta):
    acc = np.sum(np.array(rows), axis=0)
    with np.errstate(divide="ignore"):
        return beta * float(np.sum(np.log(np.minimum(1.0, acc))))


# ---- section 6 ------------------------------------------------------------

def greedy(m, src, steps, pieces=None):
    run = Run(m, src, pieces)
    st = run.start()
    y, toks, rows, score = m.sos, [], [], 0.0
    for t in range(1, steps + 1):
        lp, a, st = run.step(y, st, t)
        y = int(np.argmax(lp))  # first maximum = lower id on ties
        score += lp[y]
        rows.append(a)
        if y == m.eos:
            return toks, score, rows, True
        toks.append(y)
    return toks, score, rows, False


def force(m, src, tgt, pieces=None):
    run = Run(m, src, pieces)
    st = run.start()
    y, rows, lps = m.sos, [], []
    for t, tok in enumerate(list(tgt) + [m.eos], start=1):
        lp, a, st = run.step(y, st, t)
        lps.append(lp[tok])
        rows.append(a)
        y = tok
    return sum(lps), lps, rows


def beam(m, src, k, n_best, steps, alpha, pieces=None, no_repeat=0, beta=0.0, prefix=()):
    """Section 6 and 9.5: every live hypothesis extended by every token,
    candidates ranked by (score, earlier hypothesis, lower id); -inf never."""
    pen = lambda n: ((5.0 + n) / 6.0) ** alpha  # noqa: E731
    run = Run(m, src, pieces)
    live = [dict(toks=[], score=0.0, rows=[], st=run.start(), y=m.sos)]
    done = []
    for t in range(1, steps + 1):
        if t <= len(prefix):
            h = live[0]
            lp, a, st = run.step(h["y"], h["st"], t)
            v = prefix[t - 1]
            live = [dict(toks=h["toks"] + [v], score=h["score"] + lp[v], rows=h["rows"] + [a], st=st, y=v)]
            continue
        cands = []
        for b, h in enumerate(live):
            lp, a, st = run.step(h["y"], h["st"], t)
            if no_repeat:
                lp = block(lp, h["toks"], no_repeat)
            for v in range(len(lp)):
                if np.isfinite(lp[v]):
                    cands.append((h["score"] + lp[v], b, v, a, st))
        cands.sort(key=lambda c: (-c[0], c[1], c[2]))
        nxt = []
        for r, (s, b, v, a, st) in enumerate(cands):
            h = live[b]
            if v == m.eos:
                if r < k:
                    rows = h["rows"] + [a]
                    rank = s / pen(len(h["toks"]) + 1) + (cov_penalty(rows, beta) if beta else 0.0)
                    done.append(dict(toks=h["toks"], score=s, rows=rows, finished=True, rank=rank))
            elif len(nxt) < k:
                nxt.append(dict(toks=h["toks"] + [v], score=s, rows=h["rows"] + [a], st=st, y=v))
        live = nxt
        if not live:
            break
        if len(done) >= n_best:
            nth = sorted(d["rank"] for d in done)[::-1][n_best - 1]
            if not max(h["score"] for h in live) / pen(steps) > nth:
                live = []
                break
    fin = sorted(done, key=lambda d: -d["rank"])
    unf = sorted([dict(toks=h["toks"], score=h["score"], rows=h["rows"], finished=False,
                       rank=h["score"] / pen(len(h["toks"]))) for h in live], key=lambda d: -d["rank"])
    return (fin + unf)[:n_best]


# ---- the comparison --------------------------------------------------------

def close_rows(a, b, tol=1e-4):
    return len(a) == len(b) and all(len(x) == len(y) and np.max(np.abs(np.array(x) - np.array(y))) <= tol
                                    for x, y in zip(a, b))


def compare_beam(name, what, hyps, b):
    """The n-best list `hyps` of this file's search against expected group b."""
    want = b["hyps"]
    if b["ties"]:
        check(bool(hyps) and abs(hyps[0]["rank"] - want[0]["ranking_score"]) <= 1e-3,
              "%s %s (ties): best ranking score" % (name, what))
        return
    if b.get("order_ties"):  # equal ranking scores: order open, compare as sets
        hyps = sorted(hyps, key=lambda h: (h["toks"], h["finished"]))
        want = sorted(want, key=lambda w: (w["tokens"], w["finished"]))
    same = [h["toks"] for h in hyps] == [w["tokens"] for w in want] and \
        [h["finished"] for h in hyps] == [w["finished"] for w in want]
    check(same, "%s %s: %s, expected %s"
          % (name, what, [(h["toks"], h["finished"]) for h in hyps],
             [(w["tokens"], w["finished"]) for w in want]))
    if same:
        for h, w in zip(hyps, want):
            check(abs(h["score"] - w["score"]) <= 1e-3 and
                  abs(h["rank"] - w["ranking_score"]) <= 1e-3 and
                  close_rows(h["rows"], w["attention"]),
                  "%s %s hyp %s: score %.7g/%.7g ranking %.7g/%.7g"
                  % (name, what, h["toks"], h["score"], w["score"], h["rank"], w["ranking_score"]))


def check_fixture(d):
    name = os.path.basename(d)
    with open(os.path.join(d, "expected.json")) as f:
        exp = json.load(f)
    m = Model(d)
    check(exp["eos_id"] == m.eos and exp["sos_id"] == m.sos, "%s: sos/eos ids" % name)
    for ci, c in enumerate(exp["cases"]):
        src = c["source"]
        pieces = c.get("source_pieces")
        check(m.copy == (pieces is not None), "%s case %d: source pieces exactly for copy models" % (name, ci))
        if m.copy:
            check(Run(m, src, pieces).extended == c["extended"], "%s case %d: extended vocabulary %s vs %s"
                  % (name, ci, Run(m, src, pieces).extended, c["extended"]))
        steps = c["max_length"] or m.max_length or 2 * len(src) + 10
        check(steps == c["effective_max_length"], "%s case %d: max_length %d vs %d"
                  % (name, ci, steps, c["effective_max_length"]))
        g = c["greedy"]
        toks, score, rows, fin = greedy(m, src, steps, pieces)
        check(toks == g["tokens"] and fin == g["finished"],
                  "%s case %d greedy: %s (finished %s), expected %s (finished %s)"
                  % (name, ci, toks, fin, g["tokens"], g["finished"]))
        if toks == g["tokens"]:
            check(abs(score - g["score"]) <= 1e-3, "%s case %d greedy score %.7g vs %.7g"
                      % (name, ci, score, g["score"]))
            check(close_rows(rows, g["attention"]), "%s case %d greedy attention" % (name, ci))
        fe = c["force"]
        s, lps, rows = force(m, src, fe["target"], pieces)
        check(abs(s - fe["score"]) <= 1e-3 and
                  all(abs(a - b) <= 1e-3 for a, b in zip(lps, fe["token_logprobs"])),
                  "%s case %d forced score %.7g vs %.7g" % (name, ci, s, fe["score"]))
        check(close_rows(rows, fe["attention"]), "%s case %d forced attention" % (name, ci))
        for b in c["beam"]:
            hyps = beam(m, src, b["beam_size"], b["n_best"], steps, b["length_penalty"], pieces)
            compare_beam(name, "case %d beam lp %g" % (ci, b["length_penalty"]), hyps, b)
        for o in c.get("options", []):
            hyps = beam(m, src, o["beam_size"], o["n_best"], steps, o["length_penalty"], pieces,
                        o["no_repeat_ngram"], o["coverage_penalty"], o["prefix"])
            compare_beam(name, "case %d option %s" % (ci, o["name"]), hyps, o)
    ex = exp.get("exhaustive")
    if ex:
        import itertools
        words = [v for v in range(exp["target_vocab_size"]) if v != m.eos]
        best = max(((force(m, ex["source"], list(seq))[0], list(seq))
                    for n in range(ex["max_length"]) for seq in itertools.product(words, repeat=n)),
                   key=lambda t: t[0])
        check(best[1] == ex["best_tokens"] and abs(best[0] - ex["best_score"]) <= 1e-3,
                  "%s: exhaustive best %s %.7g, expected %s %.7g"
                  % (name, best[1], best[0], ex["best_tokens"], ex["best_score"]))


def main():
    dirs = sorted(glob.glob(os.path.join(H.FIXTURES, "models", "*", "expected.json")))
    check(len(dirs) >= 25, "only %d fixtures found under %s" % (len(dirs), H.ROOT))
    for p in dirs:
        check_fixture(os.path.dirname(p))
    print("%d fixtures checked against a numpy implementation of the model format" % len(dirs))
    H.finish()


if __name__ == "__main__":
    main()
