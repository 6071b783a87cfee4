#!/bin/sh
# Trains a Tatoeba English<->French model (used by tools/recipes/train_fra-eng.sh
# and tools/recipes/train_eng-fra.sh): all of tatoeba-eng-fra/eng-fra.txt but
# 2000 held-out validation pairs, with ALL-CAPS and Title Case copies, number
# variants and invented names added (tools/recipes/augment.py); "text"
# normalizer + joint BPE, bidirectional GRU encoder, Luong-style attention
# after the decoder GRU, copy attention (pointer-generator); scored on
# tatoeba-eng-fra/test.tsv.
#   tools/recipes/train_tatoeba.sh fra-eng|eng-fra [extra tools/train options]
# env: DATA (folder of eng-fra.txt and test.tsv), WORK, MINUTES, OUT,
#      INIT: a model directory to continue from (its architecture, tokenizer
#      and weights; copy is added when it lacks it), e.g. INIT=models/fra-eng,
#      CONCAT: share of joined two- and three-pair paragraphs added (augment.py
#      --concat; default 0),
#      RESUME=1: go on with the run in WORK (WORK/last.pt: weights, optimizer,
#      moving average, data order) for MINUTES more, rather than restart from
#      INIT's weights; INIT may then name the run's own export,
#      DISTILL=1: INIT's own beam-5 translations of the training sources added
#      (tools/recipes/distill.py; needs INIT and build/s2s); train with
#      --select bleu then, since the validation loss measures the references
. "$(dirname "$0")/env.sh"
DIR=$1; shift
DATA=${DATA:-../shared/data/tatoeba-eng-fra}
WORK=${WORK:-work-tmp/$DIR}
MINUTES=${MINUTES:-50}
OUT=${OUT:-models/$DIR}
case $DIR in
  fra-eng) S=1; T=0; SL=fr; TL=en ;;
  eng-fra) S=0; T=1; SL=en; TL=fr ;;
  *) echo "usage: $0 fra-eng|eng-fra [options]" >&2; exit 2 ;;
esac
mkdir -p "$WORK"
"$PYTHON" tools/recipes/augment.py "$DATA/eng-fra.txt" "$WORK/train.tsv" \
  --valid-out "$WORK/valid.tsv" --valid-size 2000 --numbers-valid-out "$WORK/valid-numbers.tsv" \
  --long-valid-out "$WORK/valid-long.tsv" --concat ${CONCAT:-0}
if [ -n "${DISTILL:-}" ]; then
  if [ -z "${INIT:-}" ] || [ ! -x build/s2s ]; then
    echo "$0: DISTILL needs INIT (the model that translates) and build/s2s" >&2; exit 2
  fi
  "$PYTHON" tools/recipes/distill.py "$INIT" "$DATA/eng-fra.txt" "$WORK/distill.tsv" \
    --src-col $S --tgt-col $T --exclude "$WORK/valid.tsv" --s2s build/s2s
  cat "$WORK/distill.tsv" >> "$WORK/train.tsv"
fi
INIT_ARGS=""
if [ -n "${INIT:-}" ]; then INIT_ARGS="--init-from $INIT"; fi
if [ -n "${RESUME:-}" ]; then INIT_ARGS="$INIT_ARGS --resume"; fi
train_bpe_bigru_general $INIT_ARGS --copy --label-smoothing 0 \
  --train "$WORK/train.tsv" --valid "$WORK/valid.tsv" --src-col $S --tgt-col $T --valid-size 2000 \
  --test "$DATA/test.tsv" --test-src-col $S --test-tgt-col $T \
  --test-name "tatoeba-eng-fra/test.tsv (OPUS-MT Tatoeba test v2021-08-07, pairs unseen in eng-fra.txt)" \
  --source-language $SL --target-language $TL \
  --min-freq 2 --max-src-tokens 60 --max-tgt-tokens 60 \
  --emb ${EMB:-192} --hidden ${HIDDEN:-128} --batch-size ${BATCH:-96} \
  --epochs 20 --valid-every ${VALID_EVERY:-400} --bleu-sample 300 \
  --license "CC-BY 2.0 FR (training data: Tatoeba); model weights under the same terms" \
  --attribution "Tatoeba sentence pairs via www.manythings.org/anki and tatoeba.org" \
  --source-data "tatoeba-eng-fra/eng-fra.txt (manythings.org Anki release 2017-09-29, 142,787 pairs; 2000 held out for validation; cased copies, number variants and invented names${CONCAT:+ and joined two- and three-pair paragraphs (--concat $CONCAT)} added by tools/recipes/augment.py${DISTILL:+; the initial model's beam-5 translations of the training sources added by tools/recipes/distill.py})" \
  --command "MINUTES=$MINUTES${INIT:+ INIT=$INIT}${RESUME:+ RESUME=$RESUME}${CONCAT:+ CONCAT=$CONCAT}${DISTILL:+ DISTILL=$DISTILL} tools/recipes/train_$DIR.sh $*" "$@"

# The fast mode's lexical shortlist, learned from the same training pairs
# (needs the C engine's tokenizer: build/s2s).
if [ -x build/s2s ]; then
  S2S=build/s2s tools/shortlist -m "$OUT" --train "$WORK/train.tsv" --src-col $S --tgt-col $T
fi

# The command's decoding defaults (beam, length penalty, keep numbers),
# picked on the validation pairs and their number variants, into the
# config's "decoding" (needs build/s2s).
if [ -x build/s2s ]; then
  "$PYTHON" tools/recipes/tatoeba_defaults.py "$OUT" "$DIR" --valid "$WORK/valid.tsv" \
    --numbers-valid "$WORK/valid-numbers.tsv" --s2s build/s2s --work "$WORK"
fi

# Test scores with the C engine (when it is built), as the command runs by
# default (the defaults above), greedy and beam 5 (length penalty 1), f32
# and the fast mode with its shortlist: BLEU, chrF and the copy rate of
# numbers and names, and the copy rate of numbers on the validation pairs
# given numbers, and BLEU and chrF on paragraphs of validation pairs, stored
# in config.json.
if [ -x build/s2s ]; then
  "$PYTHON" tools/recipes/tatoeba_scores.py "$OUT" "$DIR" --test "$DATA/test.tsv" \
    --numbers-valid "$WORK/valid-numbers.tsv" --long-valid "$WORK/valid-long.tsv" \
    --s2s build/s2s --work "$WORK"
fi
