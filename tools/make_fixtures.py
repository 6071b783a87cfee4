#!/usr/bin/python3
"""make_fixtures.py - golden fixtures for the C engine, from the PyTorch reference.

    /usr/bin/python3 tools/make_fixtures.py [--out tests/fixtures/models] [--only NAME]

Writes one spec model directory per fixture (small random-weight models, see
MODELS below) plus expected.json computed by tools/s2s_torch.py from the
model as re-loaded from the written directory (so F16/BF16 fixtures expect
what the rounded weights give). Deterministic: fixed seeds.

expected.json schema
--------------------
{
  "name": "<fixture name>",
  "description": "<what the model covers>",
  "generator": "tools/make_fixtures.py",
  "tolerance": {"attention": 1e-4, "score": 1e-3},
  "source_vocab_size": int, "target_vocab_size": int,
  "sos_id": int, "eos_id": int,                  # target ids
  "cases": [                                     # 5 per model (the last: max_length 2)
    {
      "source": [int, ...],          # encoder input ids, appended eos included
      "max_length": int | null,      # null: pass 0 (config decoding.max_length,
                                     #  else 2 * len(source) + 10);
      "effective_max_length": int,   # the value the reference used
      "greedy": {"tokens": [int], "score": float, "finished": bool,
                 "token_logprobs": [float],      # one per step, eos step included
                 "attention": [[float]],         # steps x len(source)
                 "min_margin": float},           # smallest best-vs-second gap
      "beam": [                      # beam_size 3, n_best 3, length_penalty 0 and 0.6
        {"beam_size": 3, "n_best": 3, "length_penalty": float,
         "ties": bool,               # true: two different values within 1e-4 decided
                                     #  the search (ranks near the cut, early stop);
                                     #  compare lists loosely then. Exactly equal
                                     #  candidates are decided by the spec's tie rules
                                     #  and are not ties here.
         "order_ties": bool,         # true: n-best ranking scores within 1e-4 (or
                                     #  equal): the list order among them is open;
                                     #  compare as a set
         "tie_notes": [str],
         "hyps": [{"tokens": [int], "score": float, "ranking_score": float,
                   "finished": bool, "attention": [[float]],
                   "token_logprobs": [float]}]}   # best first
      ],
      "force": {"target": [int],      # without eos; eos is added by the scorer
                "score": float, "token_logprobs": [float], "attention": [[float]]}
    }
  ],
  "exhaustive": {                    # only in the small-target-vocabulary fixture
    "source": [int], "max_length": int,          # sequences of < max_length tokens + eos
    "beam_size": int,                            # wide enough to keep every prefix
    "best_tokens": [int], "best_score": float}   # the reference's own exhaustive search
}
Token lists exclude the final eos; attention rows include the eos step.
"""

import argparse
import itertools
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import torch  # noqa: E402

import s2s_torch as st  # noqa: E402

TIE_EPS = 1e-4
LETTERS = [chr(c) for c in range(ord("a"), ord("z") + 1)]


def _side(cell="gru", emb=6, hidden=8, layers=1, bi=False, append_eos=True):
    d = {"cell": cell, "embedding_size": emb, "hidden_size": hidden, "num_layers": layers}
    if bi:
        d["bidirectional"] = True
    if not append_eos:
        d["append_eos"] = False
    return d


def _model(name, desc, enc, dec, bridge="final", att="bahdanau", pos="before_rnn", size=None,
           feed=False, out_bias=True, dtype="F32", vs=14, vt=12, unk=False, specials="SOS|EOS",
           eos_last=False, max_length=None, twins=False, scaled=False):
    a = {"type": att, "position": pos}
    if size:
        a["size"] = size
    dec = dict(dec, attention=a)
    if feed:
        dec["input_feeding"] = True
    return dict(name=name, desc=desc, enc=enc, dec=dec, bridge=bridge, out_bias=out_bias,
                dtype=dtype, vs=vs, vt=vt, unk=unk, specials=specials, eos_last=eos_last,
                max_length=max_length, twins=twins, scaled=scaled)


