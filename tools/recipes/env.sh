# Sourced by every recipe (tools/recipes/train_*.sh): runs it from the
# repository root, with $PYTHON (default Debian's /usr/bin/python3) and the
# s2s_tools package (tools/python) on PYTHONPATH for the recipe's own Python
# steps (tools/recipes/*.py) and for tools/train, tools/export, tools/eval.
set -eu
cd "$(dirname "$0")/../.."
PYTHON=${PYTHON:-/usr/bin/python3}
PYTHONPATH="$PWD/tools/python${PYTHONPATH:+:$PYTHONPATH}"
export PYTHON PYTHONPATH

# train_bpe_bigru_general [tools/train options]: tools/train (niced) with the
# set-up fra-eng, eng-fra and arxiv-title share: "text" normalizer + joint
# BPE ($MERGES merges, default 6000), bidirectional GRU encoder with bridge
# final, general attention after the decoder GRU, dropout 0.2, label
# smoothing 0.1, Adam 2e-3 halved when validation stalls (patience 4),
# gradient clipping 1, a budget of $MINUTES minutes, $DTYPE weights (default
# F16), checkpoints in $WORK, the model exported to $OUT.
train_bpe_bigru_general() {
  nice -n ${NICE:-5} tools/train \
    --normalizer text --level bpe --bpe-merges "${MERGES:-6000}" \
    --cell gru --bidirectional --bridge final \
    --attention general --attention-position after_rnn \
    --dropout 0.2 --label-smoothing 0.1 --lr 2e-3 --lr-decay 0.5 --clip 1 --patience 4 \
    --time-budget-minutes "$MINUTES" --dtype "${DTYPE:-F16}" \
    --work "$WORK" --out "$OUT" "$@"
}
