"""beam_scores.py - adds the beam-search scores of a Tatoeba model to its
config.json (next to the greedy ones tools/train stored).

    PYTHONPATH=tools/python /usr/bin/python3 tools/recipes/beam_scores.py MODEL_DIR EVAL_JSON

EVAL_JSON is `tools/eval --metrics bleu,chrf --json` on the output of
`s2s translate --beam 5 --length-penalty 1`. Prints the scores.
"""
import json
import os
import sys

from s2s_tools import reference as ref


def main(argv):
    model_dir, eval_json = argv
    with open(eval_json, encoding="utf-8") as f:
        r = json.load(f)["metrics"]
    path = os.path.join(model_dir, "config.json")
    with open(path, encoding="utf-8") as f:
        cfg = json.load(f)
    sc = cfg.setdefault("scores", {})
    sc["test_beam5_lp1_bleu"] = round(r["bleu"]["score"], 2)
    sc["test_beam5_lp1_chrf"] = round(r["chrf"]["score"], 2)
    sc["test_beam5_lp1_decoding"] = ("s2s translate --beam 5 --length-penalty 1; "
                                     "tools/eval (sacreBLEU-compatible BLEU, chrF2)")
    ref.write_config(path, cfg)
    print(json.dumps(sc, indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
