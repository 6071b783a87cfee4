#!/usr/bin/python3
"""Randomized differential test: the s2s command against the PyTorch reference
(tools/python/s2s_tools/reference.py).

Builds N_MODELS random small models (random cells, layer counts, directions,
bridges, attention kinds and positions, input feeding, attention_out bias,
sizes, weight dtypes, unk, append_eos; fixed seeds, so every run is the same
set, different from the committed fixtures), writes each with
reference.save_model_dir, and compares `$S2S translate --format jsonl`
(greedy, and beam 4 / n-best 2 / length penalty 0.3) and `$S2S score
--format jsonl` with the reference on random inputs: tokens identical,
scores within 1e-3, attention within 1e-4. Inputs whose reference decoding
has a near tie (two values within 1e-4 deciding something) are compared on
the best ranking score only (beam) or skipped (greedy).

Skips visibly without torch or $S2S. Prints "N passed, M failed".
"""

import json
import os
import random
import subprocess

import harness as H
from harness import check

N_MODELS = 16
N_INPUTS = 6
SEED = 20261121


def random_config(rng):
    """A random valid config.json object plus (dtype, attention_out_bias, unk)."""
    ecell, dcell = rng.choice(["gru", "lstm"]), rng.choice(["gru", "lstm"])
    el, bi = rng.randint(1, 3), rng.random() < 0.5
    He = rng.randint(3, 10)
    D = He * (2 if bi else 1)
    bridge = rng.choice(["final", "zeros", "mean_tanh"])
    att = rng.choice(["bahdanau", "dot", "scaled_dot", "general"])
    if bridge == "final":
        dcell, dl, Hd = ecell, el, D
    else:
        dl = rng.randint(1, 3)
        Hd = D if att in ("dot", "scaled_dot") else rng.randint(3, 12)
    pos = rng.choice(["before_rnn", "after_rnn"])
    a = {"type": att, "position": pos}
    if att == "bahdanau" and rng.random() < 0.5:
        a["size"] = rng.randint(2, 12)
    unk = rng.random() < 0.3
    st_tokens = {"sos": "<s>", "eos": "</s>"}
    if unk:
        st_tokens["unk"] = "<unk>"
    cfg = {"format": "s2s-rnn", "format_version": 1, "task": "translation",
           "special_tokens": st_tokens,
           "encoder": {"cell": ecell, "embedding_size": rng.randint(2, 10), "hidden_size": He,
                       "num_layers": el, "bidirectional": bi,
                       "append_eos": rng.random() < 0.8},
           "bridge": bridge,
           "decoder": {"cell": dcell, "embedding_size": rng.randint(2, 10), "hidden_size": Hd,
                       "num_layers": dl, "attention": a,
                       "input_feeding": pos == "after_rnn" and rng.random() < 0.5},
           "tokenizer": {"normalizer": "none", "level": "word"}}
    return cfg, rng.choice(["F32", "F32", "F16", "BF16"]), rng.random() < 0.7, unk


def vocab(n, unk, rng):
    toks = ["<s>", "</s>"] + (["<unk>"] if unk else []) + ["t%d" % i for i in range(n)]
    rng.shuffle(toks)  # special tokens anywhere
    return {t: i for i, t in enumerate(toks)}


def run(s2s, args, text):
    r = subprocess.run([s2s] + args, input=text, capture_output=True, text=True)
    return r.returncode, [json.loads(x) for x in r.stdout.splitlines()], r.stderr


def close_rows(a, b):
    return len(a) == len(b) and all(len(x) == len(y) and all(abs(p - q) <= 1e-4 for p, q in zip(x, y))
                                    for x, y in zip(a, b))


