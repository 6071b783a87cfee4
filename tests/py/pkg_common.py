"""Shared by the tests of the Python package s2s (tests/py/test_python_*.py;
not a test itself), on top of harness.py: the Tatoeba test lines per model,
lines spread over a list, running the command."""
import json
import os
import subprocess
import sys

import harness as H

ROOT = H.ROOT
MODELS = os.path.join(ROOT, "models")
SHARED = H.SHARED_DATA
TATOEBA_TEST = os.path.join(SHARED, "tatoeba-eng-fra", "test.tsv")
PYTHON_DIR = os.path.join(ROOT, "tools", "python")
S2S = H.S2S
if PYTHON_DIR not in sys.path:
    sys.path.insert(0, PYTHON_DIR)

Skip = H.Skip
report = H.run_case
finish = H.finish


def _preload_sanitizers():
    """A library built with SANITIZE=1 (AddressSanitizer) loads into Python
    only when the sanitizer runtimes come first: re-executes this test with
    them in LD_PRELOAD (leak detection off: the interpreter's own
    allocations are not the library's)."""
    lib = os.environ.get("S2S_LIBRARY")
    if not lib or "libasan" in os.environ.get("LD_PRELOAD", "") or not os.path.exists(lib):
        return
    with open(lib, "rb") as f:
        if b"libasan.so" not in f.read():
            return
    cc = os.environ.get("CC") or "gcc"
    runtimes = [subprocess.run([cc, "-print-file-name=%s" % n], stdout=subprocess.PIPE, text=True).stdout.strip()
                for n in ("libasan.so", "libubsan.so")]
    env = dict(os.environ, LD_PRELOAD=" ".join(runtimes + [os.environ.get("LD_PRELOAD", "")]).strip(),
               ASAN_OPTIONS="detect_leaks=0:" + os.environ.get("ASAN_OPTIONS", ""))
    sys.stdout.flush()
    os.execve(sys.executable, [sys.executable] + sys.argv, env)


_preload_sanitizers()


def model_dirs():
    if not os.path.isdir(MODELS):
        return []
    return sorted(d for d in os.listdir(MODELS) if os.path.isfile(os.path.join(MODELS, d, "config.json")))


def source_column(name):
    """Column of test.tsv (English, French) a model reads: English for a
    model whose source_language is "en", French for the others (fra-eng,
    tutorial-fra-eng, and dates, whose inputs are French dates)."""
    cfg = json.load(open(os.path.join(MODELS, name, "config.json"), encoding="utf-8"))
    return 0 if cfg.get("source_language") == "en" else 1


def tatoeba_pairs():
    """(English, French) pairs of the Tatoeba test split; Skip when missing."""
    if not os.path.exists(TATOEBA_TEST):
        raise Skip("%s is missing" % TATOEBA_TEST)
    out = []
    with open(TATOEBA_TEST, encoding="utf-8") as f:
        for line in f:
            cols = line.rstrip("\n").split("\t")
            if len(cols) >= 2:
                out.append((cols[0], cols[1]))
    return out


def spread(items, n):
    """n items spread evenly over `items` (all of them when n is None or larger)."""
    if n is None or n >= len(items):
        return list(items)
    return [items[i * len(items) // n] for i in range(n)]


def need_command():
    if not H.s2s():
        raise Skip("the command %s is not built" % S2S)
    return S2S


# The command's translate and summarize decode each line whole, as written,
# as the package does (by default the command splits a line into sentences
# and handles ALL-CAPS and Title Case lines).
AS_WRITTEN = ["--no-split-sentences", "--case", "off"]


def run_command(args, lines, timeout=900, as_written=True):
    """stdout of `s2s ARGS` (-q added; for translate and summarize also
    AS_WRITTEN unless as_written is False) fed `lines` one per line, as str."""
    if as_written and args[0] in ("translate", "summarize"):
        args = args + AS_WRITTEN
    r = subprocess.run([need_command()] + args + ["-q"], input="".join(x + "\n" for x in lines).encode("utf-8"),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    assert r.returncode in (0, 1), "s2s %s: exit %d: %s" % (" ".join(args), r.returncode, r.stderr[-800:])
    return r.stdout.decode("utf-8")
