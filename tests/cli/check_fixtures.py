#!/usr/bin/env python3
"""Checks `s2s translate/score --format jsonl` against the PyTorch reference
outputs (expected.json) of every fixture model in tests/fixtures/models:
greedy, beam (n-best, length penalty) and forced decoding; tokens, scores,
per-step log-probabilities, attention, and the structure of model-format.md section 8.
Version-2 fixtures (model-format.md section 9) add: copy models, whose inputs are the
source pieces (words the target vocabulary lacks among them) and whose
tokens and text spell extended ids as those pieces (forced targets hold
them too), and the decoding options of section 9.5 (--no-repeat-ngram,
--coverage-penalty, a target prefix through --prefix-column) on the cases
decoded with the default max_length (the Criterion test test_golden checks
every case's options through the library). Cases that share arguments run
as one command, one input line each.

Inputs are texts made of the fixture's source ids (of a copy fixture: of its
source pieces); a case is used only when `s2s tokenize --show ids` gives
those ids back (checked here, not assumed).
Usage: check_fixtures.py S2S_BINARY FIXTURE_MODELS_DIR
Prints "cli-fixtures: N passed, M failed" and exits 1 on any failure.
"""
import json
import math
import os
import subprocess
import sys

MIN_CASES = 40  # fewer usable cases than this means the test checked too little


class Counter:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, ok, what):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            print("FAIL:", what, file=sys.stderr)
        return ok


def run(s2s, args, lines):
    text = "".join(line + "\n" for line in lines)
    p = subprocess.run([s2s] + args, input=text.encode(), capture_output=True, timeout=300)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def vocab_list(path):
    with open(path, encoding="utf-8") as f:
        v = json.load(f)
    out = [None] * len(v)
    for tok, i in v.items():
        out[i] = tok
    return out


def close(a, b, tol):
    if a is None or b is None:
        return a is b
    return abs(a - b) <= tol


def close_rows(got, want, tol):
    if len(got) != len(want):
        return False
    return all(len(g) == len(w) and all(close(x, y, tol) for x, y in zip(g, w)) for g, w in zip(got, want))


def structure_ok(obj, n_hyps, rows_sum_to_one=True):
    """Spec section 8 shape: id, source_tokens, hypotheses with text/tokens/score/attention,
    one attention row per step, one column per source token, rows summing to 1
    (local-p rows, Gaussian-weighted without renormalizing, sum to at most 1)."""
    if not all(k in obj for k in ("id", "source_tokens", "hypotheses")):
        return False
    if len(obj["hypotheses"]) != n_hyps:
        return False
    n_src = len(obj["source_tokens"])
    for h in obj["hypotheses"]:
        if not all(k in h for k in ("text", "tokens", "score", "attention")):
            return False
        steps = len(h["tokens"]) + (1 if h.get("finished", True) else 0)
        if len(h["attention"]) != steps or any(len(r) != n_src for r in h["attention"]):
            return False
        if rows_sum_to_one and any(abs(sum(r) - 1.0) > 1e-4 for r in h["attention"]):
            return False
        if any(sum(r) > 1.0 + 1e-4 or min(r, default=0.0) < 0.0 for r in h["attention"]):
            return False
    return True


