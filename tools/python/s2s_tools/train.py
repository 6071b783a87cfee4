"""Train a model of the s2s-rnn family (docs/model-format.md) from a TSV
of source<TAB>target pairs, and export it as a model directory.

    tools/train --train data.tsv --valid valid.tsv --out models/x --work work-tmp/x [options]

Training is batched teacher forcing with padding: the encoder runs on packed
sequences (so a bidirectional encoder sees exactly each sentence), attention is
masked over padding and the loss ignores padded target positions. For one
unpadded sentence, with dropout off, the log-probabilities are exactly those of
model-format.md section 4 (and section 9 for the format-version-2 options:
--copy, --coverage with its loss, --window/--local for local attention,
--attention multihead --heads). Checkpoints (WORK/last.pt, WORK/best.pt) use the project's
training checkpoint format and can be resumed with --resume. With --ema, an
exponential moving average of the weights is what is validated, kept as best
and exported (training goes on with the weights themselves). At the end the
best checkpoint is exported to --out with "license", "attribution",
"source_data", "training_command" and "scores" in config.json.
"""
import argparse
import collections
import contextlib
import json
import math
import os
import random
import shlex
import subprocess
import sys
import time


if __name__ == "__main__":
    # Run as a program (tools/train), OpenBLAS and OpenMP get --threads'
    # count (default 1) unless the environment sets theirs; see
    # s2s_tools.threads. Must run before torch is imported.
    from s2s_tools.threads import limit_native_threads, threads_from_argv
    limit_native_threads(threads_from_argv(sys.argv[1:]), override=False)

import torch  # noqa: E402  (after the thread variables)
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from . import metrics
from . import reference as ref
from . import tokenizer as tok

PAD, UNK, SOS, EOS = "<pad>", "<unk>", "<s>", "</s>"
SPECIALS = [PAD, UNK, SOS, EOS]


# --------------------------------------------------------------------------
# Model: module/parameter names are the model format's tensor names
# --------------------------------------------------------------------------

def _rnn(cell, inp, hidden, layers, bidirectional=False, dropout=0.0):
    cls = {"gru": nn.GRU, "lstm": nn.LSTM}[cell]
    return cls(inp, hidden, num_layers=layers, bidirectional=bidirectional,
               batch_first=True, dropout=dropout if layers > 1 else 0.0)


class Encoder(nn.Module):
    def __init__(self, c, vocab_size, dropout):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, c["embedding_size"])
        self.rnn = _rnn(c["cell"], c["embedding_size"], c["hidden_size"], c["num_layers"],
                        c["bidirectional"], dropout)


class Attention(ref.Attention):
    """The reference's attention parameters (same names), applied to a whole
    padded batch of query steps at once. Version 2 (model-format.md section
    9): coverage (section 9.1, one step at a time), local-m / local-p
    windows over each sentence's own length (9.2), torch.nn.MultiheadAttention
    with a key padding mask (9.3)."""

    def __init__(self, typ, Hd, D, A, coverage=False, window=None, local=None, predictor_size=None,
                 heads=None):
        if typ not in ("bahdanau", "general", "dot", "scaled_dot", "multihead"):
            raise ValueError("unknown attention type %r" % typ)
        if coverage and typ != "bahdanau":
            raise ValueError("coverage needs bahdanau attention")
        # section 9.1: e_j = Va(tanh(Wa q + Ua h_j + Wc cov_j)), Wc made by the reference
        super().__init__(typ, Hd, D, A, coverage=coverage, window=window, local=local,
                         predictor_size=predictor_size, heads=heads)

    def keys(self, mem):
        if self.kind == "bahdanau":
            return self.Ua(mem)
        if self.kind == "general":
            return self.Wa(mem)
        return mem

    def forward(self, q, mem, keys, mask, cov=None, t0=1):
        """q (B, T, Hd) the queries of steps t0, t0 + 1, ..., mem (B, n, D),
        mask (B, n) True where real, cov (B, n) the coverage before this step
        (coverage models, T == 1). Returns context (B, T, C) and weights
        (B, T, n), 0 on padding."""
        if self.kind == "multihead":
            return self.mha(q, mem, mem, key_padding_mask=~mask, need_weights=True,
                            average_attn_weights=True)
        if self.kind == "bahdanau":
            k = keys.unsqueeze(1)
            if cov is not None:
                k = k + self.Wc(cov.unsqueeze(-1)).unsqueeze(1)
            e = self.Va(torch.tanh(self.Wa(q).unsqueeze(2) + k)).squeeze(-1)
        else:
            e = torch.bmm(q, keys.transpose(1, 2))
            if self.kind == "scaled_dot":
                e = e / math.sqrt(self.query_size)
        e = e.masked_fill(~mask.unsqueeze(1), float("-inf"))
        if self.window:
            alpha = self.local_batch(e, q, mask, t0)
        else:
            alpha = torch.softmax(e, dim=-1)
        return torch.bmm(alpha, mem), alpha

    def local_batch(self, e, q, mask, t0):
        """Section 9.2 for a padded batch: each sentence's own n in p_t and
        in the window; e (B, T, n) already -inf on padding."""
        B, T, n = e.shape
        lens = mask.sum(1).to(torch.float32)                                  # (B,)
        if self.local == "monotonic":
            t = torch.arange(t0, t0 + T, dtype=torch.float32)
            p = torch.minimum(t.unsqueeze(0), lens.unsqueeze(1))              # (B, T)
        else:
            p = lens.unsqueeze(1) * torch.sigmoid(self.vp(torch.tanh(self.Wp(q)))).squeeze(-1)
        j = torch.arange(1, n + 1, dtype=torch.float32)
        d = j.view(1, 1, n) - p.unsqueeze(-1)                                 # (B, T, n)
        inside = (d.abs() <= float(self.window)) & mask.unsqueeze(1)
        a = torch.softmax(e.masked_fill(~inside, float("-inf")), dim=-1)
        if self.local == "predictive":
            sigma = self.window / 2.0
            a = a * torch.exp(-(d * d) / (2.0 * sigma * sigma))
        return a


class Decoder(nn.Module):
    def __init__(self, c, D, vocab_size, dropout):
        super().__init__()
        Hd, emb = c["hidden_size"], c["embedding_size"]
        att = c["attention"]
        feat = ref.features({"decoder": c})
        self.position = att["position"]
        self.input_feeding = c["input_feeding"]
        self.cell = c["cell"]
        self.embedding = nn.Embedding(vocab_size, emb)
        self.coverage = feat["coverage"]
        self.attention = Attention(att["type"], Hd, D, att["size"], self.coverage, window=feat["window"],
                                   local=feat["local"], predictor_size=feat["predictor_size"],
                                   heads=feat["heads"])
        C = self.attention.context_size(D)  # D, or H_d for multihead (section 9.3)
        if self.position == "before_rnn":
            rin = emb + C
        else:
            rin = emb + (Hd if self.input_feeding else 0)
        self.rnn = _rnn(c["cell"], rin, Hd, c["num_layers"], False, dropout)
        if self.position == "after_rnn":
            self.attention_out = nn.Linear(C + Hd, Hd)
        self.out = nn.Linear(Hd, vocab_size)
        self.copy = bool(c.get("copy"))
        if self.copy:  # section 9.4: p_gen = sigmoid(copy_gate([c ; o ; E[y]]))
            self.copy_gate = nn.Linear(C + Hd + emb, 1)
        self.Hd = Hd
        self.V = vocab_size


