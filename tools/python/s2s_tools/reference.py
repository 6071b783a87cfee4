"""s2s_tools.reference - the float32 PyTorch reference of the s2s model format, versions 1 and 2.

This module implements section 4 (architecture), section 6 (decoding
semantics) and section 9 (format version 2) of docs/model-format.md with
torch's own modules, so that a model's state_dict names are exactly the
tensor names of the model format:

    encoder.embedding.weight              nn.Embedding(V_src, emb_e)
    encoder.rnn.*                         nn.GRU / nn.LSTM, batch_first=True
    bridge.{weight,bias}                  nn.Linear(D, H_d)        (mean_tanh only)
    decoder.embedding.weight              nn.Embedding(V_tgt, emb_d)
    decoder.rnn.*                         nn.GRU / nn.LSTM, batch_first=True
    decoder.attention.{Wa,Ua,Va}.*        bahdanau
    decoder.attention.Wa.weight           general (no bias)
    decoder.attention_out.{weight,bias}   after_rnn (bias optional)
    decoder.out.{weight,bias}             nn.Linear(H_d, V_tgt)
  version 2 (section 9):
    decoder.attention.Wc.weight           coverage: nn.Linear(1, A, bias=False)
    decoder.attention.{Wp,vp}.weight      local-p: nn.Linear(H_d, P), nn.Linear(P, 1), no biases
    decoder.attention.mha.*               multihead: nn.MultiheadAttention(H_d, heads,
                                          kdim=D, vdim=D, bias=True, batch_first=True)
    decoder.copy_gate.{weight,bias}       copy: nn.Linear(C + H_d + emb_d, 1)

Public functions
    apply_defaults(config) -> config with every default of sections 4 and 9 filled in
    features(config) -> the section-9 features {coverage, window, local,
        predictor_size, heads, copy} of a config with defaults applied
    Seq2Seq(config, V_src, V_tgt, attention_out_bias=True)   the nn.Module
    set_special_ids(model, tgt_vocab, src_vocab=None)   records sos/eos (and
                                                  unk) ids and the vocabularies
    model_from_state_dict(config, state_dict, tgt_vocab=None, src_vocab=None)
                                                  builds + loads (sizes, bias detected)
    load_model_dir(path) -> (model, config, src_vocab, tgt_vocab)
    save_model_dir(path, model_or_state_dict, config, src_vocab, tgt_vocab,
                   dtype="F32", extra_files={})
    read_safetensors(path) -> (dict name -> float32 tensor, dtypes, metadata)
    write_safetensors(path, tensors, dtype="F32", metadata=None)
    encode(model, src_ids) -> (memory (n, D), initial decoder state)
    greedy(model, src_ids, max_length=None, **options) -> (tokens, score, attention rows)
    greedy_full(model, src_ids, max_length=None, src_pieces=None,
                no_repeat_ngram=0, prefix=None, keep_numbers=False) -> dict (also token_logprobs,
        finished, extended, min_margin: the smallest best-vs-runner-up gap,
        for near ties)
    beam_search(model, src_ids, beam, n_best, max_length=None, length_penalty=0,
                tie_eps=None, tie_report=None, src_pieces=None, no_repeat_ngram=0,
                coverage_penalty_beta=0.0, prefix=None, keep_numbers=False)
        -> [{"tokens", "score", "ranking_score", "finished", "attention",
             "token_logprobs", "extended"}], best first
    force(model, src_ids, tgt_ids, src_pieces=None) -> (score, per-step
        logprobs, attention rows)
    teacher_forced(model, src_ids, tgt_ids, src_pieces=None) -> (per-step
        log-probability rows, attention rows)
    copy_map(model, src_ids, src_pieces=None) -> (extended id of each source
        position, extended pieces)              (copy models, section 9.4)
    number_ids(model, src_ids, src_pieces=None) -> the target ids of the source's
        numbers that keep_numbers requires before eos
    target_ids(model, tokens, src_ids, src_pieces) -> target ids, extended ids
        for source pieces the target vocabulary lacks (copy models)
    token_string(model, id, extended) -> a target token or an extended piece
    coverage_penalty(rows, beta) -> the GNMT coverage penalty of section 9.5
    source_ids(tokens, src_vocab, config) -> ids with eos appended as configured
    write_config(path, config)                    config.json as save_model_dir writes it

A copy model's extended vocabulary comes from the source pieces (the token
strings tokenization produced, the appended eos as the eos token); without
`src_pieces` each source id stands for its source-vocabulary token. Token
ids >= V_tgt in results and targets are extended ids.

Batched building blocks (also used by tools/bench/bench_torch.py):
    model.encode_batch(srcs) -> (memory (S, n, D), decoder state, lengths)
    model.bridge_state(memory, final, lens=None)  the bridge for S sentences
    model.decoder.step(y_prev, state, feed, attend) one decoder step of B rows,
        attention given as a function q -> (alpha, context)
    init_feed(model, B), select_state(state, idx), max_steps(model, n_src,
        max_length), gnmt_lp(length, alpha)

`src_ids` are always the ids fed to the encoder, the appended eos included
(as s2s_tokenize returns them); returned `tokens` exclude the final eos, and
attention rows include the eos step. Everything runs on one sentence, in
float32, under torch.inference_mode().

Training checkpoint format (written by tools/train, read by tools/export):

    torch.save({"format": "s2s-train-checkpoint",
                "config": config_dict,            # a config.json object
                "state_dict": model.state_dict(), # names as above
                "source_vocab": {token: id},
                "target_vocab": {token: id},
                "extra_files": {"merges.txt": "..."}},   # optional, name -> str|bytes
               path)

`config_dict` may omit keys that have defaults; extra_files are written next
to config.json by save_model_dir (for example a BPE merges file the
tokenizer config names).
"""

import json
import math
import os
import re
import struct
import unicodedata

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

CHECKPOINT_FORMAT = "s2s-train-checkpoint"

_CELLS = ("gru", "lstm")
_BRIDGES = ("final", "zeros", "mean_tanh")
_ATTENTIONS = ("bahdanau", "dot", "scaled_dot", "general")
_ATTENTIONS_V2 = _ATTENTIONS + ("multihead",)
_LOCALS = ("monotonic", "predictive")
_V2_ATTENTION_KEYS = ("coverage", "window", "local", "predictor_size", "heads")
_POSITIONS = ("before_rnn", "after_rnn")

# safetensors dtype name -> (bytes per element, numpy dtype or None for BF16)
_ST_DTYPES = {
    "F64": (8, "<f8"), "F32": (4, "<f4"), "F16": (2, "<f2"), "BF16": (2, None),
    "I64": (8, "<i8"), "I32": (4, "<i4"), "I16": (2, "<i2"), "I8": (1, "i1"),
    "U8": (1, "u1"), "BOOL": (1, "?"), "U16": (2, "<u2"), "U32": (4, "<u4"),
    "U64": (8, "<u8"), "F8_E4M3": (1, None), "F8_E5M2": (1, None),
}


# --------------------------------------------------------------------------
# config
# --------------------------------------------------------------------------

def _check_choice(value, choices, key):
    if value not in choices:
        raise ValueError("config: %s must be one of %s, not %r" % (key, ", ".join(choices), value))


def _check_int(value, key, minimum=1):
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValueError("config: %s must be an integer >= %d, not %r" % (key, minimum, value))


def _check_bool(value, key):
    if not isinstance(value, bool):
        raise ValueError("config: %s must be true or false, not %r" % (key, value))


