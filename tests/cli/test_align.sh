#!/bin/bash
# cli-align: the terminal heatmap (shape, --color never|always|auto, NO_COLOR,
# TERM=dumb), the SVG (well-formed XML by xmllint, rendered by rsvg-convert to
# a PNG of the declared size, one cell per weight with the exact weight in its
# tooltip), the HTML page, escaping of hostile tokens, long sentences (the
# caption wraps, column labels stay whole, the joiner mark is shown with a
# character fonts have), options align does not use refused, error exits.
NAME=cli-align
. "$(dirname "$0")/lib.bash"
M=$FIX/gru_bahdanau_before
need_fixture "$M"

# reference numbers from the jsonl output
"$S2S" translate -m "$M" --format jsonl "f b h c" >"$TMP/ref.jsonl"
n_steps=$("$PYTHON" -c "import json; print(len(json.load(open('$TMP/ref.jsonl'))['hypotheses'][0]['attention']))")

# terminal heatmap
expect_rc 0 "align in the terminal" "$S2S" align -m "$M" --color never f b h c
check "header names the source tokens" grep -qE '^ +f +b +h +c +EOS' "$TMP/out"
check "one row per decoding step" test "$(grep -cE '^ *[a-zA-Z]+ [ ░▒▓█]{4}' "$TMP/out")" = "$n_steps"
check "--color never: no escapes" test "$(grep -c $'\033' "$TMP/out")" = 0
check "shading legend" has "$TMP/out" "░"
expect_rc 0 "--color always" "$S2S" align -m "$M" --color always f b h c
check "--color always: 256-colour escapes" grep -q $'\033\\[38;5;[0-9]*m' "$TMP/out"
expect_rc 0 "--color auto, not a terminal" "$S2S" align -m "$M" f b h c
check "--color auto into a file: no escapes" test "$(grep -c $'\033' "$TMP/out")" = 0
expect_rc 0 "text from standard input" bash -c "echo 'f b h c' | '$S2S' align -m '$M' --color never"
check "stdin text gives the same heatmap" cmp -s "$TMP/out" <("$S2S" align -m "$M" --color never f b h c)
on_tty() { # TERM NO_COLOR: 0 when align writes colour escapes on a pseudo-terminal
  on_pty stdout "$TMP/pty" env -u NO_COLOR TERM="$1" ${2:+NO_COLOR="$2"} "$S2S" align -m "$M" f b &&
    has "$TMP/pty" $'\x1b[38;5;'
}
check "--color auto on a terminal: colour" on_tty xterm-256color ""
check "--color auto, NO_COLOR set: no colour" not on_tty xterm-256color 1
check "--color auto, TERM=dumb: no colour" not on_tty dumb ""

# SVG: well-formed, renders to its declared size, one cell per weight
expect_rc 0 "--svg" "$S2S" align -m "$M" --color never --svg "$TMP/a.svg" f b h c
check "SVG is well-formed XML (xmllint)" xmllint --noout "$TMP/a.svg"
check "rsvg-convert renders the SVG" rsvg-convert "$TMP/a.svg" -o "$TMP/a.png"
check "PNG has the SVG's declared size; cells and tooltips match the jsonl" "$PYTHON" - "$TMP/a.svg" "$TMP/a.png" "$TMP/ref.jsonl" <<'PY'
import json, re, struct, sys
import xml.etree.ElementTree as ET
svg, png, ref = sys.argv[1:4]
root = ET.parse(svg).getroot()
w, h = int(root.get("width")), int(root.get("height"))
raw = open(png, "rb").read()
assert raw[:8] == b"\x89PNG\r\n\x1a\n" and raw[12:16] == b"IHDR"
pw, ph = struct.unpack(">II", raw[16:24])
assert (pw, ph) == (w, h), ((pw, ph), (w, h))
o = json.load(open(ref))
att = o["hypotheses"][0]["attention"]
ns = "{http://www.w3.org/2000/svg}"
groups = [g for g in root.iter(ns + "g") if g.find(ns + "rect") is not None and g.find(ns + "rect").get("class") == "cell"]
assert len(groups) == len(att) * len(o["source_tokens"]), len(groups)
vals = [float(g.find(ns + "title").text.rsplit(": ", 1)[1]) for g in groups]
want = [x for row in att for x in row]
assert all(abs(a - b) < 1e-6 for a, b in zip(vals, want))
cols = [t.text for t in root.iter(ns + "text") if t.get("class") == "col"]
assert cols == o["source_tokens"], cols
assert w >= 28 * len(o["source_tokens"]) and h >= 28 * len(att)
PY
# (a grid wider than its caption: the caption then wraps to the grid's width)
"$S2S" align -m "$M" --max-length 4 --svg "$TMP/s3.svg" a b c d e f g h i j k l a b c d >/dev/null
"$S2S" align -m "$M" --max-length 4 --svg "$TMP/s4.svg" a b c d e f g h i j k l a b c d e >/dev/null
check "one more source token widens the SVG by one 28 px cell (row labels aside)" "$PYTHON" -c "
import xml.etree.ElementTree as ET, sys
def size(p):
    r = ET.parse(p).getroot()
    rows = [t.text for t in r.iter('{http://www.w3.org/2000/svg}text') if t.get('class') == 'row']
    return int(r.get('width')), max(len(t) for t in rows)
