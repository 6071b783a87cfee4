"""export - turn a PyTorch checkpoint into an s2s model directory.

    tools/export CHECKPOINT OUT_DIR [--dtype F32|F16|BF16] [--from tutorial|train|auto]
                 [--source-language fr --target-language en]
                 [--license TEXT] [--attribution TEXT]

Reads either
  - a PyTorch seq2seq tutorial checkpoint: torch.save({"encoder": ...state_dict(),
    "decoder": ...state_dict(), "input_lang": word2index, "output_lang": word2index})
    (see tools/python/s2s_tools/tutorial.py), or
  - an s2s training checkpoint ({"format": "s2s-train-checkpoint", ...}, see
    tools/python/s2s_tools/reference.py),
writes OUT_DIR (config.json, model.safetensors, the two vocabularies and any
extra files; a training checkpoint of a format-version-2 model gives a
version-2 directory with its section-9 keys), loads the written directory
again with the reference
implementation and checks that a forward pass (per-step log-probabilities
and attention weights, teacher-forced on a few sequences) matches the
checkpoint's own model within 1e-5 before reporting success. For F16/BF16
the checkpoint's weights are rounded to that dtype for the comparison.

Exit status: 0 on success, 1 when the checkpoint is wrong or the check fails,
2 on a usage error. Errors are one line on standard error.
"""

import argparse
import os
import random
import sys

TOLERANCE = 1e-5


class ExportError(Exception):
    pass


def _torch():
    try:
        import torch
    except ImportError:
        raise ExportError("PyTorch is not available to %s" % sys.executable)
    torch.set_num_threads(1)
    return torch


def load_checkpoint(path):
    torch = _torch()
    if not os.path.isfile(path):
        raise ExportError("%s: no such file" % path)
    # A tutorial user may have pickled whole modules or Lang objects from a
    # script run as __main__: let those names resolve to s2s_tools.tutorial.
    import __main__
    from . import tutorial
    for name in ("EncoderRNN", "AttnDecoderRNN", "BahdanauAttention", "Lang"):
        if not hasattr(__main__, name):
            setattr(__main__, name, getattr(tutorial, name))
    try:
        return torch.load(path, map_location="cpu")
    except Exception as e:  # torch raises many kinds for a non-checkpoint
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise ExportError("%s is not a PyTorch checkpoint (%s)" % (path, msg))


def detect_kind(ck, path):
    if isinstance(ck, dict) and ck.get("format") == "s2s-train-checkpoint":
        return "train"
    if isinstance(ck, dict) and all(k in ck for k in ("encoder", "decoder", "input_lang",
                                                        "output_lang")):
        return "tutorial"
    if isinstance(ck, dict) and any(str(k).startswith(("gru.", "embedding.", "attention."))
                                    for k in ck):
        raise ExportError("%s holds a bare state_dict; save the tutorial checkpoint as "
                          "{\"encoder\": encoder.state_dict(), \"decoder\": decoder.state_dict(), "
                          "\"input_lang\": input_lang.word2index, \"output_lang\": "
                          "output_lang.word2index}" % path)
    if isinstance(ck, dict):
        keys = ", ".join(sorted(str(k) for k in ck)[:8])
        raise ExportError("%s is neither a tutorial checkpoint (encoder, decoder, input_lang, "
                          "output_lang) nor an s2s training checkpoint; its keys: %s" % (path, keys))
    raise ExportError("%s holds a %s, not a checkpoint dictionary" % (path, type(ck).__name__))


# ---------------------------------------------------------------------------
# tutorial checkpoints
# ---------------------------------------------------------------------------

def _tutorial_vocab(word2index, rows, side, path):
    if not isinstance(word2index, dict):
        raise ExportError("%s: %s is not a word2index dictionary" % (path, side))
    vocab = {"SOS": 0, "EOS": 1}
    for w, i in word2index.items():
        if not isinstance(w, str) or not isinstance(i, int) or isinstance(i, bool):
            raise ExportError("%s: %s maps %r to %r; expected word -> integer id" % (path, side, w, i))
        if w in vocab:
            raise ExportError("%s: %s contains the reserved word %r" % (path, side, w))
        vocab[w] = i
    ids = sorted(vocab.values())
    if ids != list(range(len(ids))):
        raise ExportError("%s: %s ids are not exactly 2..%d (with SOS=0, EOS=1)"
                          % (path, side, len(ids) - 1))
    if len(vocab) != rows:
        raise ExportError("%s: %s has %d words + SOS/EOS but the embedding has %d rows"
                          % (path, side, len(vocab) - 2, rows))
    return vocab


