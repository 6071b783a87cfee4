"""tutorial_fra_eng.py - the Python steps of tools/recipes/train_tutorial-fra-eng.sh
(run with tools/python on PYTHONPATH, as the recipe does).

    $PYTHON tools/recipes/tutorial_fra_eng.py train ENG_FRA_TXT WORK MINUTES
        filters the pairs as the PyTorch tutorial does (French -> English),
        holds 500 out (WORK/heldout.tsv), trains the tutorial's model for at
        most MINUTES and saves the tutorial checkpoint WORK/tutorial.pt and
        the held-out scores WORK/scores.json
    $PYTHON tools/recipes/tutorial_fra_eng.py provenance MODEL_DIR WORK MINUTES
        adds provenance and WORK/scores.json to MODEL_DIR/config.json
"""
import json
import os
import random
import sys
import time

from s2s_tools import metrics
from s2s_tools import reference as ref
from s2s_tools import tutorial


def train(data, work, minutes):
    import torch
    minutes = float(minutes)
    torch.set_num_threads(1)
    input_lang, output_lang, pairs = tutorial.prepareData(data, "eng", "fra", reverse=True)
    print("%d filtered pairs; vocab fra %d, eng %d" % (len(pairs), input_lang.n_words, output_lang.n_words),
          file=sys.stderr)
    order = list(range(len(pairs)))
    random.Random(0).shuffle(order)
    held = set(order[:500])
    train_set = [p for i, p in enumerate(pairs) if i not in held]
    heldout = [pairs[i] for i in sorted(held)]
    with open(os.path.join(work, "heldout.tsv"), "w", encoding="utf-8") as f:
        for fr, en in heldout:
            f.write("%s\t%s\n" % (fr, en))

    t0 = time.time()

    def log(epoch, loss):
        print("epoch %d loss %.4f %.1f min" % (epoch, loss, (time.time() - t0) / 60), file=sys.stderr, flush=True)

    encoder, decoder = tutorial.train_pairs(train_set, input_lang, output_lang, hidden_size=128, epochs=80,
                                            batch_size=32, lr=0.001, seconds=minutes * 60, seed=0, log=log)
    tutorial.save_checkpoint(os.path.join(work, "tutorial.pt"), encoder, decoder, input_lang, output_lang)

    hyps = []
    for fr, en in heldout:
        words, _ = tutorial.evaluate(encoder, decoder, fr, input_lang, output_lang)
        hyps.append(" ".join(w for w in words if w != "<EOS>"))
    refs = [en for _, en in heldout]
    scores = {"heldout_pairs": len(heldout),
              "heldout_bleu": round(metrics.corpus_bleu(hyps, [refs]).score, 2),
              "heldout_chrf": round(metrics.corpus_chrf(hyps, [refs]).score, 2),
              "heldout_exact": round(sum(h == r for h, r in zip(hyps, refs)) / len(refs), 4),
              "train_minutes": round((time.time() - t0) / 60, 1)}
    json.dump(scores, open(os.path.join(work, "scores.json"), "w"), indent=1)
    print(json.dumps(scores), file=sys.stderr)


def provenance(out, work, minutes):
    p = os.path.join(out, "config.json")
    cfg = json.load(open(p, encoding="utf-8"))
    cfg.update({
        "task": "translation", "source_language": "fr", "target_language": "en",
        "license": "CC-BY 2.0 FR (training data); model weights under the same terms",
        "attribution": "Tatoeba sentence pairs via www.manythings.org/anki and tatoeba.org; "
                       "architecture and data filter of the PyTorch 'NLP From Scratch: Translation "
                       "with a Sequence to Sequence Network and Attention' tutorial",
        "source_data": "tatoeba-eng-fra/eng-fra.txt (manythings.org Anki release 2017-09-29), "
                       "tutorial filter (fewer than 10 words, eng_prefixes), 500 pairs held out",
        "training_command": "MINUTES=%s tools/recipes/train_tutorial-fra-eng.sh" % minutes,
        "scores": json.load(open(os.path.join(work, "scores.json"))),
    })
    ref.write_config(p, cfg)


if __name__ == "__main__":
    if len(sys.argv) != 5 or sys.argv[1] not in ("train", "provenance"):
        sys.exit(__doc__)
    {"train": train, "provenance": provenance}[sys.argv[1]](*sys.argv[2:])