class Seq2SeqTrain(nn.Module):
    """Batched implementation of model-format.md section 4 for training."""

    def __init__(self, cfg, src_vocab_size, tgt_vocab_size, dropout=0.0):
        super().__init__()
        e, d = cfg["encoder"], cfg["decoder"]
        self.cfg = cfg
        self.D = e["hidden_size"] * (2 if e["bidirectional"] else 1)
        self.bridge_type = cfg["bridge"]
        self.encoder = Encoder(e, src_vocab_size, dropout)
        self.decoder = Decoder(d, self.D, tgt_vocab_size, dropout)
        if self.bridge_type == "mean_tanh":
            self.bridge = nn.Linear(self.D, d["hidden_size"])
        elif self.bridge_type == "final":
            if (e["num_layers"] != d["num_layers"] or e["cell"] != d["cell"]
                    or d["hidden_size"] != self.D):
                raise ValueError("bridge 'final' needs equal layers and cells and "
                                 "decoder hidden_size == encoder output size")
        elif self.bridge_type != "zeros":
            raise ValueError("unknown bridge %r" % self.bridge_type)
        if d["attention"]["type"] in ("dot", "scaled_dot") and d["hidden_size"] != self.D:
            raise ValueError("%s attention needs decoder hidden_size (%d) == encoder output size (%d)"
                             % (d["attention"]["type"], d["hidden_size"], self.D))
        self.drop = nn.Dropout(dropout)
        self.Ld = d["num_layers"]

    # -- encoder and bridge ------------------------------------------------
    def encode(self, src, src_len):
        """src (B, n) padded ids, src_len (B,) lengths (eos included)."""
        enc = self.encoder
        emb = self.drop(enc.embedding(src))
        packed = pack_padded_sequence(emb, src_len.cpu(), batch_first=True, enforce_sorted=False)
        out, fin = enc.rnn(packed)
        mem, _ = pad_packed_sequence(out, batch_first=True, total_length=src.size(1))
        mask = torch.arange(src.size(1)).unsqueeze(0) < src_len.unsqueeze(1)
        B = src.size(0)
        Hd = self.decoder.Hd
        lstm = self.decoder.cell == "lstm"
        if self.bridge_type == "final":
            def merge(h):
                if enc.rnn.bidirectional:
                    L = h.size(0) // 2
                    h = h.view(L, 2, B, -1)
                    return torch.cat([h[:, 0], h[:, 1]], dim=-1).contiguous()
                return h
            state = (merge(fin[0]), merge(fin[1])) if lstm else merge(fin)
        elif self.bridge_type == "zeros":
            z = mem.new_zeros(self.Ld, B, Hd)
            state = (z, z.clone()) if lstm else z
        else:
            mean = (mem * mask.unsqueeze(-1)).sum(1) / src_len.unsqueeze(1).to(mem.dtype)
            s = torch.tanh(self.bridge(mean)).unsqueeze(0).expand(self.Ld, B, Hd).contiguous()
            state = (s, torch.zeros_like(s)) if lstm else s
        return mem, mask, state

    @staticmethod
    def _top(state):
        h = state[0] if isinstance(state, tuple) else state
        return h[-1]

    # -- one decoder step (used by the sequential paths) --------------------
    def step(self, y_prev, state, htilde, mem, keys, mask, cov=None, t=1):
        """y_prev (B,) ids (extended ids already mapped to unk) of step t
        (1-based, for local-m). Returns (logits (B, V), state, htilde, alpha
        (B, n), context (B, C), o (B, Hd), embedding (B, emb))."""
        dec = self.decoder
        emb = self.drop(dec.embedding(y_prev))
        if dec.position == "before_rnn":
            q = self._top(state).unsqueeze(1)
            c, alpha = dec.attention(q, mem, keys, mask, cov, t)
            out, state = dec.rnn(torch.cat([emb.unsqueeze(1), c], dim=-1), state)
            o = out[:, 0]
        else:
            inp = emb.unsqueeze(1)
            if dec.input_feeding:
                inp = torch.cat([inp, htilde.unsqueeze(1)], dim=-1)
            out, state = dec.rnn(inp, state)
            q = out
            c, alpha = dec.attention(q, mem, keys, mask, cov, t)
            htilde = torch.tanh(dec.attention_out(torch.cat([c, q], dim=-1)))[:, 0]
            o = htilde
        o = self.drop(o)
        return dec.out(o), state, htilde, alpha[:, 0], c[:, 0], o, emb

    def forward(self, src, src_len, tgt_in):
        """Teacher forcing. tgt_in (B, T): sos followed by the target (padded),
        extended ids mapped to unk. Returns logits (B, T, V_tgt) and, for copy
        and coverage models, a dict of the per-step attention (B, T, n),
        contexts, outputs and embeddings (for copy_log_probs and the coverage
        loss)."""
        mem, mask, state = self.encode(src, src_len)
        dec = self.decoder
        keys = dec.attention.keys(mem)
        if dec.position == "after_rnn" and not dec.input_feeding:
            return self._forward_rnn_first(tgt_in, state, mem, keys, mask)
        B, T = tgt_in.shape
        htilde = mem.new_zeros(B, dec.Hd)
        cov = mem.new_zeros(B, mem.size(1)) if dec.coverage else None
        logits, parts = [], {"alpha": [], "cov": [], "c": [], "o": [], "emb": []}
        for t in range(T):
            lg, state, htilde, alpha, c, o, emb = self.step(tgt_in[:, t], state, htilde, mem, keys, mask, cov,
                                                            t + 1)
            logits.append(lg)
            if dec.coverage:
                parts["cov"].append(cov)
                cov = cov + alpha
            for k, v in (("alpha", alpha), ("c", c), ("o", o), ("emb", emb)):
                parts[k].append(v)
        logits = torch.stack(logits, dim=1)
        if not (dec.copy or dec.coverage):
            return logits
        return logits, {k: torch.stack(v, dim=1) for k, v in parts.items() if v}

    def _forward_rnn_first(self, tgt_in, state, mem, keys, mask):
        """forward() when attention comes after the decoder RNN without input
        feeding: the RNN does not depend on attention, so it runs over the
        whole target in one call; attention then takes every step at once,
        or one step at a time for coverage (each step's coverage is the sum
        of the earlier steps' weights). Same results as the step loop."""
        dec = self.decoder
        emb = self.drop(dec.embedding(tgt_in))
        q, _ = dec.rnn(emb, state)                                     # (B, T, Hd)
        if dec.coverage:
            cov = mem.new_zeros(mem.size(0), mem.size(1))
            covs, cs, alphas = [], [], []
            for t in range(q.size(1)):
                c_t, a_t = dec.attention(q[:, t:t + 1], mem, keys, mask, cov, t + 1)
                covs.append(cov)
                cs.append(c_t)
                alphas.append(a_t)
                cov = cov + a_t[:, 0]
            c, alpha = torch.cat(cs, dim=1), torch.cat(alphas, dim=1)
        else:
            c, alpha = dec.attention(q, mem, keys, mask)               # (B, T, C), (B, T, n)
        o = self.drop(torch.tanh(dec.attention_out(torch.cat([c, q], dim=-1))))
        logits = dec.out(o)
        if not (dec.copy or dec.coverage):
            return logits
        parts = {"alpha": alpha, "c": c, "o": o, "emb": emb}
        if dec.coverage:
            parts["cov"] = torch.stack(covs, dim=1)
        return logits, parts

    def copy_log_probs(self, logits, parts, src_copy, n_ext):
        """Section 9.4 over a batch: log P (B, T, V + n_ext) with
        P = p_gen softmax(logits) + (1 - p_gen) alpha scattered onto the
        source positions' extended-vocabulary ids src_copy (B, n)."""
        dec = self.decoder
        gate = torch.sigmoid(dec.copy_gate(torch.cat([parts["c"], parts["o"], parts["emb"]], dim=-1)))
        B, T, V = logits.shape
        p = torch.softmax(logits, dim=-1) * gate
        p = torch.cat([p, p.new_zeros(B, T, n_ext)], dim=-1)
        idx = src_copy.unsqueeze(1).expand(B, T, src_copy.size(1))
        p = p.scatter_add(2, idx, (1.0 - gate) * parts["alpha"])
        return torch.log(p.clamp_min(1e-30))

    def batch_log_probs(self, batch):
        """Log-probabilities (B, T, V or V + n_ext) of a collated batch under
        teacher forcing: log_softmax of the logits, or a copy model's log P
        of section 9.4 (probability 0 clamped to 1e-30)."""
        out = self(*batch[:3])
        logits, parts = out if isinstance(out, tuple) else (out, None)
        if not self.decoder.copy:
            return torch.log_softmax(logits, dim=-1)
        return self.copy_log_probs(logits, parts, batch[4], max(0, batch[5] + 1 - logits.size(-1)))

    @torch.no_grad()
    def greedy(self, src, src_len, sos, eos, max_len=None, src_copy=None, n_ext=0, unk=0):
        """Batched greedy decoding. Returns a list of id lists (eos excluded);
        a copy model's ids may be extended ids (>= V), fed back as unk."""
        mem, mask, state = self.encode(src, src_len)
        dec = self.decoder
        keys = dec.attention.keys(mem)
        B = src.size(0)
        limit = (2 * src_len + 10) if max_len is None else torch.full((B,), max_len)
        y = torch.full((B,), sos, dtype=torch.long)
        htilde = mem.new_zeros(B, dec.Hd)
        cov = mem.new_zeros(B, mem.size(1)) if dec.coverage else None
        done = torch.zeros(B, dtype=torch.bool)
        outs = [[] for _ in range(B)]
        for t in range(int(limit.max())):
            y_in = torch.where(y >= dec.V, torch.full_like(y, unk), y)
            lg, state, htilde, alpha, c, o, emb = self.step(y_in, state, htilde, mem, keys, mask, cov, t + 1)
            if dec.copy:
                parts = {"c": c.unsqueeze(1), "o": o.unsqueeze(1), "emb": emb.unsqueeze(1),
                         "alpha": alpha.unsqueeze(1)}
                lg = self.copy_log_probs(lg.unsqueeze(1), parts, src_copy, n_ext)[:, 0]
            if cov is not None:
                cov = cov + alpha
            y = lg.argmax(-1)
            for b in range(B):
                if done[b]:
                    continue
                if int(y[b]) == eos:
                    done[b] = True
                else:
                    outs[b].append(int(y[b]))
                    if t + 1 >= int(limit[b]):
                        done[b] = True
            if bool(done.all()):
                break
        return outs