# The covering set (issue 4): cells, layers, directions, bridges, attention
# kinds and positions, input feeding, attention_out bias, dtypes, unk,
# append_eos, special-token placement, config max_length.
MODELS = [
    _model("gru_bahdanau_before", "gru/gru 1 layer, final bridge, bahdanau before_rnn (tutorial-like)",
           _side(), _side()),
    _model("gru_bahdanau_size5", "bahdanau with attention size 5 != hidden 8, different emb sizes",
           _side(emb=4), _side(emb=11), size=5),
    _model("lstm_bahdanau_before", "lstm/lstm final bridge, bahdanau before_rnn",
           _side("lstm"), _side("lstm")),
    _model("gru_bi_bahdanau_before", "bidirectional gru encoder, final bridge (H_d = 2 H_e)",
           _side(hidden=6, bi=True), _side(hidden=12), size=7),
    _model("lstm_bi2_dot_after_feed", "lstm 2 layers bidirectional, final, dot after_rnn, input feeding",
           _side("lstm", hidden=5, layers=2, bi=True), _side("lstm", hidden=10, layers=2), att="dot",
           pos="after_rnn", feed=True),
    _model("gru3_general_after_nobias", "gru 3/3 layers, final, general after_rnn, no attention_out bias",
           _side(layers=3), _side(layers=3), att="general", pos="after_rnn", out_bias=False),
    _model("gru_lstm_zeros_bahdanau", "gru encoder, lstm decoder, zeros bridge, bahdanau before, A=6",
           _side(hidden=7), _side("lstm", hidden=9), bridge="zeros", size=6),
    _model("lstm_bi2_gru_meantanh_bahdanau_after_feed",
           "lstm 2-layer bi encoder -> gru 1-layer decoder, mean_tanh, bahdanau after_rnn, feeding",
           _side("lstm", hidden=4, layers=2, bi=True), _side(hidden=6), bridge="mean_tanh",
           pos="after_rnn", feed=True, size=5),
    _model("gru_gru3_meantanh_general_before", "gru 1 -> gru 3 layers, mean_tanh, general before_rnn",
           _side(hidden=6), _side(hidden=8, layers=3), bridge="mean_tanh", att="general"),
    _model("gru_dot_before", "gru final, dot before_rnn", _side(), _side(), att="dot"),
    _model("lstm_scaled_dot_before", "lstm final, scaled_dot before_rnn",
           _side("lstm", hidden=9), _side("lstm", hidden=9), att="scaled_dot"),
    _model("gru_bi_scaled_dot_after_feed", "gru bi final, scaled_dot after_rnn, feeding, bias",
           _side(hidden=4, bi=True), _side(hidden=8), att="scaled_dot", pos="after_rnn", feed=True),
    _model("lstm_meantanh_general_after_feed_nobias",
           "lstm/lstm mean_tanh, general after_rnn, feeding, no attention_out bias",
           _side("lstm", hidden=7), _side("lstm", hidden=5, layers=2), bridge="mean_tanh",
           att="general", pos="after_rnn", feed=True, out_bias=False),
    _model("gru_bi2_zeros_general_before", "gru 2-layer bi encoder, zeros, general before, H_d != D",
           _side(hidden=5, layers=2, bi=True), _side(hidden=7), bridge="zeros", att="general"),
    _model("gru_dot_after_nofeed_nobias", "gru final, dot after_rnn, no feeding, no bias",
           _side(), _side(), att="dot", pos="after_rnn", out_bias=False),
    _model("lstm_zeros_bahdanau_after_nofeed", "gru enc -> lstm dec, zeros, bahdanau after_rnn, A=4",
           _side(hidden=6), _side("lstm", hidden=8), bridge="zeros", pos="after_rnn", size=4),
    _model("lstm3_bi_final_bahdanau_after_feed", "lstm 3 layers bi, final, bahdanau after, feeding",
           _side("lstm", hidden=3, layers=3, bi=True), _side("lstm", hidden=6, layers=3),
           pos="after_rnn", feed=True),
    _model("lstm_gru2_meantanh_scaled_dot_after", "lstm 1 -> gru 2, mean_tanh, scaled_dot after",
           _side("lstm", hidden=6), _side(hidden=6, layers=2), bridge="mean_tanh",
           att="scaled_dot", pos="after_rnn"),
    _model("gru_bi_zeros_dot_before", "gru bi, zeros, dot before_rnn (D = H_d = 12)",
           _side(hidden=6, bi=True), _side(hidden=12), bridge="zeros", att="dot"),
    _model("lstm2_general_before", "lstm 2/2 final, general before_rnn",
           _side("lstm", layers=2), _side("lstm", layers=2), att="general"),
    _model("gru_big", "gru 16 hidden, vocab 20/20, bahdanau before", _side(emb=12, hidden=16),
           _side(emb=12, hidden=16), vs=20, vt=20),
    _model("f16_gru_bahdanau", "F16 weights, gru bahdanau before", _side(), _side(), dtype="F16"),
    _model("bf16_lstm_after_feed", "BF16 weights, lstm bahdanau after_rnn, feeding",
           _side("lstm"), _side("lstm"), pos="after_rnn", feed=True, dtype="BF16"),
    _model("f16_lstm_bi_meantanh_general", "F16 weights, lstm bi, mean_tanh, general before",
           _side("lstm", hidden=5, bi=True), _side("lstm", hidden=6), bridge="mean_tanh",
           att="general", dtype="F16"),
    _model("bf16_gru3_dot_after", "BF16 weights, gru 3 layers, dot after_rnn",
           _side(layers=3, hidden=6), _side(layers=3, hidden=6), att="dot", pos="after_rnn",
           dtype="BF16"),
    _model("unk_gru", "source and target vocabularies with an unk token (and pad); sources use unk",
           _side(), _side(), unk=True, specials="<s>|</s>"),
    _model("no_append_eos", "encoder.append_eos false: sources without eos", _side(emb=5, hidden=6,
           append_eos=False), _side(emb=5, hidden=6)),
    _model("eos_last_lstm_dot", "special tokens at the end of the vocabularies (eos = V-1)",
           _side("lstm"), _side("lstm"), att="dot", specials="<s>|</s>", eos_last=True),
    _model("config_max_length", "decoding.max_length 7 in config.json (cases pass max_length 0)",
           _side(), _side(), max_length=7),
    _model("medium_gru_bi_bahdanau_f16", "medium size (SIMD blocks and tails): gru bi 2x32 -> "
           "gru 64, vocab 200/150, bahdanau before_rnn A=48, F16",
           _side(emb=32, hidden=32, bi=True), _side(emb=40, hidden=64), size=48, vs=200, vt=150,
           dtype="F16", scaled=True),
    _model("medium_lstm2_general_after_feed_bf16", "medium size: lstm 2x48 -> lstm 2x40, mean_tanh, "
           "general after_rnn with feeding, vocab 120/130, BF16",
           _side("lstm", emb=24, hidden=48, layers=2), _side("lstm", emb=36, hidden=40, layers=2),
           bridge="mean_tanh", att="general", pos="after_rnn", feed=True, vs=120, vt=130,
           dtype="BF16", scaled=True),
    _model("exact_ties_twins", "target tokens 2 and 3 are twins (same embedding, output row and "
           "bias): exact ties decided by the lower id and the earlier live hypothesis",
           _side(), _side(), twins=True),
    _model("exact_ties_twins_lstm_after", "twins (target ids 2, 3) with lstm after_rnn and feeding",
           _side("lstm"), _side("lstm"), pos="after_rnn", feed=True, twins=True),
]


