#!/usr/bin/python3
"""End-to-end check of tools/export on a PyTorch-tutorial model.

Trains a tiny tutorial model (s2s_tools.tutorial, 20 epochs, a few seconds) on about
200 French->English pairs of ../shared/data/tatoeba-eng-fra/eng-fra.txt (or a
built-in mini list when ../shared is missing), saves the checkpoint the way a
tutorial user does, converts it with tools/export, and compares
`$S2S translate -m OUT --format jsonl` on 30 raw inputs with the tutorial's own
evaluate(): same source tokens (the "tutorial" normalizer), same output words,
and score / attention agreeing within 1e-3 / 1e-4. Then `--beam 3 --n-best 3`
and `$S2S score` (source<TAB>reference) against the PyTorch reference on the
exported directory.

Environment: S2S (the s2s binary), S2S_ROOT (repository root). Skips, with a
message, when torch or the binary is missing. Exit status 1 on any failure.
"""

import json
import os

import harness as H
from harness import check

N_PAIRS = 200
N_INPUTS = 30

# Used when ../shared is not there: short sentences written for this test.
MINI_PAIRS = [
    ("Je suis grand.", "I am tall."), ("Je suis petit.", "I am short."),
    ("Il est grand.", "He is tall."), ("Il est petit.", "He is short."),
    ("Elle est grande.", "She is tall."), ("Elle est petite.", "She is short."),
    ("Nous sommes prêts.", "We are ready."), ("Vous êtes prêts.", "You are ready."),
    ("Ils sont prêts.", "They are ready."), ("Je suis fatigué.", "I am tired."),
    ("Il est fatigué.", "He is tired."), ("Elle est fatiguée.", "She is tired."),
    ("Nous sommes fatigués.", "We are tired."), ("Ils sont fatigués.", "They are tired."),
    ("Je suis content.", "I am happy."), ("Il est content.", "He is happy."),
    ("Elle est contente.", "She is happy."), ("Nous sommes contents.", "We are happy."),
    ("Vous êtes contents.", "You are happy."), ("Ils sont contents.", "They are happy."),
    ("Je suis malade.", "I am sick."), ("Il est malade.", "He is sick."),
    ("Elle est malade.", "She is sick."), ("Nous sommes malades.", "We are sick."),
    ("Je suis en retard.", "I am late."), ("Il est en retard.", "He is late."),
    ("Elle est en retard.", "She is late."), ("Nous sommes en retard.", "We are late."),
    ("Vous êtes en retard.", "You are late."), ("Ils sont en retard.", "They are late."),
    ("Je suis ici.", "I am here."), ("Il est ici.", "He is here."),
]


def load_pairs(tutorial):
    """-> list of (raw French, normalized French, normalized English)."""
    path = os.path.join(H.SHARED_DATA, "tatoeba-eng-fra", "eng-fra.txt")
    raw = []
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as f:
            for line in f:
                cols = line.rstrip("\n").split("\t")
                if len(cols) >= 2:
                    raw.append((cols[1], cols[0]))
        # a spread of the file, keeping the tutorial's filter
        out = []
        for fr, en in raw[::50]:
            p = [tutorial.normalizeString(fr), tutorial.normalizeString(en)]
            if tutorial.filterPair(p):
                out.append((fr, p[0], p[1]))
            if len(out) == N_PAIRS:
                break
        print("data: %d pairs from %s" % (len(out), os.path.normpath(path)))
        return out
    print("NOTE: ../shared/data is missing; using the built-in list of %d pairs" % len(MINI_PAIRS))
    return [(fr, tutorial.normalizeString(fr), tutorial.normalizeString(en)) for fr, en in MINI_PAIRS]


def reference(tutorial, torch, encoder, decoder, in_lang, out_lang, sentence):
    """The tutorial's evaluate() plus the score and attention rows of its
    greedy output (up to and including the EOS step)."""
    words, _ = tutorial.evaluate(encoder, decoder, sentence, in_lang, out_lang)
    with torch.no_grad():
        x = tutorial.tensorFromSentence(in_lang, sentence)
        enc_out, enc_hidden = encoder(x)
        logp, _, att = decoder(enc_out, enc_hidden)
    ids = logp[0].argmax(dim=-1).tolist()
    steps = len(words)  # words include "<EOS>" when it was emitted
    score = sum(float(logp[0, t, ids[t]]) for t in range(steps))
    rows = att[0, :steps].tolist()
    return [w for w in words if w != "<EOS>"], score, rows


