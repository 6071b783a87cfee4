#!/usr/bin/env bash
# The threaded paths of the command: translate (greedy, beam, keep numbers,
# n-best, jsonl, alignment), summarize and score with --threads 2 and 3, from a file and
# from a pipe, with bad lines mixed in; every output equals --threads 1.
# `make tsan-test` runs this under ThreadSanitizer (S2S_TSAN=1): a report
# makes the command exit 66, which fails the checks.
NAME=cli-threads
source "$(dirname "$0")/lib.bash"
fe=$S2S_ROOT/models/fra-eng
dates=$S2S_ROOT/models/dates
need_fixture "$fe"
need_fixture "$dates"
n=100
if [ -n "${S2S_TSAN:-}${S2S_SANITIZE:-}" ]; then n=40; fi # fewer lines under a sanitizer
head -n "$n" "$S2S_ROOT/tests/fixtures/tokenizer/inputs-test.txt" >"$TMP/in.txt"
# bad lines in the stream: invalid UTF-8, empty, blank
printf 'caf\xe9 cr\xe8me\n\n   \n' >>"$TMP/in.txt"
head -n 20 "$S2S_ROOT/tests/fixtures/tokenizer/inputs-test.txt" >>"$TMP/in.txt"
paste "$TMP/in.txt" "$TMP/in.txt" >"$TMP/pairs.txt"

run() { # run NAME ARGS...: --threads 1, 2 and 3 (file) and 2 (pipe) agree
  local what=$1; shift
  "$S2S" "$@" -q --threads 1 -i "$TMP/in.txt" >"$TMP/o1" 2>"$TMP/e1"; local rc1=$?
  check "$what: --threads 1 exit 0 or 1 (got $rc1)" test "$rc1" -le 1
  for t in 2 3; do
    "$S2S" "$@" -q --threads $t -i "$TMP/in.txt" >"$TMP/o$t" 2>"$TMP/e$t"; local rc=$?
    check "$what: --threads $t exit $rc == $rc1" test "$rc" = "$rc1"
    check "$what: --threads $t output == --threads 1" cmp -s "$TMP/o1" "$TMP/o$t"
    check "$what: --threads $t messages == --threads 1" cmp -s "$TMP/e1" "$TMP/e$t"
  done
  cat "$TMP/in.txt" | "$S2S" "$@" -q --threads 2 >"$TMP/op" 2>"$TMP/ep"
  check "$what: --threads 2 from a pipe == --threads 1" cmp -s "$TMP/o1" "$TMP/op"
  check "$what: no ThreadSanitizer report" not grep -q "ThreadSanitizer" "$TMP/e2" "$TMP/e3" "$TMP/ep"
}

run "greedy text" translate -m "$fe" --beam 1 --length-penalty 0 --no-keep-numbers
run "beam 3 jsonl, the model's other defaults (keep numbers)" translate -m "$fe" --beam 3 --format jsonl
run "n-best 2, alignment, scores" translate -m "$fe" --beam 2 --n-best 2 --alignment hard --scores
run "summarize (dates model)" summarize -m "$dates" --max-length 12

# score reads source<TAB>target pairs
"$S2S" score -m "$fe" -q --threads 1 --format jsonl -i "$TMP/pairs.txt" >"$TMP/s1" 2>"$TMP/se1"
"$S2S" score -m "$fe" -q --threads 2 --format jsonl -i "$TMP/pairs.txt" >"$TMP/s2" 2>"$TMP/se2"; rc=$?
check "score: --threads 2 exit 0 or 1 (got $rc)" test "$rc" -le 1
check "score: --threads 2 == --threads 1" cmp -s "$TMP/s1" "$TMP/s2"
check "score: no ThreadSanitizer report" not grep -q "ThreadSanitizer" "$TMP/se2"
finish