def apply_defaults(config):
    """Returns a deep copy of the config.json object `config` with every
    default of model-format.md section 4 (and, for "format_version": 2, section 9)
    filled in, after checking the keys this module uses. Raises ValueError
    naming the key on a missing required key or a wrong value. A version-1
    config that carries version-2 keys ignores them (they are dropped from
    the copy); "multihead" is refused in a version-1 config."""
    c = json.loads(json.dumps(config))
    if c.get("format") != "s2s-rnn":
        raise ValueError("config: format must be \"s2s-rnn\", not %r" % c.get("format"))
    version = c.get("format_version")
    if version not in (1, 2) or isinstance(version, bool):
        raise ValueError("config: format_version must be 1 or 2, not %r" % version)
    c.setdefault("weights", "model.safetensors")
    c.setdefault("source_vocab", "source.vocab.json")
    c.setdefault("target_vocab", "target.vocab.json")
    special = c.setdefault("special_tokens", {})
    for key in ("sos", "eos"):
        if not isinstance(special.get(key), str):
            raise ValueError("config: special_tokens.%s must be a string" % key)
    special.setdefault("unk", None)
    special.setdefault("pad", None)
    for side in ("encoder", "decoder"):
        s = c.get(side)
        if not isinstance(s, dict):
            raise ValueError("config: %s must be an object" % side)
        _check_choice(s.get("cell"), _CELLS, side + ".cell")
        _check_int(s.get("embedding_size"), side + ".embedding_size")
        _check_int(s.get("hidden_size"), side + ".hidden_size")
        s.setdefault("num_layers", 1)
        _check_int(s["num_layers"], side + ".num_layers")
    enc, dec = c["encoder"], c["decoder"]
    enc.setdefault("bidirectional", False)
    enc.setdefault("append_eos", True)
    _check_bool(enc["bidirectional"], "encoder.bidirectional")
    _check_bool(enc["append_eos"], "encoder.append_eos")
    c.setdefault("bridge", "final")
    _check_choice(c["bridge"], _BRIDGES, "bridge")
    att = dec.setdefault("attention", {})
    if version == 1:  # section 9: a version-1 model ignores the version-2 keys
        for key in _V2_ATTENTION_KEYS:
            att.pop(key, None)
        dec.pop("copy", None)
    att.setdefault("type", "bahdanau")
    att.setdefault("position", "before_rnn")
    att.setdefault("size", dec["hidden_size"])
    _check_choice(att["type"], _ATTENTIONS_V2 if version == 2 else _ATTENTIONS,
                  "decoder.attention.type")
    _check_choice(att["position"], _POSITIONS, "decoder.attention.position")
    _check_int(att["size"], "decoder.attention.size")
    dec.setdefault("input_feeding", False)
    _check_bool(dec["input_feeding"], "decoder.input_feeding")
    tok = c.setdefault("tokenizer", {})
    tok.setdefault("normalizer", "none")
    tok.setdefault("level", "word")
    c.setdefault("decoding", {})
    mem = enc["hidden_size"] * (2 if enc["bidirectional"] else 1)
    if c["bridge"] == "final":
        if enc["cell"] != dec["cell"] or enc["num_layers"] != dec["num_layers"] \
                or dec["hidden_size"] != mem:
            raise ValueError("config: bridge \"final\" needs equal cells and layer counts "
                             "and decoder.hidden_size == encoder memory size %d" % mem)
    if att["type"] in ("dot", "scaled_dot") and dec["hidden_size"] != mem:
        raise ValueError("config: %s attention needs decoder.hidden_size == encoder memory size %d"
                         % (att["type"], mem))
    if version == 2:
        _apply_version2(c)
    return c


def _apply_version2(c):
    """Section 9 keys of a version-2 config (in place): defaults, types and
    the combinations the format allows."""
    dec = c["decoder"]
    att = dec["attention"]
    H = dec["hidden_size"]
    att.setdefault("coverage", False)
    _check_bool(att["coverage"], "decoder.attention.coverage")
    if att["coverage"] and att["type"] != "bahdanau":
        raise ValueError("config: decoder.attention.coverage needs type \"bahdanau\", not %r"
                         % att["type"])
    if att.get("window") is None:
        att.pop("window", None)
        if att.get("local") is not None:
            raise ValueError("config: decoder.attention.local needs decoder.attention.window")
        att.pop("local", None)
    else:
        w = att["window"]
        if not isinstance(w, int) or isinstance(w, bool) or not 1 <= w <= 1024:
            raise ValueError("config: decoder.attention.window must be an integer in 1..1024, not %r"
                             % (w,))
        if att.get("local") is None:
            att["local"] = "predictive"
        _check_choice(att["local"], _LOCALS, "decoder.attention.local")
        if att["coverage"]:
            raise ValueError("config: decoder.attention.window: local attention does not combine "
                             "with coverage")
        if att["type"] == "multihead":
            raise ValueError("config: decoder.attention.window: local attention does not combine "
                             "with type \"multihead\"")
    att.setdefault("predictor_size", H)
    _check_int(att["predictor_size"], "decoder.attention.predictor_size")
    if att["type"] == "multihead":
        if att.get("heads") is None:
            raise ValueError("config: decoder.attention.type \"multihead\" needs "
                             "decoder.attention.heads")
        _check_int(att["heads"], "decoder.attention.heads")
        if H % att["heads"]:
            raise ValueError("config: decoder.attention.heads: %d heads do not divide "
                             "decoder.hidden_size %d" % (att["heads"], H))
    elif att.get("heads") is not None:
        raise ValueError("config: decoder.attention.heads needs type \"multihead\", not %r"
                         % att["type"])
    dec.setdefault("copy", False)
    _check_bool(dec["copy"], "decoder.copy")
    if dec["copy"] and c["special_tokens"]["unk"] is None:
        raise ValueError("config: decoder.copy needs a non-null special_tokens.unk")


def features(config):
    """The section-9 features of a config with defaults applied, as a dict:
    coverage (bool), window (int or None), local ("monotonic", "predictive"
    or None), predictor_size, heads (int or None), copy (bool). All off for
    version 1."""
    att, dec = config["decoder"]["attention"], config["decoder"]
    window = att.get("window")
    return {"coverage": bool(att.get("coverage", False)), "window": window,
            "local": att.get("local") if window else None,
            "predictor_size": att.get("predictor_size", dec["hidden_size"]),
            "heads": att.get("heads") if att["type"] == "multihead" else None,
            "copy": bool(dec.get("copy", False))}


# --------------------------------------------------------------------------
# the model
# --------------------------------------------------------------------------

def _rnn(cell, inp, hidden, layers, bidirectional=False):
    cls = nn.GRU if cell == "gru" else nn.LSTM
    return cls(inp, hidden, num_layers=layers, bias=True, batch_first=True,
               bidirectional=bidirectional)


class Encoder(nn.Module):
    """Source embedding + RNN (model-format.md section 4, "Encoder")."""

    def __init__(self, vocab_size, enc):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, enc["embedding_size"])
        self.rnn = _rnn(enc["cell"], enc["embedding_size"], enc["hidden_size"],
                        enc["num_layers"], enc["bidirectional"])


