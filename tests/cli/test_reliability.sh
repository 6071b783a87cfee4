#!/usr/bin/env bash
# Reliability of the command against hostile surroundings: FIFOs in the model
# directory, NaN weights, memory limits (ulimit -v), threads that cannot be
# started, and memory on a very long line.
NAME=cli-reliability
source "$(dirname "$0")/lib.bash"
dates=$S2S_ROOT/models/dates
fe=$S2S_ROOT/models/fra-eng
need_fixture "$dates"
need_fixture "$fe"

# ---- a FIFO in place of any file of the model fails fast, naming the file
for f in config.json model.safetensors source.vocab.json target.vocab.json merges.txt; do
  d=$TMP/fifo-$f
  mkdir -p "$d"
  cp "$fe"/* "$d"/
  rm "$d/$f"
  mkfifo "$d/$f"
  start=$(date +%s%N)
  expect_rc 2 "FIFO $f: model refused" timeout 10 "$S2S" info -m "$d"
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  check "FIFO $f: refused within 5 s (${ms} ms)" test "$ms" -lt 5000
  check "FIFO $f: the message names the file" has "$TMP/err" "$f: not a regular file"
  rm -rf "$d"
done

# ---- NaN weights: refused naming the tensor and element, unless allowed
nan=$TMP/nan
cp -r "$dates" "$nan"
"$PYTHON" - "$nan/model.safetensors" <<'PY'
import json, struct, sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
n = struct.unpack("<Q", b[:8])[0]
h = json.loads(b[8:8 + n])
t = h["decoder.out.weight"]          # F32 (15, 128)
assert t["dtype"] == "F32" and t["shape"][1] == 128
off = 8 + n + t["data_offsets"][0] + 4 * (3 * 128 + 5)   # row 3, column 5
b[off:off + 4] = struct.pack("<f", float("nan"))
open(p, "wb").write(b)
PY
expect_rc 2 "NaN weight: model refused" "$S2S" translate -m "$nan" "12 mars 2021"
check "NaN weight: message names tensor and element" has "$TMP/err" 'tensor "decoder.out.weight": element 389 (row 3, column 5) is NaN'
check "NaN weight: no output" test ! -s "$TMP/out"
"$S2S" translate -m "$nan" --allow-nonfinite "12 mars 2021" >"$TMP/out" 2>"$TMP/err"
check "NaN weight: --allow-nonfinite loads it" not has "$TMP/err" "cannot load model"
expect_rc 2 "NaN weight: info refuses it too" "$S2S" info -m "$nan"
expect_rc 0 "NaN weight: info --allow-nonfinite" "$S2S" info -m "$nan" --allow-nonfinite

# The memory checks need a plain build: a sanitizer reserves terabytes of
# address space (ulimit -v) and doubles the memory in use (peak RSS).
if [ -n "${S2S_SANITIZE:-}" ]; then
  echo "$NAME: memory-limit and peak-memory checks skipped under SANITIZE=$S2S_SANITIZE"
  finish
  exit $?
fi

# ---- memory pressure: every line comes out, failed ones in place with a message
for i in $(seq 1 500); do echo "Il fait beau aujourd'hui et je suis content de te voir, mon ami numéro $i."; done >"$TMP/in500.txt"
for v in 95000 85000; do
  for fmt in text jsonl; do
    (ulimit -v $v; "$S2S" translate -m "$fe" --threads 8 -q --format $fmt -i "$TMP/in500.txt" >"$TMP/mem.out" 2>"$TMP/mem.err")
    rc=$?
    check "ulimit -v $v, 8 threads, $fmt: exit 0 or 1 (got $rc)" test "$rc" -le 1
    check "ulimit -v $v, 8 threads, $fmt: 500 lines, each failed one with a message" \
      "$PYTHON" "$S2S_ROOT/tests/cli/check_stream.py" "$TMP/mem.out" "$TMP/mem.err" 500 $fmt
  done
done
(ulimit -v 90000; "$S2S" score -m "$fe" --threads 8 -q --format jsonl \
   -i <(paste "$TMP/in500.txt" "$TMP/in500.txt") >"$TMP/mem.out" 2>"$TMP/mem.err")
check "ulimit -v 90000, score jsonl: 500 lines, each failed one with a message" \
  "$PYTHON" "$S2S_ROOT/tests/cli/check_stream.py" "$TMP/mem.out" "$TMP/mem.err" 500 jsonl

# ---- threads that cannot all be started: fewer threads, said before any output
(ulimit -v 100000; "$S2S" translate -m "$fe" --threads 16 -q -i "$TMP/in500.txt" >"$TMP/thr.out" 2>"$TMP/thr.err")
rc=$?
check "ulimit -v 100000, 16 threads: exit 0 or 1 (got $rc)" test "$rc" -le 1
check "ulimit -v 100000, 16 threads: says how many threads it uses" grep -q "threads asked for could be started; using" "$TMP/thr.err"
check "ulimit -v 100000, 16 threads: the warning comes first" sh -c "head -1 '$TMP/thr.err' | grep -q 'using'"
check "ulimit -v 100000, 16 threads: 500 lines, each failed one with a message" \
  "$PYTHON" "$S2S_ROOT/tests/cli/check_stream.py" "$TMP/thr.out" "$TMP/thr.err" 500 text

# ---- a 15 MB line: peak memory under 3 x the line + what the model takes alone
"$PYTHON" - "$TMP/line15.txt" <<'PY'
import random, sys
random.seed(1)
words = "le chat noir est sur la table et il fait beau aujourd hui mais demain il pleuvra".split()
out, n = [], 0
while n < 15_000_000:
    w = random.choice(words)
    out.append(w)
    n += len(w) + 1
open(sys.argv[1], "w").write(" ".join(out) + "\n")
PY
echo "bonjour" >"$TMP/one.txt"
peak() { # peak RSS in KB of the command
  "$PYTHON" -c 'import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' "$@"
}
line_kb=$(( $(stat -c %s "$TMP/line15.txt") / 1024 ))
for md in "$dates" "$fe"; do
  base=$(peak "$S2S" translate -m "$md" -q -i "$TMP/one.txt")
  big=$(peak "$S2S" translate -m "$md" -q -i "$TMP/line15.txt")
  check "15 MB line, $(basename "$md"): peak ${big} KB < 3 x ${line_kb} KB + ${base} KB" test "$big" -lt $((3 * line_kb + base))
done

finish
