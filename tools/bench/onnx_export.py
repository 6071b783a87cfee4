#!/usr/bin/python3
"""onnx_export - the ONNX Runtime side of `make bench`, part 1: exports a
model directory's PyTorch reference (s2s_tools.reference) to two ONNX graphs
with torch.onnx.export, the way a user moving a PyTorch attention model to
ONNX Runtime would, and writes the bench inputs as source ids.

    PYTHONPATH=tools/python /usr/bin/python3 tools/bench/onnx_export.py -m MODEL_DIR \
        [-o OUT_DIR] [-i INPUTS --ids IDS.jsonl]

OUT_DIR gets
  encoder.onnx  ids (S, n) int64, lens (S,) int64 (longest first; padded
                with 0) -> memory (S, n, D), keys (S, n, K) (the attention's
                key projection; memory itself for dot/scaled_dot), h0
                (L, S, H) [, c0 (L, S, H) for an LSTM decoder]
  step.onnx     y (B,) int64, h (L, B, H) [, c] [, feed (B, H)], memory
                (B, n, D), keys (B, n, K), pad (B, n) bool (true past a
                sentence's end) -> best (B,) int64 (arg-max, first index on
                a tie), best_lp (B,) (its log-probability), h' [, c'] [, feed']
  meta.json     sos, eos, max steps rule, the graphs' input/output names,
                the target vocabulary (id -> token) for the outputs
and IDS.jsonl gets one JSON array of source ids per line of INPUTS
(tokenized with the Python twin of the tokenizer, eos appended as
configured).

The encoder runs packed sequences (pack_padded_sequence), so each sentence
of a padded batch gets what it would get alone, and the decoder step masks
the padded positions out of the attention softmax, as bench_torch does.
tools/bench/bench_ort.js runs the greedy loops in ONNX Runtime for Node.js.
"""

import argparse
import json
import os
import sys

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from s2s_tools import reference as ref
from s2s_tools import tokenizer as tok


