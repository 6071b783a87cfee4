#!/bin/bash
# cli-decoding: the decoding controls of the command on real text with the
# default model: --no-repeat-ngram never repeats an n-gram, --keep-numbers
# keeps every number or falls back to the plain output, --prefix is kept
# and scored like forced decoding, --prefix-column reads a prefix per line,
# sampling depends only on (--seed, line number, sample) whatever --threads,
# and bad values are usage errors naming the option.
NAME=cli-decoding
. "$(dirname "$0")/lib.bash"
M=$S2S_ROOT/models/fra-eng
need_fixture "$M"
PROSE=$S2S_ROOT/tests/fixtures/prose/fr.txt

# --no-repeat-ngram 2: no word bigram twice in any output line (checked on the tokens)
expect_rc 0 "no-repeat-ngram run" "$S2S" translate -m "$M" "${SEARCH[@]}" --no-split-sentences --no-repeat-ngram 2 \
  --format jsonl -i "$PROSE"
check "no output repeats a 2-gram of tokens" "$PYTHON" - "$TMP/out" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    o = json.loads(line)
    for h in o.get("hypotheses", []):
        t = h["tokens"]
        grams = [tuple(t[i:i + 2]) for i in range(len(t) - 1)]
        if len(grams) != len(set(grams)):
            sys.exit("line %d repeats a bigram: %r" % (o["id"], t))
PY

# --keep-numbers: each output is finished and holds every number of its
# line (a word of digits only is one piece of this model), or else is the
# output without the option, on prose full of numbers, with greedy and beam
# search; and the option changes at least one output. With beam search the
# beam keeps room for hypotheses that hold more numbers, so there every
# line of this prose keeps all of its numbers.
for B in 1 3; do
  expect_rc 0 "without keep-numbers, beam $B" "$S2S" translate -m "$M" --no-split-sentences --case off \
    --beam "$B" --length-penalty 0 --no-keep-numbers --format jsonl -i "$PROSE"
  cp "$TMP/out" "$TMP/plain$B.jsonl"
  expect_rc 0 "keep-numbers run, beam $B" "$S2S" translate -m "$M" --no-split-sentences --case off --beam "$B" \
    --length-penalty 0 --keep-numbers --format jsonl -i "$PROSE"
  check "beam $B: each output holds its line's numbers and is finished (greedy: or is the plain output)" \
    "$PYTHON" - "$TMP/out" "$TMP/plain$B.jsonl" "$PROSE" "$B" <<'PY'
import json, re, sys
plain = [json.loads(l)["hypotheses"][0] for l in open(sys.argv[2])]
lines = open(sys.argv[3], encoding="utf-8").read().split("\n")
beam = int(sys.argv[4])
for out in open(sys.argv[1]):
    o = json.loads(out)
    h = o["hypotheses"][0]
    numbers = re.findall(r"(?<![\w.,])[0-9]+(?![\w])", lines[o["id"]])
    holds_all = h["finished"] and all(n in h["tokens"] for n in numbers)
    if not holds_all and (beam > 1 or h != plain[o["id"]]):
        sys.exit("line %d: %r lacks one of %r%s" % (o["id"], h["tokens"], numbers,
                                                    "" if beam > 1 else " and is not the plain output"))
PY
  check "beam $B: keep-numbers changes some output" not cmp -s "$TMP/out" "$TMP/plain$B.jsonl"
done

# --prefix: every output starts with the prefix's tokens and scores as forced decoding
expect_rc 0 "prefix run" "$S2S" translate -m "$M" --no-split-sentences --case off --prefix "He has" --format jsonl \
  "Il est dans un hôpital à Marseille depuis 1991."
cp "$TMP/out" "$TMP/prefix.jsonl"
check "the output starts with the prefix" "$PYTHON" -c "
import json, sys
h = json.loads(open('$TMP/prefix.jsonl').readline())['hypotheses'][0]
sys.exit(0 if h['text'].startswith('He has') else 1)"
"$PYTHON" -c "
import json
h = json.loads(open('$TMP/prefix.jsonl').readline())['hypotheses'][0]
print('Il est dans un hôpital à Marseille depuis 1991.\t' + h['text'])" >"$TMP/pair.tsv"
expect_rc 0 "score the prefixed output" "$S2S" score -m "$M" --format jsonl -i "$TMP/pair.tsv"
check "its score equals forced decoding's (1e-4)" "$PYTHON" -c "
import json, sys
a = json.loads(open('$TMP/prefix.jsonl').readline())['hypotheses'][0]['score']
b = json.loads(open('$TMP/out').readline())['hypotheses'][0]['score']
sys.exit(0 if abs(a - b) < 1e-4 else 'prefix %r forced %r' % (a, b))"

