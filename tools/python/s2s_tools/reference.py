"""s2s_tools.reference - the float32 PyTorch reference of the s2s model format, version 1.

This module implements section 4 (architecture) and section 6 (decoding
semantics) of docs/model-format.md with torch's own modules, so that
a model's state_dict names are exactly the tensor names of the model format:

    encoder.embedding.weight              nn.Embedding(V_src, emb_e)
    encoder.rnn.*                         nn.GRU / nn.LSTM, batch_first=True
    bridge.{weight,bias}                  nn.Linear(D, H_d)        (mean_tanh only)
    decoder.embedding.weight              nn.Embedding(V_tgt, emb_d)
    decoder.rnn.*                         nn.GRU / nn.LSTM, batch_first=True
    decoder.attention.{Wa,Ua,Va}.*        bahdanau
    decoder.attention.Wa.weight           general (no bias)
    decoder.attention_out.{weight,bias}   after_rnn (bias optional)
    decoder.out.{weight,bias}             nn.Linear(H_d, V_tgt)

Public functions
    apply_defaults(config) -> config with every default of section 4 filled in
    Seq2Seq(config, V_src, V_tgt, attention_out_bias=True)   the nn.Module
    set_special_ids(model, tgt_vocab)             records sos/eos ids for decoding
    model_from_state_dict(config, state_dict, tgt_vocab=None)
                                                  builds + loads (sizes, bias detected)
    load_model_dir(path) -> (model, config, src_vocab, tgt_vocab)
    save_model_dir(path, model_or_state_dict, config, src_vocab, tgt_vocab,
                   dtype="F32", extra_files={})
    read_safetensors(path) -> (dict name -> float32 tensor, dtypes, metadata)
    write_safetensors(path, tensors, dtype="F32", metadata=None)
    encode(model, src_ids) -> (memory (n, D), initial decoder state)
    greedy(model, src_ids, max_length=None) -> (tokens, score, attention rows)
    greedy_full(model, src_ids, max_length=None) -> dict (also token_logprobs,
        finished, min_margin: the smallest best-vs-runner-up gap, for near ties)
    beam_search(model, src_ids, beam, n_best, max_length=None, length_penalty=0)
        -> [{"tokens", "score", "ranking_score", "finished", "attention",
             "token_logprobs"}], best first
    force(model, src_ids, tgt_ids) -> (score, per-step logprobs, attention rows)
    source_ids(tokens, src_vocab, config) -> ids with eos appended as configured
    write_config(path, config)                    config.json as save_model_dir writes it

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
import struct

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

CHECKPOINT_FORMAT = "s2s-train-checkpoint"

_CELLS = ("gru", "lstm")
_BRIDGES = ("final", "zeros", "mean_tanh")
_ATTENTIONS = ("bahdanau", "dot", "scaled_dot", "general")
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
    default of model-format.md section 4 filled in, after checking the keys this module
    uses. Raises ValueError naming the key on a missing required key or a
    wrong value."""
    c = json.loads(json.dumps(config))
    if c.get("format") != "s2s-rnn":
        raise ValueError("config: format must be \"s2s-rnn\", not %r" % c.get("format"))
    if c.get("format_version") != 1:
        raise ValueError("config: format_version must be 1, not %r" % c.get("format_version"))
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
    att.setdefault("type", "bahdanau")
    att.setdefault("position", "before_rnn")
    att.setdefault("size", dec["hidden_size"])
    _check_choice(att["type"], _ATTENTIONS, "decoder.attention.type")
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
    return c


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
    """Attention score parameters: Wa/Ua/Va (bahdanau), Wa without bias
    (general), none (dot, scaled_dot)."""

    def __init__(self, kind, query_size, memory_size, size):
        super().__init__()
        self.kind = kind
        self.query_size = query_size
        if kind == "bahdanau":
            self.Wa = nn.Linear(query_size, size)
            self.Ua = nn.Linear(memory_size, size)
            self.Va = nn.Linear(size, 1)
        elif kind == "general":
            self.Wa = nn.Linear(memory_size, query_size, bias=False)

    def forward(self, q, memory):
        """q (B, H_d), memory (B, n, D) -> (alpha (B, n), context (B, D))."""
        if self.kind == "bahdanau":
            e = self.Va(torch.tanh(self.Wa(q).unsqueeze(1) + self.Ua(memory))).squeeze(2)
        elif self.kind == "general":
            e = torch.bmm(self.Wa(memory), q.unsqueeze(2)).squeeze(2)
        else:
            e = torch.bmm(memory, q.unsqueeze(2)).squeeze(2)
            if self.kind == "scaled_dot":
                e = e / math.sqrt(self.query_size)
        alpha = torch.softmax(e, dim=1)
        context = torch.bmm(alpha.unsqueeze(1), memory).squeeze(1)
        return alpha, context


class Decoder(nn.Module):
    """Target embedding, attention, RNN, optional attention_out, output layer."""

    def __init__(self, vocab_size, dec, memory_size, attention_out_bias=True):
        super().__init__()
        att = dec["attention"]
        self.position = att["position"]
        self.input_feeding = bool(dec["input_feeding"]) and self.position == "after_rnn"
        self.hidden_size = dec["hidden_size"]
        self.embedding = nn.Embedding(vocab_size, dec["embedding_size"])
        self.attention = Attention(att["type"], dec["hidden_size"], memory_size, att["size"])
        if self.position == "before_rnn":
            rnn_in = dec["embedding_size"] + memory_size
        else:
            rnn_in = dec["embedding_size"] + (dec["hidden_size"] if self.input_feeding else 0)
        self.rnn = _rnn(dec["cell"], rnn_in, dec["hidden_size"], dec["num_layers"])
        if self.position == "after_rnn":
            self.attention_out = nn.Linear(memory_size + dec["hidden_size"], dec["hidden_size"],
                                           bias=attention_out_bias)
        self.out = nn.Linear(dec["hidden_size"], vocab_size)

    def step(self, y_prev, state, feed, attend):
        """One decoder step for a batch of B rows: y_prev LongTensor (B,),
        state (L,B,H) or (h,c), feed (B,H_d) or None, attend(q (B,H_d)) ->
        (alpha (B,n), context (B,D)) -> (logprobs (B,V), alpha, state, feed;
        feed is None without input feeding)."""
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
        logprobs = F.log_softmax(self.out(o), dim=1)
        return logprobs, alpha, state, feed


class Seq2Seq(nn.Module):
    """The model format's model, built from a config.json object (defaults applied
    here; kept as self.config) and the two vocabulary sizes.
    `attention_out_bias` chooses whether decoder.attention_out has a bias
    (after_rnn only). Decoding functions also need the target sos/eos ids:
    set them with set_special_ids(model, tgt_vocab)."""

    def __init__(self, config, source_vocab_size, target_vocab_size,
                 attention_out_bias=True):
        super().__init__()
        c = apply_defaults(config)
        self.config = c
        self.sos_id = None   # target ids, set by set_special_ids()
        self.eos_id = None
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
    def step(self, y_prev, state, feed, memory):
        """y_prev LongTensor (B,), state (L,B,H) or (h,c), feed (B,H_d) or None,
        memory (B, n, D) -> (logprobs (B,V), alpha (B,n), state, feed)."""
        att = self.decoder.attention
        return self.decoder.step(y_prev, state, feed, lambda q: att(q, memory))


def model_from_state_dict(config, state_dict, source_vocab_size=None, target_vocab_size=None,
                          tgt_vocab=None):
    """Builds a Seq2Seq for `config` whose vocabulary sizes and attention_out
    bias come from `state_dict` (unless given), loads the weights strictly
    (extra tensors are ignored, as the model format says), records sos/eos ids when
    `tgt_vocab` is given, and returns it in eval mode in float32."""
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
        set_special_ids(model, tgt_vocab)
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
    set_special_ids(model, tgt_vocab)
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