# --------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------

def read_tsv(path, src_col, tgt_col, limit=None):
    pairs = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            cols = line.rstrip("\n").split("\t")
            if len(cols) <= max(src_col, tgt_col):
                continue
            s, t = cols[src_col].strip(), cols[tgt_col].strip()
            if s and t:
                pairs.append((s, t))
            if limit and len(pairs) >= limit:
                break
    return pairs


def whole_name_counts(texts, tk):
    """How often each capitalized word unit occurs in `texts` under the
    tokenizer `tk`: the tokens whole_names keeps whole (a word unit kept
    whole never carries a joiner mark)."""
    cnt = collections.Counter()
    for text in texts:
        for kind, v, _ in tk.units(text):
            if kind == "w" and tok.is_capitalized(v):
                cnt[v] += 1
    return cnt


def build_vocab(seqs, max_size, min_freq, names=None, names_min_freq=0):
    """Specials, then the tokens of `seqs` seen at least `min_freq` times,
    most frequent first. With `names` (whole_name_counts), a token is also
    a whole capitalized word that many times: it is kept when its other
    occurrences (as a BPE piece) reach `min_freq` or when it is seen whole
    at least `names_min_freq` times."""
    cnt = collections.Counter(t for s in seqs for t in s)
    for sp in SPECIALS:
        cnt.pop(sp, None)
    names = names or {}
    items = sorted(cnt.items(), key=lambda kv: (-kv[1], kv[0]))
    items = [k for k, v in items
             if v - names.get(k, 0) >= min_freq or names.get(k, 0) >= max(names_min_freq, 1)]
    if max_size:
        items = items[:max(0, max_size - len(SPECIALS))]
    vocab = {t: i for i, t in enumerate(SPECIALS)}
    for t in items:
        vocab[t] = len(vocab)
    return vocab


def encode_ids(tokens, vocab):
    unk = vocab[UNK]
    return [vocab.get(t, unk) for t in tokens]


def make_batches(lengths, batch_size, rng, max_tokens=None):
    """Length-bucketed batches: shuffle, sort chunks of 50 batches by length."""
    idx = list(range(len(lengths)))
    rng.shuffle(idx)
    chunk = batch_size * 50
    batches = []
    for i in range(0, len(idx), chunk):
        part = sorted(idx[i:i + chunk], key=lambda j: lengths[j])
        for k in range(0, len(part), batch_size):
            batches.append(part[k:k + batch_size])
    rng.shuffle(batches)
    return batches


def collate(examples, eos_src, sos_tgt, eos_tgt, unk_out=None):
    """examples: list of (src_ids, tgt_ids) or, for a copy model, (src_ids,
    tgt_ids, src_copy, tgt_ext) (see copy_fields). Returns tensors (src,
    src_len, tgt_in, tgt_out) with padding id 0 and target padding -100, and
    for a copy model also (src_copy (B, n), n_ext): tgt_out then holds
    extended ids while tgt_in keeps unk for them. unk_out: the target unk id
    to leave out of the loss (tgt_out -100 there; tgt_in unchanged), or None
    to train unk as a target like any other."""
    B = len(examples)
    srcs = [e[0] + [eos_src] for e in examples]
    n = max(len(s) for s in srcs)
    T = max(len(e[1]) for e in examples) + 1
    src = torch.zeros(B, n, dtype=torch.long)
    tgt_in = torch.zeros(B, T, dtype=torch.long)
    tgt_out = torch.full((B, T), -100, dtype=torch.long)
    copy = len(examples[0]) == 4
    src_copy = torch.zeros(B, n, dtype=torch.long) if copy else None
    for b, (s, e) in enumerate(zip(srcs, examples)):
        t = e[1]
        src[b, :len(s)] = torch.tensor(s)
        tgt_in[b, :len(t) + 1] = torch.tensor([sos_tgt] + t)
        tgt_out[b, :len(t) + 1] = torch.tensor((e[3] if copy else t) + [eos_tgt])
        if copy:
            src_copy[b, :len(s)] = torch.tensor(e[2] + [eos_tgt])
    if unk_out is not None:
        tgt_out[tgt_out == unk_out] = -100
    src_len = torch.tensor([len(s) for s in srcs])
    if copy:  # room for the largest extended id of the batch
        n_ext = max(max(e[2] + e[3] + [0]) for e in examples)
        return src, src_len, tgt_in, tgt_out, src_copy, n_ext
    return src, src_len, tgt_in, tgt_out


def copy_fields(src_pieces, tgt_pieces, tgt_vocab):
    """The extended vocabulary of one pair (section 9.4): src_copy[j] is the
    target id of source piece j, or V + e for the e-th distinct piece the
    target vocabulary lacks; tgt_ext is the target's ids with such pieces
    given their extended id (other unknown pieces stay unk)."""
    V, unk = len(tgt_vocab), tgt_vocab[UNK]
    ext = {}
    src_copy = []
    for pc in src_pieces:
        i = tgt_vocab.get(pc)
        if i is None:
            i = ext.setdefault(pc, V + len(ext))
        src_copy.append(i)
    tgt_ext = [tgt_vocab.get(pc, ext.get(pc, unk)) for pc in tgt_pieces]
    return src_copy, tgt_ext


