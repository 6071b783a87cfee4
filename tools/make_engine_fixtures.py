#!/usr/bin/python3
"""make_engine_fixtures.py - hand-built models for tests/test_engine.c whose
expected outputs follow from their construction, not from a run.

    /usr/bin/python3 tools/make_engine_fixtures.py [--out tests/fixtures/engine]

argmax_by_1e-6: every decoder output weight is zero, the output bias is 0
    except eos (-30, never chosen) and token 7 (+1e-6). So token 7 is the
    strict arg-max at every step, by a margin far below float32 resolution of
    a long running score: greedy must emit 7 at every step.
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import s2s_torch as T  # noqa: E402


def argmax_model(out):
    torch.manual_seed(0)
    cfg = {"format": "s2s-rnn", "format_version": 1, "special_tokens": {"sos": "SOS", "eos": "EOS"},
           "encoder": {"cell": "gru", "embedding_size": 8, "hidden_size": 8},
           "decoder": {"cell": "gru", "embedding_size": 8, "hidden_size": 8}}
    sv = {"SOS": 0, "EOS": 1, "a": 2}
    tv = {"SOS": 0, "EOS": 1, **{"t%d" % i: i for i in range(2, 50)}}
    m = T.Seq2Seq(T.apply_defaults(cfg), len(sv), len(tv))
    with torch.no_grad():
        m.decoder.out.weight.zero_()
        m.decoder.out.bias.zero_()
        m.decoder.out.bias[1] = -30.0
        m.decoder.out.bias[7] = 1e-6
    T.save_model_dir(os.path.join(out, "argmax_by_1e-6"), m, cfg, sv, tv)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "engine"))
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    argmax_model(a.out)


if __name__ == "__main__":
    main()
