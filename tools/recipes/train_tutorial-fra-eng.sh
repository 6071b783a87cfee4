#!/bin/sh
# Reproduces models/tutorial-fra-eng: the PyTorch seq2seq tutorial's model
# (EncoderRNN + AttnDecoderRNN, hidden 128, "tutorial" normalizer, French ->
# English, pairs of fewer than 10 words whose English side starts with one of
# the tutorial's eng_prefixes), trained with s2s_tools.tutorial's recipe
# (padded batches of 32, Adam 0.001, up to 80 epochs or the time budget),
# saved as a tutorial checkpoint and exported with tools/export
# (tools/recipes/tutorial_fra_eng.py does the training and the provenance).
#
# 500 of the filtered pairs (fixed seed) are held out for evaluation
# (WORK/heldout.tsv); everything else is trained on.
#
#   tools/recipes/train_tutorial-fra-eng.sh            # env: DATA, WORK, MINUTES, OUT
. "$(dirname "$0")/env.sh"
DATA=${DATA:-../shared/data/tatoeba-eng-fra/eng-fra.txt}
WORK=${WORK:-work-tmp/tutorial-fra-eng}
MINUTES=${MINUTES:-15}
OUT=${OUT:-models/tutorial-fra-eng}
mkdir -p "$WORK"

nice -n 5 "$PYTHON" tools/recipes/tutorial_fra_eng.py train "$DATA" "$WORK" "$MINUTES"
tools/export --from tutorial "$WORK/tutorial.pt" "$OUT"
# provenance and scores in config.json (extra keys are allowed by the model format)
"$PYTHON" tools/recipes/tutorial_fra_eng.py provenance "$OUT" "$WORK" "$MINUTES"
echo "exported $OUT"
