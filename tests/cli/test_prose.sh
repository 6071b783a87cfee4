#!/bin/bash
# cli-prose: the shipped translation models over real prose written for the
# tests (tests/fixtures/prose/{fr,en}.txt: news-style sentences, names,
# numbers, quotes, ALL-CAPS and Title Case lines, paragraphs of several
# sentences, blank lines). Checks structure, not translation quality: no line
# lost, the sentence count of every line as counted by hand
# ({fr,en}.sentences), blank lines empty, ALL-CAPS lines in capitals, the
# same output for any --threads. How many numbers of the source reach the
# output is reported (a model-quality figure, measured on the Tatoeba test
# set by tools/recipes/tatoeba_scores.py), not required.
NAME=cli-prose
. "$(dirname "$0")/lib.bash"
PROSE=$S2S_ROOT/tests/fixtures/prose

check_prose() { # MODEL TEXT COUNTS
  local model=$1 text=$2 counts=$3 name
  name=$(basename "$model")
  need_fixture "$model"
  expect_rc 0 "$name: translate the prose" "$S2S" translate -m "$model" "${SEARCH[@]}" -i "$text"
  cp "$TMP/out" "$TMP/$name.txt"
  check "$name: one output line per input line, blank for blank, text for text" "$PYTHON" - "$text" "$TMP/$name.txt" <<'PY'
import sys
src = open(sys.argv[1], encoding="utf-8").read().split("\n")[:-1]
out = open(sys.argv[2], encoding="utf-8").read().split("\n")[:-1]
assert len(out) == len(src), (len(out), len(src))
for i, (s, o) in enumerate(zip(src, out)):
    assert (s.strip() == "") == (o.strip() == ""), (i + 1, s, o)
PY
  expect_rc 0 "$name: jsonl" "$S2S" translate -m "$model" "${SEARCH[@]}" -i "$text" --format jsonl --threads 2
  cp "$TMP/out" "$TMP/$name.jsonl"
  check "$name: sentences as counted by hand, each translated, joined; ALL CAPS kept" \
    "$PYTHON" - "$text" "$counts" "$TMP/$name.jsonl" "$TMP/$name.txt" <<'PY'
import json, sys
src = open(sys.argv[1], encoding="utf-8").read().split("\n")[:-1]
want = [int(x) for x in open(sys.argv[2])]
objs = [json.loads(l) for l in open(sys.argv[3], encoding="utf-8")]
text = open(sys.argv[4], encoding="utf-8").read().split("\n")[:-1]
assert len(want) == len(src) == len(objs), (len(want), len(src), len(objs))
assert [o["id"] for o in objs] == list(range(len(src)))
assert sum(want) >= 50, sum(want)
for i, (s, n, o) in enumerate(zip(src, want, objs)):
    assert "error" not in o, (i + 1, o)
    h = o["hypotheses"][0]
    assert h["text"] == text[i], (i + 1, h["text"], text[i])
    if n == 0:
        assert h["text"] == "" and h["tokens"] == [] and h["score"] == 0 and "sentences" not in o, (i + 1, o)
        continue
    sents = o.get("sentences", [{"source_text": s.strip(), "hypotheses": o["hypotheses"]}])
    assert len(sents) == n, (i + 1, s, [x["source_text"] for x in sents])
    # the sentences are the line, in order, nothing lost
    assert "".join(x["source_text"] for x in sents).replace(" ", "") == s.replace(" ", ""), (i + 1, s)
    for x in sents:
        assert x["hypotheses"][0]["tokens"], (i + 1, x["source_text"])
    assert h["text"] == " ".join(x["hypotheses"][0]["text"] for x in sents), (i + 1, h["text"])
    letters = [c for c in s if c.isalpha()]
    if letters and all(c.isupper() for c in letters):
        assert h["text"] == h["text"].upper(), (i + 1, h["text"])
PY
  "$S2S" translate -m "$model" "${SEARCH[@]}" -i "$text" --format jsonl --threads 1 >"$TMP/$name.t1.jsonl"
  check "$name: --threads 1 == --threads 2" cmp -s "$TMP/$name.t1.jsonl" "$TMP/$name.jsonl"
  expect_rc 0 "$name: --no-split-sentences" "$S2S" translate -m "$model" "${SEARCH[@]}" -i "$text" --no-split-sentences
  check "$name: --no-split-sentences keeps the line count" test "$(lines "$TMP/out")" = "$(lines "$text")"
  expect_rc 0 "$name: info" "$S2S" info -m "$model" --format json
  cp "$TMP/out" "$TMP/$name.info.json"
  check "$name: numbers of the source counted (reported)" \
    "$PYTHON" - "$TMP/$name.info.json" "$text" "$TMP/$name.txt" <<'PY'
import json, re, sys
info = json.load(open(sys.argv[1]))
copies = bool(info.get("copy", info.get("decoder", {}).get("copy", False)))
src = open(sys.argv[2], encoding="utf-8").read().split("\n")[:-1]
out = open(sys.argv[3], encoding="utf-8").read().split("\n")[:-1]
number = re.compile(r"\d+(?:[.,:]\d+)?")
total = kept = 0
for s, o in zip(src, out):
    for n in number.findall(s):
        total += 1
        kept += n in o
print("  %s: %d of %d source numbers in the output (copy %s)" % (info["dir"].rstrip("/").split("/")[-1], kept, total,
      "on" if copies else "off"))
assert total >= 10
PY
}

check_prose "$S2S_ROOT/models/fra-eng" "$PROSE/fr.txt" "$PROSE/fr.sentences"
check_prose "$S2S_ROOT/models/eng-fra" "$PROSE/en.txt" "$PROSE/en.sentences"

finish
