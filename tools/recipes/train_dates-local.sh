#!/bin/sh
# Reproduces models/dates-local: the dates recipe (tools/recipes/train_dates.sh)
# with predictive local attention (local-p, window 3; format version 2,
# section 9.2), Luong "general" scores after the decoder RNN, 15 minutes.
MINUTES=${MINUTES:-15} OUT=${OUT:-models/dates-local} WORK=${WORK:-work-tmp/dates-lp} \
  exec "$(dirname "$0")/train_dates.sh" --attention general --attention-position after_rnn \
  --window 3 --local predictive "$@"
