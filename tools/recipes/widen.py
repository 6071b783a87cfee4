#!/usr/bin/python3
"""Widens a trained Tatoeba model (bidirectional GRU encoder, "final" bridge,
GRU decoder with "general" attention after the RNN, copy) without changing
what it computes, so that training can go on with more units from where the
narrow model stopped (Net2Net, Chen et al. 2016, "wider" by new units).

    tools/recipes/widen.py models/fra-eng work-tmp/fra-eng-wide/init --encoder-hidden 192

Every new unit gets fresh incoming weights (PyTorch's GRU and Linear
initialisation, seeded) and zero outgoing weights: nothing it computes
reaches an old unit, an attention score, an output logit or the copy gate
until training moves those weights, so the widened model gives exactly the
outputs of the one it came from. The decoder's state is the concatenation
[forward ; backward] of the encoder's final states ("final" bridge), so the
decoder and its attention grow to twice the new encoder size, with the old
units at the positions their encoder halves moved to.

Writes a model directory (config, vocabularies, merges and shortlist copied;
F32 weights) for `INIT=...` in tools/recipes/train_tatoeba.sh."""
import argparse
import json
import math
import os
import shutil
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from s2s_tools import reference as ref  # noqa: E402


def fresh(shape, fan, gen):
    """Uniform(-1/sqrt(fan), 1/sqrt(fan)): PyTorch's GRU and Linear default."""
    bound = 1.0 / math.sqrt(fan)
    return (torch.rand(shape, generator=gen) * 2 - 1) * bound


def place(new, old, rows, cols):
    """new[rows[i], cols[j]] = old[i, j]; returns new."""
    new[torch.as_tensor(rows).unsqueeze(1), torch.as_tensor(cols).unsqueeze(0)] = old
    return new


def gate_rows(unit_pos, H_new):
    """Rows of a GRU weight (gates r, z, n stacked, H_new each) for old units
    at new positions `unit_pos`."""
    return [g * H_new + p for g in range(3) for p in unit_pos]


def widen_gru(t, prefix, suffix, unit_pos, H_new, in_pos, in_new, gen):
    """One GRU direction: old units to `unit_pos`, old inputs to `in_pos`.
    New units' rows are fresh; old units' weights from new inputs and new
    units are zero."""
    w_ih, w_hh = t[prefix + "weight_ih_l0" + suffix], t[prefix + "weight_hh_l0" + suffix]
    b_ih, b_hh = t[prefix + "bias_ih_l0" + suffix], t[prefix + "bias_hh_l0" + suffix]
    rows = gate_rows(unit_pos, H_new)
    old_rows = torch.zeros(3 * H_new, dtype=torch.bool)
    old_rows[rows] = True
    for name, old, cols, width in (("weight_ih_l0", w_ih, in_pos, in_new),
                                   ("weight_hh_l0", w_hh, unit_pos, H_new)):
        new = fresh((3 * H_new, width), H_new, gen)
        new[old_rows] = 0.0
        t[prefix + name + suffix] = place(new, old, rows, cols)
    for name, old in (("bias_ih_l0", b_ih), ("bias_hh_l0", b_hh)):
        new = fresh((3 * H_new,), H_new, gen)
        new[rows] = old
        t[prefix + name + suffix] = new


def widen_linear_in(w, col_pos, width):
    """A weight read by the model's outputs only through old inputs: old
    columns to `col_pos`, new columns zero."""
    return place(torch.zeros((w.shape[0], width)), w, range(w.shape[0]), col_pos)


