#!/bin/bash
# cli-text: real text in translate/summarize with a shipped model:
# --split-sentences (text, n-best, alignment and jsonl of a split line
# checked against the sentences translated one by one), --case, n-best
# and --scores text with both scores, blank lines in every layout, -v,
# score's blank lines.
NAME=cli-text
. "$(dirname "$0")/lib.bash"
FE=$S2S_ROOT/models/fra-eng
need_fixture "$FE"

# 1. splitting: a line's output is its sentences' outputs, each translated
#    alone, joined by single spaces; blank lines stay empty lines
printf '%s\n' "Il pleut. Je reste à la maison. M. Dupont arrive à 12.30 !" "" \
  "« Tu viens ? » Non. Il part." "Une seule phrase sans point" >"$TMP/para.txt"
printf '%s\n' "Il pleut." "Je reste à la maison." "M. Dupont arrive à 12.30 !" \
  "« Tu viens ? »" "Non." "Il part." "Une seule phrase sans point" >"$TMP/sents.txt"
expect_rc 0 "split (default)" "$S2S" translate -m "$FE" "${SEARCH[@]}" -i "$TMP/para.txt"
cp "$TMP/out" "$TMP/para.out"
expect_rc 0 "sentences alone" "$S2S" translate -m "$FE" "${SEARCH[@]}" --no-split-sentences -i "$TMP/sents.txt"
cp "$TMP/out" "$TMP/sents.out"
check "split line = its sentences translated alone, joined by spaces" "$PYTHON" -c "
s = open('$TMP/sents.out').read().split('\n')[:-1]
got = open('$TMP/para.out').read().split('\n')[:-1]
want = [' '.join(s[0:3]), '', ' '.join(s[3:6]), s[6]]
assert got == want, (got, want)"
expect_rc 0 "--no-split-sentences" "$S2S" translate -m "$FE" "${SEARCH[@]}" --no-split-sentences -i "$TMP/para.txt"
check "--no-split-sentences: 4 lines, the paragraph decoded whole" "$PYTHON" -c "
got = open('$TMP/out').read().split('\n')[:-1]
assert len(got) == 4 and got[0] != open('$TMP/para.out').read().split('\n')[0], got"

# 2. jsonl of a split line: top-level fields joined from the sentences
expect_rc 0 "split jsonl" "$S2S" translate -m "$FE" "${SEARCH[@]}" -i "$TMP/para.txt" --format jsonl --alignment hard
cp "$TMP/out" "$TMP/para.jsonl"
expect_rc 0 "sentences jsonl" "$S2S" translate -m "$FE" "${SEARCH[@]}" -i "$TMP/sents.txt" --format jsonl --alignment hard
cp "$TMP/out" "$TMP/sents.jsonl"
check "split jsonl: sentences, joined tokens, scores, block attention, alignment" "$PYTHON" - "$TMP/para.jsonl" "$TMP/sents.jsonl" <<'PY'
import json, sys
line = [json.loads(l) for l in open(sys.argv[1])]
alone = [json.loads(l) for l in open(sys.argv[2])]
assert [o['id'] for o in line] == [0, 1, 2, 3]
assert 'sentences' not in line[1] and 'sentences' not in line[3]
assert line[3]['hypotheses'][0]['text'] == alone[6]['hypotheses'][0]['text']
for o, parts in ((line[0], alone[0:3]), (line[2], alone[3:6])):
    sents = o['sentences']
    assert len(sents) == 3
    assert [s['source_tokens'] for s in sents] == [p['source_tokens'] for p in parts]
    assert o['source_tokens'] == sum((p['source_tokens'] for p in parts), [])
    h = o['hypotheses'][0]
    hs = [p['hypotheses'][0] for p in parts]
    assert h['sentence_hypotheses'] == [0, 0, 0]
    assert h['text'] == ' '.join(x['text'] for x in hs)
    assert h['tokens'] == sum((x['tokens'] for x in hs), [])
    assert abs(h['score'] - sum(x['score'] for x in hs)) < 1e-4
    assert abs(h['score'] - sum(h['token_logprobs'])) < 1e-3
    assert h['finished'] == all(x['finished'] for x in hs)
    # attention: every step of every sentence, over all source tokens, each
    # sentence's own block and zeros elsewhere
    att, r0, c0 = h['attention'], 0, 0
    assert len(att) == sum(len(x['attention']) for x in hs)
    for x, p in zip(hs, parts):
        n = len(p['source_tokens'])
        for i, row in enumerate(x['attention']):
            full = att[r0 + i]
            assert len(full) == len(o['source_tokens'])
            assert all(abs(a - b) < 1e-6 for a, b in zip(full[c0:c0 + n], row))
            assert all(v == 0 for v in full[:c0] + full[c0 + n:])
        r0 += len(x['attention'])
        c0 += n
    # hard alignment: each sentence's pairs shifted by the tokens before it
    want, c0, t0 = [], 0, 0
    for x, p in zip(hs, parts):
        for pair in x['alignment'].split():
            s, t = map(int, pair.split('-'))
            want.append('%d-%d' % (s + c0, t + t0))
        c0 += len(p['source_tokens'])
        t0 += len(x['tokens'])
    assert h['alignment'].split() == want, (h['alignment'], want)
