#!/bin/sh
# Trains a Tatoeba English<->French model (used by tools/train_fra-eng.sh and
# tools/train_eng-fra.sh): all of tatoeba-eng-fra/eng-fra.txt, "text"
# normalizer + joint BPE, bidirectional GRU encoder, Luong-style attention
# after the decoder GRU, scored on tatoeba-eng-fra/test.tsv.
#   tools/train_tatoeba.sh fra-eng|eng-fra [extra tools/train options]
# env: DATA (folder of eng-fra.txt and test.tsv), WORK, MINUTES, OUT
set -eu
cd "$(dirname "$0")/.."
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
nice -n 5 /usr/bin/python3 tools/train \
  --train "$DATA/eng-fra.txt" --src-col $S --tgt-col $T --valid-size 2000 \
  --test "$DATA/test.tsv" --test-src-col $S --test-tgt-col $T \
  --test-name "tatoeba-eng-fra/test.tsv (OPUS-MT Tatoeba test v2021-08-07, pairs unseen in eng-fra.txt)" \
  --source-language $SL --target-language $TL \
  --normalizer text --level bpe --bpe-merges ${MERGES:-6000} --min-freq 2 \
  --max-src-tokens 60 --max-tgt-tokens 60 \
  --cell gru --emb ${EMB:-192} --hidden ${HIDDEN:-128} --bidirectional --bridge final \
  --attention general --attention-position after_rnn \
  --dropout 0.2 --label-smoothing 0.1 --batch-size ${BATCH:-96} --lr 2e-3 --lr-decay 0.5 --clip 1 \
  --epochs 20 --patience 4 --valid-every ${VALID_EVERY:-400} --bleu-sample 300 \
  --time-budget-minutes "$MINUTES" --dtype ${DTYPE:-F16} \
  --work "$WORK" --out "$OUT" \
  --license "CC-BY 2.0 FR (training data: Tatoeba); model weights under the same terms" \
  --attribution "Tatoeba sentence pairs via www.manythings.org/anki and tatoeba.org" \
  --source-data "tatoeba-eng-fra/eng-fra.txt (manythings.org Anki release 2017-09-29, 142,787 pairs; 2000 held out for validation)" \
  --command "MINUTES=$MINUTES tools/train_$DIR.sh $*" "$@"

# Beam-search scores with the C engine (when it is built): beam 5, GNMT length
# penalty 1, scored by tools/eval; stored in config.json next to the greedy ones.
if [ -x build/s2s ]; then
  cut -f$((S + 1)) "$DATA/test.tsv" > "$WORK/test.src"
  cut -f$((T + 1)) "$DATA/test.tsv" > "$WORK/test.ref"
  nice -n 5 build/s2s translate -m "$OUT" -q --beam 5 --length-penalty 1 -i "$WORK/test.src" -o "$WORK/test.beam5.hyp"
  tools/eval --metrics bleu,chrf -r "$WORK/test.ref" -i "$WORK/test.beam5.hyp" --json > "$WORK/test.beam5.json"
  /usr/bin/python3 - "$OUT/config.json" "$WORK/test.beam5.json" <<'PY'
import json, sys
p, r = sys.argv[1], json.load(open(sys.argv[2]))["metrics"]
cfg = json.load(open(p, encoding="utf-8"))
sc = cfg.setdefault("scores", {})
sc["test_beam5_lp1_bleu"] = round(r["bleu"]["score"], 2)
sc["test_beam5_lp1_chrf"] = round(r["chrf"]["score"], 2)
sc["test_beam5_lp1_decoding"] = "s2s translate --beam 5 --length-penalty 1; tools/eval (sacreBLEU-compatible BLEU, chrF2)"
with open(p, "w", encoding="utf-8") as f:
    json.dump(cfg, f, ensure_ascii=False, indent=2)
    f.write("\n")
print(json.dumps(sc, indent=1))
PY
fi