class Fixture:
    def __init__(self, s2s, mdir):
        self.s2s = s2s
        self.dir = mdir
        self.name = os.path.basename(mdir)
        with open(os.path.join(mdir, "expected.json")) as f:
            self.exp = json.load(f)
        with open(os.path.join(mdir, "config.json")) as f:
            cfg = json.load(f)
        self.append_eos = cfg.get("encoder", {}).get("append_eos", True)
        self.sep = "" if cfg.get("tokenizer", {}).get("level", "word") == "char" else " "
        self.src = vocab_list(os.path.join(mdir, cfg.get("source_vocab", "source.vocab.json")))
        self.tgt = vocab_list(os.path.join(mdir, cfg.get("target_vocab", "target.vocab.json")))
        self.tol_att = self.exp["tolerance"]["attention"]
        self.tol_score = self.exp["tolerance"]["score"]
        feat = self.exp.get("features", {})
        self.rows_sum_to_one = feat.get("local") != "predictive"

    def text_of(self, ids, side_vocab, drop_eos):
        if drop_eos and ids:
            ids = ids[:-1]
        return self.sep.join(side_vocab[i] for i in ids)

    def token(self, i, side_vocab, extended=()):
        """Token string of id i; a copy model's extended id is its source piece."""
        if side_vocab is self.tgt and i >= len(self.tgt):
            return extended[i - len(self.tgt)]
        return side_vocab[i]

    def token_id(self, t, extended):
        """Target id of token string t (extended ids included); -1 if none."""
        if t in self.tgt:
            return self.tgt.index(t)
        if t in extended:
            return len(self.tgt) + extended.index(t)
        return -1

    def target_text(self, ids, extended):
        return self.sep.join(self.token(i, self.tgt, extended) for i in ids)

    def source_text(self, c):
        if "source_pieces" in c:
            pieces = c["source_pieces"][:-1] if self.append_eos else c["source_pieces"]
            return self.sep.join(pieces)
        return self.text_of(c["source"], self.src, self.append_eos)

    def usable_cases(self):
        """Cases whose text tokenizes back to their source ids."""
        cases = self.exp["cases"]
        texts = [self.source_text(c) for c in cases]
        rc, out, _ = run(self.s2s, ["tokenize", "-m", self.dir, "--show", "ids"], texts)
        got = out.splitlines()
        keep = []
        for c, t, g in zip(cases, texts, got if rc == 0 else []):
            if [int(x) for x in g.split()] == c["source"]:
                keep.append((c, t))
        return keep

    def max_len_args(self, case):
        return ["--max-length", str(case["max_length"])] if case.get("max_length") else []

    def compare_hyp(self, cnt, where, got, want, extended):
        cnt.check([self.token_id(t, extended) for t in got["tokens"]] == want["tokens"],
                  f"{where}: tokens {got['tokens']} != ids {want['tokens']}")
        if extended and self.sep == " ":  # extended ids are spelled as their source pieces
            words = [self.token(i, self.tgt, extended) for i in want["tokens"]]
            cnt.check(got["text"] == " ".join(words), f"{where}: text {got['text']!r} != {words}")
        cnt.check(close(got["score"], want["score"], self.tol_score), f"{where}: score {got['score']} != {want['score']}")
        cnt.check(got.get("finished", True) == want.get("finished", True), f"{where}: finished")
        cnt.check(close_rows([got["token_logprobs"]], [want["token_logprobs"]], self.tol_score), f"{where}: token_logprobs")
        cnt.check(close_rows(got["attention"], want["attention"], self.tol_att), f"{where}: attention")
        if "ranking_score" in want:
            cnt.check(close(got.get("ranking_score"), want["ranking_score"], self.tol_score), f"{where}: ranking_score")

    # Each check_* returns a request (command arguments, input line, handler
    # of the output object); run_requests runs requests with equal arguments
    # as one command (one output line per input line, in order).

    def check_greedy(self, cnt, case, text):
        ext = case.get("extended", [])

        def handle(obj):
            cnt.check(structure_ok(obj, 1, self.rows_sum_to_one), f"{self.name} greedy: structure")
            cnt.check(obj["source_tokens"] == [self.src[i] for i in case["source"]], f"{self.name} greedy: source_tokens")
            self.compare_hyp(cnt, f"{self.name} greedy '{text}'", obj["hypotheses"][0], case["greedy"], ext)
        return ["translate", "-m", self.dir, "--no-split-sentences", "--case", "off", "--format", "jsonl"] + self.max_len_args(case), text, handle

    def check_beam(self, cnt, case, text, b):
        if b.get("ties"):
            return None
        handle = self.hyps_handler(cnt, f"{self.name} beam: structure",
                                   f"{self.name} beam{b['beam_size']} lp{b['length_penalty']}", b["hyps"],
                                   case.get("extended", []))
        return self.beam_args(b) + self.max_len_args(case), text, handle

    def beam_args(self, d):
        """The translate arguments of a beam search entry `d` (beam_size, n_best,
        length_penalty), each line decoded as written."""
        return ["translate", "-m", self.dir, "--no-split-sentences", "--case", "off", "--format", "jsonl",
                "--beam", str(d["beam_size"]), "--n-best", str(d["n_best"]), "--length-penalty", repr(d["length_penalty"])]

    def hyps_handler(self, cnt, structure_label, where, hyps, ext):
        """A handler checking an output object's structure, then each hypothesis
        against `hyps` (labelled `where` hypK)."""
        def handle(obj):
            cnt.check(structure_ok(obj, len(hyps), self.rows_sum_to_one), structure_label)
            for k, (g, w) in enumerate(zip(obj["hypotheses"], hyps)):
                self.compare_hyp(cnt, f"{where} hyp{k}", g, w, ext)
        return handle

    def check_force(self, cnt, case, text):
        f = case["force"]
        ext = case.get("extended", [])
        line = text + "\t" + self.target_text(f["target"], ext)

        def handle(obj):
            cnt.check(structure_ok(obj, 1, self.rows_sum_to_one), f"{self.name} score: structure")
            want = dict(f, tokens=f["target"], finished=True)
            self.compare_hyp(cnt, f"{self.name} score", obj["hypotheses"][0], want, ext)
        return ["score", "-m", self.dir, "--format", "jsonl"], line, handle

    def check_option(self, cnt, case, text, o):
        """One decoding option of model-format.md section 9.5 (n-gram blocking, coverage
        penalty, target prefix) through the command line."""
        if o.get("ties") or o.get("order_ties"):
            return None
        ext = case.get("extended", [])
        args = self.beam_args(o)
        if o["no_repeat_ngram"]:
            args += ["--no-repeat-ngram", str(o["no_repeat_ngram"])]
        if o["coverage_penalty"]:
            args += ["--coverage-penalty", repr(o["coverage_penalty"])]
        line = text
        if o["prefix"]:
            args += ["--prefix-column"]
            line = text + "\t" + self.target_text(o["prefix"], ext)
        where = f"{self.name} option {o['name']}"
        handle = self.hyps_handler(cnt, f"{where}: structure", where, o["hyps"], ext)
        return args + self.max_len_args(case), line, handle