PY
expect_rc 0 "split text --alignment hard" "$S2S" translate -m "$FE" "${SEARCH[@]}" -i "$TMP/para.txt" --alignment hard
check "text hard alignment of a split line = jsonl's" "$PYTHON" -c "
import json
ref = [json.loads(l)['hypotheses'][0]['alignment'] for l in open('$TMP/para.jsonl')]
got = [l.split(' ||| ')[1] if ' ||| ' in l else '' for l in open('$TMP/out').read().split('\n')[:-1]]
assert got == ref, (got, ref)"

# 3. n-best of a split line: the N best combinations of the sentences'
#    n-best lists by summed ranking score (brute force here)
expect_rc 0 "split n-best jsonl" "$S2S" translate -m "$FE" "${SEARCH[@]}" --beam 4 --n-best 4 --length-penalty 1 --format jsonl \
  "Il pleut. Je reste. Tu pars."
check "n-best of a split line = best 4 of all 64 combinations" "$PYTHON" - "$TMP/out" <<'PY'
import itertools, json, sys
o = json.loads(open(sys.argv[1]).read())
lists = [s['hypotheses'] for s in o['sentences']]
assert [len(l) for l in lists] == [4, 4, 4]
combos = sorted(itertools.product(range(4), repeat=3),
                key=lambda c: (sum(not lists[u][k]['finished'] for u, k in enumerate(c)),
                               -sum(lists[u][k]['ranking_score'] for u, k in enumerate(c))))
got = o['hypotheses']
assert len(got) == 4
for h, c in zip(got, combos[:4]):
    want_rank = sum(lists[u][k]['ranking_score'] for u, k in enumerate(c))
    assert abs(h['ranking_score'] - want_rank) < 1e-4, (h['ranking_score'], want_rank)
    assert h['text'] == ' '.join(lists[u][h['sentence_hypotheses'][u]]['text'] for u in range(3))
ranks = [h['ranking_score'] for h in got]
assert ranks == sorted(ranks, reverse=True)
PY

# 4. summarize does not split by default; --split-sentences turns it on
expect_rc 0 "summarize (no split)" "$S2S" summarize -m "$FE" --format jsonl "Il pleut. Je reste."
check "summarize: no sentences by default" not has "$TMP/out" '"sentences"'
expect_rc 0 "summarize --split-sentences" "$S2S" summarize -m "$FE" --format jsonl --split-sentences "Il pleut. Je reste."
check "summarize --split-sentences: 2 sentences" "$PYTHON" -c "
import json; assert len(json.loads(open('$TMP/out').read())['sentences']) == 2"

# 5. threads: a split file gives the same output for 1 and 2 threads
for i in $(seq 40); do cat "$TMP/para.txt"; done >"$TMP/many.txt"
"$S2S" translate -m "$FE" "${SEARCH[@]}" -i "$TMP/many.txt" --threads 1 --format jsonl >"$TMP/t1"
"$S2S" translate -m "$FE" "${SEARCH[@]}" -i "$TMP/many.txt" --threads 2 --format jsonl >"$TMP/t2"
check "split: --threads 1 == --threads 2" cmp -s "$TMP/t1" "$TMP/t2"
check "split: 160 lines out" test "$(lines "$TMP/t1")" = 160

