#!/usr/bin/python3
"""Throughput of s2s.dask against the bare command, on one machine.

    PYTHONPATH=tools/python tools/bench/scale_out.py [--model models/fra-eng] [--lines 20000]
        [--input FILE] [--partitions 40] [--beam 1]

Translates the same lines (default: 20,000 French lines spread over
Tatoeba's eng-fra.txt) with

  - the command, `s2s translate -q --threads 1` and `--threads 2` (each line
    decoded whole, as written: --no-split-sentences --case off, as the
    package does);
  - the Python package in one process, Model.translate(threads=1) and (threads=2);
  - s2s.dask.translate_bag on a LocalCluster of 1 and of 2 worker processes
    (one thread each), and of 1 process with 2 threads (the cluster is
    started before the clock starts; the model is loaded by each worker's
    first task, inside the measured time);

checks that every run gives the command's output, and prints a Markdown
table of wall-clock seconds, lines per second, CPU seconds (user + system,
every process of the run) and the overheads in time and in CPU against the
command with as many threads as the run has cores.
"""
import argparse
import logging
import os
import resource
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools", "python"))


def default_lines(n):
    path = os.path.join(os.path.dirname(ROOT), "shared", "data", "tatoeba-eng-fra", "eng-fra.txt")
    with open(path, encoding="utf-8") as f:
        fr = [line.rstrip("\n").split("\t")[1] for line in f if "\t" in line]
    fr = [x for x in fr if x.strip()]
    fr = fr * (1 + n // len(fr))
    return [fr[i * len(fr) // n] for i in range(n)]


def cpu(who):
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def tree_cpu():
    """CPU seconds of this process and all its descendants (a Dask cluster's
    scheduler runs in this process, its nannies and workers below it)."""
    import psutil
    total = 0.0
    me = psutil.Process()
    for p in [me] + me.children(recursive=True):
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return total


def run_command(s2s, model, lines, threads, beam):
    data = "".join(x + "\n" for x in lines).encode("utf-8")
    t0, c0 = time.time(), cpu(resource.RUSAGE_CHILDREN)
    r = subprocess.run([s2s, "translate", "-m", model, "-q", "--threads", str(threads), "--beam", str(beam),
                        "--no-split-sentences", "--case", "off"],
                       input=data, stdout=subprocess.PIPE, check=True)
    return time.time() - t0, cpu(resource.RUSAGE_CHILDREN) - c0, r.stdout.decode("utf-8").splitlines()


def run_package(model, lines, threads, beam):
    import s2s
    t0, c0 = time.time(), cpu(resource.RUSAGE_SELF)
    m = s2s.Model(model)
    out = m.translate(lines, beam=beam, threads=threads, errors="return")
    text = [s2s.format_text(r)[:-1] for r in out]
    return time.time() - t0, cpu(resource.RUSAGE_SELF) - c0, text


def run_dask(model, lines, workers, partitions, beam, threads=1):
    import dask.bag as db
    import distributed
    import s2s.dask
    with distributed.LocalCluster(n_workers=workers, threads_per_worker=threads, processes=True, dashboard_address=None,
                                  silence_logs=logging.CRITICAL) as cluster, distributed.Client(cluster) as client:
        bag = db.from_sequence(lines, npartitions=partitions)
        job = s2s.dask.translate_bag(bag, os.path.abspath(model), beam=beam)
        t0, c0 = time.time(), tree_cpu()
        out = client.compute(job).result()
        return time.time() - t0, tree_cpu() - c0, out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=os.path.join(ROOT, "models", "fra-eng"))
    ap.add_argument("--s2s", default=os.path.join(ROOT, "build", "s2s"))
    ap.add_argument("--lines", type=int, default=20000)
    ap.add_argument("--input", help="a file of input lines (default: Tatoeba eng-fra.txt, French side)")
    ap.add_argument("--partitions", type=int, default=40)
    ap.add_argument("--beam", type=int, default=1)
    a = ap.parse_args()
    if a.input:
        lines = open(a.input, encoding="utf-8").read().splitlines()[:a.lines]
    else:
        lines = default_lines(a.lines)
    n = len(lines)
    rows = []
    t1, c1, want = run_command(a.s2s, a.model, lines, 1, a.beam)
    rows.append(("command, --threads 1", 1, t1, c1, None))
    t2, c2, out = run_command(a.s2s, a.model, lines, 2, a.beam)
    assert out == want
    rows.append(("command, --threads 2", 2, t2, c2, None))
    base = {1: (t1, c1), 2: (t2, c2)}
    for threads in (1, 2):
        t, c, out = run_package(a.model, lines, threads, a.beam)
        assert out == want, "the package's output differs from the command's"
        rows.append(("Python package, threads=%d (one process)" % threads, threads, t, c, base[threads]))
    for workers, threads in ((1, 1), (2, 1), (1, 2)):
        t, c, out = run_dask(a.model, lines, workers, a.partitions, a.beam, threads)
        assert out == want, "s2s.dask's output differs from the command's"
        name = ("s2s.dask, LocalCluster of %d worker process%s" % (workers, "es" if workers > 1 else "")
                if threads == 1 else "s2s.dask, 1 worker process with %d threads" % threads)
        rows.append((name, workers * threads, t, c, base[workers * threads]))
    print("%d lines, %s, beam %d, %d partitions; every run's output equals the command's\n"
          % (n, os.path.basename(a.model.rstrip("/")), a.beam, a.partitions))
    print("| run | cores | seconds | lines/s | overhead (time) | CPU seconds | overhead (CPU) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, cores, t, c, ref in rows:
        ot = "" if ref is None else "%+.0f%%" % (100.0 * (t / ref[0] - 1.0))
        oc = "" if ref is None else "%+.0f%%" % (100.0 * (c / ref[1] - 1.0))
        print("| %s | %d | %.1f | %.0f | %s | %.1f | %s |" % (name, cores, t, n / t, ot, c, oc))


if __name__ == "__main__":
    main()
