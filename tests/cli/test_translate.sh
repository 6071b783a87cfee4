#!/bin/bash
# cli-translate: translate/summarize/score/tokenize: conformance of the jsonl
# output with the PyTorch fixtures, every text-format option checked against
# the jsonl, error lines and exit codes, --threads 1 == --threads 2,
# streaming, bounded memory, long lines, summarize defaults, --replace-unk.
NAME=cli-translate
. "$(dirname "$0")/lib.bash"
M=$FIX/gru_bahdanau_before
need_fixture "$M"
HERE=$(cd "$(dirname "$0")" && pwd)

# 1. jsonl == PyTorch reference for every fixture (greedy, beam, forced)
check "jsonl matches expected.json of every fixture" "$PYTHON" "$HERE/check_fixtures.py" "$S2S" "$FIX"

# input: 40 lines of known source tokens (a..l), deterministic
"$PYTHON" -c "
import random
random.seed(7)
for i in range(40):
    print(' '.join(random.choice('abcdefghijkl') for _ in range(random.randint(1, 9))))
" >"$TMP/in.txt"

# 2. text output == the jsonl 'text' of the best hypothesis, one line per input
expect_rc 0 "translate jsonl" "$S2S" translate -m "$M" --format jsonl -i "$TMP/in.txt"
cp "$TMP/out" "$TMP/ref.jsonl"
expect_rc 0 "translate text" "$S2S" translate -m "$M" -i "$TMP/in.txt"
check "text: one line per input" test "$(lines "$TMP/out")" = 40
check "text == jsonl text" "$PYTHON" -c "
import json, sys
ref = [json.loads(l)['hypotheses'][0]['text'] for l in open('$TMP/ref.jsonl')]
got = open('$TMP/out').read().split('\n')[:-1]
sys.exit(ref != got)"
check "jsonl ids are 0..39 in order" "$PYTHON" -c "
import json, sys
sys.exit([json.loads(l)['id'] for l in open('$TMP/ref.jsonl')] != list(range(40)))"

# 2b. the same on a shipped model without copy, real sentences: text output
# picks greedy tokens from the logits (no scores to print), jsonl from the
# log-probabilities
T=$S2S_ROOT/models/tutorial-fra-eng
cat >"$TMP/fr.txt" <<'FR'
je suis content de te voir .
il est plus grand que moi .
nous sommes en retard .
elle a peur des chiens .
tu es tres gentil .
je ne suis pas fatigue .
ils sont tous partis .
vous etes en securite ici .
il est en train de lire un livre .
je suis desole pour hier soir .
FR
expect_rc 0 "tutorial-fra-eng jsonl" "$S2S" translate -m "$T" --format jsonl -i "$TMP/fr.txt"
cp "$TMP/out" "$TMP/fr.jsonl"
expect_rc 0 "tutorial-fra-eng text" "$S2S" translate -m "$T" -i "$TMP/fr.txt"
check "tutorial-fra-eng: text == jsonl text" "$PYTHON" -c "
import json, sys
ref = [json.loads(l)['hypotheses'][0]['text'] for l in open('$TMP/fr.jsonl')]
got = open('$TMP/out').read().split('\n')[:-1]
sys.exit(ref != got or len(got) != 10)"

# 3. -o FILE and TEXT arguments
expect_rc 0 "-o FILE" "$S2S" translate -m "$M" -i "$TMP/in.txt" -o "$TMP/o.txt"
check "-o writes the same as stdout" cmp -s "$TMP/o.txt" <("$S2S" translate -m "$M" <"$TMP/in.txt")
first=$(head -1 "$TMP/in.txt")
expect_rc 0 "TEXT arguments" "$S2S" translate -m "$M" $first
check "TEXT arguments give the first line's translation" test "$(cat "$TMP/out")" = "$(head -1 "$TMP/o.txt")"

# 4. --scores: "text ||| score= SCORE ||| RANKING_SCORE" with the jsonl values
expect_rc 0 "--scores" "$S2S" translate -m "$M" -i "$TMP/in.txt" --scores
check "--scores layout and values" "$PYTHON" -c "
import json, sys
ref = [json.loads(l)['hypotheses'][0] for l in open('$TMP/ref.jsonl')]
got = open('$TMP/out').read().split('\n')[:-1]
assert len(got) == len(ref)
for g, r in zip(got, ref):
    text, score, rank = g.split(' ||| ')
    assert score.startswith('score= ')
    score = float(score[len('score= '):])
    assert text == r['text'] and abs(score - r['score']) <= 1e-6 * max(1, abs(r['score'])), g
    assert abs(float(rank) - r['ranking_score']) <= 1e-6 * max(1, abs(r['score'])), g"