def from_tutorial(ck, path, args):
    """-> (config, state_dict, src_vocab, tgt_vocab, extra_files, reference fn)."""
    from . import tutorial
    enc_sd, dec_sd = ck["encoder"], ck["decoder"]
    # whole modules and Lang objects are accepted too
    enc_sd = enc_sd.state_dict() if hasattr(enc_sd, "state_dict") else enc_sd
    dec_sd = dec_sd.state_dict() if hasattr(dec_sd, "state_dict") else dec_sd
    ck = dict(ck, input_lang=getattr(ck["input_lang"], "word2index", ck["input_lang"]),
              output_lang=getattr(ck["output_lang"], "word2index", ck["output_lang"]))
    try:
        H = enc_sd["embedding.weight"].shape[1]
        V_src = enc_sd["embedding.weight"].shape[0]
        V_tgt = dec_sd["embedding.weight"].shape[0]
    except (KeyError, TypeError, AttributeError, IndexError):
        raise ExportError("%s: encoder/decoder are not the tutorial's state_dicts "
                          "(no embedding.weight)" % path)
    src_vocab = _tutorial_vocab(ck["input_lang"], V_src, "input_lang", path)
    tgt_vocab = _tutorial_vocab(ck["output_lang"], V_tgt, "output_lang", path)
    encoder = tutorial.EncoderRNN(V_src, H)
    decoder = tutorial.AttnDecoderRNN(H, V_tgt)
    try:
        encoder.load_state_dict(enc_sd)
        decoder.load_state_dict(dec_sd)
    except RuntimeError as e:
        raise ExportError("%s: weights do not fit the tutorial's EncoderRNN/AttnDecoderRNN: %s"
                          % (path, str(e).splitlines()[0]))
    encoder.eval()
    decoder.eval()
    sd = {}
    for prefix, part in (("encoder.", enc_sd), ("decoder.", dec_sd)):
        for k, v in part.items():
            if k.startswith("gru."):
                k = "rnn." + k[len("gru."):]
            sd[prefix + k] = v
    config = {
        "format": "s2s-rnn", "format_version": 1, "task": "translation",
        "weights": "model.safetensors",
        "source_vocab": "source.vocab.json", "target_vocab": "target.vocab.json",
        "special_tokens": {"sos": "SOS", "eos": "EOS", "unk": None, "pad": None},
        "encoder": {"cell": "gru", "embedding_size": H, "hidden_size": H, "num_layers": 1,
                    "bidirectional": False, "append_eos": True},
        "bridge": "final",
        "decoder": {"cell": "gru", "embedding_size": H, "hidden_size": H, "num_layers": 1,
                    "attention": {"type": "bahdanau", "position": "before_rnn", "size": H},
                    "input_feeding": False},
        "tokenizer": {"normalizer": "tutorial", "level": "word"},
        "decoding": {"max_length": tutorial.MAX_LENGTH},
    }

    def reference(src_ids, tgt_ids, round_fn):
        """Per-step log-probabilities and attention weights from the tutorial
        modules themselves (weights passed through round_fn)."""
        torch = _torch()
        enc = tutorial.EncoderRNN(V_src, H)
        dec = tutorial.AttnDecoderRNN(H, V_tgt)
        enc.load_state_dict({k: round_fn(v) for k, v in enc_sd.items()})
        dec.load_state_dict({k: round_fn(v) for k, v in dec_sd.items()})
        enc.eval()
        dec.eval()
        with torch.no_grad():
            out, hidden = enc(torch.tensor([src_ids]))
            y = torch.tensor([[tutorial.SOS_token]])
            lps, atts = [], []
            for tok in tgt_ids:
                logits, hidden, w = dec.forward_step(y, hidden, out)
                lps.append(torch.log_softmax(logits[0, 0], dim=-1))
                atts.append(w[0, 0])
                y = torch.tensor([[tok]])
        return lps, atts

    return config, sd, src_vocab, tgt_vocab, {}, reference


# ---------------------------------------------------------------------------
# training checkpoints
# ---------------------------------------------------------------------------

def from_train(ck, path, args):
    from . import reference as ref
    for key in ("config", "state_dict", "source_vocab", "target_vocab"):
        if key not in ck:
            raise ExportError("%s: training checkpoint lacks %r" % (path, key))
    config = dict(ck["config"])
    try:
        ref.apply_defaults(config)
    except ValueError as e:
        raise ExportError("%s: %s" % (path, e))
    sd = ck["state_dict"]
    try:
        model = ref.model_from_state_dict(config, sd)
    except (ValueError, KeyError, RuntimeError) as e:
        raise ExportError("%s: %s" % (path, str(e).splitlines()[0]))
    keep = set(model.state_dict())
    sd = {k: v for k, v in sd.items() if k in keep}
    extra = dict(ck.get("extra_files") or {})

    def reference(src_ids, tgt_ids, round_fn):
        torch = _torch()
        m = ref.model_from_state_dict(config, {k: round_fn(v) for k, v in sd.items()},
                                     tgt_vocab=ck["target_vocab"], src_vocab=ck["source_vocab"])
        return _teacher_forced(m, src_ids, tgt_ids)

    return config, sd, dict(ck["source_vocab"]), dict(ck["target_vocab"]), extra, reference


