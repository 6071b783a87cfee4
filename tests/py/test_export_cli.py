#!/usr/bin/python3
"""tools/export on training checkpoints and on wrong input.

  - an s2s training checkpoint (lstm, bidirectional, mean_tanh, general
    attention after_rnn with feeding, no attention_out bias, BPE merges as an
    extra file) exports in F32, F16 and BF16; the directory holds what the
    checkpoint held (config keys, vocabularies, merges, tensor names and
    dtypes in the safetensors header, sorted and contiguous) and decodes like
    the checkpoint's model;
  - a tutorial checkpoint with --from train, a bare state_dict, a text file,
    a missing file, a checkpoint missing a tensor: exit status 1 and one
    line on standard error naming the problem;
  - the forward-pass check itself fails when the written weights differ.

Run with /usr/bin/python3; skips visibly without torch. Prints "N passed, M failed".
"""

import json
import os
import struct

import harness as H
from harness import check


def run_export(*args):
    return H.run_tool("export", args)


def header_of(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        text = f.read(n)
        rest = len(f.read())
    return n, json.loads(text), rest


def main():
    torch = H.require_torch()
    from s2s_tools import export
    from s2s_tools import reference as ref
    from s2s_tools import tutorial

    config = {"format": "s2s-rnn", "format_version": 1, "task": "translation",
              "special_tokens": {"sos": "<s>", "eos": "</s>", "unk": "<unk>"},
              "encoder": {"cell": "lstm", "embedding_size": 6, "hidden_size": 5,
                          "num_layers": 2, "bidirectional": True},
              "bridge": "mean_tanh",
              "decoder": {"cell": "lstm", "embedding_size": 4, "hidden_size": 7,
                          "attention": {"type": "general", "position": "after_rnn"},
                          "input_feeding": True},
              "tokenizer": {"normalizer": "none", "level": "bpe", "merges": "merges.txt"},
              "license": "CC0"}
    sv = {t: i for i, t in enumerate(["<unk>", "<s>", "</s>", "a", "b", "c", "d"])}
    tv = {t: i for i, t in enumerate(["<s>", "</s>", "x", "y", "z"])}
    torch.manual_seed(3)
    model = ref.Seq2Seq(config, len(sv), len(tv), attention_out_bias=False)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 1)
    ref.set_special_ids(model, tv)
    merges = "#version: 0.2\na b\n"
    with H.tempdir("export-cli") as tmp:
        ck = os.path.join(tmp, "train.pt")
        torch.save({"format": "s2s-train-checkpoint", "config": config,
                    "state_dict": model.state_dict(), "source_vocab": sv, "target_vocab": tv,
                    "extra_files": {"merges.txt": merges}}, ck)
        src = [3, 4, 5, 6, sv["</s>"]]
        want = ref.beam_search(model, src, 3, 3, 9, 0.0)
        for dtype in ("F32", "F16", "BF16"):
            out = os.path.join(tmp, "m-" + dtype)
            r = run_export(ck, out, "--dtype", dtype, "--source-language", "xx")
            check(r.returncode == 0, "%s export: status %d: %s" % (dtype, r.returncode, r.stderr))
            if r.returncode:
                continue
            with open(os.path.join(out, "config.json")) as f:
                cfg = json.load(f)
            check(cfg.get("license") == "CC0" and cfg.get("source_language") == "xx" and
                  cfg["tokenizer"].get("merges") == "merges.txt", "%s: config keys lost" % dtype)
            with open(os.path.join(out, "merges.txt")) as f:
                check(f.read() == merges, "%s: merges.txt differs" % dtype)
            with open(os.path.join(out, "source.vocab.json")) as f:
                check(json.load(f) == sv, "%s: source vocabulary differs" % dtype)
            with open(os.path.join(out, "target.vocab.json")) as f:
                check(json.load(f) == tv, "%s: target vocabulary differs" % dtype)
            n, hdr, rest = header_of(os.path.join(out, "model.safetensors"))
            hdr.pop("__metadata__", None)
            names = sorted(hdr)
            check(n % 8 == 0, "%s: header length %d not a multiple of 8" % (dtype, n))
            check(set(names) == set(model.state_dict()), "%s: tensor names %s" % (dtype, names))
            check("decoder.attention_out.bias" not in hdr, "%s: attention_out.bias written" % dtype)
            offs = [hdr[k]["data_offsets"] for k in names]
            check(offs[0][0] == 0 and all(a[1] == b[0] for a, b in zip(offs, offs[1:]))
                  and offs[-1][1] == rest, "%s: tensors not sorted and contiguous" % dtype)
            check(all(hdr[k]["dtype"] == dtype for k in names), "%s: dtypes differ" % dtype)
            m2, _, _, _ = ref.load_model_dir(out)
            got = ref.beam_search(m2, src, 3, 3, 9, 0.0)
            if dtype == "F32":
                check([h["tokens"] for h in got] == [h["tokens"] for h in want] and
                      all(abs(a["score"] - b["score"]) < 1e-5 for a, b in zip(got, want)),
                      "F32: exported model decodes differently")
            else:
                check(all(abs(float(a) - float(b)) < 0.05 for a, b in
                          zip(m2.state_dict().values(), model.state_dict().values()) for a, b in
                          zip(a.flatten(), b.flatten())), "%s: weights not rounded copies" % dtype)

        # wrong input: status 1 and exactly one line naming the problem
        tut = os.path.join(tmp, "tutorial.pt")
        enc, dec = tutorial.EncoderRNN(5, 4), tutorial.AttnDecoderRNN(4, 4)
        lang_in, lang_out = tutorial.Lang("a"), tutorial.Lang("b")
        lang_in.addSentence("p q r")
        lang_out.addSentence("s t")
        tutorial.save_checkpoint(tut, enc, dec, lang_in, lang_out)
        bare = os.path.join(tmp, "bare.pt")
        torch.save(enc.state_dict(), bare)
        text = os.path.join(tmp, "text.pt")
        with open(text, "w") as f:
            f.write("not a checkpoint\n")
        broken = os.path.join(tmp, "broken.pt")
        sd = dict(model.state_dict())
        del sd["decoder.out.weight"]
        torch.save({"format": "s2s-train-checkpoint", "config": config, "state_dict": sd,
                    "source_vocab": sv, "target_vocab": tv}, broken)
        badvocab = os.path.join(tmp, "badvocab.pt")
        torch.save({"encoder": enc.state_dict(), "decoder": dec.state_dict(),
                    "input_lang": {"p": 2, "q": 3}, "output_lang": lang_out.word2index}, badvocab)
        cases = [((tut, os.path.join(tmp, "x1"), "--from", "train"), "not a train checkpoint"),
                 ((bare, os.path.join(tmp, "x2")), "bare state_dict"),
                 ((text, os.path.join(tmp, "x3")), "not a PyTorch checkpoint"),
                 ((os.path.join(tmp, "missing.pt"), os.path.join(tmp, "x4")), "no such file"),
                 ((broken, os.path.join(tmp, "x5")), "decoder.out.weight"),
                 ((badvocab, os.path.join(tmp, "x6")), "embedding has 5 rows")]
        for args, needle in cases:
            r = run_export(*args)
            lines = r.stderr.strip().splitlines()
            check(r.returncode == 1 and len(lines) == 1 and needle in lines[0],
                  "export %s: status %d, stderr %r (want one line with %r)"
                  % (" ".join(os.path.basename(a) for a in args), r.returncode, r.stderr, needle))
        r = run_export(tut, os.path.join(tmp, "ok"))
        check(r.returncode == 0, "tutorial export failed: %s" % r.stderr)

        # the verification step catches a written model that differs
        cfg_t, sd_t, sv_t, tv_t, _, reference = export.from_tutorial(torch.load(tut), tut, None)
        tampered = {k: v.clone() for k, v in sd_t.items()}
        tampered["decoder.out.bias"][2] += 1e-3  # one logit: log_softmax changes
        ref.save_model_dir(os.path.join(tmp, "tampered"), tampered, cfg_t, sv_t, tv_t)
        try:
            export.verify(os.path.join(tmp, "tampered"), cfg_t, sv_t, tv_t, reference, "F32")
            check(False, "verify accepted a model with one output bias changed by 1e-3")
        except export.ExportError as e:
            check("differs" in str(e), "verify error: %s" % e)
    H.finish()


if __name__ == "__main__":
    main()
