#!/usr/bin/python3
"""Tests of the shipped models (models/*):

  - every model directory has the provenance fields (license, attribution,
    source_data, training_command, scores) and fits the size limits
    (each <= 16 MB, all <= 50 MB);
  - every model loads in the PyTorch reference (s2s_tools.reference);
  - when $S2S is an executable, `$S2S translate -m models/X --format jsonl`
    (greedy, whatever the model's decoding defaults) gives, on 50 held-out
    inputs per model, the same source tokens as s2s_tools.tokenizer and
    exactly the same greedy output tokens as the reference's greedy (inputs
    whose greedy path has a near tie, a log-prob margin under 1e-4 at some
    step, are reported and not compared); $S2S_MODEL_INPUTS sets another
    number of inputs;
  - on the translation models (test lines that hold numbers) and on dates
    (a model without copy), `--keep-numbers` (greedy, beam 3, beam 5 with
    length penalty 1) against the reference's keep_numbers: the same
    tokens; each output is finished and holds each number piece of its
    source, or is the output without the option; and the option changes at
    least one output.

Held-out inputs: models/dates from s2s_tools.dates (its test split and hard cases);
the Tatoeba models from ../shared/data/tatoeba-eng-fra/test.tsv (the
tutorial model from its 500 held-out filtered pairs); models/arxiv-title from
../shared/data/arxiv-titles/test.tsv. Missing data, torch or $S2S give a
visible SKIP line.
"""
import json
import os
import random
import re
import subprocess
import sys

import harness as H

MODELS = os.path.join(H.ROOT, "models")
SHARED = H.SHARED_DATA
N_INPUTS = int(os.environ.get("S2S_MODEL_INPUTS", "50"))  # inputs per model (fewer under a sanitizer)
MB = 1024 * 1024
# greedy decoding whatever the model's config "decoding" defaults say
PLAIN_GREEDY = ["--beam", "1", "--length-penalty", "0", "--min-length", "0", "--no-repeat-ngram", "0",
                "--coverage-penalty", "0", "--no-keep-numbers"]


def model_dirs():
    if not os.path.isdir(MODELS):
        return []
    return sorted(d for d in os.listdir(MODELS) if os.path.isfile(os.path.join(MODELS, d, "config.json")))


def dir_size(d):
    return sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d)
               if os.path.isfile(os.path.join(d, f)))


# ---------------------------------------------------------------------------
# held-out inputs per model

def read_col(path, col, n, skip_first=0):
    out = []
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f):
            if i < skip_first:
                continue
            cols = line.rstrip("\n").split("\t")
            if len(cols) > col and cols[col].strip():
                out.append(cols[col])
            if len(out) >= n:
                break
    return out


def heldout_inputs(name):
    """-> list of input lines, or a string saying why there are none."""
    tat = os.path.join(SHARED, "tatoeba-eng-fra")
    if name == "dates" or name.startswith("dates-"):  # the dates model and its attention variants
        from s2s_tools import dates
        _, _, test, hard = dates.generate(60000, 1000, 1000, 1234, 1000)  # as train_dates.sh
        half = N_INPUTS // 2
        return [s for s, _ in test[:N_INPUTS - half] + hard[:half]]
    if name == "fra-eng":
        p = os.path.join(tat, "test.tsv")
        return read_col(p, 1, N_INPUTS) if os.path.exists(p) else "%s is missing" % p
    if name == "eng-fra":
        p = os.path.join(tat, "test.tsv")
        return read_col(p, 0, N_INPUTS) if os.path.exists(p) else "%s is missing" % p
    if name == "tutorial-fra-eng":
        p = os.path.join(tat, "eng-fra.txt")
        if not os.path.exists(p):
            return "%s is missing" % p
        from s2s_tools import tutorial
        _, _, pairs = tutorial.prepareData(p, "eng", "fra", reverse=True)
        order = list(range(len(pairs)))
        random.Random(0).shuffle(order)  # the hold-out of tools/recipes/train_tutorial-fra-eng.sh
        return [pairs[i][0] for i in sorted(order[:500])][:N_INPUTS]
    if name == "arxiv-title":
        p = os.path.join(SHARED, "arxiv-titles", "test.tsv")
        return read_col(p, 0, N_INPUTS) if os.path.exists(p) else "%s is missing" % p
    return "no held-out inputs known for models/%s" % name


# ---------------------------------------------------------------------------

def test_sizes():
    names = model_dirs()
    assert names, "no model in models/"
    total = 0
    for n in names:
        s = dir_size(os.path.join(MODELS, n))
        total += s
        assert s <= 16 * MB, "models/%s is %.1f MB (> 16 MB)" % (n, s / MB)
    assert total <= 50 * MB, "models/ holds %.1f MB (> 50 MB)" % (total / MB)


def test_provenance(name):
    def t():
        cfg = json.load(open(os.path.join(MODELS, name, "config.json"), encoding="utf-8"))
        for k in ("license", "attribution", "source_data", "training_command", "scores"):
            assert cfg.get(k), "models/%s/config.json: %r missing or empty" % (name, k)
        assert isinstance(cfg["scores"], dict)
    return t


