#!/usr/bin/python3
"""s2s.dask on a LocalCluster of 2 worker processes (1 thread each):

  - 20,000 French lines (spread over Tatoeba's eng-fra.txt) translated by
    translate_bag with models/fra-eng, greedy, give exactly the command's
    text output with --scores, line for line, and each worker loaded the model
    once (not once per task: there are 40 tasks);
  - the same job with one worker process killed (SIGKILL) once a quarter of
    the tasks are done still gives the complete, identical output (Dask
    recomputes what was lost; the nanny restarts the worker);
  - decoding options pass through and ids count over the whole collection:
    translate_bag(output="jsonl", beam=3, length_penalty=0.5) and
    translate_column(output="jsonl") of a dataframe equal
    `s2s translate --format jsonl --beam 3 --length-penalty 0.5`, and a
    missing value in the column gives an error in its place.

S2S_DASK_LINES sets the number of lines (default 20000).
"""
import logging
import os
import signal
import time

from pkg_common import MODELS, SHARED, Skip, finish, report, run_command, spread, tatoeba_pairs

N_LINES = int(os.environ.get("S2S_DASK_LINES", "20000"))
# the main job decodes greedily, whatever the model's defaults (the options test below passes others)
GREEDY = ["--beam", "1", "--length-penalty", "0", "--no-keep-numbers"]
N_PARTS = 40
FRA_ENG = os.path.join(MODELS, "fra-eng")
state = {}


def corpus(n):
    """n French lines spread over eng-fra.txt (or the test split, repeated)."""
    path = os.path.join(SHARED, "tatoeba-eng-fra", "eng-fra.txt")
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            fr = [line.rstrip("\n").split("\t")[1] for line in f if "\t" in line]
    else:
        fr = [p[1] for p in tatoeba_pairs()]
    fr = [x for x in fr if x.strip()]
    return spread(fr * (1 + n // len(fr)), n)


def count_loads():
    import s2s.dask
    return s2s.dask.loads


def setup():
    try:
        import dask.bag  # noqa: F401  (Dask itself, not only distributed)
        import distributed
    except ImportError as e:
        raise Skip("Dask is not installed (python3-dask, python3-distributed): %s" % e)
    if not os.path.isdir(FRA_ENG):
        raise Skip("models/fra-eng is missing")
    lines = corpus(N_LINES)
    t0 = time.time()
    want = run_command(["translate", "-m", FRA_ENG, "--scores", "--threads", "2"] + GREEDY, lines).splitlines()
    print("     reference: the command on %d lines, 2 threads: %.1f s" % (len(lines), time.time() - t0))
    assert len(want) == len(lines)
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                       silence_logs=logging.CRITICAL)
    client = distributed.Client(cluster)
    state.update(lines=lines, want=want, cluster=cluster, client=client)


def bag_job():
    import dask.bag as db
    import s2s.dask
    bag = db.from_sequence(state["lines"], npartitions=N_PARTS)
    return s2s.dask.translate_bag(bag, FRA_ENG, scores=True, beam=1, length_penalty=0.0, keep_numbers=False)


def check_same(got, what):
    want = state["want"]
    assert len(got) == len(want), "%s: %d lines, the command %d" % (what, len(got), len(want))
    bad = [i for i, (a, b) in enumerate(zip(got, want)) if a != b]
    assert not bad, "%s: %d lines differ; first %d: %r vs %r" % (what, len(bad), bad[0], got[bad[0]], want[bad[0]])


def test_bag():
    if "client" not in state:
        setup()
    client = state["client"]
    t0 = time.time()
    got = client.compute(bag_job()).result()
    print("     %d lines on 2 workers: %.1f s" % (len(got), time.time() - t0))
    check_same(got, "translate_bag")
    loads = client.run(count_loads)
    assert sorted(loads.values()) == [1, 1], "model loads per worker: %s (40 tasks)" % loads


def test_killed_worker():
    if "client" not in state:
        setup()
    import distributed
    client = state["client"]
    pids = client.run(os.getpid)
    t0 = time.time()
    futures = client.compute(bag_job().to_delayed())
    while sum(f.done() for f in futures) < len(futures) // 4:
        time.sleep(0.05)
    done_at_kill = sum(f.done() for f in futures)
    assert done_at_kill < len(futures), "the job ended before the kill"
    addr, victim = sorted(pids.items())[0]
    os.kill(victim, signal.SIGKILL)
    got = [line for part in client.gather(futures) for line in part]
    print("     killed worker pid %d with %d of %d tasks done; whole job %.1f s"
          % (victim, done_at_kill, len(futures), time.time() - t0))
    check_same(got, "translate_bag with a killed worker")
    distributed.wait(futures)
    deadline = time.time() + 30
    while len(client.scheduler_info()["workers"]) < 2 and time.time() < deadline:
        time.sleep(0.2)
    now = client.run(os.getpid)
    assert victim not in now.values(), "pid %d still runs: %s" % (victim, now)


def test_options_and_ids():
    if "client" not in state:
        setup()
    import dask.bag as db
    import dask.dataframe as dd
    import pandas as pd
    import s2s.dask
    client = state["client"]
    lines = spread(state["lines"], 300)
    want = run_command(["translate", "-m", FRA_ENG, "--format", "jsonl", "--beam", "3", "--length-penalty", "0.5"],
                       lines).splitlines()
    bag = db.from_sequence(lines, npartitions=7)
    got = client.compute(s2s.dask.translate_bag(bag, FRA_ENG, output="jsonl", beam=3, length_penalty=0.5)).result()
    assert got == want, "translate_bag jsonl differs from the command's"
    df = dd.from_pandas(pd.DataFrame({"fr": lines, "n": range(len(lines))}), npartitions=5)
    col = s2s.dask.translate_column(df, "fr", FRA_ENG, output="jsonl", beam=3, length_penalty=0.5, name="json")
    got = client.compute(col).result()
    assert got.tolist() == want and list(got.index) == list(range(len(lines))), "translate_column jsonl differs"
    pdf = pd.DataFrame({"fr": ["Merci.", None, "Où est la gare ?"]})
    df = dd.from_pandas(pdf, npartitions=2)
    df["en"] = s2s.dask.translate_column(df, "fr", FRA_ENG)
    out = client.compute(df).result()
    want3 = run_command(["translate", "-m", FRA_ENG], ["Merci.", "Où est la gare ?"]).splitlines()
    assert out["en"].tolist() == [want3[0], "", want3[1]], out


def teardown():
    if "client" in state:
        state["client"].close()
        state["cluster"].close()


def main():
    t0 = time.time()
    report("translate_bag: %d lines = the command's output, model loaded once per worker" % N_LINES, test_bag)
    report("translate_bag: one worker killed mid-job, complete identical output", test_killed_worker)
    report("options pass through, jsonl ids, translate_column", test_options_and_ids)
    teardown()
    print("     Dask tests: %.0f s in all" % (time.time() - t0))
    finish()


if __name__ == "__main__":
    main()