# 6. --case auto: an ALL-CAPS sentence is decoded as its ordinary-case
#    form and its output put in capitals; Title Case likewise; --case off
#    decodes the capitals as they are
printf '%s\n' "Je ne sais pas où il est allé." "Le train est arrivé en retard." "Nous avons besoin de votre aide." >"$TMP/plain.txt"
"$PYTHON" -c "
import sys
for l in open('$TMP/plain.txt'): print(l.rstrip('\n').upper())" >"$TMP/caps.txt"
"$PYTHON" -c "
for l in open('$TMP/plain.txt'): print(' '.join(w[0].upper() + w[1:] for w in l.split()))" >"$TMP/title.txt"
expect_rc 0 "plain case" "$S2S" translate -m "$FE" "${SEARCH[@]}" -i "$TMP/plain.txt"
cp "$TMP/out" "$TMP/plain.out"
expect_rc 0 "all caps, --case auto" "$S2S" translate -m "$FE" "${SEARCH[@]}" -i "$TMP/caps.txt"
check "all caps: the plain sentence's output, in capitals" "$PYTHON" -c "
got = open('$TMP/out').read().split('\n')[:-1]
want = [l.upper() for l in open('$TMP/plain.out').read().split('\n')[:-1]]
assert got == want, (got, want)"
expect_rc 0 "title case, --case auto" "$S2S" translate -m "$FE" "${SEARCH[@]}" -i "$TMP/title.txt"
check "title case: the plain sentence's output, each word capitalized" "$PYTHON" -c "
got = open('$TMP/out').read().split('\n')[:-1]
want = [' '.join(w[0].upper() + w[1:] for w in l.split(' ')) for l in open('$TMP/plain.out').read().split('\n')[:-1]]
assert got == want, (got, want)"
expect_rc 0 "all caps, --case off" "$S2S" translate -m "$FE" "${SEARCH[@]}" -i "$TMP/caps.txt" --case off
check "--case off: the capitals are decoded as they are" "$PYTHON" -c "
got = open('$TMP/out').read().split('\n')[:-1]
plain = open('$TMP/plain.out').read().split('\n')[:-1]
assert len(got) == 3 and all(g.upper() != p.upper() for g, p in zip(got, plain)), got"
expect_rc 0 "all caps jsonl" "$S2S" translate -m "$FE" "${SEARCH[@]}" --format jsonl "JE NE SAIS PAS OÙ IL EST ALLÉ. Le train est arrivé en retard."
check "jsonl: the caps sentence says case upper, its tokens are the folded text's" "$PYTHON" - "$TMP/out" "$S2S" "$FE" <<'PY'
import json, subprocess, sys
o = json.loads(open(sys.argv[1]).read())
s0, s1 = o['sentences']
assert s0['case'] == 'upper' and 'case' not in s1 and 'case' not in o
tok = subprocess.run([sys.argv[2], 'tokenize', '-m', sys.argv[3], "Je ne sais pas où il est allé."],
                     capture_output=True, text=True).stdout.split()
assert s0['source_tokens'] == tok, (s0['source_tokens'], tok)
assert s0['source_text'] == "JE NE SAIS PAS OÙ IL EST ALLÉ."
assert s0['hypotheses'][0]['text'] == s0['hypotheses'][0]['text'].upper()
assert o['hypotheses'][0]['text'].startswith(s0['hypotheses'][0]['text'] + ' ')
PY
expect_rc 0 "a model that lowercases: --case auto does nothing" "$S2S" translate -m "$S2S_ROOT/models/tutorial-fra-eng" --format jsonl "JE SUIS CONTENT ."
check "tutorial model: no case field" not has "$TMP/out" '"case"'
expect_rc 2 "--case bogus" "$S2S" translate -m "$FE" "${SEARCH[@]}" --case bogus a
check "--case bogus names the option" has "$TMP/err" "--case"

# 7. n-best and --scores text carry the raw score and the ranking score;
#    a blank line is one empty hypothesis in every layout
expect_rc 0 "split n-best text" "$S2S" translate -m "$FE" "${SEARCH[@]}" --beam 4 --n-best 4 --length-penalty 1 "Il pleut. Je reste. Tu pars."
cp "$TMP/out" "$TMP/nb.txt"
expect_rc 0 "split n-best jsonl" "$S2S" translate -m "$FE" "${SEARCH[@]}" --beam 4 --n-best 4 --length-penalty 1 --format jsonl "Il pleut. Je reste. Tu pars."
check "split n-best text = jsonl (text, score=, ranking score)" "$PYTHON" -c "
import json
o = json.loads(open('$TMP/out').read())
got = open('$TMP/nb.txt').read().split('\n')[:-1]
assert len(got) == 4
for g, h in zip(got, o['hypotheses']):
    i, text, score, rank = g.split(' ||| ')
    assert i == '0' and text == h['text'] and abs(float(score[7:]) - h['score']) < 1e-5
    assert abs(float(rank) - h['ranking_score']) < 1e-5"
