#!/usr/bin/python3
"""Load on `s2s serve` over loopback, next to the bare command.

    tools/bench/serve_load.py [--s2s build/s2s] [--model models/fra-eng]
                              [--sentences 400] [--threads 2] [--clients 1,8,32]

Starts `s2s serve` on a free loopback port, sends every sentence once as a
LibreTranslate request (POST /translate, one sentence per request) with 1,
8 and 32 concurrent clients (each on its own keep-alive connection), and
prints requests/s and latency percentiles; then times `s2s translate` on
the same sentences (one process, all sentences on standard input) with the
same thread count. Checks that every answer equals the command's line.
Sentences: the French side of the Tatoeba test set in
../shared/data/tatoeba-eng-fra/test.tsv when present, else a built-in list.

run_load() is also the load generator of tests/py/test_serve.py.
Standard library only; the load is bounded in count and time.
"""
import argparse
import http.client
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
TATOEBA = os.path.normpath(os.path.join(ROOT, "..", "shared", "data", "tatoeba-eng-fra", "test.tsv"))

SENTENCES = [
    "Je suis très content de te voir.", "Il fait beau aujourd'hui.", "Où est la gare ?",
    "Nous allons au marché demain matin.", "Elle lit un livre dans le jardin.", "Tom est en retard.",
    "Pouvez-vous m'aider, s'il vous plaît ?", "J'ai perdu mes clés.", "Le chat dort sur le canapé.",
    "Je ne comprends pas cette question.", "Il pleut depuis trois jours.", "Qu'est-ce que tu veux manger ?",
    "Ils habitent à Paris depuis longtemps.", "Ce film était vraiment intéressant.",
    "Je dois partir maintenant.", "Merci beaucoup pour votre aide.",
]


def percentile(values, p):
    """The p-th percentile (nearest rank) of a non-empty list."""
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(-(-p * len(s) // 100)) - 1))
    return s[k]


def run_load(port, bodies, clients, path="/translate", timeout=60.0, host="127.0.0.1"):
    """Sends each body of `bodies` (JSON-able objects) once, from `clients`
    threads each with its own keep-alive connection, taking the next body
    from a shared counter. Stops early after `timeout` seconds. Returns
    {"status": [...], "body": [...], "latency": [...], "errors": [...],
    "seconds": wall time}; status[i] is None for a request that got no
    answer (an exception is in "errors")."""
    n = len(bodies)
    status, answer, latency = [None] * n, [None] * n, [None] * n
    errors, lock, nxt = [], threading.Lock(), [0]
    deadline = time.time() + timeout

    def client():
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
        while time.time() < deadline:
            with lock:
                i = nxt[0]
                nxt[0] += 1
            if i >= n:
                break
            data = json.dumps(bodies[i]).encode()
            t0 = time.perf_counter()
            try:
                conn.request("POST", path, body=data, headers={"Content-Type": "application/json"})
                r = conn.getresponse()
                answer[i] = r.read()
                status[i] = r.status
            except (OSError, http.client.HTTPException) as e:
                with lock:
                    errors.append("request %d: %r" % (i, e))
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=timeout)
            latency[i] = time.perf_counter() - t0
        conn.close()

    t0 = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"status": status, "body": answer, "latency": latency, "errors": errors,
            "seconds": time.perf_counter() - t0}


def summary(res):
    """(requests/s, p50 ms, p90 ms, p99 ms) of answered requests."""
    lat = [x for x, s in zip(res["latency"], res["status"]) if s is not None]
    if not lat:
        return 0.0, 0.0, 0.0, 0.0
    return (len(lat) / res["seconds"], 1e3 * percentile(lat, 50), 1e3 * percentile(lat, 90),
            1e3 * percentile(lat, 99))