def set_special_ids(model, tgt_vocab):
    """Records the target sos/eos ids of `tgt_vocab` on the model (needed by
    greedy, beam_search and force). load_model_dir and
    model_from_state_dict(..., tgt_vocab=...) do this themselves."""
    special = model.config["special_tokens"]
    model.sos_id = tgt_vocab[special["sos"]]
    model.eos_id = tgt_vocab[special["eos"]]
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


def greedy(model, src_ids, max_length=None):
    """Greedy decoding (arg-max, lower id on exact ties) for at most
    max_length steps -> (tokens without eos, score, attention rows)."""
    _, _, _, tokens, score, rows, _ = _greedy_full(model, src_ids, max_length)
    return tokens, score, rows


def greedy_full(model, src_ids, max_length=None):
    """Like greedy, returning a dict with tokens, score, attention,
    token_logprobs, finished and min_margin (smallest nonzero gap between
    the best log-probability and any other over the steps, to detect near
    ties; exact ties are decided by the lower-id rule and not counted)."""
    _, _, _, tokens, score, rows, extra = _greedy_full(model, src_ids, max_length)
    return dict(tokens=tokens, score=score, attention=rows, **extra)


def _greedy_full(model, src_ids, max_length):
    sos, eos = _special_ids(model)
    with torch.inference_mode():
        memory, state = encode(model, src_ids)
        mem = memory.unsqueeze(0)
        steps = max_steps(model, len(src_ids), max_length)
        feed = init_feed(model, 1)
        y = sos
        tokens, rows, lps = [], [], []
        score = 0.0
        finished = False
        margin = float("inf")
        for _ in range(steps):
            lp, alpha, state, feed = model.step(torch.tensor([y]), state, feed, mem)
            lp = lp[0]
            vals = lp.tolist()
            best = max(range(len(vals)), key=lambda i: (vals[i], -i))
            if len(vals) > 1:
                others = [v for v in vals if v != vals[best]]
                if others:
                    margin = min(margin, vals[best] - max(others))
            score += vals[best]
            lps.append(vals[best])
            rows.append(alpha[0].tolist())
            y = best
            if best == eos:
                finished = True
                break
            tokens.append(best)
        return sos, eos, steps, tokens, score, rows, dict(
            token_logprobs=lps, finished=finished, min_margin=margin)


def gnmt_lp(length, alpha):
    """The GNMT length penalty divisor ((5 + length) / 6) ** alpha (1 for alpha 0)."""
    return ((5.0 + length) / 6.0) ** alpha if alpha else 1.0


