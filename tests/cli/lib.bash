# lib.bash - helpers sourced by the tests/cli/*.sh scripts (not a test itself).
# Each script sets NAME, sources this, calls the check helpers, ends with `finish`.
S2S_ROOT=${S2S_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
S2S=${S2S:-$S2S_ROOT/build/s2s}
PYTHON=${PYTHON:-/usr/bin/python3}
FIX=$S2S_ROOT/tests/fixtures/models
TMP=$(mktemp -d "${TMPDIR:-/tmp}/s2s-cli.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
pass=0
fail=0
# Under a sanitizer, tests that are not about the search decode greedily:
# the shipped translation models' default beam of 5 costs five times as much.
SEARCH=()
if [ -n "${S2S_SANITIZE:-}" ]; then SEARCH=(--beam 1 --length-penalty 0 --no-keep-numbers); fi

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }

# check DESCRIPTION COMMAND...: passes when COMMAND succeeds.
check() { local d=$1; shift; if "$@"; then ok; else bad "$d"; fi; }

# not COMMAND...: succeeds when COMMAND fails.
not() { ! "$@"; }

# expect_rc WANT DESCRIPTION COMMAND...: runs COMMAND (stdout to $TMP/out,
# stderr to $TMP/err) and checks its exit status.
expect_rc() {
  local want=$1 d=$2; shift 2
  "$@" >"$TMP/out" 2>"$TMP/err"
  local rc=$?
  if [ "$rc" = "$want" ]; then ok; else bad "$d: exit $rc, wanted $want; stderr: $(head -c 300 "$TMP/err")"; fi
}

# has FILE TEXT: FILE contains the fixed string TEXT.
has() { grep -qF -- "$2" "$1"; }

# lines FILE: number of lines in FILE.
lines() { wc -l <"$1" | tr -d ' '; }

# need_fixture DIR: skips the whole script (visibly) when DIR is missing.
need_fixture() {
  if [ ! -f "$1/config.json" ]; then
    echo "$NAME: SKIPPED: fixture model $1 is missing"
    exit 0
  fi
}

# lacks FILE TEXT: FILE exists and does not contain the fixed string TEXT.
lacks() { [ -f "$1" ] && ! has "$1" "$2"; }

# has_all FILE TEXT...: FILE contains every one of the fixed strings.
has_all() { local f=$1 t; shift; for t in "$@"; do has "$f" "$t" || return 1; done; }

# on_pty STREAM OUT COMMAND...: runs COMMAND with STREAM (stdout or stderr) on
# a pseudo-terminal and the other stream to /dev/null; writes every byte the
# terminal received, up to COMMAND's exit, to the file OUT.
on_pty() {
  rm -f "$2"
  "$PYTHON" - "$@" <<'PY'
import os, pty, subprocess, sys
stream, out, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
master, slave = pty.openpty()
where = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
where[stream] = slave
subprocess.run(cmd, **where)
os.close(slave)
data = b""
try:
    while True:
        chunk = os.read(master, 65536)
        if not chunk:
            break
        data += chunk
except OSError:
    pass
open(out, "wb").write(data)
PY
}

finish() {
  echo "$NAME: $pass passed, $fail failed"
  [ "$fail" = 0 ]
}