class Attention(nn.Module):
    """Attention parameters and weights: Wa/Ua/Va (bahdanau), Wa without bias
    (general), none (dot, scaled_dot), torch.nn.MultiheadAttention as `mha`
    (multihead, section 9.3); optionally Wc (coverage, section 9.1) and
    Wp/vp (local-p, section 9.2). `window` turns on local attention of kind
    `local` ("monotonic" or "predictive")."""

    def __init__(self, kind, query_size, memory_size, size, coverage=False, window=None,
                 local=None, predictor_size=None, heads=None):
        super().__init__()
        self.kind = kind
        self.query_size = query_size
        self.coverage = bool(coverage)
        self.window = int(window) if window else None
        self.local = (local or "predictive") if self.window else None
        self.centre_log = None  # a list: each local step appends (n, [p_t per row])
        if kind == "bahdanau":
            self.Wa = nn.Linear(query_size, size)
            self.Ua = nn.Linear(memory_size, size)
            self.Va = nn.Linear(size, 1)
        elif kind == "general":
            self.Wa = nn.Linear(memory_size, query_size, bias=False)
        elif kind == "multihead":
            self.mha = nn.MultiheadAttention(embed_dim=query_size, num_heads=heads, kdim=memory_size,
                                             vdim=memory_size, bias=True, batch_first=True)
        if self.coverage:
            self.Wc = nn.Linear(1, size, bias=False)
        if self.local == "predictive":
            P = predictor_size or query_size
            self.Wp = nn.Linear(query_size, P, bias=False)
            self.vp = nn.Linear(P, 1, bias=False)

    def context_size(self, memory_size):
        """C, the size of the context vector: D, or H_d for multihead."""
        return self.query_size if self.kind == "multihead" else memory_size

    def forward(self, q, memory, cov=None, t=None):
        """q (B, H_d), memory (B, n, D), cov (B, n) the coverage before this
        step (coverage only), t the 1-based step (local-m only) ->
        (alpha (B, n), context (B, C))."""
        if self.kind == "multihead":
            out, w = self.mha(q.unsqueeze(1), memory, memory, need_weights=True,
                              average_attn_weights=True)
            return w[:, 0], out[:, 0]
        if self.kind == "bahdanau":
            pre = self.Wa(q).unsqueeze(1) + self.Ua(memory)
            if self.coverage:
                pre = pre + self.Wc(cov.unsqueeze(2))
            e = self.Va(torch.tanh(pre)).squeeze(2)
        elif self.kind == "general":
            e = torch.bmm(self.Wa(memory), q.unsqueeze(2)).squeeze(2)
        else:
            e = torch.bmm(memory, q.unsqueeze(2)).squeeze(2)
            if self.kind == "scaled_dot":
                e = e / math.sqrt(self.query_size)
        if self.window is None:
            alpha = torch.softmax(e, dim=1)
        else:
            alpha = self.local_weights(e, q, t)
        context = torch.bmm(alpha.unsqueeze(1), memory).squeeze(1)
        return alpha, context

    def centre(self, q, t, n):
        """p_t of local attention for the B queries q (float32, (B,))."""
        if self.local == "monotonic":
            return torch.full((q.shape[0],), float(min(t, n)), dtype=torch.float32)
        return n * torch.sigmoid(self.vp(torch.tanh(self.Wp(q)))).squeeze(1)

    def local_weights(self, e, q, t):
        """Section 9.2 over scores e (B, n): softmax over the positions j
        (1-based) with |j - p_t| <= W, 0 elsewhere; local-p then multiplies
        by exp(-(j - p_t)^2 / (2 sigma^2)), sigma = W / 2."""
        n = e.shape[1]
        p = self.centre(q, t, n).unsqueeze(1)                         # (B, 1)
        if self.centre_log is not None:
            self.centre_log.append((n, p.view(-1).tolist()))
        j = torch.arange(1, n + 1, dtype=torch.float32).unsqueeze(0)  # (1, n)
        d = j - p
        inside = d.abs() <= float(self.window)
        a = torch.softmax(e.masked_fill(~inside, float("-inf")), dim=1)
        if self.local == "predictive":
            sigma = self.window / 2.0
            a = a * torch.exp(-(d * d) / (2.0 * sigma * sigma))
        return a


class Decoder(nn.Module):
    """Target embedding, attention, RNN, optional attention_out, output layer,
    optional copy gate (section 9.4)."""

    def __init__(self, vocab_size, dec, memory_size, attention_out_bias=True):
        super().__init__()
        att = dec["attention"]
        feat = features({"decoder": dec})
        self.position = att["position"]
        self.input_feeding = bool(dec["input_feeding"]) and self.position == "after_rnn"
        self.hidden_size = dec["hidden_size"]
        self.copy = feat["copy"]
        self.unk_id = None  # target unk id, set by set_special_ids (copy models)
        self.embedding = nn.Embedding(vocab_size, dec["embedding_size"])
        self.attention = Attention(att["type"], dec["hidden_size"], memory_size, att["size"],
                                   coverage=feat["coverage"], window=feat["window"],
                                   local=feat["local"], predictor_size=feat["predictor_size"],
                                   heads=feat["heads"])
        ctx = self.attention.context_size(memory_size)
        self.context_size = ctx
        if self.position == "before_rnn":
            rnn_in = dec["embedding_size"] + ctx
        else:
            rnn_in = dec["embedding_size"] + (dec["hidden_size"] if self.input_feeding else 0)
        self.rnn = _rnn(dec["cell"], rnn_in, dec["hidden_size"], dec["num_layers"])
        if self.position == "after_rnn":
            self.attention_out = nn.Linear(ctx + dec["hidden_size"], dec["hidden_size"],
                                           bias=attention_out_bias)
        self.out = nn.Linear(dec["hidden_size"], vocab_size)
        if self.copy:
            self.copy_gate = nn.Linear(ctx + dec["hidden_size"] + dec["embedding_size"], 1)

    def step(self, y_prev, state, feed, attend, copy=None):
        """One decoder step for a batch of B rows: y_prev LongTensor (B,),
        state (L,B,H) or (h,c), feed (B,H_d) or None, attend(q (B,H_d)) ->
        (alpha (B,n), context (B,C)); for a copy model `copy` = (m (B, n)
        LongTensor of extended ids per source position, width of the
        extended vocabulary) -> (logprobs (B,V) or (B,width), alpha, state,
        feed; feed is None without input feeding)."""
        if self.copy:  # section 9.4: an extended id is fed back as unk
            V = self.out.out_features
            y_prev = torch.where(y_prev >= V, torch.full_like(y_prev, self.unk_id), y_prev)
        emb = self.embedding(y_prev)  # (B, emb)
        if self.position == "before_rnn":
            top = state[0][-1] if isinstance(state, tuple) else state[-1]
            alpha, ctx = attend(top)
            out, state = self.rnn(torch.cat([emb, ctx], dim=1).unsqueeze(1), state)
            o = out[:, 0]
        else:
            inp = torch.cat([emb, feed], dim=1) if self.input_feeding else emb
            out, state = self.rnn(inp.unsqueeze(1), state)
            q = out[:, 0]
            alpha, ctx = attend(q)
            o = torch.tanh(self.attention_out(torch.cat([ctx, q], dim=1)))
            feed = o if self.input_feeding else None
        if not self.copy:
            logprobs = F.log_softmax(self.out(o), dim=1)
        else:
            logprobs = self.copy_logprobs(self.out(o), ctx, o, emb, alpha, copy)
        return logprobs, alpha, state, feed

    def copy_logprobs(self, logits, ctx, o, emb, alpha, copy):
        """log P of section 9.4 over the extended vocabulary:
        P = p_gen softmax(logits) + (1 - p_gen) scattered alpha."""
        ids, width = copy
        B, V = logits.shape
        p_gen = torch.sigmoid(self.copy_gate(torch.cat([ctx, o, emb], dim=1)))  # (B, 1)
        P = torch.zeros(B, width, dtype=logits.dtype)
        P[:, :V] = p_gen * torch.softmax(logits, dim=1)
        P = P.scatter_add(1, ids, (1.0 - p_gen) * alpha)
        return torch.log(P)


