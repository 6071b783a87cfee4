#!/usr/bin/env bash
# The fast mode's lexical shortlist from the command's side: tools/shortlist
# learns one from pairs, `s2s info` shows it, --compute int8 uses it and
# --no-shortlist switches it off (then output equals int8 without the file),
# f32 ignores it, and a broken shortlist.txt refuses the model naming the
# file and line.
NAME=cli-shortlist
source "$(dirname "$0")/lib.bash"
fe=$S2S_ROOT/models/fra-eng
need_fixture "$fe"
# the model's vocabulary sizes, which a shortlist header must state
read -r nsrc ntgt < <("$PYTHON" -c "
import json, sys
c = json.load(open(sys.argv[1] + '/config.json'))
print(*(len(json.load(open(sys.argv[1] + '/' + c[k]))) for k in ('source_vocab', 'target_vocab')))" "$fe")
# ---- a broken shortlist: a bad line fails the fast mode, naming the file and
# the line (the body is read on first use); a wrong header refuses the model
broken=$TMP/broken
cp -r "$fe" "$broken"
printf 's2s-shortlist 1 %d %d\nfrequent 4 5\n12 99999\n' "$nsrc" "$ntgt" >"$broken/shortlist.txt"
expect_rc 0 "out-of-range id: f32 translates" "$S2S" translate -m "$broken" "Bonjour."
expect_rc 1 "out-of-range id: int8 fails the line" "$S2S" translate -m "$broken" --compute int8 "Bonjour."
check "out-of-range id: named" has "$TMP/err" "shortlist.txt line 3: target id 99999 outside the target vocabulary (0..$((ntgt - 1)))"
check "out-of-range id: one line" test "$(lines "$TMP/err")" = 1
printf 's2s-shortlist 1 5000 %d\n' "$ntgt" >"$broken/shortlist.txt"
expect_rc 2 "other vocabulary: model refused" "$S2S" info -m "$broken"
check "other vocabulary: named" has "$TMP/err" "shortlist.txt line 1: made for vocabularies of 5000 and $ntgt tokens, the model has $nsrc and $ntgt"
rm "$broken/shortlist.txt"
mkfifo "$broken/shortlist.txt"
expect_rc 2 "FIFO shortlist: model refused" timeout 10 "$S2S" info -m "$broken"
check "FIFO shortlist: named" has "$TMP/err" "shortlist.txt: not a regular file"
rm "$broken/shortlist.txt"
ln -s /nonexistent "$broken/shortlist.txt"
expect_rc 2 "dangling symbolic link: model refused" "$S2S" info -m "$broken"
check "dangling symbolic link: named" has "$TMP/err" "shortlist.txt: cannot open"
rm "$broken/shortlist.txt"
ln -s "$fe/config.json" "$broken/shortlist.txt"
expect_rc 2 "link out of the directory: model refused" "$S2S" info -m "$broken"
check "link out of the directory: named" has "$TMP/err" "shortlist.txt: resolves outside the model directory"

pairs=$S2S_ROOT/../shared/data/tatoeba-eng-fra/eng-fra.txt
if [ ! -f "$pairs" ]; then echo "$NAME: learning a shortlist SKIPPED: $pairs is missing"; finish; exit $?; fi

plain=$TMP/plain
listed=$TMP/listed
cp -r "$fe" "$plain"
rm -f "$plain/shortlist.txt"
cp -r "$plain" "$listed"
head -n 20000 "$pairs" >"$TMP/pairs.tsv"
expect_rc 0 "tools/shortlist learns a shortlist" env S2S="$S2S" "$S2S_ROOT/tools/shortlist" -m "$listed" \
  --train "$TMP/pairs.tsv" --src-col 1 --tgt-col 0 --frequent 50 --per-source 10
check "the shortlist file starts with its header" has "$listed/shortlist.txt" "s2s-shortlist 1 $nsrc $ntgt"
check "the shortlist keeps 50 frequent ids" test "$(grep '^frequent ' "$listed/shortlist.txt" | wc -w)" = 51

expect_rc 0 "info with a shortlist" "$S2S" info -m "$listed"
check "info shows the shortlist" has "$TMP/out" "shortlist:    shortlist.txt (the lexical shortlist of --compute int8)"
expect_rc 0 "info without one" "$S2S" info -m "$plain"
check "info shows no shortlist line without the file" lacks "$TMP/out" "shortlist:"

cat >"$TMP/in.txt" <<'TXT'
Je suis content de te voir.
Il fait très froid ce matin à Marseille.
Nous avons acheté trois livres et deux cahiers.
Elle ne sait pas nager.
TXT
run() { "$S2S" translate -q --no-split-sentences --case off -i "$TMP/in.txt" "$@"; }
run -m "$plain" --compute int8 >"$TMP/int8.txt"
run -m "$listed" --compute int8 --no-shortlist >"$TMP/int8-off.txt"
run -m "$listed" --compute int8 >"$TMP/int8-sl.txt"
run -m "$plain" >"$TMP/f32.txt"
run -m "$listed" >"$TMP/f32-listed.txt"
check "--no-shortlist equals int8 without the file" cmp -s "$TMP/int8.txt" "$TMP/int8-off.txt"
check "f32 ignores the shortlist" cmp -s "$TMP/f32.txt" "$TMP/f32-listed.txt"
check "int8 with the shortlist translates every line" test "$(lines "$TMP/int8-sl.txt")" = 4
"$S2S" translate -m "$listed" --compute int8 --format jsonl -q --no-split-sentences --case off -i "$TMP/in.txt" >"$TMP/sl.jsonl"
check "int8 with the shortlist: finite scores" not has "$TMP/sl.jsonl" '"score": null'

finish
