#!/bin/sh
# Installs the Debian packages s2s needs, only those missing.
# Usage: tools/build/install-deps.sh [build|test|python|bench|all]   (default: all)
# As root it runs apt-get itself; otherwise it prints the command to run.
set -e
what=${1:-all}
pkgs="gcc make pkg-config libcjson-dev libutf8proc-dev libmicrohttpd-dev"
case "$what" in
  build) ;;
  test) pkgs="$pkgs libcriterion-dev clang libclang-rt-14-dev libomp-14-dev librsvg2-bin libxml2-utils python3-torch python3-numpy libopenblas0-pthread chromium python3-dask python3-distributed python3-pandas" ;;
  python) pkgs="python3-torch python3-numpy libopenblas0-pthread" ;;
  bench) pkgs="$pkgs python3-torch python3-numpy libopenblas0-pthread time nodejs"
         command -v npm >/dev/null 2>&1 || pkgs="$pkgs npm" ;; # some nodejs builds carry npm
  all) pkgs="$pkgs libcriterion-dev clang libclang-rt-14-dev libomp-14-dev librsvg2-bin libxml2-utils python3-torch python3-numpy libopenblas0-pthread chromium python3-dask python3-distributed python3-pandas" ;;
  *) echo "install-deps.sh: unknown set '$what' (build, test, python, bench, all)" >&2; exit 2 ;;
esac
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "s2s: missing Debian packages:$missing" >&2
  echo "s2s: run as root:  apt-get update && apt-get install -y$missing" >&2
  exit 1
fi
echo "s2s: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