def _vocabs(spec):
    """-> (src_vocab, tgt_vocab, config special_tokens)."""
    sos, eos = spec["specials"].split("|")
    extra = ["<unk>", "<pad>"] if spec["unk"] else []
    specials = [sos, eos] + extra
    out = []
    for size in (spec["vs"], spec["vt"]):
        words = (LETTERS + ["w%d" % i for i in range(size)])[:size - len(specials)]
        toks = words + specials if spec["eos_last"] else specials + words
        out.append({t: i for i, t in enumerate(toks)})
    st_cfg = {"sos": sos, "eos": eos}
    if spec["unk"]:
        st_cfg.update(unk="<unk>", pad="<pad>")
    return out[0], out[1], st_cfg


def _config(spec, special_tokens):
    c = {"format": "s2s-rnn", "format_version": 1, "task": "translation",
         "special_tokens": special_tokens, "encoder": spec["enc"], "decoder": spec["dec"],
         "bridge": spec["bridge"], "tokenizer": {"normalizer": "none", "level": "word"}}
    if spec["max_length"]:
        c["decoding"] = {"max_length": spec["max_length"]}
    return c


def _init(model, seed, eos_id, eos_shift, scaled=False):
    """Random weights, N(0, 1) everywhere (small models: peaked
    distributions, no near ties), or with `scaled` N(0, 1/fan_in) for
    matrices (x3 for the output layer) and N(0, 0.25) for biases: at hidden
    sizes of 32 and more, std-1 recurrent weights make the RNN chaotic, so
    float32 rounding would decide the output."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            r = torch.randn(p.shape, generator=g)
            if scaled and "embedding" not in name:
                if p.dim() == 2:
                    r *= (3.0 if name.startswith("decoder.out.") else 1.0) / p.shape[1] ** 0.5
                else:
                    r *= 0.5
            p.copy_(r)
        model.decoder.out.bias[eos_id] += eos_shift


def _make_twins(model, a, b, boost=1.5):
    """Gives target tokens a and b identical embeddings, output rows and
    biases (raised by `boost` so that they are often chosen)."""
    d = model.decoder
    with torch.no_grad():
        d.embedding.weight[b] = d.embedding.weight[a]
        d.out.bias[a] += boost
        d.out.weight[b] = d.out.weight[a]
        d.out.bias[b] = d.out.bias[a]


def _r(x):
    return float("%.8g" % x)


def _rows(rows):
    return [[_r(v) for v in r] for r in rows]


def _hyp(h):
    return {"tokens": h["tokens"], "score": _r(h["score"]), "ranking_score": _r(h["ranking_score"]),
            "finished": h["finished"], "attention": _rows(h["attention"]),
            "token_logprobs": [_r(v) for v in h["token_logprobs"]]}


def _word_ids(vocab, special_tokens):
    sp = {v for v in special_tokens.values() if v}
    return [i for t, i in sorted(vocab.items(), key=lambda kv: kv[1]) if t not in sp]


def make_case(model, cfg, src, max_length, tgt):
    eff = st._default_max_length(model, len(src), max_length)
    g = st.greedy_full(model, src, eff)
    case = {"source": src, "max_length": max_length, "effective_max_length": eff,
            "greedy": {"tokens": g["tokens"], "score": _r(g["score"]), "finished": g["finished"],
                       "token_logprobs": [_r(v) for v in g["token_logprobs"]],
                       "attention": _rows(g["attention"]), "min_margin": _r(g["min_margin"])},
            "beam": []}
    for lp in (0.0, 0.6):
        notes = []
        hyps = st.beam_search(model, src, 3, 3, eff, lp, tie_eps=TIE_EPS, tie_report=notes)
        search_ties = [n for n in notes if not n.startswith("order:")]
        case["beam"].append({"beam_size": 3, "n_best": 3, "length_penalty": lp,
                             "ties": bool(search_ties),
                             "order_ties": len(search_ties) < len(notes),
                             "tie_notes": notes[:5],
                             "hyps": [_hyp(h) for h in hyps]})
    score, lps, rows = st.force(model, src, tgt)
    case["force"] = {"target": tgt, "score": _r(score), "token_logprobs": [_r(v) for v in lps],
                     "attention": _rows(rows)}
    return case


def _cases(model, cfg, src_vocab, tgt_vocab, rng, spec, n_cases=4):
    sp = cfg["special_tokens"]
    src_words = _word_ids(src_vocab, sp)
    tgt_words = _word_ids(tgt_vocab, sp)
    if spec.get("unk"):
        src_words = src_words + [src_vocab["<unk>"]] * 3
    lengths = [1, 3, 5, 8]
    rng.shuffle(lengths)

    def one(i, n, max_length, r):
        best = None
        for attempt in range(20):
            words = [r.choice(src_words) for _ in range(n)]
            if spec.get("unk") and i == 0 and src_vocab["<unk>"] not in words:
                words[0] = src_vocab["<unk>"]
            src = list(words)
            if cfg["encoder"].get("append_eos", True):
                src.append(src_vocab[sp["eos"]])
            tgt = [r.choice(tgt_words) for _ in range(r.choice([0, 2, 4, 6]) if i else 3)]
            case = make_case(model, cfg, src, max_length, tgt)
            ties = any(b["ties"] or (b["order_ties"] and not spec.get("twins"))
                       for b in case["beam"]) or case["greedy"]["min_margin"] < 10 * TIE_EPS
            if not ties:
                return case
            best = best or case
        return best

    cases = []
    for i, n in enumerate(lengths[:n_cases]):
        max_length = None if (spec["max_length"] or i == n_cases - 1) else rng.choice([6, 9, 12])
        cases.append(one(i, n, max_length, rng))
    # edge case: a search cut after 2 steps (own generator: the cases above
    # stay as they were)
    r2 = random.Random(rng.random())
    cases.append(one(n_cases, r2.randint(1, 4), 2, r2))
    return cases


def _probe_finish_rate(model, src_words, eos_src, rng, append_eos):
    done = 0
    for _ in range(12):
        src = [rng.choice(src_words) for _ in range(rng.randint(1, 8))]
        if append_eos:
            src.append(eos_src)
        g = st.greedy_full(model, src, 12)
        done += g["finished"]
    return done / 12.0


def _twin_uses(exp):
    """How often a fixture's expectations exercise the twin tokens 2 and 3."""
    n = 0
    for c in exp["cases"]:
        n += c["greedy"]["tokens"].count(2)
        for b in c["beam"]:
            n += b["order_ties"] + sum(h["tokens"].count(3) for h in b["hyps"])
    return n