def cpu_seconds(pid):
    """User + system CPU seconds of process `pid` so far (Linux /proc)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def read_sentences(n):
    """n French sentences: Tatoeba test when present, else the built-in list."""
    if os.path.exists(TATOEBA):
        with open(TATOEBA, encoding="utf-8") as f:
            out = [line.rstrip("\n").split("\t")[1] for line in f if line.count("\t") >= 1]
        if out:
            return out[:n], "the first %d French sentences of the Tatoeba test set" % min(n, len(out))
    reps = -(-n // len(SENTENCES))
    return (SENTENCES * reps)[:n], "%d built-in French sentences" % n


class Server:
    """`s2s serve` on a free loopback port."""

    def __init__(self, s2s, args):
        self.log = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen([s2s, "serve", "--port", "0", "-q", *args], stderr=self.log,
                                     stdout=subprocess.DEVNULL)
        until = time.time() + 30
        while time.time() < until:
            self.log.seek(0)
            m = re.search(r"listening on http://[^ ]*:(\d+)/", self.log.read())
            if m:
                self.port = int(m.group(1))
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        self.log.seek(0)
        raise RuntimeError("s2s serve did not start: " + self.log.read())

    def stop(self):
        self.proc.terminate()
        return self.proc.wait(30)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--s2s", default=os.path.join(ROOT, "build", "s2s"))
    ap.add_argument("--model", default=os.path.join(ROOT, "models", "fra-eng"))
    ap.add_argument("--source", default="fr")
    ap.add_argument("--target", default="en")
    ap.add_argument("--sentences", type=int, default=400)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--clients", default="1,8,32")
    a = ap.parse_args()
    sentences, origin = read_sentences(a.sentences)

    t0, cpu0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    p = subprocess.run([a.s2s, "translate", "-m", a.model, "--threads", str(a.threads), "-q"],
                       input="\n".join(sentences) + "\n", capture_output=True, text=True)
    command_s, cpu1 = time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_CHILDREN)
    command_cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    expected = p.stdout.split("\n")[:len(sentences)]
    if p.returncode != 0 or len(expected) != len(sentences):
        sys.exit("s2s translate failed: " + p.stderr)

    server = Server(a.s2s, ["-m", a.model, "--threads", str(a.threads), "--queue", "1000"])
    bodies = [{"q": s, "source": a.source, "target": a.target} for s in sentences]
    rows, bad = [], 0
    try:
        run_load(server.port, bodies[:32], 4)  # warm-up
        for clients in [int(c) for c in a.clients.split(",")]:
            cpu0 = cpu_seconds(server.proc.pid)
            res = run_load(server.port, bodies, clients)
            server_cpu = cpu_seconds(server.proc.pid) - cpu0
            for i, (s, b) in enumerate(zip(res["status"], res["body"])):
                if s != 200 or json.loads(b)["translatedText"] != expected[i]:
                    bad += 1
            rps, p50, p90, p99 = summary(res)
            rows.append((clients, rps, p50, p90, p99, 1e3 * server_cpu / len(sentences), len(res["errors"])))
    finally:
        server.stop()

    print("%s, model %s, %d decoding threads, %s" % (origin, os.path.basename(a.model.rstrip("/")),
                                                        a.threads, time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())))
    print()
    print("| clients | requests | requests/s | p50 ms | p90 ms | p99 ms | server CPU ms/request | failed |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for clients, rps, p50, p90, p99, cpu, errs in rows:
        print("| %d | %d | %.0f | %.1f | %.1f | %.1f | %.2f | %d |" % (clients, len(sentences), rps, p50, p90, p99,
                                                                       cpu, errs))
    print()
    print("`s2s translate --threads %d` on the same %d sentences (one process, standard input): %.2f s, "
          "%.0f sentences/s; %.2f CPU ms/sentence (model loading included)" % (
              a.threads, len(sentences), command_s, len(sentences) / command_s, 1e3 * command_cpu / len(sentences)))
    print("load average (1 min) at the end: %.2f" % os.getloadavg()[0])
    print("answers different from the command: %d" % bad)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