def main():
    torch = H.require_torch()
    if not H.s2s():
        H.skip_all("no s2s binary at %s" % H.S2S)
    from s2s_tools import reference as ref
    from s2s_tools import tutorial

    pairs = load_pairs(tutorial)
    in_lang, out_lang = tutorial.Lang("fra"), tutorial.Lang("eng")
    for _, fr, en in pairs:
        in_lang.addSentence(fr)
        out_lang.addSentence(en)
    encoder, decoder = tutorial.train_pairs([(fr, en) for _, fr, en in pairs], in_lang, out_lang,
                                            hidden_size=32, epochs=20 if len(pairs) >= 100 else 150,
                                            lr=0.01, seed=0)
    with H.tempdir("export-tutorial") as tmp:
        ck = os.path.join(tmp, "tutorial.pt")
        # exactly what the README tells a tutorial user to save
        torch.save({"encoder": encoder.state_dict(), "decoder": decoder.state_dict(),
                    "input_lang": in_lang.word2index, "output_lang": out_lang.word2index}, ck)
        out = os.path.join(tmp, "model")
        r = H.run_tool("export", [ck, out, "--source-language", "fr", "--target-language", "en"])
        if not check(r.returncode == 0, "tools/export exit %d: %s" % (r.returncode, r.stderr.strip())):
            H.finish()
        print(r.stdout.strip())

        inputs = pairs[:N_INPUTS]
        text = "".join(fr.replace("\n", " ") + "\n" for fr, _, _ in inputs)
        r = H.run_s2s(["translate", "-m", out, "--format", "jsonl"], text)
        check(r.returncode == 0, "s2s translate exit %d: %s" % (r.returncode, r.stderr.strip()))
        lines = r.stdout.splitlines()
        check(len(lines) == len(inputs), "%d output lines for %d inputs" % (len(lines), len(inputs)))
        same_text = 0
        distinct = set()
        for i, ((raw, fr, _), line) in enumerate(zip(inputs, lines)):
            try:
                obj = json.loads(line)
            except ValueError:
                check(False, "line %d is not JSON: %r" % (i, line[:200]))
                continue
            check(obj.get("id") == i, "line %d has id %r" % (i, obj.get("id")))
            if "error" in obj:
                check(False, "input %d %r: error %s" % (i, raw, obj["error"]))
                continue
            check(obj["source_tokens"] == fr.split(" ") + ["EOS"],
                  "input %d %r: source tokens %r, tutorial normalizer gives %r"
                  % (i, raw, obj["source_tokens"], fr.split(" ") + ["EOS"]))
            words, score, rows = reference(tutorial, torch, encoder, decoder, in_lang, out_lang, fr)
            hyp = obj["hypotheses"][0]
            distinct.add(tuple(hyp["tokens"]))
            ok = hyp["tokens"] == words
            same_text += ok
            if i < 3:
                print("  %r -> %r" % (raw, hyp["text"]))
            check(ok, "input %d %r: s2s %r, tutorial evaluate %r" % (i, fr, hyp["tokens"], words))
            if not ok:
                continue
            check(abs(hyp["score"] - score) <= 1e-3,
                  "input %d: score %.6g, tutorial %.6g" % (i, hyp["score"], score))
            att = hyp.get("attention")
            worst = max((abs(a - b) for ra, rb in zip(att or [], rows) for a, b in zip(ra, rb)),
                        default=0.0)
            check(att is not None and len(att) == len(rows) and worst <= 1e-4,
                  "input %d: attention differs (rows %s vs %d, max diff %.3g)"
                  % (i, None if att is None else len(att), len(rows), worst))
        # beam search and forced scoring through the command line, against
        # the PyTorch reference on the exported model
        ref_model, cfg, sv, tv = ref.load_model_dir(out)
        inv = {i: t for t, i in tv.items()}
        r = H.run_s2s(["translate", "-m", out, "--format", "jsonl", "--beam", "3", "--n-best", "3"], text)
        check(r.returncode == 0, "s2s translate --beam 3 exit %d: %s" % (r.returncode, r.stderr.strip()))
        for i, obj in H.json_lines(r.stdout, "beam"):
            fr = inputs[i][1]
            notes = []
            want = ref.beam_search(ref_model, ref.source_ids(fr.split(" "), sv, cfg), 3, 3,
                                  tie_eps=1e-4, tie_report=notes)
            got = obj["hypotheses"]
            if notes:  # near ties: only the best score must agree
                check(abs(got[0]["score"] - want[0]["score"]) <= 1e-3, "beam input %d (ties)" % i)
                continue
            check([h["tokens"] for h in got] == [[inv[t] for t in h["tokens"]] for h in want] and
                  all(abs(a["score"] - b["score"]) <= 1e-3 for a, b in zip(got, want)),
                  "beam input %d %r: s2s %r, reference %r" % (i, fr, [(h["tokens"], h["score"]) for h in got],
                                                              [([inv[t] for t in h["tokens"]], h["score"])
                                                               for h in want]))
        text = "".join("%s\t%s\n" % (raw, en) for raw, _, en in inputs)
        r = H.run_s2s(["score", "-m", out, "--format", "jsonl"], text)
        check(r.returncode == 0, "s2s score exit %d: %s" % (r.returncode, r.stderr.strip()))
        for i, obj in H.json_lines(r.stdout, "score"):
            _, fr, en = inputs[i]
            score, _, rows = ref.force(ref_model, ref.source_ids(fr.split(" "), sv, cfg),
                                      [tv[w] for w in en.split(" ")])
            h = obj["hypotheses"][0]
            check(h["tokens"] == en.split(" ") and abs(h["score"] - score) <= 1e-3,
                  "score input %d %r -> %r: s2s %.6g, reference %.6g" % (i, fr, en, h["score"], score))
        print("outputs identical to the tutorial's evaluate(): %d of %d (%d distinct)"
              % (same_text, len(inputs), len(distinct)))
        # a model that says the same thing to every input would make the
        # comparison above weak
        check(len(distinct) >= 3, "only %d distinct outputs: the test model is degenerate"
              % len(distinct))
    H.finish()


if __name__ == "__main__":
    main()
