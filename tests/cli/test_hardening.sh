#!/usr/bin/env bash
# Regression tests for problems an adversarial review found: same input and
# output file, write errors, the length-penalty range, long scoring targets,
# memory on a huge line.
set -u
S2S=${S2S:?path of the s2s binary}
root=${S2S_ROOT:-$(pwd)}
m="$root/models/dates"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
check() { if eval "$2"; then pass=$((pass + 1)); else echo "FAIL: $1"; fail=$((fail + 1)); fi; }
if [ ! -d "$m" ]; then echo "SKIP: $m missing"; echo "cli-hardening: 0 passed, 0 failed"; exit 0; fi

printf '12 mars 2021\n' > "$tmp/same.txt"
timeout 20 "$S2S" translate -m "$m" -i "$tmp/same.txt" -o "$tmp/same.txt" 2>"$tmp/err"; rc=$?
check "same input and output file: exit 2" '[ $rc -eq 2 ]'
check "same input and output file: input kept" '[ "$(cat "$tmp/same.txt")" = "12 mars 2021" ]'
check "same input and output file: message names it" 'grep -q "same file" "$tmp/err"'

yes "12 mars 2021" | head -20000 > "$tmp/many.txt"
start=$(date +%s%N)
timeout 60 "$S2S" translate -m "$m" -i "$tmp/many.txt" -o /dev/full 2>"$tmp/err"; rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "write error: exit 2" '[ $rc -eq 2 ]'
check "write error: stops at the first chunk (${ms} ms for 20000 lines)" '[ $ms -lt 3000 ]'

out=$(printf '12 mars 2021\n' | timeout 20 "$S2S" translate -m "$m" --length-penalty 10.5 --beam 2); rc=$?
check "length penalty 10.5 accepted by CLI and engine (exit $rc)" '[ $rc -eq 0 ] && [ "$out" = "2021-03-12" ]'
printf '12 mars 2021\n' | timeout 20 "$S2S" translate -m "$m" --length-penalty 101 >/dev/null 2>&1; rc=$?
check "length penalty 101 is a usage error" '[ $rc -eq 2 ]'

# a 1500-character target is scored whole: 1500 tokens and 1501 steps
target=$(head -c 1500 /dev/zero | tr '\0' '2')
printf '12 mars\t%s\n' "$target" | timeout 60 "$S2S" score -m "$m" --format jsonl > "$tmp/score.jsonl" 2>"$tmp/err"; rc=$?
check "long target: exit 0" '[ $rc -eq 0 ]'
check "long target: scored whole" '"$PYTHON" -c "import json,sys; h=json.load(open(sys.argv[1]))[\"hypotheses\"][0]; sys.exit(0 if len(h[\"tokens\"])==1500 and len(h[\"attention\"])==1501 else 1)" "$tmp/score.jsonl"'
check "long target: no warning" '! grep -q warning "$tmp/err"'

# memory on a 4 MB line of one word repeated: pieces past the limit are not kept
head -c 4000000 /dev/zero | tr '\0' 'a' | sed 's/aaaa/aaa /g' > "$tmp/big.txt"; echo >> "$tmp/big.txt"
kb=$("$PYTHON" -c '
import resource, subprocess, sys
subprocess.run(["timeout", "60", sys.argv[1], "translate", "-m", sys.argv[2], "-i", sys.argv[3]],
               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' "$S2S" "$m" "$tmp/big.txt")
check "4 MB line in bounded memory (${kb} KB peak)" '[ -n "$kb" ] && [ "$kb" -lt 300000 ]'
# 128k combining marks of two classes in one word: normalization stays linear
# (stream-safe text: U+034F after every 30 non-starters, in C and in Python)
fe="$root/models/fra-eng"
if [ -d "$fe" ]; then
  "$PYTHON" -c "import sys; sys.stdout.write('a' + '\u0301\u0316' * 64000 + '\n')" > "$tmp/marks.txt"
  start=$(date +%s%N)
  timeout 60 "$S2S" tokenize -m "$fe" --show pieces -i "$tmp/marks.txt" > "$tmp/marks.out" 2>/dev/null; rc=$?
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  check "64k mixed combining marks tokenized quickly (${ms} ms, exit $rc)" '[ $rc -eq 0 ] && [ $ms -lt 5000 ]'
  check "a combining grapheme joiner breaks the run" 'grep -q "$(printf "\xcd\x8f")" "$tmp/marks.out"'
fi
echo "cli-hardening: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
