#!/bin/sh
# Reproduces models/fra-eng (French -> English, the default model); see tools/recipes/train_tatoeba.sh.
exec "$(dirname "$0")/train_tatoeba.sh" fra-eng "$@"