# A prefix token of probability 0 (here the copied "12", whose copy
# attention is below the float range for this model) leaves the score at
# -inf: greedy still takes the arg-max after it, with or without scores,
# and finishes (rather than ranking every -inf sum level and writing the
# lowest id, <pad>, until --max-length).
for SC in --scores ""; do
  expect_rc 0 "greedy after a prefix of probability 0 ${SC:-without scores}" "$S2S" translate -m "$M" \
    --no-split-sentences --case off --beam 1 --no-keep-numbers --prefix "He has 12" --format jsonl $SC \
    "Il a 2 chiens et 12 chats."
  cp "$TMP/out" "$TMP/zero${SC:+-scores}.jsonl"
done
check "it goes on with the arg-max and finishes, the same with and without scores" "$PYTHON" -c "
import json, sys
a = json.loads(open('$TMP/zero-scores.jsonl').readline())['hypotheses'][0]
b = json.loads(open('$TMP/zero.jsonl').readline())['hypotheses'][0]
ok = a['finished'] and '<pad>' not in a['tokens'] and a['tokens'] == b['tokens']
sys.exit(0 if ok else 'with scores %r, without %r' % (a['tokens'], b['tokens']))"

# --prefix-column: the prefix of each line after a TAB
printf 'Il fait beau aujourd'"'"'hui.\tThe weather\nOù est la gare ?\tWhere is\n' >"$TMP/pre.tsv"
expect_rc 0 "prefix-column run" "$S2S" translate -m "$M" --prefix-column -i "$TMP/pre.tsv"
check "each line starts with its own prefix" \
  bash -c "sed -n 1p '$TMP/out' | grep -q '^The weather' && sed -n 2p '$TMP/out' | grep -q '^Where is'"

# sampling: the same for 1 and 2 threads, different for another seed
head -20 "$PROSE" >"$TMP/in.txt"
expect_rc 0 "sample, 1 thread" "$S2S" translate -m "$M" --sample --num-samples 2 --top-k 20 --seed 11 --threads 1 -i "$TMP/in.txt"
cp "$TMP/out" "$TMP/s1"
expect_rc 0 "sample, 2 threads" "$S2S" translate -m "$M" --sample --num-samples 2 --top-k 20 --seed 11 --threads 2 -i "$TMP/in.txt"
check "seed 11: --threads 1 and 2 give the same samples" cmp -s "$TMP/s1" "$TMP/out"
expect_rc 0 "sample, seed 12" "$S2S" translate -m "$M" --sample --num-samples 2 --top-k 20 --seed 12 -i "$TMP/in.txt"
check "seeds 11 and 12 differ" not cmp -s "$TMP/s1" "$TMP/out"
expect_rc 0 "sample with --keep-numbers" "$S2S" translate -m "$M" --sample --num-samples 2 --top-k 20 --seed 11 \
  --keep-numbers -i "$TMP/in.txt"
cp "$TMP/out" "$TMP/s1k"
expect_rc 0 "sample with --no-keep-numbers" "$S2S" translate -m "$M" --sample --num-samples 2 --top-k 20 --seed 11 \
  --no-keep-numbers -i "$TMP/in.txt"
check "sampling ignores keep-numbers" cmp -s "$TMP/s1k" "$TMP/out"

# bad values and combinations
expect_rc 2 "--sample with --beam 4" "$S2S" translate -m "$M" --sample --beam 4 "Bonjour."
check "  names --beam" has "$TMP/err" "--beam"
expect_rc 2 "--top-p 0" "$S2S" translate -m "$M" --sample --top-p 0 "Bonjour."
check "  names --top-p" has "$TMP/err" "top-p"
expect_rc 2 "--no-repeat-ngram -1" "$S2S" translate -m "$M" --no-repeat-ngram -1 "Bonjour."
expect_rc 2 "--seed -3" "$S2S" translate -m "$M" --sample --seed -3 "Bonjour."
check "  names --seed" has "$TMP/err" "seed"

finish