def test_model(name, torch_ok, s2s):
    def t():
        if not torch_ok:
            raise H.Skip("torch is not available to %s: models/%s not checked against the reference"
                         % (sys.executable, name))
        from s2s_tools import reference as ref
        from s2s_tools import tokenizer as tok
        mdir = os.path.join(MODELS, name)
        model, cfg, sv, tv = ref.load_model_dir(mdir)
        inputs = heldout_inputs(name)
        if isinstance(inputs, str):
            raise H.Skip("models/%s loads in the reference; C comparison skipped: %s" % (name, inputs))
        assert len(inputs) == N_INPUTS, "only %d inputs" % len(inputs)
        tk = tok.Tokenizer(cfg["tokenizer"], mdir)
        inv_t = {i: w for w, i in tv.items()}
        inv_s = {i: w for w, i in sv.items()}
        expected = []
        copy = bool(cfg["decoder"].get("copy"))
        eos = cfg["special_tokens"]["eos"]
        for line in inputs:
            toks = tk.split(line, sv)
            ids = ref.source_ids(toks, sv, cfg)
            pieces = toks + [eos] * (len(ids) - len(toks)) if copy else None  # the appended eos's piece
            g = ref.greedy_full(model, ids, src_pieces=pieces)
            V = len(tv)  # a copy model's extended ids spell their source piece
            out = [inv_t[i] if i < V else g["extended"][i - V] for i in g["tokens"]]
            expected.append(([inv_s[i] for i in ids], out, g["min_margin"]))
        if not s2s:
            raise H.Skip("%s is not an executable: models/%s loads in the reference "
                         "(greedy decoded %d inputs), C engine not compared" % (H.S2S, name, len(inputs)))
        # the engine against the reference: whole lines, case as written
        r = subprocess.run([s2s, "translate", "-m", mdir, "--format", "jsonl", "--no-split-sentences", "--case", "off"]
                           + PLAIN_GREEDY,
                           input="".join(x.replace("\n", " ") + "\n" for x in inputs),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=600)
        assert r.returncode == 0, "s2s translate exit %d: %s" % (r.returncode, r.stderr[-1000:])
        lines = [json.loads(x) for x in r.stdout.splitlines() if x.strip()]
        assert len(lines) == len(inputs), "%d JSON lines for %d inputs" % (len(lines), len(inputs))
        bad, ties = [], 0
        for i, (obj, (src_toks, toks, margin)) in enumerate(zip(lines, expected)):
            assert obj.get("id") == i, obj
            assert "error" not in obj, "input %d: %s" % (i, obj["error"])
            if obj["source_tokens"] != src_toks:
                bad.append("input %d source tokens: C %r, Python %r" % (i, obj["source_tokens"], src_toks))
                continue
            c_toks = obj["hypotheses"][0]["tokens"]
            if c_toks != toks:
                if margin is not None and margin < 1e-4:
                    ties += 1
                    continue
                bad.append("input %d (%r): C %r, reference %r" % (i, inputs[i][:80], c_toks, toks))
        if ties:
            print("note: models/%s: %d near-tie inputs differ and were not compared" % (name, ties))
        assert not bad, "models/%s: %d of %d greedy outputs differ:\n  %s" % (
            name, len(bad), len(inputs), "\n  ".join(bad[:5]))
    return t


# Lines whose outputs tempt the model to continue a number the source writes
# alone ("2" -> "2th", "100" -> "100,000"), or that write a number continued
# ("23.4", "19e"), or a time and a decimal ("10:30", "23,4": the digits after
# the separator are no number of their own, and "2" is not held by "2.2"),
# so that these rules are compared too.
GLUED_NUMBERS = {
    "fra-eng": ["Il a vérifié les 2 portes.", "Je suis sûr de ma décision à 100%.",
                "La Terre est inclinée de 23.4 degrés.", "C'est arrivé au 19e siècle.",
                "Le match s'est terminé 6 à 0.", "Il a 1 chien et 2 chats.",
                "Le train part à 10:30 et coûte 23,4 euros."],
    "eng-fra": ["He checked the 2 doors.", "I am 100% sure of my decision.",
                "The Earth is tilted by 23.4 degrees.", "It happened in the 19th century.",
                "The game ended 6 to 0.", "He has 1 dog and 2 cats.",
                "The train leaves at 10:30 and costs 23.4 euros.",
                "In 1996, Garry Kasparov played a 6-game match against Deep Blue, IBM's supercomputer, and won 4 x 2."],
}


def number_lines(name, n):
    """Up to n test-set source lines of a translation model, of at most 15
    words, that hold a number of two or more digits, or a string saying why
    there are none."""
    p = os.path.join(SHARED, "tatoeba-eng-fra", "test.tsv")
    if not os.path.exists(p):
        return "%s is missing" % p
    col = 1 if name == "fra-eng" else 0
    out = []
    with open(p, encoding="utf-8") as f:
        for line in f:
            cols = line.rstrip("\n").split("\t")
            if len(cols) > col and any(len(w) > 1 for w in re.findall(r"\b[0-9]+\b", cols[col])) \
                    and len(cols[col].split()) <= 15:
                out.append(cols[col])
            if len(out) >= n:
                break
    return out


