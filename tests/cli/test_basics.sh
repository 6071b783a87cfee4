#!/bin/bash
# cli-basics: --help and --version, usage errors (exit 2, the flag named,
# --help suggested), model load errors, and `s2s info` checked against the
# model files read independently by Python.
NAME=cli-basics
. "$(dirname "$0")/lib.bash"
M=$FIX/gru_bahdanau_before
need_fixture "$M"

# --version and --help
expect_rc 0 "--version" "$S2S" --version
check "--version prints the version" grep -qE '^s2s [0-9]+\.[0-9]+\.[0-9]+' "$TMP/out"
expect_rc 0 "--help" "$S2S" --help
check "--help lists the commands" grep -q "translate" "$TMP/out"
for c in translate summarize score align info tokenize; do
  expect_rc 0 "$c --help" "$S2S" "$c" --help
  check "$c --help shows its usage" has "$TMP/out" "usage: s2s $c"
  expect_rc 0 "help $c" "$S2S" help "$c"
  check "help $c shows its usage" has "$TMP/out" "usage: s2s $c"
done
expect_rc 2 "no command" "$S2S"
expect_rc 2 "unknown command" "$S2S" frobnicate
check "unknown command is named" has "$TMP/err" "frobnicate"

# bad flags: exit 2, the flag named, --help suggested, nothing on stdout
bad_flag() { # DESCRIPTION WORD-TO-FIND ARGS...
  local d=$1 word=$2; shift 2
  expect_rc 2 "$d" "$S2S" "$@"
  check "$d: names '$word'" has "$TMP/err" "$word"
  check "$d: suggests --help" has "$TMP/err" "--help"
  check "$d: no output" test ! -s "$TMP/out"
}
bad_flag "unknown long flag" "--bogus" translate -m "$M" --bogus
bad_flag "unknown short flag" "-z" translate -m "$M" -z
bad_flag "missing value" "--beam" translate -m "$M" --beam
bad_flag "non-numeric beam" "--beam" translate -m "$M" --beam x
bad_flag "beam 0" "--beam" translate -m "$M" --beam 0
bad_flag "beam too large" "--beam" translate -m "$M" --beam 100000
bad_flag "n-best above beam" "--n-best" translate -m "$M" --beam 2 --n-best 3
bad_flag "negative length penalty" "--length-penalty" translate -m "$M" --length-penalty -1
bad_flag "nan length penalty" "--length-penalty" translate -m "$M" --length-penalty nan
bad_flag "max-length 0" "--max-length" translate -m "$M" --max-length 0
bad_flag "min-length >= max-length" "--min-length" translate -m "$M" --min-length 5 --max-length 5
bad_flag "threads 0" "--threads" translate -m "$M" --threads 0
bad_flag "bad format" "--format" translate -m "$M" --format xml
bad_flag "json is info's format" "--format" translate -m "$M" --format json
bad_flag "jsonl is not info's format" "--format" info -m "$M" --format jsonl
bad_flag "bad alignment" "--alignment" translate -m "$M" --alignment fuzzy
bad_flag "bad color" "--color" align -m "$M" --color sometimes
bad_flag "score takes no beam" "--beam" score -m "$M" --beam 2
bad_flag "bad side" "--side" tokenize -m "$M" --side middle
bad_flag "text and --input" "--input" translate -m "$M" -i /dev/null hello