def build_model(spec, out_root, seed):
    """Writes the fixture directory of `spec` and its expected.json; for
    twins, raises the twins' bias until the cases use them."""
    if not spec.get("twins"):
        return _build_model(spec, out_root, seed, 0.0)
    for boost in (1.5, 3.0, 5.0, 8.0):
        exp = _build_model(spec, out_root, seed, boost)
        if _twin_uses(exp) >= 4:
            break
    return exp


def _build_model(spec, out_root, seed, boost):
    src_vocab, tgt_vocab, special_tokens = _vocabs(spec)
    cfg = _config(spec, special_tokens)
    out = os.path.join(out_root, spec["name"])
    if os.path.isdir(out):
        shutil.rmtree(out)
    model = st.Seq2Seq(cfg, len(src_vocab), len(tgt_vocab), attention_out_bias=spec["out_bias"])
    st.set_special_ids(model, tgt_vocab)
    eos = tgt_vocab[special_tokens["eos"]]
    rng = random.Random(seed)
    src_words = _word_ids(src_vocab, special_tokens)
    # choose a shift of the eos logit so that greedy decoding finishes on
    # some inputs but not all (both paths get exercised)
    best_shift, best_gap = 0.0, 2.0
    for shift in (0.0, 1.0, 2.0, 3.0, 4.5, 7.0, 10.0, 14.0):
        _init(model, seed, eos, shift, spec.get("scaled"))
        if spec.get("twins"):
            _make_twins(model, 2, 3, boost)
        rate = _probe_finish_rate(model, src_words, src_vocab[special_tokens["eos"]],
                                  random.Random(seed + 1), cfg["encoder"].get("append_eos", True))
        if abs(rate - 0.6) < best_gap:
            best_shift, best_gap = shift, abs(rate - 0.6)
    _init(model, seed, eos, best_shift, spec.get("scaled"))
    if spec.get("twins"):
        _make_twins(model, 2, 3, boost)
    st.save_model_dir(out, model, cfg, src_vocab, tgt_vocab, dtype=spec["dtype"])
    return finish_fixture(out, spec["name"], spec["desc"], rng, spec)