# --------------------------------------------------------------------------
# Config
# --------------------------------------------------------------------------

def build_config(a):
    enc = {"cell": a.cell, "embedding_size": a.emb, "hidden_size": a.enc_hidden or a.hidden,
           "num_layers": a.layers, "bidirectional": a.bidirectional, "append_eos": True}
    D = enc["hidden_size"] * (2 if a.bidirectional else 1)
    Hd = a.dec_hidden or (D if a.bridge == "final" else a.hidden)
    dec = {"cell": a.cell, "embedding_size": a.emb, "hidden_size": Hd,
           "num_layers": a.dec_layers or a.layers,
           "attention": {"type": a.attention, "position": a.attention_position,
                         "size": a.attention_size or Hd},
           "input_feeding": a.input_feeding}
    if a.coverage:
        dec["attention"]["coverage"] = True
    if a.copy:
        dec["copy"] = True
    if a.window:  # section 9.2
        dec["attention"]["window"] = a.window
        dec["attention"]["local"] = a.local
        if a.local == "predictive" and a.predictor_size:
            dec["attention"]["predictor_size"] = a.predictor_size
    if a.attention == "multihead":  # section 9.3
        dec["attention"]["heads"] = a.heads
    tok_cfg = {"normalizer": a.normalizer, "level": a.level}
    if a.lowercase:
        tok_cfg["lowercase"] = True
    if a.level == "bpe":
        tok_cfg["merges"] = "merges.txt"
        if a.whole_numbers:
            tok_cfg["whole_numbers"] = True
        if a.whole_names:
            tok_cfg["whole_names"] = True
    version2 = a.copy or a.coverage or a.window or a.attention == "multihead"
    cfg = {"format": "s2s-rnn", "format_version": 2 if version2 else 1, "task": a.task}
    if a.source_language:
        cfg["source_language"] = a.source_language
    if a.target_language:
        cfg["target_language"] = a.target_language
    cfg.update({
        "weights": "model.safetensors",
        "source_vocab": "source.vocab.json", "target_vocab": "target.vocab.json",
        "special_tokens": {"sos": SOS, "eos": EOS, "unk": UNK, "pad": PAD},
        "encoder": enc, "bridge": a.bridge, "decoder": dec, "tokenizer": tok_cfg,
    })
    if a.max_length:
        cfg["decoding"] = {"max_length": a.max_length}
    return cfg


def make_tokenizer(tok_cfg, cfg, work):
    return tok.Tokenizer(tok_cfg, work)


