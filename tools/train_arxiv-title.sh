#!/bin/sh
# Reproduces models/arxiv-title: headline-style summarization, arXiv abstract
# opening -> paper title (arxiv-titles/{train,valid,test}.tsv), "text"
# normalizer lowercased + BPE, bidirectional GRU encoder, attention after the
# decoder GRU. Scores ROUGE-1/2/L F1 on test.tsv next to two baselines:
# the first 10 words of the input, and the input's first sentence cut to the
# average training title length.
#   tools/train_arxiv-title.sh [extra tools/train options]
# env: DATA, WORK, MINUTES, OUT
set -eu
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data/arxiv-titles}
WORK=${WORK:-work-tmp/arxiv-title}
MINUTES=${MINUTES:-20}
OUT=${OUT:-models/arxiv-title}
nice -n 5 /usr/bin/python3 tools/train \
  --train "$DATA/train.tsv" --valid "$DATA/valid.tsv" --valid-size 500 \
  --test "$DATA/test.tsv" --test-name "arxiv-titles/test.tsv (1000 abstracts)" \
  --task summarization --source-language en --target-language en --max-length 40 \
  --normalizer text --lowercase --level bpe --bpe-merges ${MERGES:-6000} --min-freq 3 \
  --max-src-tokens 200 --max-tgt-tokens 40 \
  --cell gru --emb ${EMB:-128} --hidden ${HIDDEN:-128} --bidirectional --bridge final \
  --attention general --attention-position after_rnn \
  --dropout 0.2 --label-smoothing 0.1 --batch-size ${BATCH:-48} --lr 2e-3 --lr-decay 0.5 --clip 1 \
  --epochs 10 --patience 4 --valid-every ${VALID_EVERY:-300} --bleu-sample 200 \
  --time-budget-minutes "$MINUTES" --dtype ${DTYPE:-F16} \
  --work "$WORK" --out "$OUT" \
  --license "CC0 1.0 (arXiv descriptive metadata: titles and abstracts)" \
  --attribution "arXiv titles and abstracts (arxiv.org), collected from public arXiv listing archives" \
  --source-data "arxiv-titles/train.tsv (53,000 abstract openings and titles), valid.tsv for validation" \
  --command "MINUTES=$MINUTES tools/train_arxiv-title.sh $*" "$@"

# baselines on the same test set, stored next to the model's scores
/usr/bin/python3 - "$DATA" "$OUT" <<'PY'
import json, os, re, sys
sys.path.insert(0, "tools")
import s2s_metrics
data, out = sys.argv[1], sys.argv[2]
def pairs(name):
    with open(os.path.join(data, name), encoding="utf-8") as f:
        return [l.rstrip("\n").split("\t")[:2] for l in f if "\t" in l]
train, test = pairs("train.tsv"), pairs("test.tsv")
avg = round(sum(len(t.split()) for _, t in train) / len(train))
refs = [t for _, t in test]
first10 = [" ".join(s.split()[:10]) for s, _ in test]
def first_sentence(s):
    m = re.search(r"[.!?](\s|$)", s)
    return s[:m.end()].strip() if m else s
firstsent = [" ".join(first_sentence(s).split()[:avg]) for s, _ in test]
p = os.path.join(out, "config.json")
cfg = json.load(open(p, encoding="utf-8"))
sc = cfg.setdefault("scores", {})
for name, hyps in (("baseline_first10", first10), ("baseline_first_sentence_%dw" % avg, firstsent)):
    r = s2s_metrics.corpus_rouge(hyps, [refs])
    for k in r.KINDS:
        sc["test_%s_%s" % (name, k)] = round(r.values[k][2], 2)
with open(p, "w", encoding="utf-8") as f:
    json.dump(cfg, f, ensure_ascii=False, indent=2)
    f.write("\n")
print(json.dumps(sc, indent=1))
PY