def finish_fixture(out, name, desc, rng, spec, extra=None):
    """Re-loads the written directory and writes expected.json."""
    model, cfg, src_vocab, tgt_vocab = st.load_model_dir(out)
    cases = _cases(model, cfg, src_vocab, tgt_vocab, rng, spec)
    exp = {"name": name, "description": desc, "generator": "tools/make_fixtures.py",
           "tolerance": {"attention": 1e-4, "score": 1e-3},
           "source_vocab_size": len(src_vocab), "target_vocab_size": len(tgt_vocab),
           "sos_id": model.sos_id, "eos_id": model.eos_id, "cases": cases}
    if extra:
        exp.update(extra(model, cfg, src_vocab, tgt_vocab))
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(exp, f, separators=(",", ":"))
        f.write("\n")
    return exp


def build_tutorial(out_root, seed):
    """A tutorial-architecture model with random weights, saved as a tutorial
    checkpoint and converted by tools/export."""
    import tutorial
    torch.manual_seed(seed)
    H = 8
    in_lang, out_lang = tutorial.Lang("fra"), tutorial.Lang("eng")
    in_lang.addSentence(" ".join(LETTERS[:12]))
    out_lang.addSentence(" ".join(LETTERS[:10]))
    enc = tutorial.EncoderRNN(in_lang.n_words, H)
    dec = tutorial.AttnDecoderRNN(H, out_lang.n_words)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in list(enc.parameters()) + list(dec.parameters()):
            p.copy_(torch.randn(p.shape, generator=g))
        dec.out.bias[tutorial.EOS_token] += 2.0
    out = os.path.join(out_root, "tutorial_export")
    if os.path.isdir(out):
        shutil.rmtree(out)
    with tempfile.TemporaryDirectory() as tmp:
        ck = os.path.join(tmp, "tutorial.pt")
        tutorial.save_checkpoint(ck, enc, dec, in_lang, out_lang)
        r = subprocess.run([sys.executable, os.path.join(HERE, "export"), ck, out,
                            "--source-language", "fr", "--target-language", "en"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit("tools/export failed: " + r.stderr.strip())
    spec = {"max_length": None, "unk": False}
    return finish_fixture(out, "tutorial_export",
                          "tutorial EncoderRNN/AttnDecoderRNN (random weights) exported by "
                          "tools/export; config decoding.max_length 10",
                          random.Random(seed), spec)


def build_exhaustive(out_root, seed):
    """A model whose target vocabulary has 4 tokens, for the exhaustive-search
    test: with max_length 4 there are 4*27 = 108 candidates at the last step,
    so a beam of 108 keeps every prefix."""
    spec = _model("tiny_target_vocab4", "4-token target vocabulary for the exhaustive-search test",
                  _side(emb=4, hidden=6), _side(emb=4, hidden=6), vs=8, vt=4)
    src_vocab, tgt_vocab, special_tokens = _vocabs(spec)
    cfg = _config(spec, special_tokens)
    out = os.path.join(out_root, spec["name"])
    if os.path.isdir(out):
        shutil.rmtree(out)
    model = st.Seq2Seq(cfg, len(src_vocab), len(tgt_vocab))
    st.set_special_ids(model, tgt_vocab)
    eos = tgt_vocab["EOS"]
    max_length = 4
    chosen = None
    # look for weights whose best sequence is long (>= 2 tokens) and is not
    # what greedy decoding finds, so the search has something to find
    for shift in (0.0, -1.0, -2.0):
        for s in range(seed, seed + 60):
            _init(model, s, eos, shift)
            src = [2, 3, 4, src_vocab["EOS"]]
            best = _exhaustive(model, src, max_length)
            g = st.greedy_full(model, src, max_length)
            if len(best[0]) >= 2 and (best[0] != g["tokens"] or not g["finished"]):
                chosen = (s, shift)
                break
        if chosen:
            break
    if chosen is None:
        raise SystemExit("tiny_target_vocab4: no suitable weights found")
    _init(model, chosen[0], eos, chosen[1])
    st.save_model_dir(out, model, cfg, src_vocab, tgt_vocab)

    def extra(m, c, sv, tv):
        src = [2, 3, 4, sv["EOS"]]
        toks, score = _exhaustive(m, src, max_length)
        return {"exhaustive": {"source": src, "max_length": max_length, "beam_size": 108,
                               "best_tokens": toks, "best_score": _r(score)}}

    return finish_fixture(out, spec["name"], spec["desc"], random.Random(seed), spec, extra)


def _exhaustive(model, src, max_length):
    """Best finished sequence (< max_length tokens + eos) by forced scoring."""
    V = model.decoder.out.out_features
    words = [v for v in range(V) if v != model.eos_id]
    best = (None, -float("inf"))
    for n in range(max_length):
        for seq in itertools.product(words, repeat=n):
            s, _, _ = st.force(model, src, list(seq))
            if s > best[1]:
                best = (list(seq), s)
    return best


def main():
    p = argparse.ArgumentParser(description="writes the golden fixtures")
    p.add_argument("--out", default=os.path.join(os.path.dirname(HERE), "tests", "fixtures",
                                                  "models"))
    p.add_argument("--only", help="build only this fixture")
    args = p.parse_args()
    torch.set_num_threads(1)
    os.makedirs(args.out, exist_ok=True)
    # seeds from the names, so adding a model does not change the others
    todo = [(m["name"], (lambda m=m: build_model(m, args.out, 1000 + zlib.crc32(
        m["name"].encode()) % 100000))) for m in MODELS]
    todo.append(("tutorial_export", lambda: build_tutorial(args.out, 77)))
    todo.append(("tiny_target_vocab4", lambda: build_exhaustive(args.out, 500)))
    for name, fn in todo:
        if args.only and name != args.only:
            continue
        exp = fn()
        fin = sum(c["greedy"]["finished"] for c in exp["cases"])
        ties = sum(b["ties"] for c in exp["cases"] for b in c["beam"])
        print("%-45s cases %d, greedy finished %d, beam cases with ties %d%s"
              % (name, len(exp["cases"]), fin, ties,
                 ", twin uses %d" % _twin_uses(exp) if name.startswith("exact_ties") else ""))


if __name__ == "__main__":
    main()