def prepare_data(a, cfg, work, log):
    """Tokenize (learning BPE if asked) and build vocabularies; cached in WORK."""
    cache = os.path.join(work, "data.pt")
    if os.path.exists(cache):
        d = torch.load(cache)
        if d.get("tokenizer") == cfg["tokenizer"] and d.get("key") == data_key(a, cfg["tokenizer"]):
            log("using cached tokenized data %s" % cache)
            return d
    train = read_tsv(a.train, a.src_col, a.tgt_col, a.limit)
    valid = read_tsv(a.valid, a.src_col, a.tgt_col) if a.valid else []
    if not valid:
        rng = random.Random(a.seed)
        idx = list(range(len(train)))
        rng.shuffle(idx)
        nv = min(a.valid_size, len(train) // 10)
        vset = set(idx[:nv])
        valid = [train[i] for i in sorted(vset)]
        train = [p for i, p in enumerate(train) if i not in vset]
    if a.valid_size and len(valid) > a.valid_size:
        valid = valid[:a.valid_size]
    log("pairs: %d train, %d valid" % (len(train), len(valid)))
    tok_cfg = cfg["tokenizer"]
    extra = {}
    if a.init_from:  # the tokenizer and vocabularies of the model we continue from
        if a.level == "bpe":
            with open(os.path.join(a.init_from, tok_cfg.get("merges", "merges.txt")), encoding="utf-8") as f:
                extra["merges.txt"] = f.read()
            with open(os.path.join(work, "merges.txt"), "w", encoding="utf-8") as f:
                f.write(extra["merges.txt"])
    elif a.level == "bpe":
        t0 = time.time()
        texts = [s for s, _ in train] + [t for _, t in train]
        merges = tok.learn_bpe(texts, tok_cfg, a.bpe_merges)
        tok.write_merges(os.path.join(work, "merges.txt"), merges)
        with open(os.path.join(work, "merges.txt"), encoding="utf-8") as f:
            extra["merges.txt"] = f.read()
        log("learned %d BPE merges in %.0fs" % (len(merges), time.time() - t0))
    tk = make_tokenizer(tok_cfg, cfg, work)
    t0 = time.time()
    tr_s = [tk.split(s) for s, _ in train]
    tr_t = [tk.split(t) for _, t in train]
    va_s = [tk.split(s) for s, _ in valid]
    va_t = [tk.split(t) for _, t in valid]
    log("tokenized in %.0fs" % (time.time() - t0))
    # whole_names: how often each side's capitalized words occur whole
    src_names, tgt_names = ((whole_name_counts([s for s, _ in train], tk), whole_name_counts([t for _, t in train], tk))
                            if tok_cfg.get("whole_names") else (None, None))
    grown = {}
    if a.init_from:
        src_vocab, tgt_vocab = init_vocabs(a.init_from)
        if src_names is not None:  # capitalized words it lacks as one token
            grown = {"source": grow_vocab(src_vocab, src_names, a.names_min_freq, tk),
                     "target": grow_vocab(tgt_vocab, tgt_names, a.names_min_freq, tk)}
            log("whole names: %d source and %d target words added to the vocabularies"
                % (len(grown["source"]), len(grown["target"])))
    else:
        src_vocab = build_vocab(tr_s, a.src_vocab_size, a.min_freq, src_names, a.names_min_freq)
        tgt_vocab = build_vocab(tr_t, a.tgt_vocab_size, a.min_freq, tgt_names, a.names_min_freq)
    keep = [i for i in range(len(tr_s))
            if 0 < len(tr_s[i]) <= a.max_src_tokens and 0 < len(tr_t[i]) <= a.max_tgt_tokens]
    d = {
        "key": data_key(a, tok_cfg), "tokenizer": tok_cfg, "extra_files": extra, "grown": grown,
        "source_vocab": src_vocab, "target_vocab": tgt_vocab,
        "train": [(encode_ids(tr_s[i], src_vocab), encode_ids(tr_t[i], tgt_vocab))
                  + (copy_fields(tr_s[i], tr_t[i], tgt_vocab) if a.copy else ()) for i in keep],
        "valid": [(encode_ids(s, src_vocab), encode_ids(t, tgt_vocab))
                  + (copy_fields(s, t, tgt_vocab) if a.copy else ())
                  for s, t in zip(va_s, va_t) if s and t],
        "valid_text": [(s, t) for (s, t), ss, tt in zip(valid, va_s, va_t) if ss and tt],
    }
    log("vocab: %d source, %d target; %d train pairs kept (of %d)"
        % (len(src_vocab), len(tgt_vocab), len(keep), len(tr_s)))
    torch.save(d, cache)
    return d


def _file_stamp(path):
    """(size, mtime) of a data file, so that a cache made from an older file
    of the same name is not reused."""
    try:
        st = os.stat(path)
        return [st.st_size, int(st.st_mtime)]
    except (OSError, TypeError):
        return None


def data_key(a, tok_cfg):
    return [a.train, _file_stamp(a.train), a.valid, _file_stamp(a.valid), a.src_col, a.tgt_col, a.limit, a.bpe_merges, a.src_vocab_size,
            a.tgt_vocab_size, a.min_freq, a.max_src_tokens, a.max_tgt_tokens, a.valid_size,
            a.seed, a.copy, a.init_from, a.names_min_freq if tok_cfg.get("whole_names") else None]


PROVENANCE = ("license", "attribution", "source_data", "training_command", "scores")


def init_config(model_dir, a):
    """The config of an exported model directory (provenance dropped: the new
    run records its own) and the minutes of training it already had; the
    options that follow from it (level, copy, coverage, task) are set on `a`."""
    with open(os.path.join(model_dir, "config.json"), encoding="utf-8") as f:
        c = json.load(f)
    prior = c.get("scores", {}) or {}
    minutes = float(prior.get("minutes_total", prior.get("minutes", 0.0)) or 0.0)
    c = {k: v for k, v in c.items() if k not in PROVENANCE}
    att = c["decoder"].setdefault("attention", {})
    a.level = c["tokenizer"].get("level", "word")
    for key in ("whole_numbers", "whole_names"):
        if getattr(a, key, False):
            if a.level != "bpe":
                raise SystemExit("train: --%s needs level bpe (%s is level %s)"
                                 % (key.replace("_", "-"), model_dir, a.level))
            c["tokenizer"][key] = True
    # --copy / --coverage may add the feature to a model that lacks it (its
    # new parameters start fresh); the rest of the architecture is kept
    a.copy = a.copy or bool(c["decoder"].get("copy"))
    a.coverage = a.coverage or bool(att.get("coverage"))
    if a.copy:
        c["decoder"]["copy"] = True
    if a.coverage:
        att["coverage"] = True
    if a.copy or a.coverage:
        c["format_version"] = 2
    a.task = c.get("task", a.task)
    return c, minutes


def grow_vocab(vocab, names, min_freq, tk):
    """Appends to `vocab` (in place) the capitalized words of `names`
    (whole_name_counts) seen at least `min_freq` times that it lacks, most
    frequent first. Returns [(id, [ids of the pieces the merges split the
    word into])], the pieces looked up in the vocabulary as it was, for
    initialising the new rows."""
    before = dict(vocab)
    unk = vocab[UNK]
    out = []
    for word, n in sorted(names.items(), key=lambda kv: (-kv[1], kv[0])):
        if n < min_freq:
            break
        if word in vocab:
            continue
        pieces = tok.bpe_encode(word, tk.ranks)
        vocab[word] = len(vocab)
        out.append((vocab[word], [before.get(pc if j == 0 else tok.JOINER + pc, unk) for j, pc in enumerate(pieces)]))
    return out


def init_grown_rows(tensors, grown):
    """Extends the vocabulary-sized tensors of a continued model to the grown
    vocabularies: a new word's embedding is the mean of its pieces'
    embeddings, its output row and bias are those of its first piece."""
    for side, names in (("source", ("encoder.embedding.weight",)),
                        ("target", ("decoder.embedding.weight", "decoder.out.weight", "decoder.out.bias"))):
        rows = grown.get(side) or []
        if not rows:
            continue
        for name in names:
            old = tensors[name]
            new = [old]
            for _, pieces in rows:
                ids = torch.tensor(pieces)
                new.append((old[ids].mean(0) if name.endswith("embedding.weight") else old[ids[0]]).unsqueeze(0))
            tensors[name] = torch.cat(new, 0)
    return tensors


def init_vocabs(model_dir):
    """The source and target vocabularies of an exported model directory."""
    with open(os.path.join(model_dir, "config.json"), encoding="utf-8") as f:
        c = json.load(f)
    out = []
    for key in ("source_vocab", "target_vocab"):
        with open(os.path.join(model_dir, c.get(key, key.replace("_", ".") + ".json")), encoding="utf-8") as f:
            out.append(json.load(f))
    return out


# --------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------

class Progress:
    def __init__(self, total, desc):
        self.total, self.desc, self.t0 = total, desc, time.time()
        self.tty = sys.stderr.isatty()
        self.last = 0.0

    def update(self, i, msg):
        now = time.time()
        if i < self.total and now - self.last < (0.5 if self.tty else 30):
            return
        self.last = now
        w = 30
        fill = int(w * i / max(1, self.total))
        line = "%s [%s%s] %d/%d %s %.0fs" % (self.desc, "#" * fill, "." * (w - fill), i,
                                            self.total, msg, now - self.t0)
        if self.tty:
            sys.stderr.write("\r" + line + ("\n" if i >= self.total else ""))
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()


def loss_fn(logits, tgt_out, smoothing=0.0):
    V = logits.size(-1)
    return F.cross_entropy(logits.reshape(-1, V), tgt_out.reshape(-1), ignore_index=-100,
                           reduction="sum", label_smoothing=smoothing)


def batch_loss(model, batch, smoothing=0.0, coverage_weight=0.0):
    """Summed loss of one collated batch: cross-entropy (over the extended
    vocabulary for a copy model, as the negative log of section 9.4's
    mixture), plus coverage_weight x the coverage loss of See et al. 2017,
    sum_t sum_j min(alpha_tj, cov_tj), for coverage models. Label smoothing
    eps gives (1 - eps) x that negative log plus eps x the mean negative log
    over the fixed target vocabulary, as PyTorch's cross_entropy does over its
    classes; for a copy model it applies to the mixture (extended ids, which
    exist only in one line, are not among the smoothed classes)."""
    src, src_len, tgt_in, tgt_out = batch[:4]
    out = model(src, src_len, tgt_in)
    if not isinstance(out, tuple):
        return loss_fn(out, tgt_out, smoothing)
    logits, parts = out
    valid = tgt_out != -100
    if model.decoder.copy:
        V = logits.size(-1)
        logp = model.copy_log_probs(logits, parts, batch[4], max(0, batch[5] + 1 - V))
        nll = -logp.gather(2, tgt_out.clamp_min(0).unsqueeze(-1)).squeeze(-1)
        if smoothing:
            nll = (1.0 - smoothing) * nll - smoothing * logp[..., :V].mean(-1)
        loss = (nll * valid).sum()
    else:
        loss = loss_fn(logits, tgt_out, smoothing)
    if coverage_weight and "cov" in parts:
        cov_loss = torch.minimum(parts["alpha"], parts["cov"]).sum(-1)
        loss = loss + coverage_weight * (cov_loss * valid).sum()
    return loss


@torch.no_grad()
def evaluate_loss(model, data, batch_size, ids):
    model.eval()
    tot, n = 0.0, 0
    order = sorted(range(len(data)), key=lambda i: len(data[i][0]))
    for k in range(0, len(order), batch_size):
        ex = [data[i] for i in order[k:k + batch_size]]
        batch = collate(ex, *ids)
        tot += float(batch_loss(model, batch))
        n += int((batch[3] != -100).sum())
    model.train()
    return tot / max(1, n)


@torch.no_grad()
def greedy_texts(model, srcs, tk, src_vocab, tgt_vocab, batch_size, max_len=None):
    """srcs: list of source texts -> list of detokenized hypotheses."""
    model.eval()
    inv = {i: t for t, i in tgt_vocab.items()}
    eos_s, sos_t, eos_t = src_vocab[EOS], tgt_vocab[SOS], tgt_vocab[EOS]
    pieces = [tk.split(s) for s in srcs]
    toks = [encode_ids(p, src_vocab) for p in pieces]
    order = sorted(range(len(toks)), key=lambda i: len(toks[i]))
    out = [None] * len(toks)
    copy = model.decoder.copy
    for k in range(0, len(order), batch_size):
        idx = order[k:k + batch_size]
        ex = [(toks[i], [0]) + (copy_fields(pieces[i], [], tgt_vocab) if copy else ()) for i in idx]
        batch = collate(ex, eos_s, sos_t, eos_t)
        V = len(tgt_vocab)
        kw = {}
        if copy:
            kw = {"src_copy": batch[4], "n_ext": max(0, batch[5] + 1 - V), "unk": tgt_vocab[UNK]}
        hyps = model.greedy(batch[0], batch[1], sos_t, eos_t, max_len, **kw)
        for i, h in zip(idx, hyps):
            spell = {}
            if copy:  # extended ids spell their source piece
                spell = {c: p for c, p in zip(copy_fields(pieces[i], [], tgt_vocab)[0], pieces[i]) if c >= V}
            out[i] = tk.join([inv[j] if j < V else spell.get(j, UNK) for j in h])
    model.train()
    return out


def corpus_scores(hyps, refs, task):
    """BLEU/chrF (translation) or ROUGE F1 (summarization) via s2s_tools.metrics."""
    try:
        if task == "summarization":
            r = metrics.corpus_rouge(hyps, [refs])
            return {k: r.values[k][2] for k in r.KINDS}
        return {"bleu": metrics.corpus_bleu(hyps, [refs]).score,
                "chrf": metrics.corpus_chrf(hyps, [refs]).score}
    except Exception as ex:  # metrics are a convenience here, never fatal
        return {"metrics_error": str(ex)[:200]}


def exact_match(hyps, refs):
    return sum(h == r for h, r in zip(hyps, refs)) / max(1, len(refs))


@contextlib.contextmanager
def averaged_weights(params, average):
    """Inside the block the parameters `params` hold `average` (a list of
    tensors of the same shapes; None: nothing changes); after it, their own
    values again."""
    if average is None:
        yield
        return
    live = [p.detach().clone() for p in params]
    with torch.no_grad():
        for p, v in zip(params, average):
            p.copy_(v)
    try:
        yield
    finally:
        with torch.no_grad():
            for p, v in zip(params, live):
                p.copy_(v)


def save_ckpt(path, cfg, model, data, extra):
    d = {"format": "s2s-train-checkpoint", "config": cfg,
         "state_dict": {k: v.detach().clone() for k, v in model.state_dict().items()},
         "source_vocab": data["source_vocab"], "target_vocab": data["target_vocab"],
         "extra_files": data["extra_files"]}
    d.update(extra)
    tmp = path + ".tmp"
    torch.save(d, tmp)
    os.replace(tmp, path)


def export(a, cfg, ckpt_path, log):
    """Adds provenance and scores to the best checkpoint's config and writes
    the model directory with tools/export (which re-loads and verifies it)."""
    ck = torch.load(ckpt_path)
    cfg = dict(ck["config"])
    cfg["license"] = a.license
    cfg["attribution"] = a.attribution
    cfg["source_data"] = a.source_data or a.train
    cfg["training_command"] = a.command
    cfg["scores"] = ck.get("scores", {})
    ck["config"] = cfg
    final = os.path.join(a.work, "export.pt")
    torch.save(ck, final)
    # a process of its own, as tools/export: the check runs on fresh modules
    pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ)
    env["PYTHONPATH"] = pkg_parent + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    r = subprocess.run([sys.executable, "-m", "s2s_tools.export", final, a.out, "--from", "train",
                        "--dtype", a.dtype], env=env)
    if r.returncode != 0:
        raise SystemExit("tools/export failed (status %d)" % r.returncode)
    log("exported %s to %s" % (ckpt_path, a.out))