def widen(t, cfg, E_new, seed):
    enc, dec = cfg["encoder"], cfg["decoder"]
    att = dec["attention"]
    if not (enc["cell"] == dec["cell"] == "gru" and enc["bidirectional"] and cfg["bridge"] == "final"
            and enc["num_layers"] == dec["num_layers"] == 1 and att["type"] == "general"
            and att["position"] == "after_rnn" and not dec["input_feeding"] and dec.get("copy")):
        raise SystemExit("widen: only 1-layer bi-GRU / 'final' bridge / general attention after the RNN / "
                         "copy models (the Tatoeba recipe's)")
    E = enc["hidden_size"]
    if E_new <= E:
        raise SystemExit("widen: --encoder-hidden %d is not above the model's %d" % (E_new, E))
    gen = torch.Generator().manual_seed(seed)
    D_new = 2 * E_new
    emb_e, emb_d = enc["embedding_size"], dec["embedding_size"]
    # where the old [forward ; backward] halves sit in a vector of size D_new
    pos_D = list(range(E)) + [E_new + i for i in range(E)]
    pos_q = [D_new + p for p in pos_D]  # the same, after a context vector of size D_new
    for suffix in ("", "_reverse"):
        widen_gru(t, "encoder.rnn.", suffix, list(range(E)), E_new, list(range(emb_e)), emb_e, gen)
    widen_gru(t, "decoder.rnn.", "", pos_D, D_new, list(range(emb_d)), emb_d, gen)
    # keys = Wa mem (Hd, D): a new key dimension or memory dimension adds 0 to the score
    t["decoder.attention.Wa.weight"] = place(torch.zeros((D_new, D_new)), t["decoder.attention.Wa.weight"],
                                             pos_D, pos_D)
    # o = tanh(attention_out [c ; q]) (Hd, D + Hd): new o units fresh, old ones blind to new inputs
    W, b = t["decoder.attention_out.weight"], t["decoder.attention_out.bias"]
    new_W = fresh((D_new, 2 * D_new), 2 * D_new, gen)
    new_W[torch.as_tensor(pos_D)] = 0.0
    t["decoder.attention_out.weight"] = place(new_W, W, pos_D, pos_D + pos_q)
    new_b = fresh((D_new,), 2 * D_new, gen)
    new_b[torch.as_tensor(pos_D)] = b
    t["decoder.attention_out.bias"] = new_b
    # logits and the copy gate read o (and c): new inputs weigh 0
    t["decoder.out.weight"] = widen_linear_in(t["decoder.out.weight"], pos_D, D_new)
    t["decoder.copy_gate.weight"] = widen_linear_in(
        t["decoder.copy_gate.weight"],
        pos_D + pos_q + [2 * D_new + i for i in range(emb_d)], 2 * D_new + emb_d)
    enc["hidden_size"] = E_new
    dec["hidden_size"] = D_new
    att["size"] = D_new
    return t


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model_dir")
    ap.add_argument("out_dir")
    ap.add_argument("--encoder-hidden", type=int, required=True,
                    help="new units per encoder direction (the decoder gets twice as many)")
    ap.add_argument("--seed", type=int, default=1234)
    a = ap.parse_args()
    with open(os.path.join(a.model_dir, "config.json"), encoding="utf-8") as f:
        cfg = json.load(f)
    weights = cfg.get("weights", "model.safetensors")
    tensors, _, _ = ref.read_safetensors(os.path.join(a.model_dir, weights))
    tensors = widen(dict(tensors), cfg, a.encoder_hidden, a.seed)
    os.makedirs(a.out_dir, exist_ok=True)
    for name in os.listdir(a.model_dir):
        if name not in ("config.json", weights):
            shutil.copy(os.path.join(a.model_dir, name), os.path.join(a.out_dir, name))
    ref.write_safetensors(os.path.join(a.out_dir, weights), tensors, "F32")
    with open(os.path.join(a.out_dir, "config.json"), "w", encoding="utf-8") as f:
        json.dump(cfg, f, indent=2, ensure_ascii=False)
        f.write("\n")
    n = sum(v.numel() for v in tensors.values())
    print("widen: %s -> %s: encoder %d per direction, decoder %d, %d parameters"
          % (a.model_dir, a.out_dir, a.encoder_hidden, 2 * a.encoder_hidden, n))


if __name__ == "__main__":
    main()