class EncoderGraph(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.m = model

    def forward(self, ids, lens):
        m = self.m
        x = m.encoder.embedding(ids)
        packed = pack_padded_sequence(x, lens, batch_first=True, enforce_sorted=True)
        rnn = m.encoder.rnn
        h0 = x.new_zeros(rnn.num_layers * m.dirs, x.shape[0], rnn.hidden_size)  # batch size traced
        out, final = rnn(packed, (h0, h0) if m.cell_enc == "lstm" else h0)
        memory, _ = pad_packed_sequence(out, batch_first=True)
        S = memory.shape[0]
        H, L = m.decoder.hidden_size, m.dec_layers
        lstm = m.cell_dec == "lstm"
        if m.bridge_kind == "final":
            parts = final if m.cell_enc == "lstm" else (final,)
            st = []
            for t in parts:
                if m.dirs == 2:
                    t = t.view(m.enc_layers, 2, S, -1).permute(0, 2, 1, 3).reshape(m.enc_layers, S, -1)
                st.append(t)
        elif m.bridge_kind == "zeros":
            z = torch.zeros(L, S, H)
            st = [z, z] if lstm else [z]
        else:
            mean = memory.sum(dim=1) / lens.to(memory.dtype).unsqueeze(1)
            s0 = torch.tanh(m.bridge(mean))
            st = [s0.unsqueeze(0).expand(L, S, H)]
            if lstm:
                st.append(torch.zeros(L, S, H))
        att = m.decoder.attention
        if att.kind == "bahdanau":
            keys = att.Ua(memory)
        elif att.kind == "general":
            keys = att.Wa(memory)
        else:
            keys = memory
        return (memory, keys) + tuple(st)


class StepGraph(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.m = model
        self.lstm = model.cell_dec == "lstm"
        self.feed = model.decoder.input_feeding

    def forward(self, y, *args):
        m = self.m
        args = list(args)
        state = (args.pop(0), args.pop(0)) if self.lstm else args.pop(0)
        feed = args.pop(0) if self.feed else None
        memory, keys, pad = args
        att = m.decoder.attention

        def attend(q):
            if att.kind == "bahdanau":
                e = att.Va(torch.tanh(att.Wa(q).unsqueeze(1) + keys)).squeeze(2)
            else:
                e = torch.bmm(keys, q.unsqueeze(2)).squeeze(2)
                if att.kind == "scaled_dot":
                    e = e / (att.query_size ** 0.5)
            e = e.masked_fill(pad, float("-inf"))
            alpha = torch.softmax(e, dim=1)
            return alpha, torch.bmm(alpha.unsqueeze(1), memory).squeeze(1)

        lp, _, state, feed = m.decoder.step(y, state, feed, attend)
        best_lp, best = lp.max(dim=1)
        out = [best, best_lp] + (list(state) if self.lstm else [state])
        if self.feed:
            out.append(feed)
        return tuple(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-m", "--model", required=True)
    ap.add_argument("-o", "--out")
    ap.add_argument("-i", "--input")
    ap.add_argument("--ids")
    a = ap.parse_args()
    model, cfg, src_vocab, tgt_vocab = ref.load_model_dir(a.model)
    if a.input:
        tk = tok.Tokenizer(cfg["tokenizer"], a.model)
        with open(a.input, encoding="utf-8") as f, open(a.ids, "w") as g:
            for line in f:
                g.write(json.dumps(ref.source_ids(tk.split(line.rstrip("\n"), src_vocab), src_vocab, cfg)) + "\n")
    if a.out:
        export(a, model, cfg, tgt_vocab)


def export(a, model, cfg, tgt_vocab):
    os.makedirs(a.out, exist_ok=True)
    model.eval()
    lstm = model.cell_dec == "lstm"
    feed = model.decoder.input_feeding
    L, H, D = model.dec_layers, model.decoder.hidden_size, model.memory_size

    ids = torch.tensor([[3, 4, 5, 6], [3, 4, 0, 0]], dtype=torch.long)
    lens = torch.tensor([4, 2], dtype=torch.long)
    st_names = ["h0", "c0"] if lstm else ["h0"]
    enc_out = ["memory", "keys"] + st_names
    with torch.no_grad():
        torch.onnx.export(EncoderGraph(model), (ids, lens), os.path.join(a.out, "encoder.onnx"),
                          input_names=["ids", "lens"], output_names=enc_out, opset_version=14,
                          dynamic_axes={"ids": {0: "S", 1: "n"}, "lens": {0: "S"},
                                        "memory": {0: "S", 1: "n"}, "keys": {0: "S", 1: "n"},
                                        **{k: {1: "S"} for k in st_names}})
        enc = EncoderGraph(model)(ids, lens)
        B = 2
        y = torch.tensor([model.sos_id] * B, dtype=torch.long)
        step_in = [y, enc[2]] + ([enc[3]] if lstm else []) + ([torch.zeros(B, H)] if feed else []) + \
            [enc[0], enc[1], torch.tensor([[False] * 4, [False, False, True, True]])]
        in_names = ["y", "h"] + (["c"] if lstm else []) + (["feed"] if feed else []) + \
            ["memory", "keys", "pad"]
        out_names = ["best", "best_lp", "h_out"] + (["c_out"] if lstm else []) + \
            (["feed_out"] if feed else [])
        dyn = {"y": {0: "B"}, "h": {1: "B"}, "c": {1: "B"}, "feed": {0: "B"},
               "memory": {0: "B", 1: "n"}, "keys": {0: "B", 1: "n"}, "pad": {0: "B", 1: "n"},
               "best": {0: "B"}, "best_lp": {0: "B"}, "h_out": {1: "B"}, "c_out": {1: "B"},
               "feed_out": {0: "B"}}
        torch.onnx.export(StepGraph(model), tuple(step_in), os.path.join(a.out, "step.onnx"),
                          input_names=in_names, output_names=out_names, opset_version=14,
                          dynamic_axes={k: v for k, v in dyn.items() if k in in_names + out_names})

    inv = [None] * len(tgt_vocab)
    for w, i in tgt_vocab.items():
        inv[i] = w
    dec = cfg.get("decoding", {}) or {}
    meta = {"sos": model.sos_id, "eos": model.eos_id, "max_length_config": dec.get("max_length") or 0,
            "layers": L, "hidden": H, "memory": D, "lstm": lstm, "feed": feed,
            "encoder_outputs": enc_out, "step_inputs": in_names, "step_outputs": out_names,
            "target_vocab": inv}
    with open(os.path.join(a.out, "meta.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, ensure_ascii=False)
    print("onnx_export: %s -> %s" % (a.model, a.out), file=sys.stderr)


if __name__ == "__main__":
    main()