(w3, l3), (w4, l4) = size('$TMP/s3.svg'), size('$TMP/s4.svg')
sys.exit(abs(w4 - w3 - 7.5 * (l4 - l3) - 28) > 1)"

# HTML page
expect_rc 0 "--html" "$S2S" align -m "$M" --html "$TMP/a.html" f b h c
check "HTML parses (xmllint --html)" bash -c "xmllint --html --noout '$TMP/a.html' 2>&1 | grep -q . && exit 1 || exit 0"
check "HTML has one cell per weight" test "$(grep -o '<td ' "$TMP/a.html" | wc -l)" = $((n_steps * 5))

# hostile tokens: markup, quotes, ampersands, a control character, wide characters
mkdir -p "$TMP/evil" && cp "$M"/* "$TMP/evil/"
"$PYTHON" - "$TMP/evil" <<'PY'
import json, sys
d = sys.argv[1]
evil = ["<b>", "a&b", '"q"', "'s'", "x\x01y", "é漢字", "]]>"]
for side in ("source", "target"):
    p = f"{d}/{side}.vocab.json"
    v = json.load(open(p))
    inv = {i: t for t, i in v.items()}
    for k, e in enumerate(evil):
        inv[2 + k] = e
    json.dump({t: i for i, t in inv.items()}, open(p, "w"), ensure_ascii=False)
PY
evil_text=$'<b> a&b "q" \'s\' x\x01y é漢字 ]]>'
expect_rc 0 "align with hostile tokens" "$S2S" align -m "$TMP/evil" --color always --svg "$TMP/e.svg" --html "$TMP/e.html" "$evil_text"
check "terminal: the control character is not printed raw" test "$(grep -c $'\x01' "$TMP/out")" = 0
check "hostile SVG is well-formed (xmllint)" xmllint --noout "$TMP/e.svg"
check "hostile SVG renders" rsvg-convert "$TMP/e.svg" -o "$TMP/e.png"
check "hostile labels survive escaping" "$PYTHON" - "$TMP/e.svg" <<'PY'
import sys
import xml.etree.ElementTree as ET
ns = "{http://www.w3.org/2000/svg}"
root = ET.parse(sys.argv[1]).getroot()
cols = [t.text for t in root.iter(ns + "text") if t.get("class") == "col"]
want = ["<b>", "a&b", '"q"', "'s'", "x\ufffdy", "é漢字", "]]>", "EOS"]
sys.exit(0 if cols == want else print(cols) or 1)
PY
check "hostile HTML has no raw markup from tokens" bash -c "! grep -qF '<b>' '$TMP/e.html' && ! grep -q $'\x01' '$TMP/e.html'"
check "hostile HTML parses" bash -c "xmllint --html --noout '$TMP/e.html' 2>&1 | grep -q . && exit 1 || exit 0"

# a long sentence of a BPE model: the caption wraps instead of being cut,
# column labels stay whole (terminal: written downwards), the joiner mark
# U+FFED is shown as a middle dot with a note, in the terminal, SVG and HTML
FE=$S2S_ROOT/models/fra-eng
if [ -f "$FE/config.json" ]; then
  # align runs the search translate runs, the model's config defaults included
  flight="Le vol 714 part de Paris à 8 heures."
  "$S2S" translate -m "$FE" --no-split-sentences "$flight" >"$TMP/flight.txt"
  expect_rc 0 "align with the model's decoding defaults" "$S2S" align -m "$FE" --color never "$flight"
  check "align shows the output translate writes" has "$TMP/out" "→ $(cat "$TMP/flight.txt")  (score"
  "$S2S" translate -m "$FE" --no-split-sentences --beam 1 --length-penalty 0 --no-keep-numbers "$flight" \
    >"$TMP/flight1.txt"
  check "and that output is not greedy's" not cmp -s "$TMP/flight.txt" "$TMP/flight1.txt"
  long="Le président de la République est arrivé mardi à Marseille pour inaugurer le nouveau terminal du port, accompagné de plusieurs ministres et du maire de la ville."
  "$S2S" translate -m "$FE" --no-split-sentences --format jsonl "$long" >"$TMP/long.jsonl"
  "$S2S" tokenize -m "$FE" --show pieces "$long" >"$TMP/long.pieces" # the column labels
  expect_rc 0 "align a long sentence" env COLUMNS=100 "$S2S" align -m "$FE" --color never --svg "$TMP/long.svg" --html "$TMP/long.html" "$long"
  cp "$TMP/out" "$TMP/long.txt"
  check "long SVG is well-formed (xmllint)" xmllint --noout "$TMP/long.svg"
  check "long SVG renders (rsvg-convert)" rsvg-convert "$TMP/long.svg" -o "$TMP/long.png"
  check "long SVG: the whole caption on wrapped lines within the canvas; labels whole; joiner shown and explained" \
    "$PYTHON" - "$TMP/long.svg" "$TMP/long.jsonl" "$long" "$TMP/long.pieces" <<'PY'
import json, sys
import xml.etree.ElementTree as ET
ns = "{http://www.w3.org/2000/svg}"
root = ET.parse(sys.argv[1]).getroot()
o = json.load(open(sys.argv[2]))
h = o["hypotheses"][0]
width = int(root.get("width"))
texts = list(root.iter(ns + "text"))
title = [t.text for t in texts if t.get("class") == "title"]
assert len(title) >= 2, title
assert all(len(t) * 7.9 <= width - 20 + 0.5 for t in title), (width, title)
caption = " ".join(title)
assert caption.startswith(sys.argv[3] + " \u2192 " + h["text"]), caption
assert caption.rstrip(")").split("(score ")[1] != ""
dot = lambda t: t.replace("\uffed", "\u00b7")
cols = [t.text for t in texts if t.get("class") == "col"]
pieces = open(sys.argv[4], encoding="utf-8").read().split()
assert cols == [dot(t) for t in pieces], cols
rows = [t.text for t in texts if t.get("class") == "row"]
assert rows == [dot(t) for t in h["tokens"]] + (["</s>"] if h["finished"] else []), rows  # eos drawn when reached
svg = open(sys.argv[1], encoding="utf-8").read()
assert "\uffed" not in svg and "\u00b7 marks where a token joins" in svg
PY
  check "long terminal heatmap: caption wrapped to 100 columns, whole" "$PYTHON" - "$TMP/long.txt" "$long" <<'PY'
import sys
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
cap = lines[:lines.index("")]
assert len(cap) >= 2 and all(len(l) <= 100 for l in cap), cap
assert " ".join(cap).startswith(sys.argv[2] + " \u2192 "), cap
PY
  check "long terminal heatmap: column labels downwards, each whole" "$PYTHON" - "$TMP/long.txt" "$TMP/long.pieces" <<'PY'
import json, sys
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
toks = [t.replace("\uffed", "\u00b7") for t in open(sys.argv[2], encoding="utf-8").read().split()]
head = lines[lines.index("") + 1:]
first_row = next(i for i, l in enumerate(head) if "\u2588" in l or "\u2593" in l or "\u2592" in l or "\u2591" in l)
head = head[:first_row]
depth = min(max(len(t) for t in toks), 12)
assert len(head) == depth, (len(head), depth)
start = len(head[0]) - len(head[0].lstrip())
cell = (max(len(l) for l in head) - start) // len(toks)
got = ["".join(l[start + j * cell: start + j * cell + 1] for l in head).rstrip() for j in range(len(toks))]
want = [t if len(t) <= 12 else t[:11] + "\u2026" for t in toks]
assert got == want, (got, want)
PY
  check "terminal: the joiner note" has "$TMP/long.txt" "$(printf '\u00b7') marks where a token joins"
  check "HTML: no raw joiner, the note" bash -c "! grep -q \$'\xef\xbf\xad' '$TMP/long.html' && grep -q 'marks where a token joins' '$TMP/long.html'"
fi

# options align would ignore are refused, naming the option
for opt in "--n-best 2" "--threads 2" "--num-samples 2" "--format jsonl" "-i x" "-q"; do
  expect_rc 2 "align $opt" "$S2S" align -m "$M" $opt a b
  check "align $opt: refused, naming it" grep -q "option '${opt%% *}'.*does not apply to 's2s align'" "$TMP/err"
done
check "align --help does not offer --n-best" bash -c "! '$S2S' align --help | grep -q -- --n-best"

# errors
expect_rc 1 "unknown word" "$S2S" align -m "$M" a zz
check "unknown word: message with line 1" grep -q "line 1: .*zz" "$TMP/err"
expect_rc 2 "no text" bash -c "'$S2S' align -m '$M' </dev/null"
check "no text: says so and suggests --help" grep -q "no text.*--help" "$TMP/err"
expect_rc 2 "unwritable --svg" "$S2S" align -m "$M" --svg "$TMP/no/dir/a.svg" a b
check "unwritable --svg is named" has "$TMP/err" "$TMP/no/dir/a.svg"

finish