class Seq2Seq(nn.Module):
    """The model format's model, built from a config.json object (defaults applied
    here; kept as self.config) and the two vocabulary sizes.
    `attention_out_bias` chooses whether decoder.attention_out has a bias
    (after_rnn only). Decoding functions also need the target sos/eos ids
    (and, for copy models, the vocabularies): set them with
    set_special_ids(model, tgt_vocab[, src_vocab])."""

    def __init__(self, config, source_vocab_size, target_vocab_size,
                 attention_out_bias=True):
        super().__init__()
        c = apply_defaults(config)
        self.config = c
        self.features = features(c)
        self.sos_id = None   # target ids, set by set_special_ids()
        self.eos_id = None
        self.tgt_vocab = None
        self.src_tokens = None
        vs, vt = source_vocab_size, target_vocab_size
        enc, dec = c["encoder"], c["decoder"]
        self.cell_enc, self.cell_dec = enc["cell"], dec["cell"]
        self.enc_layers, self.dec_layers = enc["num_layers"], dec["num_layers"]
        self.dirs = 2 if enc["bidirectional"] else 1
        self.memory_size = enc["hidden_size"] * self.dirs
        self.bridge_kind = c["bridge"]
        self.encoder = Encoder(vs, enc)
        if self.bridge_kind == "mean_tanh":
            self.bridge = nn.Linear(self.memory_size, dec["hidden_size"])
        self.decoder = Decoder(vt, dec, self.memory_size, attention_out_bias)

    # -- encoder + bridge ---------------------------------------------------
    def encode(self, src):
        """src: LongTensor (n,) -> (memory (1, n, D), decoder state)."""
        memory, state, _ = self.encode_batch([src.tolist()])
        return memory, state

    def encode_batch(self, srcs):
        """srcs: S lists of source ids, lengths may differ -> (memory (S, n, D),
        zero past each sentence's end; decoder state for S hypotheses;
        lengths). A padded batch runs the encoder on packed sequences, so that
        every sentence gets what it would get alone."""
        lens = [len(s) for s in srcs]
        S, n = len(srcs), max(lens)
        ids = torch.zeros(S, n, dtype=torch.long)
        for i, s in enumerate(srcs):
            ids[i, :len(s)] = torch.tensor(s, dtype=torch.long)
        x = self.encoder.embedding(ids)
        if min(lens) == n:
            memory, final = self.encoder.rnn(x)
        else:
            packed = pack_padded_sequence(x, torch.tensor(lens, dtype=torch.long),
                                          batch_first=True, enforce_sorted=False)
            out, final = self.encoder.rnn(packed)
            memory, _ = pad_packed_sequence(out, batch_first=True, total_length=n)
        memory = memory.contiguous()
        return memory, self.bridge_state(memory, final, lens), lens

    def bridge_state(self, memory, final, lens=None):
        """The decoder's initial state for S sentences from the encoder's
        memory (S, n, D) and final states; `lens` (real lengths, for the mean
        of a padded memory) is needed only when S > 1."""
        S = memory.shape[0]
        H = self.decoder.hidden_size
        L = self.dec_layers
        lstm = self.cell_dec == "lstm"
        if self.bridge_kind == "final":
            parts = final if self.cell_enc == "lstm" else (final,)
            out = []
            for t in parts:  # t: (L*dirs, S, H_e)
                if self.dirs == 2:
                    t = t.view(self.enc_layers, 2, S, -1).permute(0, 2, 1, 3) \
                         .reshape(self.enc_layers, S, -1)
                out.append(t.contiguous())
            return tuple(out) if lstm else out[0]
        zeros = memory.new_zeros(L, S, H)
        if self.bridge_kind == "zeros":
            return (zeros, zeros.clone()) if lstm else zeros
        if S == 1 or lens is None:
            mean = memory.mean(dim=1)
        else:
            mean = memory.sum(dim=1) / torch.tensor(lens, dtype=memory.dtype).unsqueeze(1)
        s0 = torch.tanh(self.bridge(mean))  # (S, H)
        h = s0.unsqueeze(0).expand(L, S, H).contiguous()
        return (h, zeros) if lstm else h

    # -- one decoder step for a batch of B hypotheses ------------------------
    def step(self, y_prev, state, feed, memory, t=1, cov=None, copy=None):
        """y_prev LongTensor (B,), state (L,B,H) or (h,c), feed (B,H_d) or None,
        memory (B, n, D); t the 1-based step (local-m), cov (B, n) the
        coverage before the step (coverage models), copy (m (B, n), width)
        for copy models -> (logprobs (B,V or width), alpha (B,n), state, feed).
        The caller adds alpha to the coverage."""
        att = self.decoder.attention
        return self.decoder.step(y_prev, state, feed, lambda q: att(q, memory, cov, t), copy)


def model_from_state_dict(config, state_dict, source_vocab_size=None, target_vocab_size=None,
                          tgt_vocab=None, src_vocab=None):
    """Builds a Seq2Seq for `config` whose vocabulary sizes and attention_out
    bias come from `state_dict` (unless given), loads the weights strictly
    (extra tensors are ignored, as the model format says), records sos/eos ids
    (and the vocabularies, see set_special_ids) when `tgt_vocab` is given, and
    returns it in eval mode in float32."""
    sd = {k: v.detach().float() for k, v in state_dict.items()}
    if source_vocab_size is None:
        source_vocab_size = sd["encoder.embedding.weight"].shape[0]
    if target_vocab_size is None:
        target_vocab_size = sd["decoder.embedding.weight"].shape[0]
    model = Seq2Seq(config, source_vocab_size, target_vocab_size,
                    attention_out_bias="decoder.attention_out.bias" in sd)
    wanted = model.state_dict()
    missing = [k for k in wanted if k not in sd]
    if missing:
        raise ValueError("missing tensor %s" % missing[0])
    for k, v in wanted.items():
        if tuple(sd[k].shape) != tuple(v.shape):
            raise ValueError("tensor %s has shape %s, the config implies %s"
                             % (k, list(sd[k].shape), list(v.shape)))
    model.load_state_dict({k: sd[k] for k in wanted}, strict=True)
    model.eval()
    if tgt_vocab is not None:
        set_special_ids(model, tgt_vocab, src_vocab)
    return model


# --------------------------------------------------------------------------
# safetensors
# --------------------------------------------------------------------------

def write_safetensors(path, tensors, dtype="F32", metadata=None):
    """Writes `tensors` (name -> tensor) to `path` as safetensors, converting
    every floating tensor to `dtype` ("F32", "F16" or "BF16"). Tensors are
    laid out sorted by name, contiguous from offset 0; the JSON header is
    padded with spaces to a multiple of 8 bytes."""
    if dtype not in ("F32", "F16", "BF16"):
        raise ValueError("dtype must be F32, F16 or BF16, not %r" % dtype)
    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    blobs = []
    offset = 0
    for name in sorted(tensors):
        t = tensors[name].detach().cpu().contiguous()
        if dtype == "F32":
            data = t.to(torch.float32).numpy().astype("<f4").tobytes()
        elif dtype == "F16":
            data = t.to(torch.float16).numpy().astype("<f2").tobytes()
        else:
            data = t.to(torch.bfloat16).view(torch.int16).numpy().astype("<i2").tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((-len(text)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    """Reads a safetensors file; returns (tensors: name -> float32 tensor for
    F32/F16/BF16 entries, dtypes: name -> dtype string of every entry,
    metadata dict). Raises ValueError on a malformed file."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError("%s: too short for a safetensors file" % path)
    (n,) = struct.unpack("<Q", raw[:8])
    if n > 100000000 or 8 + n > len(raw):
        raise ValueError("%s: header length %d runs past the file" % (path, n))
    try:
        header = json.loads(raw[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise ValueError("%s: header is not valid JSON: %s" % (path, e))
    if not isinstance(header, dict):
        raise ValueError("%s: header is not a JSON object" % path)
    buf = raw[8 + n:]
    metadata = header.pop("__metadata__", {}) or {}
    tensors, dtypes = {}, {}
    for name, e in header.items():
        dt = e.get("dtype")
        if dt not in _ST_DTYPES:
            raise ValueError("%s: tensor %s has unknown dtype %r" % (path, name, dt))
        size, npdt = _ST_DTYPES[dt]
        shape = [int(s) for s in e["shape"]]
        b, end = e["data_offsets"]
        if not (0 <= b <= end <= len(buf)) or end - b != size * int(np.prod(shape, dtype=np.int64)):
            raise ValueError("%s: tensor %s has bad data_offsets" % (path, name))
        dtypes[name] = dt
        chunk = buf[b:end]
        if dt == "BF16":
            t = torch.from_numpy(np.frombuffer(chunk, dtype="<i2").copy()).view(torch.bfloat16)
            tensors[name] = t.float().reshape(shape)
        elif dt in ("F32", "F16"):
            tensors[name] = torch.from_numpy(np.frombuffer(chunk, dtype=npdt).astype(np.float32)) \
                                 .reshape(shape)
    return tensors, dtypes, metadata


# --------------------------------------------------------------------------
# model directories
# --------------------------------------------------------------------------

def _write_vocab(path, vocab):
    ordered = sorted(vocab.items(), key=lambda kv: kv[1])
    if [i for _, i in ordered] != list(range(len(ordered))):
        raise ValueError("vocabulary ids must be exactly 0..V-1")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(dict(ordered), f, ensure_ascii=False, indent=0)
        f.write("\n")


def _inside(dirpath, name):
    full = os.path.normpath(os.path.join(dirpath, name))
    root = os.path.normpath(dirpath)
    if os.path.isabs(name) or not (full == root or full.startswith(root + os.sep)):
        raise ValueError("path %r leaves the model directory" % name)
    return full


def write_config(path, config):
    """Writes the config.json object `config` to `path` (UTF-8, indented by
    2, final newline), as save_model_dir does; the model recipes use it to
    add provenance and scores to an exported model."""
    with open(path, "w", encoding="utf-8") as f:
        json.dump(config, f, ensure_ascii=False, indent=2)
        f.write("\n")


def save_model_dir(path, model_or_state_dict, config, src_vocab, tgt_vocab, dtype="F32",
                   extra_files=None):
    """Writes a model directory at `path` (created if needed): config.json
    (`config` as given, without private "_" keys), the weights in `dtype`,
    both vocabularies, and `extra_files` (name -> str or bytes)."""
    c = apply_defaults(config)
    os.makedirs(path, exist_ok=True)
    sd = model_or_state_dict.state_dict() if isinstance(model_or_state_dict, nn.Module) \
        else model_or_state_dict
    write_config(os.path.join(path, "config.json"),
                 {k: v for k, v in config.items() if not k.startswith("_")})
    write_safetensors(_inside(path, c["weights"]), sd, dtype)
    _write_vocab(_inside(path, c["source_vocab"]), src_vocab)
    _write_vocab(_inside(path, c["target_vocab"]), tgt_vocab)
    for name, data in (extra_files or {}).items():
        mode = "wb" if isinstance(data, bytes) else "w"
        with open(_inside(path, name), mode, **({} if mode == "wb" else {"encoding": "utf-8"})) as f:
            f.write(data)


def load_model_dir(path):
    """Loads a model directory -> (model in eval mode, config with
    defaults applied, src_vocab {token: id}, tgt_vocab {token: id})."""
    with open(os.path.join(path, "config.json"), encoding="utf-8") as f:
        raw = json.load(f)
    c = apply_defaults(raw)
    with open(_inside(path, c["source_vocab"]), encoding="utf-8") as f:
        src_vocab = json.load(f)
    with open(_inside(path, c["target_vocab"]), encoding="utf-8") as f:
        tgt_vocab = json.load(f)
    tensors, _, _ = read_safetensors(_inside(path, c["weights"]))
    model = model_from_state_dict(c, tensors, len(src_vocab), len(tgt_vocab))
    set_special_ids(model, tgt_vocab, src_vocab)
    return model, c, src_vocab, tgt_vocab


def source_ids(tokens, src_vocab, config):
    """Maps source token strings to ids (unk for unknown ones, KeyError when
    unk is null) and appends the eos id when encoder.append_eos is set."""
    c = apply_defaults(config)
    unk = c["special_tokens"]["unk"]
    ids = []
    for t in tokens:
        if t in src_vocab:
            ids.append(src_vocab[t])
        elif unk is not None and unk in src_vocab:
            ids.append(src_vocab[unk])
        else:
            raise KeyError("unknown source token %r" % t)
    if c["encoder"]["append_eos"]:
        ids.append(src_vocab[c["special_tokens"]["eos"]])
    return ids


# --------------------------------------------------------------------------
# decoding (model-format.md section 6), one sentence
# --------------------------------------------------------------------------

def _special_ids(model):
    if getattr(model, "sos_id", None) is None or getattr(model, "eos_id", None) is None:
        raise ValueError("the model has no sos/eos ids: call set_special_ids(model, tgt_vocab)")
    return model.sos_id, model.eos_id


def set_special_ids(model, tgt_vocab, src_vocab=None):
    """Records the target sos/eos (and unk) ids of `tgt_vocab` on the model
    (needed by greedy, beam_search and force), and the vocabularies a copy
    model's extended vocabulary is built from (section 9.4; `src_vocab`
    spells source ids when no source pieces are given). load_model_dir and
    model_from_state_dict(..., tgt_vocab=...) do this themselves."""
    special = model.config["special_tokens"]
    model.sos_id = tgt_vocab[special["sos"]]
    model.eos_id = tgt_vocab[special["eos"]]
    model.tgt_vocab = dict(tgt_vocab)
    if src_vocab is not None:
        model.src_tokens = {i: t for t, i in src_vocab.items()}
    if model.features["copy"]:
        unk = special["unk"]
        if unk not in tgt_vocab:
            raise ValueError("copy needs special token unk %r in the target vocabulary" % unk)
        model.decoder.unk_id = tgt_vocab[unk]
    return model


def max_steps(model, n_src, max_length):
    """Decoding steps allowed for a source of n_src ids (eos included): the
    given max_length, else the config's decoding.max_length, else 2n + 10."""
    if max_length:
        return int(max_length)
    ml = model.config.get("decoding", {}).get("max_length")
    if ml:
        return int(ml)
    return 2 * n_src + 10


def init_feed(model, B):
    """The input-feeding vector before the first step (None without feeding)."""
    d = model.decoder
    return torch.zeros(B, d.hidden_size) if d.input_feeding else None


def select_state(state, idx):
    """The decoder state rows `idx` (LongTensor), in that order."""
    if isinstance(state, tuple):
        return tuple(s[:, idx].contiguous() for s in state)
    return state[:, idx].contiguous()


def encode(model, src_ids):
    """Runs the encoder and bridge on `src_ids` (eos included) -> (memory
    (n, D) float32 tensor, decoder initial state for one hypothesis)."""
    with torch.inference_mode():
        src = torch.tensor(list(src_ids), dtype=torch.long)
        if src.numel() == 0:
            raise ValueError("empty source")
        memory, state = model.encode(src)
        return memory[0], state


# -- section 9.4: the extended vocabulary of a copy model ---------------------

def copy_map(model, src_ids, src_pieces=None):
    """The extended vocabulary of one source (section 9.4) -> (m: the
    extended-vocabulary id of each source position, extended: the source
    pieces of ids V, V+1, ... in order). `src_pieces` are the token strings
    tokenization produced (the appended eos as the eos token); without them
    each source id stands for its source-vocabulary token. The appended eos
    maps to the target eos id."""
    if src_pieces is None:
        if model.src_tokens is None:
            raise ValueError("copy_map needs the source pieces or set_special_ids(..., src_vocab)")
        src_pieces = [model.src_tokens[i] for i in src_ids]
    src_pieces = list(src_pieces)
    if len(src_pieces) != len(src_ids):
        raise ValueError("%d source pieces for %d source ids" % (len(src_pieces), len(src_ids)))
    tv = model.tgt_vocab
    V = model.decoder.out.out_features
    append_eos = model.config["encoder"]["append_eos"]
    m, extended = [], []
    for j, piece in enumerate(src_pieces):
        if append_eos and j == len(src_pieces) - 1:
            m.append(model.eos_id)
        elif piece in tv:
            m.append(tv[piece])
        else:
            if piece not in extended:
                extended.append(piece)
            m.append(V + extended.index(piece))
    return m, extended


def target_ids(model, tokens, src_ids=None, src_pieces=None):
    """Target token strings -> ids; for a copy model a token the target
    vocabulary lacks that is a piece of the source gets its extended id
    (section 9.4). KeyError names any other unknown token."""
    extended = copy_map(model, src_ids, src_pieces)[1] if model.features["copy"] else []
    V = model.decoder.out.out_features
    out = []
    for t in tokens:
        if t in model.tgt_vocab:
            out.append(model.tgt_vocab[t])
        elif t in extended:
            out.append(V + extended.index(t))
        else:
            raise KeyError("unknown target token %r" % t)
    return out


def token_string(model, tok_id, extended=()):
    """The string of a target id: a target-vocabulary token or the source
    piece of an extended id."""
    V = model.decoder.out.out_features
    if tok_id >= V:
        return extended[tok_id - V]
    inv = getattr(model, "_tgt_inv", None)
    if inv is None or len(inv) != len(model.tgt_vocab):
        inv = model._tgt_inv = {i: t for t, i in model.tgt_vocab.items()}
    return inv[tok_id]


# -- one sentence's decoding state ------------------------------------------------

class _Rows:
    """The decoder state of B hypotheses of one sentence: RNN state, input
    feeding vector, coverage (section 9.1)."""

    def __init__(self, state, feed, cov):
        self.state, self.feed, self.cov = state, feed, cov

    def select(self, idx):
        return _Rows(select_state(self.state, idx),
                     self.feed[idx].contiguous() if self.feed is not None else None,
                     self.cov[idx].contiguous() if self.cov is not None else None)


class _Sentence:
    """Everything decoding one source needs: memory, initial rows, the copy
    map and the width of a log-probability row."""

    def __init__(self, model, src_ids, src_pieces=None):
        memory, state = encode(model, src_ids)
        self.model = model
        self.memory = memory
        self.n = memory.shape[0]
        cov = torch.zeros(1, self.n) if model.features["coverage"] else None
        self.rows = _Rows(state, init_feed(model, 1), cov)
        self.V = model.decoder.out.out_features
        if model.features["copy"]:
            self.m, self.extended = copy_map(model, src_ids, src_pieces)
        else:
            self.m, self.extended = None, []
        self.width = self.V + len(self.extended)

    def step(self, rows, y_prev, t):
        """Step t (1-based) for the rows continuing tokens y_prev (list) ->
        (logprobs (B, width), alpha (B, n), new rows)."""
        B = len(y_prev)
        mem = self.memory.unsqueeze(0).expand(B, -1, -1)
        copy = None
        if self.m is not None:
            copy = (torch.tensor(self.m, dtype=torch.long).unsqueeze(0).expand(B, -1), self.width)
        lp, alpha, state, feed = self.model.step(torch.tensor(y_prev), rows.state, rows.feed, mem,
                                                 t=t, cov=rows.cov, copy=copy)
        cov = rows.cov + alpha if rows.cov is not None else None
        return lp, alpha, _Rows(state, feed, cov)


def number_ids(model, src_ids, src_pieces=None):
    """keep_numbers (an s2s decoding option): the distinct target ids that
    a hypothesis must hold before it may end: those of the source pieces made
    only of the digits 0-9, except digits after a separator ("4" of "23,4",
    number_after_separator) (their extended ids in a copy model; in another
    model the target-vocabulary ids of their source tokens, when the target
    vocabulary has them: there each source id stands for its source token,
    so an unk source token is no number). Without `src_pieces`, each source
    id stands for its source token in a copy model too."""
    return _numbers(model, src_ids, src_pieces)[0]


GLUE_WORD, GLUE_SEPARATOR, GLUE_DIGIT = 1, 2, 4
# keep numbers, beam search: a number whose log-probability is below this is
# not added to the candidates (its probability would be no normal float,
# which the engine may flush to zero)
MIN_FORCED_LOGPROB = -87.0
JOINER = "\uffed"


def piece_glue(piece):
    """How a piece joins the piece before it (keep numbers): GLUE_WORD when
    it starts with the joiner and then a letter or digit (Unicode categories
    L and N), GLUE_SEPARATOR for a ",", "." or ":" joined on both sides, GLUE_DIGIT
    when it begins with 0-9 (after a joiner if it has one)."""
    joined = piece.startswith(JOINER)
    body = piece[1:] if joined else piece
    glue = 0
    if joined and body and unicodedata.category(body[0])[0] in "LN":
        glue |= GLUE_WORD
    if joined and len(body) == 2 and body[0] in ",.:" and body[1] == JOINER:
        glue |= GLUE_SEPARATOR
    if body and body[0] in "0123456789":
        glue |= GLUE_DIGIT
    return glue


def number_continued(glue, s):
    """1 when the number at position s of a piece sequence (glue classes
    `glue`) is continued by what follows: a GLUE_WORD piece, or a
    GLUE_SEPARATOR piece and then a GLUE_DIGIT one ("2" in "2 ￭1 ￭st", "100"
    in "100 ￭,￭ 000")."""
    if s + 1 >= len(glue):
        return False
    if glue[s + 1] & GLUE_WORD:
        return True
    return bool(glue[s + 1] & GLUE_SEPARATOR) and s + 2 < len(glue) and bool(glue[s + 2] & GLUE_DIGIT)


def number_after_separator(glue, s):
    """True when the piece at position s (glue classes `glue`) ends a longer
    number: it follows a GLUE_SEPARATOR piece that follows a GLUE_DIGIT one
    (the "4" of "23 ￭,￭ 4", the "30" of "10 ￭:￭ 30")."""
    return s >= 2 and bool(glue[s - 1] & GLUE_SEPARATOR) and bool(glue[s - 2] & GLUE_DIGIT)


def _numbers(model, src_ids, src_pieces=None):
    """(number_ids, alone): alone[k] when the source writes number k alone
    at least once (number_continued is false there). Digits after a
    separator are part of a longer number, not a number of their own."""
    copy = model.features["copy"]
    if src_pieces is None or not copy:
        if model.src_tokens is None:
            raise ValueError("number_ids needs the source pieces or set_special_ids(..., src_vocab)")
        src_pieces = [model.src_tokens[i] for i in src_ids]
    m = copy_map(model, src_ids, src_pieces)[0] if copy else None
    glue = [piece_glue(p) for p in src_pieces]
    out, alone = [], []
    for j, piece in enumerate(src_pieces):
        if not re.fullmatch(r"[0-9]+", piece) or number_after_separator(glue, j):
            continue
        tid = m[j] if m is not None else model.tgt_vocab.get(piece)
        if tid is None:
            continue
        if tid not in out:
            out.append(tid)
            alone.append(False)
        if not number_continued(glue, j):
            alone[out.index(tid)] = True
    return out, alone


class _NumberRule:
    """keep_numbers of one input: its numbers, which the source writes
    alone, and the glue class of every target id (extended ids included)."""

    def __init__(self, model, src_ids, src_pieces, extended):
        self.numbers, self.alone = _numbers(model, src_ids, src_pieces)
        cached = getattr(model, "_target_glue", None)
        if cached is None or cached[0] is not model.tgt_vocab:  # made again for another vocabulary
            table = [0] * len(model.tgt_vocab)
            for piece, i in model.tgt_vocab.items():
                table[i] = piece_glue(piece)
            cached = model._target_glue = (model.tgt_vocab, table)
        table = cached[1]
        self.glue = table + [piece_glue(p) for p in extended]

    def held(self, tokens):
        """[k]: tokens hold number k: its id occurs where, when the source
        writes it alone, it stands alone: the tokens after it do not continue
        it, and it does not end a longer number (number_after_separator)."""
        glue = [self.glue[y] for y in tokens]
        out = [False] * len(self.numbers)
        for s, y in enumerate(tokens):
            if y in self.numbers:
                k = self.numbers.index(y)
                if not (self.alone[k] and (number_continued(glue, s) or number_after_separator(glue, s))):
                    out[k] = True
        return out

    def lacks_one(self, tokens):
        return not all(self.held(tokens))


def _block_ngrams(vals, tokens, N):
    """Section 9.5 no_repeat_ngram: -inf (in place, list `vals`) for every
    token that would complete an N-gram already in `tokens`."""
    if N < 1 or len(tokens) < N - 1:
        return
    tail = tokens[len(tokens) - (N - 1):] if N > 1 else []
    for s in range(len(tokens) - N + 1):
        if tokens[s:s + N - 1] == tail:
            vals[tokens[s + N - 1]] = -math.inf


def coverage_penalty(rows, beta):
    """GNMT coverage penalty (section 9.5) of a hypothesis' attention rows:
    beta * sum_j log(min(1, sum_t alpha_tj)), log 0 = -inf."""
    if not beta:
        return 0.0
    total = 0.0
    for j in range(len(rows[0]) if rows else 0):
        s = sum(r[j] for r in rows)
        m = min(1.0, s)
        total += math.log(m) if m > 0 else -math.inf
    return beta * total


# --------------------------------------------------------------------------
# decoding (model-format.md sections 6 and 9.5), one sentence
# --------------------------------------------------------------------------

def greedy(model, src_ids, max_length=None, **options):
    """Greedy decoding (arg-max, lower id on exact ties) for at most
    max_length steps -> (tokens without eos, score, attention rows).
    `options` as greedy_full."""
    g = greedy_full(model, src_ids, max_length, **options)
    return g["tokens"], g["score"], g["attention"]


def greedy_full(model, src_ids, max_length=None, src_pieces=None, no_repeat_ngram=0,
                prefix=None, keep_numbers=False):
    """Like greedy, returning a dict with tokens, score, attention,
    token_logprobs, finished, extended (a copy model's extended pieces) and
    min_margin (smallest nonzero gap between the best log-probability and
    any other over the free steps, to detect near ties; exact ties are
    decided by the lower-id rule and not counted). `src_pieces`: the source
    pieces of a copy model (section 9.4); `no_repeat_ngram` N and the target
    `prefix` (ids, forced first) of section 9.5; `keep_numbers`: eos is not
    allowed while a number_ids token is missing from the hypothesis, and
    when that leaves the output unfinished, the source is decoded again
    without keep_numbers."""
    sos, eos = _special_ids(model)
    prefix = list(prefix or [])
    if eos in prefix:
        raise ValueError("a target prefix may not hold eos")
    numbers = number_ids(model, src_ids, src_pieces) if keep_numbers else []
    if numbers:
        kept = _greedy(model, src_ids, max_length, src_pieces, no_repeat_ngram, prefix, numbers, sos, eos)
        if kept["finished"]:
            return kept
        # no finished output holds them all: decoded again without them (a
        # near tie in either run may decide the output)
        g = _greedy(model, src_ids, max_length, src_pieces, no_repeat_ngram, prefix, [], sos, eos)
        g["min_margin"] = min(g["min_margin"], kept["min_margin"])
        return g
    return _greedy(model, src_ids, max_length, src_pieces, no_repeat_ngram, prefix, [], sos, eos)


def _greedy(model, src_ids, max_length, src_pieces, no_repeat_ngram, prefix, numbers, sos, eos):
    with torch.inference_mode():
        sent = _Sentence(model, src_ids, src_pieces)
        rule = _NumberRule(model, src_ids, src_pieces, sent.extended) if numbers else None
        steps = max_steps(model, len(src_ids), max_length)
        rows = sent.rows
        y = sos
        tokens, att, lps = [], [], []
        score = 0.0
        finished = False
        margin = float("inf")
        for t in range(1, steps + 1):
            lp, alpha, rows = sent.step(rows, [y], t)
            vals = lp[0].tolist()
            if t <= len(prefix):
                best = prefix[t - 1]
            else:
                if rule and rule.lacks_one(tokens):
                    vals[eos] = -math.inf
                if no_repeat_ngram:
                    _block_ngrams(vals, tokens, no_repeat_ngram)
                best = max(range(len(vals)), key=lambda i: (vals[i], -i))
                if len(vals) > 1:
                    others = [v for v in vals if v != vals[best]]
                    if others:
                        margin = min(margin, vals[best] - max(others))
            score += vals[best]
            lps.append(vals[best])
            att.append(alpha[0].tolist())
            y = best
            if best == eos:
                finished = True
                break
            tokens.append(best)
        return dict(tokens=tokens, score=score, attention=att, token_logprobs=lps,
                    finished=finished, min_margin=margin, extended=list(sent.extended))


def gnmt_lp(length, alpha):
    """The GNMT length penalty divisor ((5 + length) / 6) ** alpha (1 for alpha 0)."""
    return ((5.0 + length) / 6.0) ** alpha if alpha else 1.0


def beam_search(model, src_ids, beam, n_best=1, max_length=None, length_penalty=0.0,
                tie_eps=None, tie_report=None, src_pieces=None, no_repeat_ngram=0,
                coverage_penalty_beta=0.0, prefix=None, keep_numbers=False):
    """Beam search exactly as model-format.md sections 6 and 9.5. Returns up to n_best
    hypotheses (dicts: tokens without eos, score, ranking_score, finished,
    attention rows, token_logprobs), finished ones first, each group ordered
    by ranking score. When `tie_report` (a list) and `tie_eps` are given, a
    description is appended for every place where two different values
    within tie_eps decided something: candidate ranks around the cut (among
    the first k+1), the order of the n-best list, and the early-stop
    comparison. Exactly equal candidate scores are not reported: the spec's
    tie rules (earlier live hypothesis, then lower token id) decide those;
    equal ranking scores in the n-best list are (the spec leaves their order
    open), with notes starting "order:".
    Section 9: `src_pieces` (copy models), `no_repeat_ngram` N (free steps
    only), `coverage_penalty_beta` (a finished hypothesis ranks by score / lp
    + cp), `prefix` target ids forced first; `keep_numbers` as greedy_full
    (decoded again without it when no hypothesis finished). A token of
    log-probability -inf is never a candidate."""
    sos, eos = _special_ids(model)
    k = int(beam)
    if k < 1 or n_best < 1 or n_best > k:
        raise ValueError("need 1 <= n_best <= beam")
    alpha = float(length_penalty)
    beta = float(coverage_penalty_beta)
    prefix = list(prefix or [])
    if eos in prefix:
        raise ValueError("a target prefix may not hold eos")
    numbers = number_ids(model, src_ids, src_pieces) if keep_numbers else []
    if numbers:
        kept = _beam(model, src_ids, k, n_best, max_length, alpha, beta, tie_eps, tie_report, src_pieces,
                     no_repeat_ngram, prefix, numbers, sos, eos)
        if any(h["finished"] for h in kept):
            return kept
        # decoded again without them; the notes of both searches stay (a near
        # tie in either may decide the output)
    return _beam(model, src_ids, k, n_best, max_length, alpha, beta, tie_eps, tie_report, src_pieces,
                 no_repeat_ngram, prefix, [], sos, eos)


def _beam(model, src_ids, k, n_best, max_length, alpha, beta, tie_eps, tie_report, src_pieces, no_repeat_ngram,
          prefix, numbers, sos, eos):
    """beam_search's search; `numbers`: the ids that must be present before eos
    (held as _NumberRule says)."""

    def note(msg):
        if tie_report is not None:
            tie_report.append(msg)

    with torch.inference_mode():
        sent = _Sentence(model, src_ids, src_pieces)
        rule = _NumberRule(model, src_ids, src_pieces, sent.extended) if numbers else None
        steps = max_steps(model, len(src_ids), max_length)
        # live hypothesis: (tokens, score, rows, logprobs); states batched
        live = [([], 0.0, [], [])]
        rows = sent.rows
        last = [sos]
        finished = []
        max_lp = gnmt_lp(steps, alpha)
        for t in range(1, steps + 1):
            lp, att, rows = sent.step(rows, last, t)
            lpl = lp.tolist()
            if t <= len(prefix):  # a forced step of the prefix: one live hypothesis
                v = prefix[t - 1]
                toks, s, arows, lps = live[0]
                live = [(toks + [v], s + lpl[0][v], arows + [att[0].tolist()], lps + [lpl[0][v]])]
                last = [v]
                continue
            if numbers:
                for b in range(len(live)):
                    if rule.lacks_one(live[b][0]):
                        lpl[b][eos] = -math.inf
            if no_repeat_ngram:
                for b in range(len(live)):
                    _block_ngrams(lpl[b], live[b][0], no_repeat_ngram)
            if numbers or no_repeat_ngram:
                lp = torch.tensor(lpl, dtype=lp.dtype)
            if numbers and k > 1:
                live, fin, nxt_idx = _step_by_level(live, lp, lpl, att, k, rule, eos, alpha, beta, t, note, tie_eps)
            else:
                live, fin, nxt_idx = _step_plain(live, lp, lpl, att, k, eos, alpha, beta, t, note, tie_eps)
            finished.extend(fin)
            if not live:
                break
            rows = rows.select(torch.tensor(nxt_idx, dtype=torch.long))
            last = [h[0][-1] for h in live]
            if _search_done(finished, live, n_best, max_lp, t, note, tie_eps):
                live = []
                break
        fin = sorted(finished, key=lambda h: -h["ranking_score"])
        unf = [dict(tokens=toks, score=s, ranking_score=s / gnmt_lp(len(toks), alpha), finished=False,
                    attention=arows, token_logprobs=lps) for toks, s, arows, lps in live]
        unf.sort(key=lambda h: -h["ranking_score"])
        result = (fin + unf)[:n_best]
        if tie_eps is not None:
            allh = fin + unf
            for i in range(min(n_best + 1, len(allh)) - 1):
                if allh[i]["finished"] == allh[i + 1]["finished"] and \
                        abs(allh[i]["ranking_score"] - allh[i + 1]["ranking_score"]) < tie_eps:
                    note("order: n-best ranks %d and %d within %g" % (i, i + 1, tie_eps))
        for h in result:
            h["extended"] = list(sent.extended)
        return result


def _finished(hyp, score, att_row, eos_logprob, alpha, beta):
    """The finished hypothesis that live hypothesis `hyp` makes by ending
    with eos (log-probability eos_logprob, attention att_row) at total
    score `score`: ranked by the length penalty (alpha) and the coverage
    penalty (beta)."""
    toks, _, arows, lps = hyp
    hrows = arows + [att_row.tolist()]
    rank = score / gnmt_lp(len(toks) + 1, alpha)
    if beta:
        rank += coverage_penalty(hrows, beta)
    return dict(tokens=list(toks), score=score, ranking_score=rank, finished=True,
                attention=hrows, token_logprobs=lps + [eos_logprob])


def _step_plain(live, lp, lpl, att, k, eos, alpha, beta, t, note, tie_eps):
    """One step of plain beam search with beam k: the candidates are every
    live hypothesis' tokens, ranked by score, then earlier hypothesis, then
    lower token; an eos among the first k finishes, and the first k others
    are the new live list. -> (live, finished, parent indices)."""
    finished = []
    V = len(lpl[0])
    # Candidate scores in float64 (the same sums as Python floats).
    # Only the first 2k ranks can matter (at most B <= k of them end
    # in eos), so keep every candidate scoring at least the 2k-th
    # best (ties at the cut included) and rank those exactly.
    base = torch.tensor([h[1] for h in live], dtype=torch.float64)
    by_logprob = k == 1 and live[0][1] == -math.inf
    if by_logprob:
        # width 1 is greedy (section 6): after a prefix token of probability
        # 0, the tokens rank by log p alone (their scores stay -inf)
        base = torch.zeros(1, dtype=torch.float64)
    total = (base.unsqueeze(1) + lp.double()).view(-1)
    m = min(2 * k, total.numel())
    cut = torch.topk(total, m).values[-1]
    keep = total >= cut
    if cut == -math.inf:  # fewer than 2k possible tokens: never a -inf one
        keep = keep & (total > -math.inf)
    sel = keep.nonzero().view(-1).tolist()
    cands = [(sc, i // V, i % V) for sc, i in zip(total[sel].tolist(), sel)]
    cands.sort(key=lambda c: (-c[0], c[1], c[2]))
    if by_logprob:
        cands = [(-math.inf, b, v) for _, b, v in cands]
    if tie_eps is not None:
        for i in range(min(k + 1, len(cands)) - 1):
            if 0 < abs(cands[i][0] - cands[i + 1][0]) < tie_eps:
                note("step %d: ranks %d and %d within %g" % (t, i, i + 1, tie_eps))
    nxt, nxt_idx = [], []
    for r, (s, b, v) in enumerate(cands):
        if r >= k and len(nxt) >= k:
            break
        toks, _, arows, lps = live[b]
        if v == eos:
            if r < k:
                finished.append(_finished(live[b], s, att[b], lpl[b][v], alpha, beta))
            continue
        if len(nxt) < k:
            nxt.append((toks + [v], s, arows + [att[b].tolist()], lps + [lpl[b][v]]))
            nxt_idx.append(b)
    return nxt, finished, nxt_idx


def _search_done(finished, live, n_best, max_lp, t, note, tie_eps):
    """True when n_best hypotheses have finished and none of the live ones
    can rank above the n_best-th (its score over the largest length
    penalty it could still get, max_lp)."""
    if len(finished) < n_best:
        return False
    nth = sorted(finished, key=lambda h: -h["ranking_score"])[n_best - 1]["ranking_score"]
    bound = max(h[1] for h in live) / max_lp
    if tie_eps is not None and 0 < abs(bound - nth) < tie_eps:
        note("step %d: early-stop bound within %g" % (t, tie_eps))
    return not bound > nth


def _step_by_level(live, lp, lpl, att, k, rule, eos, alpha, beta, t, note, tie_eps):
    """One beam step of keep_numbers with beam k > 1 (model-format.md
    section 9.5, s2s addition): the k slots are shared among the levels
    0..C (how many of the C numbers of `rule` a hypothesis holds, with the
    token it would add). Candidates: each
    live hypothesis' best 2k tokens (score, then lower token id) and each
    number it lacks whose log-probability is at least MIN_FORCED_LOGPROB;
    ranked by score, then
    earlier hypothesis, then lower token. An eos finishes when it is among
    the first k candidates of level C. Level l takes its best non-eos
    candidates up to k // (C + 1), plus one for the k % (C + 1) highest
    levels; slots left empty go to the best candidates not yet taken. The new
    live list is in rank order. -> (live, finished, parent indices)."""
    numbers = rule.numbers
    C = len(numbers)
    width = len(lpl[0])
    held = [rule.held(h[0]) for h in live]
    cands = []
    for b, h in enumerate(live):
        total = h[1] + lp[b].double()
        m = min(2 * k, width)
        cut = torch.topk(total, m).values[-1]
        keep = (total >= cut) & (total > -math.inf)
        sel = keep.nonzero().view(-1).tolist()
        own = sorted(((h[1] + lpl[b][v], b, v) for v in sel), key=lambda c: (-c[0], c[2]))[:2 * k]
        listed = {c[2] for c in own}
        for j, n in enumerate(numbers):
            if not held[b][j] and n not in listed and lpl[b][n] >= MIN_FORCED_LOGPROB:
                own.append((h[1] + lpl[b][n], b, n))
        cands.extend(own)
    cands.sort(key=lambda c: (-c[0], c[1], c[2]))
    if tie_eps is not None:
        for i in range(len(cands) - 1):
            if 0 < abs(cands[i][0] - cands[i + 1][0]) < tie_eps:
                note("step %d: level candidates %d and %d within %g" % (t, i, i + 1, tie_eps))
    lev = [sum(rule.held(live[b][0] + [v])) for _, b, v in cands]
    finished = []
    top = 0
    for r, (s, b, v) in enumerate(cands):
        if lev[r] != C:
            continue
        if top >= k:
            break
        top += 1
        if v == eos:
            finished.append(_finished(live[b], s, att[b], lpl[b][v], alpha, beta))
    taken = [False] * len(cands)
    chosen = 0
    for lv in range(C, -1, -1):
        share = k // (C + 1) + (1 if C - lv < k % (C + 1) else 0)
        for r, (s, b, v) in enumerate(cands):
            if share == 0:
                break
            if lev[r] == lv and v != eos:
                taken[r] = True
                share -= 1
                chosen += 1
    for r, (s, b, v) in enumerate(cands):
        if chosen >= k:
            break
        if not taken[r] and v != eos:
            taken[r] = True
            chosen += 1
    nxt, idx = [], []
    for r, (s, b, v) in enumerate(cands):
        if taken[r]:
            toks, _, arows, lps = live[b]
            nxt.append((toks + [v], s, arows + [att[b].tolist()], lps + [lpl[b][v]]))
            idx.append(b)
    return nxt, finished, idx


def teacher_forced(model, src_ids, tgt_ids, src_pieces=None):
    """Per-step log-probability rows (over the extended vocabulary of a copy
    model) and attention rows of the model fed sos, tgt_ids[0], ... (one step
    per tgt id) -> (list of (width,) tensors, list of (n,) tensors)."""
    sos, _ = _special_ids(model)
    with torch.inference_mode():
        sent = _Sentence(model, src_ids, src_pieces)
        rows = sent.rows
        y = sos
        lps, atts = [], []
        for t, tok in enumerate(tgt_ids, start=1):
            lp, alpha, rows = sent.step(rows, [y], t)
            lps.append(lp[0].clone())
            atts.append(alpha[0].clone())
            y = tok
    return lps, atts


def force(model, src_ids, tgt_ids, src_pieces=None):
    """Forced decoding of `tgt_ids` (without eos; eos is added; extended ids
    allowed for a copy model, see target_ids), no length limit -> (score,
    per-step log-probabilities incl. eos, attention rows)."""
    sos, eos = _special_ids(model)
    with torch.inference_mode():
        sent = _Sentence(model, src_ids, src_pieces)
        rows = sent.rows
        y = sos
        score, lps, att = 0.0, [], []
        for t, tok in enumerate(list(tgt_ids) + [eos], start=1):
            lp, alpha, rows = sent.step(rows, [y], t)
            v = float(lp[0, tok])
            score += v
            lps.append(v)
            att.append(alpha[0].tolist())
            y = tok
        return score, lps, att