def main(argv=None):
    ap = argparse.ArgumentParser(prog="train", description=__doc__.splitlines()[0])
    g = ap.add_argument_group("data")
    g.add_argument("--train", required=True, help="TSV of training pairs")
    g.add_argument("--valid", help="TSV of validation pairs (default: hold out --valid-size)")
    g.add_argument("--src-col", type=int, default=0)
    g.add_argument("--tgt-col", type=int, default=1)
    g.add_argument("--limit", type=int, help="use only the first N training pairs")
    g.add_argument("--valid-size", type=int, default=2000)
    g.add_argument("--max-src-tokens", type=int, default=100)
    g.add_argument("--max-tgt-tokens", type=int, default=100)
    g.add_argument("--test", help="TSV scored (greedy) with the best checkpoint at the end")
    g.add_argument("--test-src-col", type=int, default=0)
    g.add_argument("--test-tgt-col", type=int, default=1)
    g.add_argument("--test-name", help="name of the test data recorded in the scores")
    g = ap.add_argument_group("tokenizer")
    g.add_argument("--normalizer", default="none", choices=["none", "tutorial", "text"])
    g.add_argument("--lowercase", action="store_true")
    g.add_argument("--level", default="word", choices=["word", "char", "bpe"])
    g.add_argument("--bpe-merges", type=int, default=8000, help="joint BPE merges")
    g.add_argument("--whole-numbers", action="store_true",
                   help="level bpe: a word of the digits 0-9 alone stays one piece (for copy models: a number "
                        "the target vocabulary lacks is copied in one step; without --copy it cannot be produced). "
                        "Also adds the option to a bpe --init-from model, whose vocabularies are kept: a number "
                        "they lack becomes unk on the source side and is learned as a copy")
    g.add_argument("--whole-names", action="store_true",
                   help="level bpe: a capitalized word (upper- or title-case letter, then lowercase letters) "
                        "stays one piece, so a name the vocabulary lacks is copied in one step (with --copy). "
                        "Continuing a bpe --init-from model with whole_names (added by this option or already "
                        "there), the capitalized words seen at least --names-min-freq times and missing from "
                        "its vocabularies are added to them (new rows start from their pieces' rows)")
    g.add_argument("--names-min-freq", type=int, default=5,
                   help="with --whole-names: a capitalized word is in the vocabulary when seen this often; "
                        "a rarer one (mostly names) is unk on the source side and learned as a copy")
    g.add_argument("--src-vocab-size", type=int, default=0, help="0: no limit")
    g.add_argument("--tgt-vocab-size", type=int, default=0)
    g.add_argument("--min-freq", type=int, default=1)
    g = ap.add_argument_group("architecture")
    g.add_argument("--cell", default="gru", choices=["gru", "lstm"])
    g.add_argument("--layers", type=int, default=1)
    g.add_argument("--dec-layers", type=int, default=0, help="0: same as --layers")
    g.add_argument("--bidirectional", action="store_true")
    g.add_argument("--bridge", default="final", choices=["final", "zeros", "mean_tanh"])
    g.add_argument("--attention", default="bahdanau",
                   choices=["bahdanau", "dot", "scaled_dot", "general", "multihead"])
    g.add_argument("--heads", type=int, default=0,
                   help="multihead: number of heads, dividing the decoder size (format version 2, section 9.3)")
    g.add_argument("--window", type=int, default=0,
                   help="local attention with this window W, 1..1024 (format version 2, section 9.2)")
    g.add_argument("--local", default="predictive", choices=["monotonic", "predictive"],
                   help="local attention kind, with --window")
    g.add_argument("--predictor-size", type=int, default=0, help="local-p predictor size (0: decoder size)")
    g.add_argument("--attention-position", default="before_rnn", choices=["before_rnn", "after_rnn"])
    g.add_argument("--attention-size", type=int, default=0, help="0: decoder hidden size")
    g.add_argument("--input-feeding", action="store_true")
    g.add_argument("--emb", type=int, default=128)
    g.add_argument("--hidden", type=int, default=128)
    g.add_argument("--enc-hidden", type=int, default=0)
    g.add_argument("--dec-hidden", type=int, default=0,
                   help="0: encoder output size with bridge final, else --hidden")
    g.add_argument("--dropout", type=float, default=0.1)
    g.add_argument("--copy", action="store_true",
                   help="pointer-generator (format version 2, section 9.4)")
    g.add_argument("--coverage", action="store_true",
                   help="coverage attention (bahdanau; format version 2, section 9.1)")
    g.add_argument("--coverage-loss", type=float, default=1.0,
                   help="weight of the coverage loss sum_t sum_j min(alpha, coverage)")
    g = ap.add_argument_group("optimisation")
    g.add_argument("--batch-size", type=int, default=64)
    g.add_argument("--lr", type=float, default=1e-3)
    g.add_argument("--lr-decay", type=float, default=0.5, help="factor when valid loss stalls")
    g.add_argument("--label-smoothing", type=float, default=0.0, metavar="EPS",
                   help="label smoothing over the target vocabulary (with --copy: of the copy "
                        "mixture, extended ids not smoothed)")
    g.add_argument("--skip-unk-targets", action="store_true",
                   help="leave target pieces the model cannot write (unk: not in the target vocabulary and, "
                        "for a copy model, not in the source) out of the loss, so that the model does not "
                        "learn to write <unk> (it still reads unk as the next input)")
    g.add_argument("--clip", type=float, default=1.0)
    g.add_argument("--ema", type=float, default=0.0, metavar="DECAY",
                   help="validate, keep and export an exponential moving average of the weights, updated "
                        "after every step: average = DECAY * average + (1 - DECAY) * weights (0: the weights "
                        "as trained; 0.999 averages over about the last 1000 steps)")
    g.add_argument("--epochs", type=int, default=10)
    g.add_argument("--patience", type=int, default=3, help="early stopping: validations without gain")
    g.add_argument("--select", default="loss", choices=["loss", "bleu"],
                   help="what makes the best checkpoint (and a validation without gain): the validation "
                        "loss, or the greedy BLEU of the --bleu-sample validation sentences (for "
                        "training data that is not drawn like the validation references, such as "
                        "a model's own translations)")
    g.add_argument("--valid-every", type=int, default=0, help="steps between validations (0: each epoch)")
    g.add_argument("--seed", type=int, default=1)
    g.add_argument("--threads", type=int, default=1,
                   help="CPU threads of torch and of OpenBLAS (unless OPENBLAS_NUM_THREADS is set)")
    g.add_argument("--time-budget-minutes", type=float, default=0,
                   help="stop after this much training time (with --resume: this much more) and "
                        "export the best checkpoint")
    g.add_argument("--bleu-sample", type=int, default=200,
                   help="validation sentences decoded greedily per validation (0: none)")
    g.add_argument("--prepare-only", action="store_true", help="tokenize and build vocabularies, then stop")
    g.add_argument("--max-steps", type=int, default=0, help="stop after N updates (tests)")
    g = ap.add_argument_group("output")
    g.add_argument("--work", required=True, help="checkpoints, cache, logs")
    g.add_argument("--out", help="model directory to export to")
    g.add_argument("--resume", action="store_true", help="continue from WORK/last.pt")
    g.add_argument("--init-from", metavar="MODEL_DIR",
                   help="start from an exported model directory: its architecture, tokenizer, "
                        "vocabularies and weights (a fresh optimizer); for training in sessions")
    g.add_argument("--dtype", default="F32", choices=["F32", "F16"])
    g.add_argument("--task", default="translation", choices=["translation", "summarization"])
    g.add_argument("--source-language")
    g.add_argument("--target-language")
    g.add_argument("--max-length", type=int, default=0, help="config decoding.max_length (0: none)")
    g.add_argument("--license", default="")
    g.add_argument("--attribution", default="")
    g.add_argument("--source-data", default="")
    g.add_argument("--command", default="", help="training command recorded in config.json")
    a = ap.parse_args(argv)
    if a.select == "bleu" and (a.bleu_sample <= 0 or a.task != "translation"):
        ap.error("--select bleu needs --bleu-sample N > 0 and --task translation")
    if not a.command:
        a.command = " ".join(shlex.quote(x) for x in ["tools/train"] + list(argv if argv is not None else sys.argv[1:]))

    if not 0 <= a.ema < 1:
        ap.error("--ema takes a decay in [0, 1)")
    if (a.attention == "multihead") != bool(a.heads):
        ap.error("--heads goes with --attention multihead")
    if a.whole_numbers and not a.init_from and a.level != "bpe":
        ap.error("--whole-numbers needs --level bpe")
    if a.whole_names and not a.init_from and a.level != "bpe":
        ap.error("--whole-names needs --level bpe")
    torch.set_num_threads(a.threads)
    os.makedirs(a.work, exist_ok=True)

    def log(msg):
        sys.stderr.write("[train %s] %s\n" % (time.strftime("%H:%M:%S"), msg))
        sys.stderr.flush()

    random.seed(a.seed)
    torch.manual_seed(a.seed)
    prior_minutes = 0.0
    if a.init_from:
        cfg, prior_minutes = init_config(a.init_from, a)
        log("continuing from %s (%.1f minutes of training before)" % (a.init_from, prior_minutes))
    else:
        cfg = build_config(a)
    try:
        ref.apply_defaults(cfg)  # every rule of section 9, before any data work
    except ValueError as e:
        ap.error(str(e))
    data = prepare_data(a, cfg, a.work, log)
    if a.prepare_only:
        return
    src_vocab, tgt_vocab = data["source_vocab"], data["target_vocab"]
    ids = (src_vocab[EOS], tgt_vocab[SOS], tgt_vocab[EOS], tgt_vocab[UNK] if a.skip_unk_targets else None)
    model = Seq2SeqTrain(cfg, len(src_vocab), len(tgt_vocab), a.dropout)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    nparams = sum(p.numel() for p in model.parameters())
    log("model: %d parameters; config %s" % (nparams, json.dumps({k: cfg[k] for k in ("encoder", "bridge", "decoder", "tokenizer")})))

    state = {"epoch": 0, "batch": 0, "step": 0, "best": float("inf"), "bad": 0,
             "elapsed": 0.0, "history": [], "lr": a.lr, "prior_minutes": prior_minutes}
    last_path, best_path = os.path.join(a.work, "last.pt"), os.path.join(a.work, "best.pt")
    resumed_average = None
    if a.resume and os.path.exists(last_path):
        ck = torch.load(last_path)
        try:
            model.load_state_dict(ck["state_dict"])
        except RuntimeError as e:
            raise SystemExit("train: %s does not fit the model of these options (vocabularies of %d source and "
                             "%d target tokens): resume with the options the run started with\n%s"
                             % (last_path, len(src_vocab), len(tgt_vocab), str(e).splitlines()[0]))
        opt.load_state_dict(ck["optimizer"])
        state = ck["train_state"]
        torch.set_rng_state(ck["torch_rng"])
        resumed_average = ck.get("ema")
        # the training before this run is what it had when it started, even
        # when --init-from now names a model exported from this very run
        prior_minutes = state.setdefault("prior_minutes", prior_minutes)
        log("resumed from %s at epoch %d batch %d (step %d, best valid %.4f, %.1f minutes in)"
            % (last_path, state["epoch"], state["batch"], state["step"], state["best"], state["elapsed"] / 60))
    elif a.init_from:
        tensors, _, _ = ref.read_safetensors(os.path.join(a.init_from, cfg.get("weights", "model.safetensors")))
        tensors = init_grown_rows(dict(tensors), data.get("grown") or {})
        missing, unexpected = model.load_state_dict(tensors, strict=False)
        fresh = [k for k in missing if k.startswith(("decoder.copy_gate.", "decoder.attention.Wc."))]
        if unexpected or len(fresh) != len(missing):
            raise SystemExit("%s does not fit the model: missing %s, unexpected %s"
                             % (a.init_from, sorted(set(missing) - set(fresh)), sorted(unexpected)))
        if "decoder.copy_gate.bias" in fresh:  # start close to the model it continues: generate
            with torch.no_grad():
                model.decoder.copy_gate.bias.fill_(2.0)
        log("weights from %s%s" % (a.init_from, " (new: %s)" % ", ".join(fresh) if fresh else ""))
    for gparam in opt.param_groups:
        gparam["lr"] = state["lr"]
    names, params = zip(*model.named_parameters())
    average = None  # the moving average of params (--ema), else None
    if a.ema:
        source = [resumed_average[n] for n in names] if resumed_average else params
        average = [v.detach().clone() for v in source]
        log("moving average of the weights, decay %g%s" % (a.ema, ", resumed" if resumed_average else ""))

    tk = None
    sample = data["valid_text"][:a.bleu_sample] if a.bleu_sample else []
    budget = a.time_budget_minutes * 60 if a.time_budget_minutes else float("inf")
    t_start = time.time() - state["elapsed"]  # the run's start: a resumed run's minutes go on
    t_invoked = time.time()  # the budget counts from here: a resumed run gets it again
    stop = False

    def validate():
        # with --ema, the loss of the weights themselves too, for comparison
        weights_loss = evaluate_loss(model, data["valid"], 64, ids) if average is not None else None
        with averaged_weights(params, average):
            return validate_model(weights_loss)

    def validate_model(weights_loss):
        nonlocal tk
        vl = evaluate_loss(model, data["valid"], 64, ids)
        minutes = (time.time() - t_start) / 60
        rec = {"epoch": state["epoch"], "step": state["step"], "valid_loss": round(vl, 4),
               "valid_ppl": round(math.exp(min(vl, 50)), 3),
               "minutes": round(minutes, 2), "minutes_total": round(prior_minutes + minutes, 2)}
        if weights_loss is not None:
            rec["valid_loss_without_ema"] = round(weights_loss, 4)
        if sample:
            if tk is None:
                tk = make_tokenizer(cfg["tokenizer"], cfg, a.work)
            hyps = greedy_texts(model, [s for s, _ in sample], tk, src_vocab, tgt_vocab, 64,
                                a.max_length or None)
            refs = [t for _, t in sample]
            rec["valid_sample_exact"] = round(exact_match(hyps, refs), 4)
            for k, v in corpus_scores(hyps, refs, a.task).items():
                rec["valid_sample_" + k] = round(v, 2) if isinstance(v, float) else v
            rec["example"] = [sample[0][0], hyps[0]]
        state["history"].append(rec)
        # state["best"] is the lowest loss, or the highest BLEU negated
        metric = -rec["valid_sample_bleu"] if a.select == "bleu" else vl
        improved = metric < state["best"] - 1e-4
        log("validation: %s%s" % (json.dumps(rec, ensure_ascii=False), " (best)" if improved else ""))
        if improved:
            state["best"], state["bad"] = metric, 0
            save_ckpt(best_path, cfg, model, data, {"scores": {k: v for k, v in rec.items() if k != "example"}})
        else:
            state["bad"] += 1
            if a.lr_decay and a.lr_decay < 1:
                state["lr"] *= a.lr_decay
                for gparam in opt.param_groups:
                    gparam["lr"] = state["lr"]
                log("learning rate now %.2e" % state["lr"])
        return state["bad"] >= a.patience

    def save_last():
        state["elapsed"] = time.time() - t_start
        save_ckpt(last_path, cfg, model, data, {"optimizer": opt.state_dict(), "train_state": state,
                                                "torch_rng": torch.get_rng_state(),
                                                "ema": dict(zip(names, average)) if average is not None else None})

    model.train()
    train = data["train"]
    lengths = [len(e[0]) + len(e[1]) for e in train]
    while state["epoch"] < a.epochs and not stop:
        rng = random.Random(a.seed * 1000 + state["epoch"])
        batches = make_batches(lengths, a.batch_size, rng)
        bar = Progress(len(batches), "epoch %d" % (state["epoch"] + 1))
        tot_loss, tot_tok, t_ep = 0.0, 0, time.time()
        while state["batch"] < len(batches):
            ex = [train[i] for i in batches[state["batch"]]]
            batch = collate(ex, *ids)
            ntok = int((batch[3] != -100).sum())
            loss = batch_loss(model, batch, a.label_smoothing, a.coverage_loss if a.coverage else 0.0)
            opt.zero_grad()
            (loss / ntok).backward()
            if a.clip:
                nn.utils.clip_grad_norm_(model.parameters(), a.clip)
            opt.step()
            if average is not None:
                with torch.no_grad():
                    for v, p in zip(average, params):
                        v.lerp_(p, 1 - a.ema)
            tot_loss += float(loss)
            tot_tok += ntok
            state["batch"] += 1
            state["step"] += 1
            bar.update(state["batch"], "loss %.3f %.0f tok/s" % (tot_loss / tot_tok, tot_tok / max(1e-9, time.time() - t_ep)))
            if a.valid_every and state["step"] % a.valid_every == 0:
                if validate():
                    log("early stopping")
                    stop = True
                save_last()
            elif state["step"] % 200 == 0:
                save_last()
            if time.time() - t_invoked > budget:
                log("time budget of %.1f minutes reached" % a.time_budget_minutes)
                stop = True
            if a.max_steps and state["step"] >= a.max_steps:
                stop = True
            if stop:
                break
        if state["batch"] >= len(batches):
            state["epoch"] += 1
            state["batch"] = 0
            if not a.valid_every:
                if validate():
                    log("early stopping")
                    stop = True
        elif stop and not (a.valid_every and state["step"] % a.valid_every == 0):
            validate()
        save_last()
    if not os.path.exists(best_path):
        with averaged_weights(params, average):
            save_ckpt(best_path, cfg, model, data, {})
    if a.test:
        ck = torch.load(best_path)
        model.load_state_dict(ck["state_dict"])
        test = read_tsv(a.test, a.test_src_col, a.test_tgt_col)
        tk = make_tokenizer(cfg["tokenizer"], cfg, a.work)
        t0 = time.time()
        hyps = greedy_texts(model, [s for s, _ in test], tk, src_vocab, tgt_vocab, 64,
                            a.max_length or None)
        refs = [t for _, t in test]
        sc = dict(ck.get("scores") or {})
        sc["test_data"] = a.test_name or a.test
        sc["test_pairs"] = len(test)
        sc["test_decoding"] = "greedy"
        for k, v in corpus_scores(hyps, refs, a.task).items():
            sc["test_" + k] = round(v, 2) if isinstance(v, float) else v
        sc["test_exact"] = round(exact_match(hyps, refs), 4)
        ck["scores"] = sc
        torch.save(ck, best_path)
        with open(os.path.join(a.work, "test.hyp"), "w", encoding="utf-8") as f:
            f.write("".join(h + "\n" for h in hyps))
        log("test (%d pairs, greedy, %.0fs): %s" % (len(test), time.time() - t0, json.dumps(sc)))
    if a.out:
        export(a, cfg, best_path, log)
    log("done: %d steps, %.1f minutes, best valid %s %.4f"
        % (state["step"], (time.time() - t_start) / 60, a.select,
           -state["best"] if a.select == "bleu" else state["best"]))


if __name__ == "__main__":
    main()