# model errors: exit 2 with a message naming the model
expect_rc 2 "S2S_MODEL names a missing model" env S2S_MODEL="$TMP/no-model" "$S2S" translate x
check "S2S_MODEL error names the variable and the directory" grep -q "$TMP/no-model.*S2S_MODEL" "$TMP/err"
expect_rc 2 "missing model dir" "$S2S" translate -m "$TMP/nope"
check "missing model is named" has "$TMP/err" "$TMP/nope"
mkdir -p "$TMP/broken" && cp "$M"/* "$TMP/broken/" && echo '{"format": "s2s-rnn"' >"$TMP/broken/config.json"
expect_rc 2 "broken config.json" "$S2S" info -m "$TMP/broken"
check "broken model: a message" test -s "$TMP/err"
expect_rc 2 "score with a missing model" "$S2S" score -m "$TMP/nope"
expect_rc 2 "align with a missing model" "$S2S" align -m "$TMP/nope" a
expect_rc 2 "unreadable input file" "$S2S" translate -m "$M" -i "$TMP/no-such-file"
check "unreadable input is named" has "$TMP/err" "no-such-file"
expect_rc 2 "unwritable output file" "$S2S" translate -m "$M" -o "$TMP/no/such/dir/out" a

# a full output device: exit 2 with a message, for every kind of command
for cmd in "translate -m $M a b" "info -m $M" "align -m $M a b" "tokenize -m $M a b"; do
  expect_rc 2 "$cmd > /dev/full" bash -c "'$S2S' $cmd >/dev/full"
  check "$cmd > /dev/full: says so" has "$TMP/err" "error writing"
done

# info: text and JSON, checked against the files themselves
for mdl in "$M" "$FIX/unk_gru" "$FIX/lstm3_bi_final_bahdanau_after_feed" "$FIX/f16_gru_bahdanau" \
  "$S2S_ROOT/models/fra-eng" "$S2S_ROOT/models/dates"; do
  [ -d "$mdl" ] || continue
  expect_rc 0 "info text $(basename "$mdl")" "$S2S" info -m "$mdl"
  check "info text lists tensors" has "$TMP/out" "decoder.out.weight"
  check "info text has the parameter count" grep -q "parameters" "$TMP/out"
  expect_rc 0 "info json $(basename "$mdl")" "$S2S" info -m "$mdl" --format json
  check "info json matches the model files $(basename "$mdl")" "$PYTHON" - "$TMP/out" "$mdl" <<'PY'
import json, struct, sys, math
info = json.load(open(sys.argv[1])); d = sys.argv[2]
cfg = json.load(open(d + "/config.json"))
raw = open(d + "/" + cfg.get("weights", "model.safetensors"), "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
hdr = {k: v for k, v in json.loads(raw[8:8 + n]).items() if k != "__metadata__"}
ts = info["tensors"]
assert info["n_tensors"] == len(ts) > 0
assert [t["name"] for t in ts] == sorted(t["name"] for t in ts)
for t in ts:
    assert hdr[t["name"]]["shape"] == t["shape"], t
    assert hdr[t["name"]]["dtype"] == t["dtype"], t
assert info["n_parameters"] == sum(math.prod(t["shape"]) for t in ts)
assert info["source_vocab_size"] == len(json.load(open(d + "/" + cfg.get("source_vocab", "source.vocab.json"))))
assert info["target_vocab_size"] == len(json.load(open(d + "/" + cfg.get("target_vocab", "target.vocab.json"))))
sp = cfg["special_tokens"]
for k in ("sos", "eos", "unk", "pad"):
    assert info["special_tokens"][k] == sp.get(k), k
for k in ("cell", "hidden_size", "embedding_size"):
    assert info["encoder"][k] == cfg["encoder"][k] and info["decoder"][k] == cfg["decoder"][k], k
assert info["tokenizer"]["normalizer"] == cfg.get("tokenizer", {}).get("normalizer", "none")
assert info["tokenizer"]["level"] == cfg.get("tokenizer", {}).get("level", "word")
assert info["tokenizer"]["whole_numbers"] == cfg.get("tokenizer", {}).get("whole_numbers", False)
assert info["tokenizer"]["whole_names"] == cfg.get("tokenizer", {}).get("whole_names", False)
assert info["dir_from"] == "option"
# license, attribution and scores as config.json records them (null when not)
assert info["license"] == cfg.get("license") and info["attribution"] == cfg.get("attribution")
assert info["scores"] == cfg.get("scores"), (info["scores"], cfg.get("scores"))
PY
done
expect_rc 0 "info text of fra-eng" "$S2S" info -m "$S2S_ROOT/models/fra-eng"
check "info text: the model and why" grep -q "^model: .*models/fra-eng (given on the command line)$" "$TMP/out"
check "info text: license" grep -q "^license: *CC-BY 2.0 FR" "$TMP/out"
check "info text: attribution" grep -q "^attribution: *Tatoeba" "$TMP/out"
check "info text: every score, one a line" "$PYTHON" -c "
import json, sys
cfg = json.load(open('$S2S_ROOT/models/fra-eng/config.json'))
text = open('$TMP/out').read()
for k, v in cfg['scores'].items():
    v = ('%.15g' % v) if isinstance(v, float) else v  # as the command prints a number
    assert ('%s %s' % (k, v)) in text, k"

# tokenizer.whole_numbers and whole_names, on and off, in info and in the pieces
# sets tokenizer key $1 of the copy's config.json to the JSON value $2
set_tokenizer_key() {
  "$PYTHON" - "$TMP/whole/config.json" "$1" "$2" <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); c["tokenizer"][sys.argv[2]] = json.loads(sys.argv[3])
json.dump(c, open(sys.argv[1], "w"))
PY
}
if [ -d "$S2S_ROOT/models/fra-eng" ]; then
  cp -r "$S2S_ROOT/models/fra-eng" "$TMP/whole"
  for key in whole_numbers whole_names; do
    case $key in
      whole_numbers) text="en 1791."; whole_piece=1791; split_piece=1 ;;
      whole_names) text="en Kowalski."; whole_piece=Kowalski; split_piece=K ;;
    esac
    label=$(echo $key | tr _ ' ')
    for whole in true false; do
      set_tokenizer_key "$key" "$whole"
      expect_rc 0 "info $key $whole" "$S2S" info -m "$TMP/whole"
      if [ $whole = true ]; then check "info text: $label" has "$TMP/out" ", $label"
      else check "info text: no $label" not has "$TMP/out" "$label"; fi
      expect_rc 0 "info json $key $whole" "$S2S" info -m "$TMP/whole" --format json
      check "info json: $key $whole" "$PYTHON" -c "
import json, sys; assert json.load(open('$TMP/out'))['tokenizer']['$key'] is $( [ $whole = true ] && echo True || echo False )"
      expect_rc 0 "pieces $key $whole" "$S2S" tokenize -m "$TMP/whole" --show pieces "$text"
      if [ $whole = true ]; then check "$whole_piece is one piece" grep -q "^en $whole_piece ￭\. " "$TMP/out"
      else check "$whole_piece is split" grep -q "^en $split_piece ￭" "$TMP/out"; fi
    done
    set_tokenizer_key "$key" '"yes"'
    expect_rc 2 "$key not a bool" "$S2S" info -m "$TMP/whole"
    check "$key not a bool: names the key" has "$TMP/err" "key \"tokenizer.$key\": expected true or false, got a string"
    set_tokenizer_key "$key" false
  done
fi

# the default model: without -m, \$S2S_MODEL, else the installed default,
# else models/fra-eng of the source tree (tests/cli/install.sh checks the
# installed one)
expect_rc 0 "info without -m" env -u S2S_MODEL "$S2S" info --format json
check "without -m: the installed default or the source tree's fra-eng" "$PYTHON" -c "
import json, os, sys
o = json.load(open('$TMP/out'))
tree = os.path.realpath('$S2S_ROOT/models/fra-eng')
ok = (o['dir_from'] == 'source tree' and os.path.realpath(o['dir']) == tree) or \
     (o['dir_from'] == 'installed' and o['dir'].endswith('/share/s2s/models/fra-eng'))
sys.exit(not ok)"
expect_rc 0 "translate without -m" env -u S2S_MODEL "$S2S" translate "Il pleut."
check "translate without -m gives fra-eng's output" test -s "$TMP/out"
expect_rc 0 "S2S_MODEL" env S2S_MODEL="$M" "$S2S" info --format json
check "S2S_MODEL picks the model and says so" "$PYTHON" -c "
import json, sys
o = json.load(open('$TMP/out')); sys.exit(not (o['dir'] == '$M' and o['dir_from'] == 'S2S_MODEL'))"
expect_rc 0 "-m wins over S2S_MODEL" env S2S_MODEL="$TMP/no-model" "$S2S" info -m "$M"
check "-m: given on the command line" has "$TMP/out" "(given on the command line)"
expect_rc 0 "info takes the directory as argument" "$S2S" info "$M"
check "info argument form prints the model" has "$TMP/out" "$M"

finish