def main():
    torch = H.require_torch()
    s2s = H.s2s()
    if not s2s:
        H.skip_all("no s2s binary at %s" % H.S2S)
    from s2s_tools import reference as ref

    rng = random.Random(SEED)
    near = 0
    with H.tempdir("export-random") as tmp:
        for mi in range(N_MODELS):
            cfg, dtype, out_bias, unk = random_config(rng)
            sv = vocab(rng.randint(5, 20), unk, rng)
            tv = vocab(rng.randint(3, 20), False, rng)
            model = ref.Seq2Seq(cfg, len(sv), len(tv), attention_out_bias=out_bias)
            g = torch.Generator().manual_seed(SEED + mi)
            with torch.no_grad():
                for p in model.parameters():
                    p.copy_(torch.randn(p.shape, generator=g))
                model.decoder.out.bias[tv["</s>"]] += rng.choice([0.0, 1.0, 2.0, 3.0])
            d = os.path.join(tmp, "m%d" % mi)
            ref.save_model_dir(d, model, cfg, sv, tv, dtype=dtype)
            stored, c, sv, tv = ref.load_model_dir(d)  # the weights as stored
            desc = "model %d (%s, %s %dx%d%s -> %s %dx%d, %s bridge, %s %s%s)" % (
                mi, dtype, c["encoder"]["cell"], c["encoder"]["num_layers"],
                c["encoder"]["hidden_size"], " bi" if c["encoder"]["bidirectional"] else "",
                c["decoder"]["cell"], c["decoder"]["num_layers"], c["decoder"]["hidden_size"],
                c["bridge"], c["decoder"]["attention"]["type"], c["decoder"]["attention"]["position"],
                " feed" if c["decoder"]["input_feeding"] else "")
            src_words = [t for t in sv if t.startswith("t")]
            tgt_words = [t for t in tv if t.startswith("t")]
            inputs = [[rng.choice(src_words + (["zzz"] if unk else []))
                       for _ in range(rng.randint(1, 8))] for _ in range(N_INPUTS)]
            targets = [[rng.choice(tgt_words) for _ in range(rng.randint(0, 5))] for _ in inputs]
            text = "".join(" ".join(w) + "\n" for w in inputs)
            ids = [ref.source_ids(w, sv, c) for w in inputs]
            inv = {i: t for t, i in tv.items()}

            rc, out, err = run(s2s, ["translate", "-m", d, "--format", "jsonl", "-q"], text)
            check(rc == 0 and len(out) == len(inputs), "%s greedy: exit %d %s" % (desc, rc, err.strip()))
            for i, obj in enumerate(out):
                gr = ref.greedy_full(stored, ids[i])
                h = obj["hypotheses"][0]
                if gr["min_margin"] < 1e-4:  # a near tie may send the paths apart
                    near += 1
                    continue
                want = [inv[t] for t in gr["tokens"]]
                check(h["tokens"] == want and abs(h["score"] - gr["score"]) <= 1e-3 and
                      close_rows(h["attention"], gr["attention"]),
                      "%s input %r greedy: s2s %r %.6g, reference %r %.6g"
                      % (desc, inputs[i], h["tokens"], h["score"], want, gr["score"]))

            rc, out, err = run(s2s, ["translate", "-m", d, "--format", "jsonl", "-q", "--beam", "4",
                                     "--n-best", "2", "--length-penalty", "0.3"], text)
            check(rc == 0 and len(out) == len(inputs), "%s beam: exit %d %s" % (desc, rc, err.strip()))
            for i, obj in enumerate(out):
                notes = []
                hyps = ref.beam_search(stored, ids[i], 4, 2, None, 0.3, tie_eps=1e-4, tie_report=notes)
                got = obj["hypotheses"]
                if notes:
                    near += 1
                    check(abs(got[0]["ranking_score"] - hyps[0]["ranking_score"]) <= 1e-3,
                          "%s input %r beam (near tie): best ranking score %.6g vs %.6g"
                          % (desc, inputs[i], got[0]["ranking_score"], hyps[0]["ranking_score"]))
                    continue
                want = [[inv[t] for t in h["tokens"]] for h in hyps]
                ok = [h["tokens"] for h in got] == want and all(
                    abs(a["score"] - b["score"]) <= 1e-3 and a.get("finished", True) == b["finished"]
                    and close_rows(a["attention"], b["attention"]) for a, b in zip(got, hyps))
                check(ok, "%s input %r beam: s2s %r, reference %r"
                      % (desc, inputs[i], [(h["tokens"], h["score"]) for h in got],
                         [(w, h["score"]) for w, h in zip(want, hyps)]))

            text2 = "".join(" ".join(w) + "\t" + " ".join(t) + "\n" for w, t in zip(inputs, targets))
            rc, out, err = run(s2s, ["score", "-m", d, "--format", "jsonl", "-q"], text2)
            check(rc == 0 and len(out) == len(inputs), "%s score: exit %d %s" % (desc, rc, err.strip()))
            for i, obj in enumerate(out):
                score, lps, rows = ref.force(stored, ids[i], [tv[t] for t in targets[i]])
                h = obj["hypotheses"][0]
                check(h["tokens"] == targets[i] and abs(h["score"] - score) <= 1e-3 and
                      close_rows(h["attention"], rows),
                      "%s input %r score %r: s2s %.6g, reference %.6g"
                      % (desc, inputs[i], targets[i], h["score"], score))
    print("%d random models; %d decodings with near ties compared on the best score only"
          % (N_MODELS, near))
    H.finish()


if __name__ == "__main__":
    main()
