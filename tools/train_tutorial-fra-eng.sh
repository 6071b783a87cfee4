#!/bin/sh
# Reproduces models/tutorial-fra-eng: the PyTorch seq2seq tutorial's model
# (EncoderRNN + AttnDecoderRNN, hidden 128, "tutorial" normalizer, French ->
# English, pairs of fewer than 10 words whose English side starts with one of
# the tutorial's eng_prefixes), trained with tools/tutorial.py's recipe
# (padded batches of 32, Adam 0.001, up to 80 epochs or the time budget),
# saved as a tutorial checkpoint and exported with tools/export.
#
# 500 of the filtered pairs (fixed seed) are held out for evaluation
# (WORK/heldout.tsv); everything else is trained on.
#
#   tools/train_tutorial-fra-eng.sh            # env: DATA, WORK, MINUTES, OUT
set -eu
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data/tatoeba-eng-fra/eng-fra.txt}
WORK=${WORK:-work-tmp/tutorial-fra-eng}
MINUTES=${MINUTES:-15}
OUT=${OUT:-models/tutorial-fra-eng}
mkdir -p "$WORK"

nice -n 5 /usr/bin/python3 - "$DATA" "$WORK" "$MINUTES" <<'EOF'
import json, os, random, sys, time
sys.path.insert(0, "tools")
import torch
import tutorial as T
import s2s_metrics

data, work, minutes = sys.argv[1], sys.argv[2], float(sys.argv[3])
torch.set_num_threads(1)
input_lang, output_lang, pairs = T.prepareData(data, "eng", "fra", reverse=True)
print("%d filtered pairs; vocab fra %d, eng %d" % (len(pairs), input_lang.n_words, output_lang.n_words),
      file=sys.stderr)
order = list(range(len(pairs)))
random.Random(0).shuffle(order)
held = set(order[:500])
train = [p for i, p in enumerate(pairs) if i not in held]
heldout = [pairs[i] for i in sorted(held)]
with open(os.path.join(work, "heldout.tsv"), "w", encoding="utf-8") as f:
    for fr, en in heldout:
        f.write("%s\t%s\n" % (fr, en))

t0 = time.time()
def log(epoch, loss):
    print("epoch %d loss %.4f %.1f min" % (epoch, loss, (time.time() - t0) / 60), file=sys.stderr, flush=True)
encoder, decoder = T.train_pairs(train, input_lang, output_lang, hidden_size=128, epochs=80,
                                 batch_size=32, lr=0.001, seconds=minutes * 60, seed=0, log=log)
T.save_checkpoint(os.path.join(work, "tutorial.pt"), encoder, decoder, input_lang, output_lang)

hyps = []
for fr, en in heldout:
    words, _ = T.evaluate(encoder, decoder, fr, input_lang, output_lang)
    hyps.append(" ".join(w for w in words if w != "<EOS>"))
refs = [en for _, en in heldout]
scores = {"heldout_pairs": len(heldout),
          "heldout_bleu": round(s2s_metrics.corpus_bleu(hyps, [refs]).score, 2),
          "heldout_chrf": round(s2s_metrics.corpus_chrf(hyps, [refs]).score, 2),
          "heldout_exact": round(sum(h == r for h, r in zip(hyps, refs)) / len(refs), 4),
          "train_minutes": round((time.time() - t0) / 60, 1)}
json.dump(scores, open(os.path.join(work, "scores.json"), "w"), indent=1)
print(json.dumps(scores), file=sys.stderr)
EOF

tools/export --from tutorial "$WORK/tutorial.pt" "$OUT"
# provenance and scores in config.json (extra keys are allowed by the spec)
/usr/bin/python3 - "$OUT" "$WORK" "$MINUTES" <<'EOF'
import json, os, sys
out, work, minutes = sys.argv[1], sys.argv[2], sys.argv[3]
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
    "training_command": "MINUTES=%s tools/train_tutorial-fra-eng.sh" % minutes,
    "scores": json.load(open(os.path.join(work, "scores.json"))),
})
with open(p, "w", encoding="utf-8") as f:
    json.dump(cfg, f, ensure_ascii=False, indent=2)
    f.write("\n")
EOF
echo "exported $OUT"
