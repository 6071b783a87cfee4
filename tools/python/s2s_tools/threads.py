"""s2s_tools.threads - how many threads the native libraries under torch
start. Imports nothing heavy: it must run before torch is imported, since
OpenBLAS and OpenMP read their thread counts once, when torch loads them.

OpenBLAS (Debian's libopenblas0-pthread) starts a pool of one thread per
core whatever torch.set_num_threads says, and its idle threads spin on
sched_yield: two one-thread programs side by side then keep four threads
busy on two cores.
"""

import os

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def limit_native_threads(count, override):
    """Sets OMP_NUM_THREADS, OPENBLAS_NUM_THREADS and MKL_NUM_THREADS to
    `count` (an int or its text). With `override` false a variable the caller
    already set is kept (tools/train: the user's environment wins); with it
    true every variable is set (the benchmark: the count measured is the one
    reported). Call before importing torch; changes only os.environ."""
    for var in THREAD_VARIABLES:
        if override:
            os.environ[var] = str(count)
        else:
            os.environ.setdefault(var, str(count))


def threads_from_argv(argv, default=1):
    """The value of --threads N or --threads=N in argv (the last one wins,
    as with argparse), as text; `default` when absent. For programs that
    must set thread variables before argparse and torch are loaded."""
    threads = str(default)
    for i, arg in enumerate(argv):
        if arg == "--threads" and i + 1 < len(argv):
            threads = argv[i + 1]
        elif arg.startswith("--threads="):
            threads = arg.split("=", 1)[1]
    return threads