def beam_search(model, src_ids, beam, n_best=1, max_length=None, length_penalty=0.0,
                tie_eps=None, tie_report=None):
    """Beam search exactly as model-format.md section 6. Returns up to n_best hypotheses
    (dicts: tokens without eos, score, ranking_score, finished, attention
    rows, token_logprobs), finished ones first, each group ordered by
    ranking score. When `tie_report` (a list) and `tie_eps` are given, a
    description is appended for every place where two different values
    within tie_eps decided something: candidate ranks around the cut (among
    the first k+1), the order of the n-best list, and the early-stop
    comparison. Exactly equal candidate scores are not reported: the model format's
    tie rules (earlier live hypothesis, then lower token id) decide those;
    equal ranking scores in the n-best list are (the model format leaves their order
    open), with notes starting "order:"."""
    sos, eos = _special_ids(model)
    k = int(beam)
    if k < 1 or n_best < 1 or n_best > k:
        raise ValueError("need 1 <= n_best <= beam")
    alpha = float(length_penalty)

    def note(msg):
        if tie_report is not None:
            tie_report.append(msg)

    with torch.inference_mode():
        memory, state0 = encode(model, src_ids)
        steps = max_steps(model, len(src_ids), max_length)
        # live hypothesis: (tokens, score, rows, logprobs); states batched
        live = [([], 0.0, [], [])]
        state = state0
        feed = init_feed(model, 1)
        last = [sos]
        finished = []
        max_lp = gnmt_lp(steps, alpha)
        for t in range(1, steps + 1):
            B = len(live)
            mem = memory.unsqueeze(0).expand(B, -1, -1)
            lp, att, state, feed = model.step(torch.tensor(last), state, feed, mem)
            lpl = lp.tolist()
            V = len(lpl[0])
            # Candidate scores in float64 (the same sums as Python floats).
            # Only the first 2k ranks can matter (at most B <= k of them end
            # in eos), so keep every candidate scoring at least the 2k-th
            # best (ties at the cut included) and rank those exactly.
            base = torch.tensor([h[1] for h in live], dtype=torch.float64)
            total = (base.unsqueeze(1) + lp.double()).view(-1)
            m = min(2 * k, total.numel())
            cut = torch.topk(total, m).values[-1]
            sel = (total >= cut).nonzero().view(-1).tolist()
            cands = [(sc, i // V, i % V) for sc, i in zip(total[sel].tolist(), sel)]
            cands.sort(key=lambda c: (-c[0], c[1], c[2]))
            if tie_eps is not None:
                for i in range(min(k + 1, len(cands)) - 1):
                    if 0 < abs(cands[i][0] - cands[i + 1][0]) < tie_eps:
                        note("step %d: ranks %d and %d within %g" % (t, i, i + 1, tie_eps))
            nxt, nxt_idx = [], []
            for r, (s, b, v) in enumerate(cands):
                if r >= k and len(nxt) >= k:
                    break
                toks, _, rows, lps = live[b]
                if v == eos:
                    if r < k:
                        finished.append(dict(tokens=list(toks), score=s,
                                             ranking_score=s / gnmt_lp(len(toks) + 1, alpha),
                                             finished=True, attention=rows + [att[b].tolist()],
                                             token_logprobs=lps + [lpl[b][v]]))
                    continue
                if len(nxt) < k:
                    nxt.append((toks + [v], s, rows + [att[b].tolist()], lps + [lpl[b][v]]))
                    nxt_idx.append(b)
            live = nxt
            if not live:
                break
            idx = torch.tensor(nxt_idx, dtype=torch.long)
            state = select_state(state, idx)
            if feed is not None:
                feed = feed[idx].contiguous()
            last = [h[0][-1] for h in live]
            if len(finished) >= n_best:
                ranked = sorted(finished, key=lambda h: -h["ranking_score"])
                nth = ranked[n_best - 1]["ranking_score"]
                bound = max(h[1] for h in live) / max_lp
                if tie_eps is not None and 0 < abs(bound - nth) < tie_eps:
                    note("step %d: early-stop bound within %g" % (t, tie_eps))
                if not bound > nth:
                    live = []
                    break
        fin = sorted(finished, key=lambda h: -h["ranking_score"])
        unf = [dict(tokens=toks, score=s, ranking_score=s / gnmt_lp(len(toks), alpha), finished=False,
                    attention=rows, token_logprobs=lps) for toks, s, rows, lps in live]
        unf.sort(key=lambda h: -h["ranking_score"])
        result = (fin + unf)[:n_best]
        if tie_eps is not None:
            allh = fin + unf
            for i in range(min(n_best + 1, len(allh)) - 1):
                if allh[i]["finished"] == allh[i + 1]["finished"] and \
                        abs(allh[i]["ranking_score"] - allh[i + 1]["ranking_score"]) < tie_eps:
                    note("order: n-best ranks %d and %d within %g" % (i, i + 1, tie_eps))
        return result


def force(model, src_ids, tgt_ids):
    """Forced decoding of `tgt_ids` (without eos; eos is added), no length
    limit -> (score, per-step log-probabilities incl. eos, attention rows)."""
    sos, eos = _special_ids(model)
    with torch.inference_mode():
        memory, state = encode(model, src_ids)
        mem = memory.unsqueeze(0)
        feed = init_feed(model, 1)
        y = sos
        score, lps, rows = 0.0, [], []
        for tok in list(tgt_ids) + [eos]:
            lp, alpha, state, feed = model.step(torch.tensor([y]), state, feed, mem)
            v = float(lp[0, tok])
            score += v
            lps.append(v)
            rows.append(alpha[0].tolist())
            y = tok
        return score, lps, rows
