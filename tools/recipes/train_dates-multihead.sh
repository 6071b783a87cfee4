#!/bin/sh
# Reproduces models/dates-multihead: the dates recipe (tools/recipes/train_dates.sh)
# with 4-head attention (format version 2, section 9.3) in place of Bahdanau's,
# 15 minutes.
MINUTES=${MINUTES:-15} OUT=${OUT:-models/dates-multihead} WORK=${WORK:-work-tmp/dates-mh} \
  exec "$(dirname "$0")/train_dates.sh" --attention multihead --heads 4 "$@"