def _teacher_forced(model, src_ids, tgt_ids):
    """Per-step log-probabilities and attention of a reference model fed
    sos, tgt_ids[0], ... (one step per tgt id); for a copy model over the
    extended vocabulary of the source ids' own tokens."""
    from . import reference as ref
    return ref.teacher_forced(model, src_ids, tgt_ids)


# ---------------------------------------------------------------------------

def _round_fn(dtype):
    torch = _torch()
    if dtype == "F32":
        return lambda t: t.detach().float()
    tdt = torch.float16 if dtype == "F16" else torch.bfloat16
    return lambda t: t.detach().to(tdt).float()


def verify(out_dir, config, src_vocab, tgt_vocab, reference, dtype):
    """Reloads out_dir and compares teacher-forced forward passes with the
    reference; returns the largest difference seen."""
    from . import reference as ref
    try:
        model, c, sv, tv = ref.load_model_dir(out_dir)
    except Exception as e:
        raise ExportError("%s: written model does not load: %s" % (out_dir, e))
    rng = random.Random(1234)
    V_src, V_tgt = len(src_vocab), len(tgt_vocab)
    src_eos = sv.get(c["special_tokens"]["eos"])
    worst = 0.0
    for length in (1, 3, 7):
        src = [rng.randrange(V_src) for _ in range(length)]
        if c["encoder"]["append_eos"]:
            src.append(src_eos)
        tgt = [rng.randrange(V_tgt) for _ in range(5)] + [model.eos_id]
        if model.features["copy"]:  # feed an extended id back too (section 9.4)
            extended = ref.copy_map(model, src)[1]
            if extended:
                tgt[2] = V_tgt + rng.randrange(len(extended))
        ref_lp, ref_att = reference(src, tgt, _round_fn(dtype))
        got_lp, got_att = _teacher_forced(model, src, tgt)
        for a, b in zip(ref_lp + ref_att, got_lp + got_att):
            if a.shape != b.shape:
                raise ExportError("%s: forward pass shapes differ (%s vs %s)"
                                  % (out_dir, list(a.shape), list(b.shape)))
            worst = max(worst, float((a.float() - b.float()).abs().max()))
    if not worst <= TOLERANCE:
        raise ExportError("%s: forward pass differs from the checkpoint by %.3g (> %g)"
                          % (out_dir, worst, TOLERANCE))
    return worst


def main(argv=None):
    p = argparse.ArgumentParser(prog="export", description=__doc__.split("\n")[0])
    p.add_argument("checkpoint")
    p.add_argument("out_dir")
    p.add_argument("--dtype", choices=("F32", "F16", "BF16"), default="F32")
    p.add_argument("--from", dest="kind", choices=("tutorial", "train", "auto"), default="auto")
    p.add_argument("--source-language")
    p.add_argument("--target-language")
    p.add_argument("--license", help="license text stored in config.json")
    p.add_argument("--attribution", help="attribution text stored in config.json")
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    try:
        from . import reference as ref
        ck = load_checkpoint(args.checkpoint)
        kind = detect_kind(ck, args.checkpoint)
        if args.kind != "auto" and args.kind != kind:
            raise ExportError("%s is a %s checkpoint, not a %s checkpoint"
                              % (args.checkpoint, kind, args.kind))
        build = from_tutorial if kind == "tutorial" else from_train
        config, sd, src_vocab, tgt_vocab, extra, reference = build(ck, args.checkpoint, args)
        if args.source_language:
            config["source_language"] = args.source_language
        if args.target_language:
            config["target_language"] = args.target_language
        if args.license:
            config["license"] = args.license
        if args.attribution:
            config["attribution"] = args.attribution
        try:
            ref.save_model_dir(args.out_dir, sd, config, src_vocab, tgt_vocab, dtype=args.dtype,
                              extra_files=extra)
        except (OSError, ValueError) as e:
            raise ExportError("%s: cannot write the model: %s" % (args.out_dir, e))
        worst = verify(args.out_dir, config, src_vocab, tgt_vocab, reference, args.dtype)
    except ExportError as e:
        print("export: error: %s" % e, file=sys.stderr)
        return 1
    c = ref.apply_defaults(config)
    feat = ref.features(c)
    extras = [k for k in ("coverage", "copy") if feat[k]]
    if feat["window"]:
        extras.append("local-%s W=%d" % ("m" if feat["local"] == "monotonic" else "p", feat["window"]))
    if feat["heads"]:
        extras.append("multihead %d heads" % feat["heads"])
    print("export: wrote %s from a %s checkpoint (format version %d%s, %s %dx%d, source vocab %d, "
          "target vocab %d, %s); forward pass matches within %.1g (max difference %.2g)"
          % (args.out_dir, kind, c["format_version"], (": " + ", ".join(extras)) if extras else "",
             c["encoder"]["cell"], c["encoder"]["num_layers"], c["encoder"]["hidden_size"],
             len(src_vocab), len(tgt_vocab), args.dtype, TOLERANCE, worst))
    return 0


if __name__ == "__main__":
    sys.exit(main())
