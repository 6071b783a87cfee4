"""harness - what every tests/py/test_*.py shares.

    import harness as H

    H.ROOT, H.TOOLS, H.FIXTURES, H.SHARED_DATA   paths ($S2S_ROOT or this checkout)
    H.s2s()                     H.S2S ($S2S, default build/s2s) when it is an
                                executable file, else None
    H.require_torch()           torch (one thread), or a visible SKIP and exit 0
    H.check(ok, msg)            counts one check; prints "FAIL: msg" when not ok
    H.check_equal(what, got, expected)   the same for got == expected, both shown
    H.case(fn) / H.run_case(name, fn)
                                runs one test function: "ok   name", or "FAIL
                                name" with the traceback, or "SKIP name: why"
                                when it raises H.Skip
    H.skip_all(msg)             "SKIP: msg", the summary line, exit 0
    H.finish()                  "N passed, M failed[, K skipped]", exit 1 on any failure
    H.tempdir(tag)              a temporary directory (context manager)
    H.run_tool(name, args)      tools/<name> (train, export, eval) run with this Python
    H.run_s2s(args, text)       the s2s command with `text` on standard input
    H.json_lines(out, what)     (line number, object) of each JSON line of s2s
                                output; a line holding "error" fails a check
    H.load_file(path)           a Python file outside the package (a fixture
                                generator) loaded as a module

The Python package s2s_tools comes from PYTHONPATH (the Makefile sets it to
tools/python); run a test alone with

    S2S=build/s2s S2S_ROOT=$PWD PYTHONPATH=tools/python /usr/bin/python3 tests/py/test_X.py
"""
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import traceback

ROOT = os.environ.get("S2S_ROOT") or os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
TOOLS = os.path.join(ROOT, "tools")
FIXTURES = os.path.join(ROOT, "tests", "fixtures")
SHARED_DATA = os.path.join(os.path.dirname(ROOT.rstrip("/")), "shared", "data")

passed = failed = skipped = 0


class Skip(Exception):
    """Raised by a test function that cannot run here (missing data, ...)."""


def check(ok, msg):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL: " + msg)
    return ok


def check_equal(what, got, expected):
    return check(got == expected, "%s:\n  got      %r\n  expected %r" % (what, got, expected))


def run_case(name, fn):
    global passed, failed, skipped
    try:
        fn()
    except Skip as e:
        skipped += 1
        print("SKIP %s: %s" % (name, e))
    except Exception:  # noqa: BLE001 - report every kind of failure
        failed += 1
        print("FAIL %s\n%s" % (name, traceback.format_exc()))
    else:
        passed += 1
        print("ok   %s" % name)


def case(fn):
    """Decorator: runs fn at once as a test case named after it."""
    run_case(fn.__name__, fn)
    return fn


def summary():
    return "%d passed, %d failed%s" % (passed, failed, ", %d skipped" % skipped if skipped else "")


def finish():
    print(summary())
    sys.exit(1 if failed else 0)


def skip_all(msg):
    print("SKIP: " + msg)
    print("0 passed, 0 failed (skipped)")
    sys.exit(0)


def require_torch():
    try:
        import torch
    except ImportError:
        skip_all("torch is not available to %s" % sys.executable)
    torch.set_num_threads(1)
    return torch


S2S = os.environ.get("S2S") or os.path.join(ROOT, "build", "s2s")


def s2s():
    """The s2s command under test, H.S2S ($S2S, default build/s2s), or None
    when it is not an executable file."""
    return S2S if os.path.isfile(S2S) and os.access(S2S, os.X_OK) else None


def tempdir(tag):
    return tempfile.TemporaryDirectory(prefix="s2s-test-%s-" % tag)


def run_tool(name, args, **kw):
    """Runs tools/<name> with `args` (this Python: $PYTHON), output captured
    as text -> CompletedProcess."""
    env = dict(os.environ, PYTHON=sys.executable)
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    return subprocess.run([os.path.join(TOOLS, name)] + list(args), env=env, **kw)


def run_s2s(args, text):
    """Runs H.S2S with `args`, `text` on standard input -> CompletedProcess
    (text output captured)."""
    return subprocess.run([S2S] + list(args), input=text, capture_output=True, text=True)


def json_lines(out, what):
    """Yields (i, object) for the JSON lines of `out`, skipping, as a failed
    check, every line that reports an error."""
    for i, line in enumerate(out.splitlines()):
        obj = json.loads(line)
        if "error" in obj:
            check(False, "%s input %d: error %s" % (what, i, obj["error"]))
            continue
        yield i, obj


def load_file(path, name=None):
    """Loads the Python file `path` (relative to ROOT) as a module."""
    full = os.path.join(ROOT, path)
    name = name or os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, full)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod
