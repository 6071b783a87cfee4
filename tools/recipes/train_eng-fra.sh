#!/bin/sh
# Reproduces models/eng-fra (English -> French); see tools/recipes/train_tatoeba.sh.
exec "$(dirname "$0")/train_tatoeba.sh" eng-fra "$@"