def test_keep_numbers(name, torch_ok, s2s):
    def t():
        if not torch_ok or not s2s:
            raise H.Skip("keep_numbers of models/%s not compared: %s" % (
                name, "no torch" if not torch_ok else "%s is not an executable" % H.S2S))
        from s2s_tools import reference as ref
        from s2s_tools import tokenizer as tok
        mdir = os.path.join(MODELS, name)
        translation = name in ("fra-eng", "eng-fra")
        # dates: held-out dates, and runs of numbers a date cannot all hold
        inputs = number_lines(name, 25) if translation else \
            heldout_inputs(name)[:10] + ["5 6 7 8", "le 2 et le 3 mai 2001"]
        if isinstance(inputs, str):
            raise H.Skip("keep_numbers of models/%s not compared: %s" % (name, inputs))
        inputs += GLUED_NUMBERS.get(name, [])
        model, cfg, sv, tv = ref.load_model_dir(mdir)
        tk = tok.Tokenizer(cfg["tokenizer"], mdir)
        eos = cfg["special_tokens"]["eos"]
        copy = bool(cfg["decoder"].get("copy"))
        V = len(tv)
        changed, bad = 0, []
        # greedy, beam 3, and the shipped translation defaults (beam 5, lp 1)
        for beam, lp in ((1, 0.0), (3, 0.0), (5, 1.0)):
            args = [s2s, "translate", "-m", mdir, "--format", "jsonl", "--no-split-sentences", "--case", "off",
                    "--beam", str(beam), "--length-penalty", "%g" % lp]
            runs = []
            for extra in (["--no-keep-numbers"], ["--keep-numbers"]):
                r = subprocess.run(args + extra, input="".join(x + "\n" for x in inputs), stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True, timeout=600)
                assert r.returncode == 0, "s2s translate exit %d: %s" % (r.returncode, r.stderr[-1000:])
                runs.append([json.loads(x)["hypotheses"][0] for x in r.stdout.splitlines() if x.strip()])
            plain, kept = runs
            assert len(kept) == len(inputs)
            for i, line in enumerate(inputs):
                toks = tk.split(line, sv)
                ids = ref.source_ids(toks, sv, cfg)
                pieces = toks + [eos] * (len(ids) - len(toks)) if copy else None
                if beam == 1:
                    g = ref.greedy_full(model, ids, src_pieces=pieces, keep_numbers=True)
                    want, near_tie = g["tokens"], g["min_margin"] < 1e-4
                    extended = g["extended"]
                else:
                    h = ref.beam_search(model, ids, beam, 1, length_penalty=lp, src_pieces=pieces,
                                        keep_numbers=True)[0]
                    want, near_tie, extended = h["tokens"], False, h["extended"]
                want = [{v: k for k, v in tv.items()}[x] if x < V else extended[x - V] for x in want]
                glue = [ref.piece_glue(p) for p in toks]
                numbers = [p for j, p in enumerate(toks) if re.fullmatch("[0-9]+", p) and
                           not ref.number_after_separator(glue, j) and (copy or (p in sv and p in tv))]
                if kept[i]["tokens"] != want and not near_tie:
                    bad.append("beam %d input %r: C %r, reference %r" % (beam, line, kept[i]["tokens"], want))
                holds_all = all(n in kept[i]["tokens"] for n in numbers)
                if not (kept[i]["finished"] and holds_all) and kept[i]["tokens"] != plain[i]["tokens"]:
                    bad.append("beam %d input %r: %r is neither finished with all of %r nor the plain output %r"
                               % (beam, line, kept[i]["tokens"], numbers, plain[i]["tokens"]))
                changed += kept[i]["tokens"] != plain[i]["tokens"]
        assert not bad, "models/%s --keep-numbers: %d problems:\n  %s" % (name, len(bad), "\n  ".join(bad[:5]))
        assert changed, "models/%s: --keep-numbers changed none of %d outputs" % (name, 3 * len(inputs))
        print("     models/%s: --keep-numbers matches the reference on %d lines (greedy, beam 3, beam 5 lp 1), "
              "changes %d outputs" % (name, len(inputs), changed))
    return t


def main():
    try:
        import torch
        torch.set_num_threads(1)
        torch_ok = True
    except ImportError:
        torch_ok = False
    s2s = H.s2s()
    H.run_case("test_sizes", test_sizes)
    for n in model_dirs():
        H.run_case("test_provenance[%s]" % n, test_provenance(n))
        H.run_case("test_greedy_matches_reference[%s]" % n, test_model(n, torch_ok, s2s))
        if n in ("fra-eng", "eng-fra", "dates"):  # two copy models and one without copy
            H.run_case("test_keep_numbers_matches_reference[%s]" % n, test_keep_numbers(n, torch_ok, s2s))
    H.finish()


if __name__ == "__main__":
    main()
