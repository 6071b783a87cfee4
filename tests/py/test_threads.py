#!/usr/bin/python3
"""test_threads - s2s_tools.threads, which sets the thread counts of the
native libraries under torch before torch is loaded: --threads is read from
a command line the way argparse reads it, the user's variables win unless the
caller overrides them, the module imports no torch, and both of its callers
(tools/train and the benchmark's PyTorch side) set the variables from their
--threads before torch starts.

    S2S_ROOT=$PWD PYTHONPATH=tools/python /usr/bin/python3 tests/py/test_threads.py
"""
import os
import subprocess
import sys

import harness as H
from s2s_tools import threads

PYTHON = sys.executable


def run_python(code, env_extra=None):
    """Runs code in a fresh interpreter with the thread variables unset
    (then env_extra added); returns its stdout lines."""
    env = {k: v for k, v in os.environ.items() if k not in threads.THREAD_VARIABLES}
    env.update(env_extra or {})
    env["PYTHONPATH"] = os.path.join(H.TOOLS, "python")
    p = subprocess.run([PYTHON, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    H.check(p.returncode == 0, "python -c exited %d: %s" % (p.returncode, p.stderr[-500:]))
    return p.stdout.split()


@H.case
def threads_are_read_like_argparse():
    H.check_equal("no --threads", threads.threads_from_argv(["--lr", "3e-4"]), "1")
    H.check_equal("default", threads.threads_from_argv([], default=4), "4")
    H.check_equal("--threads N", threads.threads_from_argv(["--threads", "2", "--ema", "0.9"]), "2")
    H.check_equal("--threads=N", threads.threads_from_argv(["--threads=3"]), "3")
    H.check_equal("last one wins", threads.threads_from_argv(["--threads", "2", "--threads=5"]), "5")
    H.check_equal("--threads as the last word", threads.threads_from_argv(["--threads"]), "1")


@H.case
def the_users_variables_win_unless_overridden():
    code = ("import os; from s2s_tools.threads import limit_native_threads as f; f(%s, override=%s); "
            "print(*(os.environ[v] for v in ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS')))")
    H.check_equal("kept", run_python(code % (2, False), {"OPENBLAS_NUM_THREADS": "7"}), ["2", "7", "2"])
    H.check_equal("overridden", run_python(code % (2, True), {"OPENBLAS_NUM_THREADS": "7"}), ["2", "2", "2"])


@H.case
def the_module_imports_no_torch():
    H.check_equal("torch loaded by s2s_tools.threads",
                  run_python("import sys, s2s_tools.threads; print('torch' in sys.modules)"), ["False"])


# What tools/train and bench_torch.py left in the environment when torch was
# imported: an import hook prints it when torch is asked for, and stops the
# program there.
RECORDING_TORCH = (
    "import os, sys, types\n"
    "class Seen(Exception): pass\n"
    "def find(name, *a):\n"
    "    if name == 'torch' or name.startswith('torch.'):\n"
    "        print(os.environ.get('OPENBLAS_NUM_THREADS'), os.environ.get('OMP_NUM_THREADS')); raise Seen()\n"
    "sys.meta_path.insert(0, types.SimpleNamespace(find_spec=find))\n"
    "import runpy\n"
    "sys.argv = %r\n"
    "try:\n"
    "    runpy.%s\n"
    "except Seen:\n"
    "    pass\n")


@H.case
def train_sets_the_variables_before_torch():
    code = RECORDING_TORCH % (["train", "--threads", "2", "--train", "x"],
                              "run_module('s2s_tools.train', run_name='__main__')")
    H.check_equal("tools/train --threads 2", run_python(code), ["2", "2"])
    H.check_equal("tools/train --threads 2, OPENBLAS_NUM_THREADS=1 set",
                  run_python(code, {"OPENBLAS_NUM_THREADS": "1"}), ["1", "2"])


@H.case
def the_benchmark_sets_the_variables_before_torch():
    bench = os.path.join(H.TOOLS, "bench", "bench_torch.py")
    code = RECORDING_TORCH % (["bench_torch", "-m", "m", "-i", "i", "--out", "o", "--threads", "2"],
                              "run_path(%r, run_name='__main__')" % bench)
    H.check_equal("bench_torch --threads 2, OPENBLAS_NUM_THREADS=1 set",
                  run_python(code, {"OPENBLAS_NUM_THREADS": "1"}), ["2", "2"])


H.finish()