# 5. --alignment hard: Pharaoh src-tgt pairs = argmax of each emitted step's attention
expect_rc 0 "--alignment hard" "$S2S" translate -m "$M" -i "$TMP/in.txt" --alignment hard
check "hard alignment = argmax of the jsonl attention" "$PYTHON" -c "
import json
ref = [json.loads(l)['hypotheses'][0] for l in open('$TMP/ref.jsonl')]
got = open('$TMP/out').read().split('\n')[:-1]
for g, r in zip(got, ref):
    text, al = g.split(' ||| ')
    want = ['%d-%d' % (max(range(len(row)), key=lambda j: (row[j], -j)), i)
            for i, row in enumerate(r['attention'][:len(r['tokens'])])]
    assert al.split() == want, (g, want)"

# 6. --alignment soft: a row per step (eos included), each summing to 1
expect_rc 0 "--alignment soft --scores" "$S2S" translate -m "$M" -i "$TMP/in.txt" --alignment soft --scores
check "soft alignment rows" "$PYTHON" -c "
import json
ref = [json.loads(l) for l in open('$TMP/ref.jsonl')]
got = open('$TMP/out').read().split('\n')[:-1]
for g, r in zip(got, ref):
    text, soft, score, rank = g.split(' ||| ')
    rows = [[float(x) for x in row.split(',')] for row in soft.split()]
    h = r['hypotheses'][0]
    assert len(rows) == len(h['attention']), g
    for row, want in zip(rows, h['attention']):
        assert len(row) == len(r['source_tokens']) and abs(sum(row) - 1) < 1e-4
        assert all(abs(a - b) < 1e-5 for a, b in zip(row, want))"

# 7. --n-best: N Moses/Marian lines per input, 'ID ||| text ||| score= SCORE ||| RANKING_SCORE',
#    best first: with a length penalty the list is ordered by the last field
expect_rc 0 "--n-best 3 jsonl" "$S2S" translate -m "$M" -i "$TMP/in.txt" --beam 4 --n-best 3 --length-penalty 1.5 --format jsonl
cp "$TMP/out" "$TMP/nbest.jsonl"
expect_rc 0 "--n-best 3 text" "$S2S" translate -m "$M" -i "$TMP/in.txt" --beam 4 --n-best 3 --length-penalty 1.5
check "n-best lines: ID ||| text ||| score= SCORE ||| RANKING_SCORE, ranked by the last" "$PYTHON" -c "
import json
ref = [json.loads(l) for l in open('$TMP/nbest.jsonl')]
got = open('$TMP/out').read().split('\n')[:-1]
want = [('%d' % r['id'], h['text'], h['score'], h['ranking_score']) for r in ref for h in r['hypotheses']]
assert len(got) == len(want) == 120, len(got)
unsorted_raw = 0
for i, (g, w) in enumerate(zip(got, want)):
    gid, text, score, rank = g.split(' ||| ')
    assert (gid, text) == w[:2] and score.startswith('score= '), (g, w)
    assert abs(float(score[7:]) - w[2]) < 1e-5 and abs(float(rank) - w[3]) < 1e-5, (g, w)
    # the ranking score is score / ((5 + |y|) / 6) ^ 1.5, |y| counting eos
    h = ref[i // 3]['hypotheses'][i % 3]
    n = len(h['tokens']) + (1 if h['finished'] else 0)
    assert abs(float(rank) - float(score[7:]) / ((5 + n) / 6) ** 1.5) < 1e-4, g
    if i % 3:
        prev = got[i - 1].split(' ||| ')
        assert float(rank) <= float(prev[3]) or not h['finished'], (prev, g)
        unsorted_raw += float(score[7:]) > float(prev[2][7:])
assert unsorted_raw > 0, 'no list where the raw score is out of order: the check would not show anything'"
check "n-best jsonl: 3 hypotheses each" "$PYTHON" -c "
import json, sys
sys.exit(any(len(json.loads(l)['hypotheses']) != 3 for l in open('$TMP/nbest.jsonl')))"
expect_rc 0 "--n-best without --beam widens the beam" "$S2S" translate -m "$M" --n-best 2 a b
check "--n-best 2 gives 2 lines" test "$(lines "$TMP/out")" = 2

# 8. --min-length / --max-length / --length-penalty take effect
expect_rc 0 "--max-length 2" "$S2S" translate -m "$M" -i "$TMP/in.txt" --max-length 2 --format jsonl
check "--max-length 2 bounds every hypothesis" "$PYTHON" -c "
import json, sys
sys.exit(any(len(json.loads(l)['hypotheses'][0]['attention']) > 2 for l in open('$TMP/out')))"
expect_rc 0 "--min-length 3" "$S2S" translate -m "$M" -i "$TMP/in.txt" --min-length 3 --format jsonl
check "--min-length 3: at least 3 tokens" "$PYTHON" -c "
import json, sys
sys.exit(any(len(json.loads(l)['hypotheses'][0]['tokens']) < 3 for l in open('$TMP/out')))"
expect_rc 0 "--length-penalty" "$S2S" translate -m "$M" -i "$TMP/in.txt" --beam 3 --length-penalty 1.0 --format jsonl
check "--length-penalty: ranking_score = score / ((5+|y|)/6)^1" "$PYTHON" -c "
import json
for l in open('$TMP/out'):
    h = json.loads(l)['hypotheses'][0]
    n = len(h['tokens']) + (1 if h['finished'] else 0)
    assert abs(h['ranking_score'] - h['score'] / ((5 + n) / 6)) < 1e-4, h"

# 9. bad lines: one output line per input, exit 1, line numbers on stderr
printf 'a b\nz q\n\xff\xfe\nc d\n' >"$TMP/bad.txt"
expect_rc 1 "bad lines (text)" "$S2S" translate -m "$M" -i "$TMP/bad.txt"
check "bad lines: 4 output lines" test "$(lines "$TMP/out")" = 4
check "bad lines: failed lines are empty" test -z "$(sed -n 2p "$TMP/out")$(sed -n 3p "$TMP/out")"
check "bad lines: good lines translated" test "$(sed -n 4p "$TMP/out")" = "$("$S2S" translate -m "$M" c d)"
check "unknown word: message with line 2" grep -q "line 2: .*'z'" "$TMP/err"
check "invalid UTF-8: message with line 3" grep -q "line 3: .*UTF-8" "$TMP/err"
check "no message for good lines" test "$(grep -c 'line [14]:' "$TMP/err")" = 0
expect_rc 1 "bad lines (jsonl)" "$S2S" translate -m "$M" -i "$TMP/bad.txt" --format jsonl
check "bad lines jsonl: error objects in place" "$PYTHON" -c "
import json
objs = [json.loads(l) for l in open('$TMP/out')]
assert [o['id'] for o in objs] == [0, 1, 2, 3]
assert 'error' in objs[1] and 'error' in objs[2] and set(objs[1]) == {'id', 'error'}
assert 'hypotheses' in objs[0] and 'hypotheses' in objs[3]"
expect_rc 0 "--lenient turns invalid UTF-8 into U+FFFD" "$S2S" translate -m "$FIX/unk_gru" --lenient --format jsonl $'a \xff b'
check "--lenient: the bad byte is an unknown word" has "$TMP/out" '"<unk>"'
expect_rc 0 "all good lines: exit 0" "$S2S" translate -m "$M" -i "$TMP/in.txt" --quiet
check "--quiet and not a terminal: nothing on stderr" test ! -s "$TMP/err"

# empty and blank lines are not decoded: an empty output line (jsonl: one
# empty, finished hypothesis with score 0 and no attention row, whatever
# --n-best), with or without an appended eos; line count out == line count in
printf 'a b\n\n  \nz q\n\t \xc2\xa0\n\xff\nc d\n\n' >"$TMP/blank.txt"
expect_rc 1 "blank lines mixed with good and bad lines (text)" "$S2S" translate -m "$M" -i "$TMP/blank.txt"
check "blank lines: 8 lines out for 8 in" test "$(lines "$TMP/out")" = 8
check "blank lines: empty output lines" test -z "$(sed -n '2p;3p;5p;8p' "$TMP/out" | tr -d '\n')"
check "blank lines: good lines translated as alone" test "$(sed -n 7p "$TMP/out")" = "$("$S2S" translate -m "$M" c d)"
check "blank lines: no message about them" test "$(grep -c 'line [2358]:' "$TMP/err")" = 0
check "blank lines: messages for the bad ones" test "$(grep -c 'line [46]:' "$TMP/err")" = 2
expect_rc 1 "blank lines (jsonl, --n-best 3)" "$S2S" translate -m "$M" -i "$TMP/blank.txt" --format jsonl --beam 4 --n-best 3
check "blank lines jsonl: exactly one empty hypothesis, score 0, no attention" "$PYTHON" -c "
import json
objs = [json.loads(l) for l in open('$TMP/out')]
assert [o['id'] for o in objs] == list(range(8))
for i in (1, 2, 4, 7):
    o = objs[i]
    assert o['source_tokens'] == ['EOS'], o
    assert o['hypotheses'] == [{'text': '', 'tokens': [], 'score': 0, 'ranking_score': 0, 'finished': True,
                                'token_logprobs': [], 'attention': []}], o
assert len(objs[0]['hypotheses']) == 3 and len(objs[6]['hypotheses']) == 3
assert 'error' in objs[3] and 'error' in objs[5]"
expect_rc 0 "empty TEXT argument" "$S2S" translate -m "$M" ""
check "empty TEXT argument: one empty line" test "$(cat "$TMP/out")" = "" -a "$(lines "$TMP/out")" = 1
if [ -d "$FIX/no_append_eos" ]; then
  printf 'a\n\nb\n \n' >"$TMP/empty.txt"
  expect_rc 0 "empty lines without append_eos" "$S2S" translate -m "$FIX/no_append_eos" -i "$TMP/empty.txt" --format jsonl
  check "no append_eos: 4 objects, blank ones with no source token" "$PYTHON" -c "
import json
objs = [json.loads(l) for l in open('$TMP/out')]
assert len(objs) == 4 and objs[1]['source_tokens'] == [] and objs[3]['source_tokens'] == []
assert objs[1]['hypotheses'][0]['text'] == '' and objs[0]['hypotheses'][0]['attention']"
fi

# 10. score: text layout, errors
printf 'a b\tc d\na b\n\tc\nz\tc\na\tz\n' >"$TMP/pairs.txt"
expect_rc 1 "score with bad pairs" "$S2S" score -m "$M" -i "$TMP/pairs.txt"
check "score: one line per pair" test "$(lines "$TMP/out")" = 5
check "score: missing TAB names line 2" grep -q "line 2: .*TAB" "$TMP/err"
check "score: unknown source word on line 4" grep -q "line 4: source: .*'z'" "$TMP/err"
check "score: unknown target word on line 5" grep -q "line 5: target: .*'z'" "$TMP/err"
check "score: 'score ||| logprobs' sums up" "$PYTHON" -c "
l = open('$TMP/out').read().split('\n')[0]
score, lps = l.split(' ||| ')
lps = [float(x) for x in lps.split()]
assert len(lps) == 3 and abs(sum(lps) - float(score)) < 1e-4, l"
expect_rc 0 "score --alignment hard jsonl" "$S2S" score -m "$M" --format jsonl --alignment hard -i <(printf 'a b\tc d\n')
check "score jsonl: target tokens and alignment field" "$PYTHON" -c "
import json
o = json.loads(open('$TMP/out').read())
h = o['hypotheses'][0]
assert h['tokens'] == ['c', 'd'] and len(h['attention']) == 3 and len(h['alignment'].split()) == 2"

expect_rc 0 "score --alignment soft" "$S2S" score -m "$M" --alignment soft -i <(printf 'a b\tc d\n')
check "score soft alignment: 3 rows of 3 summing to 1" "$PYTHON" -c "
score, lps, soft = open('$TMP/out').read().rstrip('\n').split(' ||| ')
rows = [[float(x) for x in r.split(',')] for r in soft.split()]
assert len(rows) == 3 and all(len(r) == 3 and abs(sum(r) - 1) < 1e-4 for r in rows)"

# 11. --threads 1 and --threads 2 give identical output (file and pipe)
"$PYTHON" -c "
import random
random.seed(11)
for i in range(700):
    print(' '.join(random.choice('abcdefghijkl') for _ in range(random.randint(1, 12))))
" >"$TMP/many.txt"
printf 'z\n' >>"$TMP/many.txt"
for fmt in text jsonl; do
  "$S2S" translate -m "$M" --format $fmt --beam 2 -i "$TMP/many.txt" --threads 1 >"$TMP/t1" 2>"$TMP/e1"
  "$S2S" translate -m "$M" --format $fmt --beam 2 -i "$TMP/many.txt" --threads 2 >"$TMP/t2" 2>"$TMP/e2"
  check "threads 1 == threads 2 ($fmt, file)" cmp -s "$TMP/t1" "$TMP/t2"
  check "threads 1 == threads 2 stderr ($fmt)" cmp -s "$TMP/e1" "$TMP/e2"
  cat "$TMP/many.txt" | "$S2S" translate -m "$M" --format $fmt --beam 2 --threads 2 >"$TMP/t3" 2>/dev/null
  check "threads 2 from a pipe == threads 1 ($fmt)" cmp -s "$TMP/t1" "$TMP/t3"
  "$S2S" translate -m "$M" --format $fmt --beam 2 -i "$TMP/many.txt" --threads 3 >"$TMP/t4" 2>/dev/null
  check "threads 3 == threads 1 ($fmt)" cmp -s "$TMP/t1" "$TMP/t4"
done
check "threads: 701 output lines" test "$(lines "$TMP/t1")" = 701

# 12. streaming: the first result appears before the input is closed
for t in 1 2; do
  check "streaming (--threads $t)" "$PYTHON" - "$S2S" "$M" "$t" <<'PY'
import select, subprocess, sys
p = subprocess.Popen([sys.argv[1], "translate", "-m", sys.argv[2], "--threads", sys.argv[3], "--format", "jsonl"],
                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)
p.stdin.write(b"a b c\n"); p.stdin.flush()
ready, _, _ = select.select([p.stdout], [], [], 20)
first = p.stdout.readline() if ready else b""
p.stdin.write(b"d e\n"); p.stdin.close()
rest = p.stdout.read(); p.wait()
ok = first.startswith(b'{"id": 0') and rest.startswith(b'{"id": 1') and p.returncode == 0
sys.exit(0 if ok else 1)
PY
done

# 13. a 1 MB line is cut (warning with its line number), a 20 MB line is refused, both in bounded memory
"$PYTHON" -c "import sys; sys.stdout.write('a b ' * 262144 + '\nc d\n')" >"$TMP/mb.txt"
expect_rc 0 "1 MB line" "$S2S" translate -m "$M" -i "$TMP/mb.txt"
check "1 MB line: warning with line 1" grep -q "line 1: warning: input longer than 1024 tokens" "$TMP/err"
check "1 MB line: 2 output lines" test "$(lines "$TMP/out")" = 2
"$PYTHON" -c "import sys; sys.stdout.write('a' * (20 << 20) + '\nc d\n')" >"$TMP/huge.txt"
check "20 MB line: refused, the next line done, memory < 200 MB" "$PYTHON" - "$S2S" "$M" "$TMP/huge.txt" <<'PY'
import resource, subprocess, sys
p = subprocess.run([sys.argv[1], "translate", "-m", sys.argv[2], "--format", "jsonl"], stdin=open(sys.argv[3], "rb"),
                   capture_output=True)
rss_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
out = p.stdout.decode().split("\n")
ok = (p.returncode == 1 and out[0].startswith('{"id": 0, "error"') and out[1].startswith('{"id": 1, "source_tokens"')
      and b"line 1: line longer" in p.stderr and rss_kb < 200000)
sys.exit(0 if ok else 1)
PY
check "300k lines through a pipe: all out, memory as for 1k lines (+20 MB)" "$PYTHON" - "$S2S" "$M" <<'PY'
import os, subprocess, sys, threading
# each run in a fresh child so that ru_maxrss is its own; a small ASan
# quarantine keeps a sanitized build comparable with itself
env = dict(os.environ, ASAN_OPTIONS="quarantine_size_mb=1:" + os.environ.get("ASAN_OPTIONS", ""))
probe = r"""
import resource, subprocess, sys, threading
p = subprocess.Popen(sys.argv[1:4] + ["--max-length", "1"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
blocks = int(sys.argv[4])
def feed():
    block = b"a b c\n" * 1000
    for _ in range(blocks):
        p.stdin.write(block)
    p.stdin.close()
threading.Thread(target=feed).start()
n = sum(1 for _ in p.stdout)
p.wait()
print(n, p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""
def run(blocks):
    out = subprocess.run([sys.executable, "-c", probe, sys.argv[1], "translate", "-m" + sys.argv[2], str(blocks)],
                         env=env, capture_output=True, text=True).stdout.split()
    return [int(x) for x in out]
n1, rc1, rss1 = run(1)
n2, rc2, rss2 = run(300)
ok = n1 == 1000 and n2 == 300000 and rc1 == rc2 == 0 and rss2 < rss1 + 20000
sys.exit(0 if ok else print(n1, n2, rss1, rss2) or 1)
PY

# 14. progress bar on a terminal, not otherwise
on_pty stderr "$TMP/pty" "$S2S" translate -m "$M" -i "$TMP/many.txt"
check "progress bar when stderr is a terminal" has_all "$TMP/pty" "lines/s" "left"
on_pty stderr "$TMP/pty" "$S2S" translate -m "$M" -i "$TMP/in.txt" --quiet
check "no progress bar with --quiet on a terminal" lacks "$TMP/pty" "lines/s"

# 15. summarize: config "decoding" defaults, and it refuses nothing translate accepts
mkdir -p "$TMP/summ" && cp "$M"/* "$TMP/summ/"
"$PYTHON" -c "
import json
c = json.load(open('$TMP/summ/config.json'))
c['task'] = 'summarization'
c['decoding'] = {'max_length': 7, 'beam_size': 3, 'length_penalty': 0.5, 'min_length': 2}
json.dump(c, open('$TMP/summ/config.json', 'w'), indent=1)"
expect_rc 0 "summarize" "$S2S" summarize -m "$TMP/summ" -i "$TMP/in.txt" --format jsonl
cp "$TMP/out" "$TMP/summ.jsonl"
expect_rc 0 "translate with the same settings" "$S2S" translate -m "$TMP/summ" -i "$TMP/in.txt" --format jsonl \
  --beam 3 --length-penalty 0.5 --min-length 2
check "summarize == translate --beam 3 --length-penalty 0.5 --min-length 2" cmp -s "$TMP/out" "$TMP/summ.jsonl"
expect_rc 0 "translate reads the config's decoding defaults too" "$S2S" translate -m "$TMP/summ" -i "$TMP/in.txt" \
  --format jsonl
check "translate (config defaults) == translate --beam 3 --length-penalty 0.5 --min-length 2" \
  cmp -s "$TMP/out" "$TMP/summ.jsonl"
expect_rc 0 "greedy of the model without defaults" "$S2S" translate -m "$M" -i "$TMP/in.txt" --format jsonl \
  --max-length 7
cp "$TMP/out" "$TMP/greedy7.jsonl"
expect_rc 0 "translate: the command line wins over the config" "$S2S" translate -m "$TMP/summ" -i "$TMP/in.txt" \
  --format jsonl --beam 1 --length-penalty 0 --min-length 0
check "translate --beam 1 --length-penalty 0 --min-length 0 == greedy of the model without defaults" \
  cmp -s "$TMP/out" "$TMP/greedy7.jsonl"
check "the config's defaults change the output" not cmp -s "$TMP/summ.jsonl" "$TMP/greedy7.jsonl"
expect_rc 0 "summarize accepts every translate option" "$S2S" summarize -m "$TMP/summ" -i "$TMP/in.txt" -o "$TMP/s.txt" \
  --beam 2 --n-best 2 --length-penalty 0 --min-length 0 --max-length 5 --threads 2 --format text \
  --alignment hard --scores --replace-unk --quiet --lenient
expect_rc 0 "summarize --n-best 5 (above the config beam)" "$S2S" summarize -m "$TMP/summ" --n-best 5 a b c
check "summarize --n-best 5: 5 lines" test "$(lines "$TMP/out")" = 5
expect_rc 0 "summarize --max-length 2 (below the config min_length)" "$S2S" summarize -m "$TMP/summ" --max-length 2 a b c
# n-gram blocking and the coverage penalty as config defaults too; the
# command line still wins
"$PYTHON" -c "
import json
c = json.load(open('$TMP/summ/config.json'))
c['decoding'].update(no_repeat_ngram=1, coverage_penalty=0.3)
json.dump(c, open('$TMP/summ/config.json', 'w'), indent=1)"
expect_rc 0 "summarize (n-gram blocking, coverage penalty)" "$S2S" summarize -m "$TMP/summ" -i "$TMP/in.txt" --format jsonl
cp "$TMP/out" "$TMP/summ2.jsonl"
expect_rc 0 "translate with the same settings" "$S2S" translate -m "$TMP/summ" -i "$TMP/in.txt" --format jsonl \
  --beam 3 --length-penalty 0.5 --min-length 2 --no-repeat-ngram 1 --coverage-penalty 0.3
check "summarize == translate --no-repeat-ngram 1 --coverage-penalty 0.3" cmp -s "$TMP/out" "$TMP/summ2.jsonl"
check "the config's n-gram blocking changes the output" not cmp -s "$TMP/summ.jsonl" "$TMP/summ2.jsonl"
expect_rc 0 "summarize --no-repeat-ngram 0 --coverage-penalty 0" "$S2S" summarize -m "$TMP/summ" -i "$TMP/in.txt" \
  --format jsonl --no-repeat-ngram 0 --coverage-penalty 0
check "the command line wins over the config" cmp -s "$TMP/out" "$TMP/summ.jsonl"
# --keep-numbers: the fixture's sources hold no number, so nothing changes;
# it takes no argument
expect_rc 0 "translate --keep-numbers (no number in the source)" "$S2S" translate -m "$M" --format jsonl \
  -i "$TMP/in.txt" --keep-numbers
check "--keep-numbers without numbers == plain greedy" cmp -s "$TMP/out" "$TMP/ref.jsonl"
expect_rc 2 "--keep-numbers=1 is a usage error" "$S2S" translate -m "$M" --keep-numbers=1 a b
check "--keep-numbers=1: the message names the option" has "$TMP/err" "keep-numbers"
# keep_numbers as a config default: shown by info; a non-boolean is a load
# error that names the key
"$PYTHON" -c "
import json
c = json.load(open('$TMP/summ/config.json'))
c['decoding']['keep_numbers'] = True
json.dump(c, open('$TMP/summ/config.json', 'w'), indent=1)"
expect_rc 0 "info shows keep_numbers" "$S2S" info -m "$TMP/summ"
check "info: keep_numbers on the decoding line" has "$TMP/out" ", keep_numbers"
"$PYTHON" -c "
import json
c = json.load(open('$TMP/summ/config.json'))
c['decoding']['keep_numbers'] = 1
json.dump(c, open('$TMP/summ/bad.json', 'w'), indent=1)"
mkdir -p "$TMP/summbad" && cp "$TMP/summ"/* "$TMP/summbad/" && mv "$TMP/summbad/bad.json" "$TMP/summbad/config.json"
expect_rc 2 "decoding.keep_numbers 1 is a load error" "$S2S" translate -m "$TMP/summbad" a
check "the message names decoding.keep_numbers" has "$TMP/err" "decoding.keep_numbers"
"$PYTHON" -c "
import json
c = json.load(open('$TMP/summ/config.json'))
del c['decoding']['keep_numbers']
json.dump(c, open('$TMP/summ/config.json', 'w'), indent=1)"
expect_rc 0 "info shows the decoding defaults" "$S2S" info -m "$TMP/summ"
check "info: decoding line" has "$TMP/out" "decoding:     max_length 7 (config), beam_size 3, min_length 2, length_penalty 0.5, no_repeat_ngram 1, coverage_penalty 0.3"

# 16. --replace-unk: a model made to emit only unk; each becomes the source
#     word it attends to most, in its original spelling
if [ -d "$FIX/unk_gru" ]; then
  mkdir -p "$TMP/unk" && cp "$FIX/unk_gru"/* "$TMP/unk/"
  "$PYTHON" - "$TMP/unk" <<'PY'
import json, struct, sys
d = sys.argv[1]
raw = bytearray(open(d + "/model.safetensors", "rb").read())
n = struct.unpack("<Q", raw[:8])[0]
h = json.loads(raw[8:8 + n])
t = h["decoder.out.bias"]
assert t["dtype"] == "F32"
unk = json.load(open(d + "/target.vocab.json"))["<unk>"]
off = 8 + n + t["data_offsets"][0] + 4 * unk
raw[off:off + 4] = struct.pack("<f", 100.0)
open(d + "/model.safetensors", "wb").write(raw)
c = json.load(open(d + "/config.json"))
c["tokenizer"] = {"normalizer": "tutorial", "level": "word"}
json.dump(c, open(d + "/config.json", "w"))
PY
  expect_rc 0 "unk model jsonl" "$S2S" translate -m "$TMP/unk" --max-length 4 --format jsonl "Zürich, B C"
  cp "$TMP/out" "$TMP/unk.jsonl"
  expect_rc 0 "--replace-unk" "$S2S" translate -m "$TMP/unk" --max-length 4 --replace-unk "Zürich, B C"
  check "--replace-unk uses attention argmax and original spelling" "$PYTHON" -c "
import json, sys
o = json.loads(open('$TMP/unk.jsonl').read())
assert o['source_tokens'] == ['<unk>', 'b', 'c', '</s>'], o['source_tokens']
h = o['hypotheses'][0]
assert h['tokens'] == ['<unk>'] * 4, h['tokens']
spelling = ['Zürich', 'B', 'C']
want = ' '.join(spelling[max(range(3), key=lambda j: (row[j], -j))] for row in h['attention'][:4])
got = open('$TMP/out').read().rstrip('\n')
sys.exit(0 if got == want else print(repr(got), repr(want)) or 1)"
  expect_rc 0 "--replace-unk jsonl" "$S2S" translate -m "$TMP/unk" --max-length 4 --replace-unk --format jsonl "Zürich, B C"
  check "--replace-unk jsonl text replaced, tokens kept" "$PYTHON" -c "
import json
h = json.loads(open('$TMP/out').read())['hypotheses'][0]
assert '<unk>' not in h['text'] and h['tokens'] == ['<unk>'] * 4"
fi

# 17. tokenize
expect_rc 0 "tokenize" "$S2S" tokenize -m "$M" a b c
check "tokenize shows the appended eos" test "$(cat "$TMP/out")" = "a b c EOS"
expect_rc 0 "tokenize ids" "$S2S" tokenize -m "$M" --show ids a b c
check "tokenize ids = vocabulary ids" test "$(cat "$TMP/out")" = "$("$PYTHON" -c "
import json; v = json.load(open('$M/source.vocab.json')); print(' '.join(str(v[t]) for t in ['a', 'b', 'c', 'EOS']))")"
expect_rc 0 "tokenize target side" "$S2S" tokenize -m "$M" --side target a b
check "target side has no eos" test "$(cat "$TMP/out")" = "a b"
expect_rc 0 "tokenize pieces" "$S2S" tokenize -m "$FIX/unk_gru" --show pieces a zz b
check "pieces keep the unknown word" test "$(cat "$TMP/out")" = "a zz b </s>"
expect_rc 0 "tokenize tokens" "$S2S" tokenize -m "$FIX/unk_gru" a zz b
check "tokens show unk for it" test "$(cat "$TMP/out")" = "a <unk> b </s>"
expect_rc 1 "tokenize unknown word" "$S2S" tokenize -m "$M" a zz
check "tokenize error names the word" has "$TMP/err" "zz"

# --compute: f32 is the default (same bytes); int8 runs, one line per input,
# the same with --threads 2 (batch == single); a bad value is a usage error
expect_rc 0 "--compute f32" "$S2S" translate -m "$M" --compute f32 --format jsonl -i "$TMP/in.txt"
check "--compute f32 == the default" cmp -s "$TMP/out" "$TMP/ref.jsonl"
expect_rc 0 "--compute int8" "$S2S" translate -m "$M" --compute int8 -i "$TMP/in.txt"
check "int8: one line per input" test "$(lines "$TMP/out")" = 40
cp "$TMP/out" "$TMP/int8.txt"
expect_rc 0 "--compute int8 --threads 2" "$S2S" translate -m "$M" --compute int8 --threads 2 -i "$TMP/in.txt"
check "int8: the same output with 2 threads" cmp -s "$TMP/out" "$TMP/int8.txt"
expect_rc 2 "--compute int9" "$S2S" translate -m "$M" --compute int9 -i "$TMP/in.txt"
check "--compute int9 names the option" has "$TMP/err" "--compute"

finish