def run_requests(s2s, cnt, name, requests):
    """Runs the requests of one fixture, one command per distinct argument
    list, and hands each handler its output object."""
    groups = {}
    for args, line, handle in requests:
        groups.setdefault(tuple(args), []).append((line, handle))
    for args, items in groups.items():
        rc, out, err = run(s2s, list(args), [line for line, _ in items])
        lines = out.splitlines()
        if not cnt.check(rc == 0 and len(lines) == len(items),
                         f"{name} {' '.join(args[3:]) or args[0]}: rc {rc}, {len(lines)} lines for {len(items)}: {err}"):
            continue
        for (line, handle), text in zip(items, lines):
            obj = json.loads(text)
            if cnt.check("hypotheses" in obj, f"{name} {' '.join(args)} {line!r}: {obj.get('error')}"):
                handle(obj)


def main():
    s2s, root = sys.argv[1], sys.argv[2]
    cnt = Counter()
    used = 0
    for name in sorted(os.listdir(root)):
        mdir = os.path.join(root, name)
        if not os.path.exists(os.path.join(mdir, "expected.json")):
            continue
        fx = Fixture(s2s, mdir)
        requests = []
        for case, text in fx.usable_cases():
            used += 1
            requests.append(fx.check_greedy(cnt, case, text))
            for b in case.get("beam", []):
                requests.append(fx.check_beam(cnt, case, text, b))
            if "force" in case:
                requests.append(fx.check_force(cnt, case, text))
            if case["max_length"] is None:  # one command per option (all of them: test_golden)
                for o in case.get("options", []):
                    requests.append(fx.check_option(cnt, case, text, o))
        run_requests(s2s, cnt, fx.name, [r for r in requests if r])
    cnt.check(used >= MIN_CASES, f"only {used} fixture cases usable (want >= {MIN_CASES})")
    print(f"cli-fixtures: {cnt.passed} passed, {cnt.failed} failed ({used} cases)")
    sys.exit(1 if cnt.failed else 0)


if __name__ == "__main__":
    main()