expect_rc 0 "blank line, n-best" "$S2S" translate -m "$FE" "${SEARCH[@]}" --beam 4 --n-best 3 -i <(printf 'Il pleut.\n\n')
check "blank line in n-best text: one line with ID, empty text, scores 0" test "$(sed -n 4p "$TMP/out")" = "1 |||  ||| score= 0 ||| 0" -a "$(lines "$TMP/out")" = 4
expect_rc 0 "blank line, --scores --alignment hard" "$S2S" translate -m "$FE" "${SEARCH[@]}" --scores --alignment hard -i <(printf '\n \nIl pleut.\n')
check "blank line with --scores: empty text, alignment and zero scores" test "$(sed -n 1p "$TMP/out")" = " |||  ||| score= 0 ||| 0" -a "$(lines "$TMP/out")" = 3

# 8. -v: a summary on stderr at the end (lines, tokens, seconds, rates),
#    the counts checked against the jsonl output; nothing without -v
expect_rc 0 "translate -v" "$S2S" translate -m "$FE" "${SEARCH[@]}" -i "$TMP/para.txt" -v --threads 2
check "-v: output unchanged" cmp -s "$TMP/out" "$TMP/para.out"
check "-v: summary counts = jsonl's, rates = counts / seconds" "$PYTHON" - "$TMP/err" "$TMP/para.jsonl" <<'PY'
import json, re, sys
err = open(sys.argv[1]).read().strip().split('\n')
m = re.fullmatch(r's2s translate: (\d+) lines, ([\d,]+) source tokens, ([\d,]+) output tokens, ([\d.]+) s '
                 r'\(model load ([\d.]+) s\): ([\d.]+) lines/s, (\d+) source tokens/s, (\d+) output tokens/s', err[-1])
assert m and len(err) == 1, err
objs = [json.loads(l) for l in open(sys.argv[2])]
n, src, out, secs = int(m[1]), int(m[2].replace(',', '')), int(m[3].replace(',', '')), float(m[4])
assert n == len(objs) == 4
assert src == sum(len(o['source_tokens']) for o in objs), src
assert out == sum(len(o['hypotheses'][0]['tokens']) for o in objs), out
if secs >= 0.01:
    assert abs(float(m[6]) - n / secs) <= 0.05 * n / secs + 0.1, (m[6], n / secs)
    assert abs(int(m[8]) - out / secs) <= 0.05 * out / secs + 1, (m[8], out / secs)
PY
expect_rc 0 "translate without -v" "$S2S" translate -m "$FE" "${SEARCH[@]}" -i "$TMP/para.txt"
check "without -v (not a terminal): nothing on stderr" test ! -s "$TMP/err"
expect_rc 1 "score -v with a bad line" "$S2S" score -m "$FE" -v -i <(printf 'Il pleut.\tIt rains.\nno tab\n')
check "score -v: 2 lines, 1 failed, target tokens" grep -qE "^s2s score: 2 lines \(1 failed\), [0-9]+ source tokens, [0-9]+ target tokens, " "$TMP/err"
on_pty stderr "$TMP/pty" "$S2S" translate -m "$FE" "${SEARCH[@]}" -i "$TMP/many.txt" -v
check "-v on a terminal: the progress bar, then the summary" "$PYTHON" -c '
import sys
data = open(sys.argv[1], "rb").read()
last = data.rstrip(b"\r\n").split(b"\r")[-1]
sys.exit(0 if b"left" in data and b"s2s translate: 160 lines" in last else 1)' "$TMP/pty"

# 9. score is forced decoding of a given target: a blank line is an error in
#    place (no TAB); an empty target scores the bare eos; no splitting
expect_rc 1 "score: a blank line" "$S2S" score -m "$FE" -i <(printf 'Il pleut.\tIt rains.\n\nIl pleut. Je reste.\tIt rains. I stay.\n')
check "score: 3 lines out, the blank one empty, its error named" test "$(lines "$TMP/out")" = 3 -a -z "$(sed -n 2p "$TMP/out")"
check "score: line 2 has no TAB" grep -q "line 2: no TAB" "$TMP/err"
expect_rc 0 "score: an empty target" "$S2S" score -m "$FE" --format jsonl -i <(printf 'Il pleut.\t\n')
check "score: an empty target is the eos step alone" "$PYTHON" -c "
import json
h = json.loads(open('$TMP/out').read())['hypotheses'][0]
assert h['tokens'] == [] and len(h['token_logprobs']) == 1 and abs(h['score'] - h['token_logprobs'][0]) < 1e-6 and h['score'] < 0"

finish
