#!/bin/sh
# Reproduces models/arxiv-title: headline-style summarization, arXiv abstract
# opening -> paper title (arxiv-titles/{train,valid,test}.tsv), "text"
# normalizer lowercased + BPE, bidirectional GRU encoder, Bahdanau attention
# with coverage after the decoder GRU and copy (a pointer-generator with
# coverage, See et al. 2017), trained with the coverage loss.
# Scores ROUGE-1/2/L F1 on test.tsv next to two baselines
# (tools/recipes/arxiv_baselines.py): the first 10 words of the input, and the
# input's first sentence cut to the average training title length.
#   tools/recipes/train_arxiv-title.sh [extra tools/train options]
# env: DATA, WORK, MINUTES, OUT, INIT (a model directory to continue from)
. "$(dirname "$0")/env.sh"
DATA=${DATA:-../shared/data/arxiv-titles}
WORK=${WORK:-work-tmp/arxiv-title}
MINUTES=${MINUTES:-20}
OUT=${OUT:-models/arxiv-title}
INIT_ARGS=""
if [ -n "${INIT:-}" ]; then INIT_ARGS="--init-from $INIT"; fi
train_bpe_bigru_general $INIT_ARGS --attention bahdanau --copy --coverage --coverage-loss 1 --label-smoothing 0 \
  --train "$DATA/train.tsv" --valid "$DATA/valid.tsv" --valid-size 500 \
  --test "$DATA/test.tsv" --test-name "arxiv-titles/test.tsv (1000 abstracts)" \
  --task summarization --source-language en --target-language en --max-length 40 \
  --lowercase --min-freq 3 --max-src-tokens 200 --max-tgt-tokens 40 \
  --emb ${EMB:-128} --hidden ${HIDDEN:-128} --batch-size ${BATCH:-48} \
  --epochs 10 --valid-every ${VALID_EVERY:-300} --bleu-sample 200 \
  --license "CC0 1.0 (arXiv descriptive metadata: titles and abstracts)" \
  --attribution "arXiv titles and abstracts (arxiv.org), collected from public arXiv listing archives" \
  --source-data "arxiv-titles/train.tsv (53,000 abstract openings and titles), valid.tsv for validation" \
  --command "MINUTES=$MINUTES${INIT:+ INIT=$INIT} tools/recipes/train_arxiv-title.sh $*" "$@"

# baselines on the same test set, stored next to the model's scores
"$PYTHON" tools/recipes/arxiv_baselines.py "$DATA" "$OUT"

# summarize defaults picked on the validation set, then the test set scored
# with them (needs the C engine: build/s2s)
if [ -x build/s2s ]; then
  "$PYTHON" tools/recipes/arxiv_defaults.py "$DATA" "$OUT" --s2s build/s2s --work "$WORK"
fi
