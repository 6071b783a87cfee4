#!/usr/bin/env bash
# `make install` into a staging directory: the command, the static and shared
# libraries, the header, a pkg-config file that a user program can build
# and link with, and the shipped models; then a real install into a
# temporary prefix, whose command finds its default model there.
set -u
root=${S2S_ROOT:-$(pwd)}
# It builds and tests the plain (unsanitized) build, so under a sanitizer it
# would only repeat, two builds later, what `make test` checked.
if [ -n "${S2S_SANITIZE:-}" ]; then
  echo "cli-install: skipped under SANITIZE=$S2S_SANITIZE (it tests the plain build, as make test does)"
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
check() { if eval "$2"; then pass=$((pass + 1)); else echo "FAIL: $1"; fail=$((fail + 1)); fi; }

# the plain build, in a build directory of its own (the command knows its
# prefix)
mk() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$root" --no-print-directory install SANITIZE= BUILD="$tmp/build" "$@"; }
mk PREFIX=/opt/s2s DESTDIR="$tmp" >"$tmp/log" 2>&1
check "make install succeeds" '[ $? -eq 0 ] || { cat "$tmp/log"; false; }'
p="$tmp/opt/s2s"
for f in bin/s2s lib/libs2s.a lib/libs2s.so.0 lib/libs2s.so include/s2s.h lib/pkgconfig/s2s.pc; do
  check "installed $f" "[ -e '$p/$f' ]"
done
check "pkg-config file names the prefix" "grep -q '^prefix=/opt/s2s$' '$p/lib/pkgconfig/s2s.pc'"

cat >"$tmp/user.c" <<'C'
#include <s2s.h>
#include <stdio.h>
#include <string.h>
int main(void) {
    s2s_error err;
    s2s_model *m = s2s_model_load("/nonexistent-model-dir", &err);
    if (m || err.status != S2S_ERR_IO) return 1;
    printf("%s|%s\n", s2s_strerror(S2S_OK), S2S_VERSION);
    return strstr(err.message, "/nonexistent-model-dir") ? 0 : 1;
}
C
# build with the flags pkg-config gives for the staged prefix
pc() { PKG_CONFIG_PATH="$p/lib/pkgconfig" pkg-config --define-variable=prefix="$p" "$@" s2s; }
gcc $(pc --cflags) -o "$tmp/user" "$tmp/user.c" $(pc --static --libs | sed 's/-ls2s/-l:libs2s.a/') 2>"$tmp/cc.log"
check "a user program compiles against the installed header and library" '[ -x "$tmp/user" ] || { cat "$tmp/cc.log"; false; }'
check "it runs and sees the library's error message" '"$tmp/user" >"$tmp/out" && grep -q "^success|0.1.0$" "$tmp/out" || { cat "$tmp/out"; false; }'
check "the installed command runs" '"$p/bin/s2s" --version >/dev/null'

# the shipped models, every file, under PREFIX/share/s2s/models
for d in "$root"/models/*/; do
  m=$(basename "$d")
  for f in "$d"*; do
    check "installed models/$m/$(basename "$f")" "cmp -s '$f' '$p/share/s2s/models/$m/$(basename "$f")'"
  done
done

# a real install into a temporary prefix: without -m or S2S_MODEL the
# command uses the installed default model, and says so
real="$tmp/real"
mk PREFIX="$real" >"$tmp/log2" 2>&1
check "make install PREFIX=$real succeeds" '[ $? -eq 0 ] || { cat "$tmp/log2"; false; }'
check "info: the installed default model, and why" \
  'env -u S2S_MODEL "$real/bin/s2s" info --format json >"$tmp/info.json" &&
   /usr/bin/python3 -c "import json, sys; o = json.load(open(sys.argv[1])); sys.exit(not (o[\"dir\"] == sys.argv[2] and o[\"dir_from\"] == \"installed\"))" "$tmp/info.json" "$real/share/s2s/models/fra-eng"'
check "info text names the installed default" \
  'env -u S2S_MODEL "$real/bin/s2s" info | grep -q "^model: *$real/share/s2s/models/fra-eng (the installed default model)"'
check "translate without -m uses it" \
  '[ "$(env -u S2S_MODEL "$real/bin/s2s" translate "Il pleut.")" = "$("$root/build/s2s" translate -m "$root/models/fra-eng" "Il pleut.")" ]'
check "S2S_MODEL wins over the installed default" \
  'S2S_MODEL="$root/models/dates" "$real/bin/s2s" info | grep -q "^model: *$root/models/dates (from \$S2S_MODEL)"'
check "-m wins over S2S_MODEL" \
  'S2S_MODEL=/nonexistent "$real/bin/s2s" info -m "$root/models/dates" | grep -q "(given on the command line)"'
rm -rf "$real/share/s2s/models/fra-eng"
env -u S2S_MODEL "$real/bin/s2s" translate "Il pleut." >"$tmp/out" 2>"$tmp/err"
check "no default model anywhere: exit 2 saying where it looked" \
  '[ $? -eq 2 ] && grep -q "S2S_MODEL" "$tmp/err" && grep -q "$real/share/s2s/models/fra-eng" "$tmp/err"'
echo "cli-install: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
