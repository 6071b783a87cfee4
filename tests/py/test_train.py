#!/usr/bin/python3
"""Tests of tools/train: the batched teacher-forcing forward equals the
reference's single-sentence forced decoding (model-format.md section 4) for padded
batches, on several architectures, after a few real training steps; training
lowers the loss; the exported directory loads in the reference and decodes like
the trainer's batched greedy search; --resume continues a run, counting
the minutes before it once. Format
version 2 (model-format.md section 9): coverage (with its loss), local-m/local-p,
multihead and copy models (targets with extended ids) train, their batched
forward equals the reference's, refused combinations stop at once, and an
exported copy+coverage model decodes alike in the trainer, the reference
and the s2s command. --label-smoothing smooths a copy model's mixture;
--ema keeps, validates and resumes a moving average of the weights;
--select bleu keeps the checkpoint with the best validation BLEU.
tools/recipes/widen.py gives a wider model that computes what the narrow
one did, and training continues from it.

Needs torch (skips visibly without it). Needs no data outside the repo: the
training pairs come from s2s_tools.dates.
"""
import json
import math
import os

import harness as H
from harness import case

torch = H.require_torch()

from s2s_tools import dates  # noqa: E402
from s2s_tools import reference as ref  # noqa: E402
from s2s_tools import train as T  # noqa: E402

TMPDIR = H.tempdir("train")
TMP = TMPDIR.name
DATA = os.path.join(TMP, "data")
tr, va, te = dates.generate(600, 60, 60, seed=7)
os.makedirs(DATA)
for name, part in (("train", tr), ("valid", va), ("test", te)):
    with open(os.path.join(DATA, name + ".tsv"), "w", encoding="utf-8") as f:
        f.writelines("%s\t%s\n" % p for p in part)

ARCHS = {
    "bi-gru-general-after": ["--bidirectional", "--attention", "general", "--attention-position", "after_rnn"],
    "bi-lstm-2l-bahdanau-before": ["--cell", "lstm", "--layers", "2", "--bidirectional"],
    "gru-2l-scaled-feed-mean": ["--layers", "2", "--attention", "scaled_dot", "--attention-position",
                                "after_rnn", "--input-feeding", "--bridge", "mean_tanh"],
    "bi-lstm-dot-feed-zeros": ["--cell", "lstm", "--bidirectional", "--attention", "dot", "--attention-position",
                               "after_rnn", "--input-feeding", "--bridge", "zeros", "--dec-hidden", "24"],
}


def run_train(name, extra, steps=8, out=True, resume=False):
    work = os.path.join(TMP, name)
    args = ["--train", os.path.join(DATA, "train.tsv"), "--valid", os.path.join(DATA, "valid.tsv"),
            "--level", "char", "--work", work, "--emb", "8", "--hidden", "12", "--batch-size", "16",
            "--epochs", "1", "--max-steps", str(steps), "--bleu-sample", "0", "--dropout", "0.2",
            "--lr", "3e-3", "--seed", "3"] + extra
    if out:
        args += ["--out", os.path.join(work, "model")]
    if resume:
        args += ["--resume"]
    r = H.run_tool("train", args, cwd=H.ROOT)
    if r.returncode != 0:
        raise AssertionError("tools/train failed:\n" + r.stderr[-3000:])
    return work, r.stderr


def batched_vs_reference(work):
    ck = torch.load(os.path.join(work, "best.pt"))
    cfg = ck["config"]
    sv, tv = ck["source_vocab"], ck["target_vocab"]
    model = T.Seq2SeqTrain(cfg, len(sv), len(tv), dropout=0.2)
    model.load_state_dict(ck["state_dict"])
    model.eval()
    ref_model = ref.model_from_state_dict(ref.apply_defaults(cfg), ck["state_dict"], len(sv), len(tv),
                                         tgt_vocab=tv, src_vocab=sv)
    ref_model.eval()
    tk = T.make_tokenizer(cfg["tokenizer"], cfg, work)
    copy = model.decoder.copy
    # sentences of very different lengths so that the batch is padded
    pairs = [va[0], ("2021-3-3", "2021-03-03"), va[1], ("le mercredi 3 mars 2021", "2021-03-03"), va[2]]
    toks = [(tk.split(s), tk.split(t)) for s, t in pairs]
    ex = [(T.encode_ids(ss, sv), T.encode_ids(tt, tv)) for ss, tt in toks]
    if copy:  # target tokens the target vocabulary lacks get the extended id of the source piece
        ex = [e + tuple(T.copy_fields(ss, tt, tv)) for e, (ss, tt) in zip(ex, toks)]
        assert any(t >= len(tv) for e in ex for t in e[3]), "no extended id in the copy test targets"
    ids = (sv[T.EOS], tv[T.SOS], tv[T.EOS])
    with torch.no_grad():
        lp = model.batch_log_probs(T.collate(ex, *ids))
    zero = math.log(1e-30) + 1e-3  # the trainer's log of probability 0 (clamped)
    worst = 0.0
    for b, e in enumerate(ex):
        tgt = list(e[3] if copy else e[1])
        pieces = toks[b][0] + [T.EOS] if copy else None
        score, lps, _ = ref.force(ref_model, e[0] + [ids[0]], tgt, src_pieces=pieces)
        mine = [float(lp[b, i, tok]) for i, tok in enumerate(tgt + [ids[2]])]
        assert len(mine) == len(lps)
        for x, y in zip(mine, lps):  # log 0 (a copy target outside a local window) is clamped here
            worst = max(worst, 0.0 if y == -math.inf and x <= zero else abs(x - y))
        # the whole distribution too, not only the forced tokens
        full, _ = ref.teacher_forced(ref_model, e[0] + [ids[0]], tgt + [ids[2]], src_pieces=pieces)
        for i, row in enumerate(full):
            got = lp[b, i, :row.numel()]
            fin = torch.isfinite(row)
            assert bool((fin == (got > zero)).all()), "log 0 where the reference has none (row %d)" % i
            worst = max(worst, float((got[fin] - row[fin]).abs().max()))
    assert worst < 1e-5, "batched log-probs differ from the reference's force by %g" % worst
    # a sentence alone gives the same distribution as inside the padded batch
    with torch.no_grad():
        alone = model.batch_log_probs(T.collate(ex[1:2], *ids))[0]
    T1, W1 = alone.shape
    inside = lp[1, :T1, :W1]
    fin = alone > zero
    assert bool((fin == (inside > zero)).all())
    diff = float((alone[fin] - inside[fin]).abs().max())
    assert diff < 1e-5, "padding changes the log-probs by %g" % diff
    return model, ref_model, tk, sv, tv, ids


def make_arch_case(name, extra):
    def test():
        work, _ = run_train(name, extra, out=False)
        batched_vs_reference(work)
    test.__name__ = "test_forward_equals_reference_%s" % name
    return test


for n, e in ARCHS.items():
    case(make_arch_case(n, e))

# format version 2 (model-format.md section 9); a small target vocabulary makes copy
# models copy (digits the target vocabulary lacks get extended ids)
ARCHS_V2 = {
    "cov-gru-bahdanau-before": ["--coverage", "--coverage-loss", "0.5"],
    "cov-lstm-after-feed": ["--cell", "lstm", "--coverage", "--attention-position", "after_rnn",
                            "--input-feeding"],
    "localm-general-after": ["--attention", "general", "--attention-position", "after_rnn", "--window", "3",
                             "--local", "monotonic"],
    "localp-bi-dot-before": ["--bidirectional", "--attention", "dot", "--window", "2"],
    "localp-bahdanau-after-feed": ["--window", "4", "--predictor-size", "5", "--attention-position",
                                   "after_rnn", "--input-feeding"],
    "mha-gru-before-packed": ["--attention", "multihead", "--heads", "3"],
    "mha-bi-zeros-after": ["--bidirectional", "--attention", "multihead", "--heads", "4", "--bridge", "zeros",
                           "--dec-hidden", "8", "--attention-position", "after_rnn"],
    "copy-gru-bahdanau-before": ["--copy", "--tgt-vocab-size", "6"],
    "copy-lstm-mha-after-feed": ["--cell", "lstm", "--copy", "--attention", "multihead", "--heads", "2",
                                 "--attention-position", "after_rnn", "--input-feeding", "--tgt-vocab-size", "6"],
    "copy-cov-gru-before": ["--copy", "--coverage", "--tgt-vocab-size", "6"],
    "copy-localp-general-after": ["--copy", "--attention", "general", "--window", "2", "--attention-position",
                                  "after_rnn", "--tgt-vocab-size", "6"],
}
for n, e in ARCHS_V2.items():
    case(make_arch_case(n, e))


@case
def test_version2_options_refused():
    """Combinations section 9 does not allow stop before any data work."""
    for extra, needle in ((["--coverage", "--attention", "dot"], "coverage"),
                          (["--coverage", "--window", "2"], "coverage"),
                          (["--window", "1025"], "window"),
                          (["--attention", "multihead", "--heads", "5"], "heads"),
                          (["--heads", "2"], "--heads")):
        r = H.run_tool("train", ["--train", os.path.join(DATA, "train.tsv"), "--work", os.path.join(TMP, "refused"),
                                 "--hidden", "12"] + extra, cwd=H.ROOT)
        assert r.returncode == 2 and needle in r.stderr, (extra, r.returncode, r.stderr[-500:])


@case
def test_training_lowers_loss():
    work, _ = run_train("loss", ["--bidirectional", "--valid-every", "10", "--patience", "9", "--epochs", "3"],
                        steps=40, out=False)
    ck = torch.load(os.path.join(work, "last.pt"))
    hist = [h["valid_loss"] for h in ck["train_state"]["history"]]
    assert len(hist) == 4, hist
    uniform = math.log(len(ck["target_vocab"]))
    assert hist[-1] < hist[0] and hist[-1] < 0.85 * uniform, \
        "valid loss %s does not fall below %.3f" % (hist, 0.85 * uniform)


@case
def test_export_and_greedy_match():
    work, _ = run_train("export", ARCHS["bi-gru-general-after"] + ["--test", os.path.join(DATA, "test.tsv"),
                                                                   "--license", "test", "--attribution", "test"],
                        steps=30)
    mdir = os.path.join(work, "model")
    cfg = json.load(open(os.path.join(mdir, "config.json"), encoding="utf-8"))
    for k in ("license", "attribution", "source_data", "training_command", "scores"):
        assert k in cfg, "config.json lacks %r" % k
    assert "test_bleu" in cfg["scores"] and cfg["scores"]["test_pairs"] == 60, cfg["scores"]
    exported, c, sv, tv = ref.load_model_dir(mdir)
    model, _, tk, sv2, tv2, ids = batched_vs_reference(work)
    assert sv == sv2 and tv == tv2
    srcs = [s for s, _ in te[:20]]
    toks = [T.encode_ids(tk.split(s), sv) for s in srcs]
    src, src_len, _, _ = T.collate([(t, [0]) for t in toks], *ids)
    mine = model.greedy(src, src_len, ids[1], ids[2])
    for t, m in zip(toks, mine):
        r, _, _ = ref.greedy(exported, t + [ids[0]])
        assert list(r) == list(m), "greedy differs: %r vs %r" % (r, m)


@case
def test_export_version2_decodes_alike():
    work, _ = run_train("export-v2", ARCHS_V2["copy-cov-gru-before"], steps=30)
    mdir = os.path.join(work, "model")
    cfg = json.load(open(os.path.join(mdir, "config.json"), encoding="utf-8"))
    assert cfg["format_version"] == 2 and cfg["decoder"]["copy"] is True and \
        cfg["decoder"]["attention"]["coverage"] is True, cfg
    exported, c, sv, tv = ref.load_model_dir(mdir)
    model, _, tk, sv2, tv2, ids = batched_vs_reference(work)
    assert sv == sv2 and tv == tv2
    srcs = [s for s, _ in te[:20]]
    mine = T.greedy_texts(model, srcs, tk, sv, tv, 8)
    refs, copied = [], 0
    for s in srcs:
        pieces = tk.split(s)
        g = ref.greedy_full(exported, T.encode_ids(pieces, sv) + [ids[0]], src_pieces=pieces + [T.EOS])
        toks = [ref.token_string(exported, t, g["extended"]) for t in g["tokens"]]
        copied += sum(t >= len(tv) for t in g["tokens"])
        refs.append(toks)
    assert mine == [tk.join(t) for t in refs], "trainer and reference greedy differ:\n%r\n%r" % (mine, refs)
    assert copied > 0, "the copy model never copies"
    s2s = H.s2s()
    if s2s:
        r = H.run_s2s(["translate", "-m", mdir, "--format", "jsonl", "--no-split-sentences", "--case", "off"],
                      "".join(s + "\n" for s in srcs))
        assert r.returncode == 0, r.stderr
        got = [h["hypotheses"][0]["tokens"] for _, h in H.json_lines(r.stdout, "export-v2")]
        assert got == refs, "s2s and the reference differ:\n%r\n%r" % (got, refs)


@case
def test_names_in_vocabularies():
    """whole_names: the capitalized word units are counted apart from BPE
    pieces that look alike (Mc of McJuly); build_vocab asks --names-min-freq
    of the former only; on an --init-from model grow_vocab appends the words
    it lacks (old ids kept), each new row starting from its pieces' rows."""
    tk = T.tok.Tokenizer({"normalizer": "text", "level": "bpe", "whole_names": True},
                         merges=[("J", "u"), ("l", "y"), ("n", "e"), ("M", "c")])
    texts = ["July May", "July June", "June July Kowal", "(July) McJuly"]
    names = T.whole_name_counts(texts, tk)
    assert names == {"July": 4, "May": 1, "June": 2, "Kowal": 1}, names
    seqs = [tk.split(x) for x in texts]
    assert seqs[3] == ["(" + T.tok.JOINER, "July", T.tok.JOINER + ")", "Mc", T.tok.JOINER + "Ju",
                       T.tok.JOINER + "ly"], seqs[3]
    built = T.build_vocab(seqs, 0, 1, names, 2)
    assert set(built) - set(T.SPECIALS) == {"July", "June", "Mc", T.tok.JOINER + "Ju", T.tok.JOINER + "ly",
                                            "(" + T.tok.JOINER, T.tok.JOINER + ")"}, built
    vocab = {t: i for i, t in enumerate(T.SPECIALS + ["Ju", "\uffedly", "\uffedne", "May"])}
    before = dict(vocab)
    grown = T.grow_vocab(vocab, names, 2, tk)
    n = len(before)
    assert {k: vocab[k] for k in before} == before, "old ids changed"
    assert vocab["July"] == n and vocab["June"] == n + 1 and len(vocab) == n + 2, vocab
    assert grown == [(n, [before["Ju"], before["\uffedly"]]), (n + 1, [before["Ju"], before["\uffedne"]])], grown
    emb = torch.arange(n * 2, dtype=torch.float32).reshape(n, 2)
    out_w, out_b = emb + 100, torch.arange(n, dtype=torch.float32)
    t = T.init_grown_rows({"encoder.embedding.weight": emb.clone(), "decoder.embedding.weight": emb.clone(),
                           "decoder.out.weight": out_w.clone(), "decoder.out.bias": out_b.clone()},
                          {"source": grown, "target": grown[:1]})
    ju, ly, ne = before["Ju"], before["\uffedly"], before["\uffedne"]
    assert t["encoder.embedding.weight"].shape == (n + 2, 2) and t["decoder.out.bias"].shape == (n + 1,)
    assert torch.equal(t["encoder.embedding.weight"][:n], emb), "old rows changed"
    assert torch.equal(t["encoder.embedding.weight"][n + 1], (emb[ju] + emb[ne]) / 2)
    assert torch.equal(t["decoder.embedding.weight"][n], (emb[ju] + emb[ly]) / 2)
    assert torch.equal(t["decoder.out.weight"][n], out_w[ju]) and t["decoder.out.bias"][n] == out_b[ju]


@case
def test_init_from_whole_names():
    """A bpe copy model continued with --whole-names: its vocabularies grow,
    the export says whole_names and decodes alike in the reference and s2s,
    a capitalized word it has never seen included."""
    bpe = ["--normalizer", "text", "--level", "bpe", "--bpe-merges", "60", "--copy"]
    base, _ = run_train("names-base", bpe, steps=4)
    base_model = os.path.join(base, "model")
    work, log = run_train("names-grow", ["--init-from", base_model, "--whole-names", "--names-min-freq", "2"], steps=6)
    assert "source and 0 target words added" in log, log[-800:]
    mdir = os.path.join(work, "model")
    cfg = json.load(open(os.path.join(mdir, "config.json"), encoding="utf-8"))
    assert cfg["tokenizer"]["whole_names"] is True, cfg["tokenizer"]
    scratch, _ = run_train("names-scratch", bpe + ["--whole-names", "--names-min-freq", "2"], steps=2, out=False)
    d = torch.load(os.path.join(scratch, "data.pt"))
    assert d["tokenizer"]["whole_names"] is True and "October" in d["source_vocab"], sorted(d["source_vocab"])[:40]
    exported, c, sv, tv = ref.load_model_dir(mdir)
    _, _, sv0, tv0 = ref.load_model_dir(base_model)
    assert {k: sv[k] for k in sv0} == sv0 and tv == tv0
    assert "October" in sv and "October" not in sv0, sorted(set(sv) - set(sv0))[:20]
    srcs = [s for s, _ in te[:20]] + ["Tuesday, Kowalski 3, 2034", "3 Zyx 1999"]
    tk = T.tok.Tokenizer(cfg["tokenizer"], mdir)
    refs = []
    for s in srcs:
        pieces = tk.split(s)
        g = ref.greedy_full(exported, T.encode_ids(pieces, sv) + [sv[T.EOS]], src_pieces=pieces + [T.EOS])
        refs.append([ref.token_string(exported, t, g["extended"]) for t in g["tokens"]])
    s2s = H.s2s()
    if s2s:
        r = H.run_s2s(["tokenize", "-m", mdir, "--show", "pieces", "Tuesday, Kowalski 3"], "")
        assert r.returncode == 0 and r.stdout.startswith("Tuesday ￭, Kowalski 3"), (r.stdout, r.stderr)
        r = H.run_s2s(["info", "-m", mdir, "--format", "json"], "")
        assert r.returncode == 0 and json.loads(r.stdout)["tokenizer"]["whole_names"] is True, r.stdout[-500:]
        r = H.run_s2s(["translate", "-m", mdir, "--format", "jsonl", "--no-split-sentences", "--case", "off"],
                      "".join(s + "\n" for s in srcs))
        assert r.returncode == 0, r.stderr
        got = [h["hypotheses"][0]["tokens"] for _, h in H.json_lines(r.stdout, "names-grow")]
        assert got == refs, "s2s and the reference differ:\n%r\n%r" % (got, refs)


@case
def test_skip_unk_targets():
    """--skip-unk-targets: collate leaves the target unk (a piece neither in
    the target vocabulary nor in the source) out of tgt_out, and nothing else;
    tgt_in still reads unk there; the option reaches the trainer."""
    tv = {t: i for i, t in enumerate(T.SPECIALS + ["a", "b"])}
    unk, V = tv[T.UNK], len(tv)
    src_copy, tgt_ext = T.copy_fields(["a", "Zed", "b"], ["b", "Zed", "Kowal", "a"], tv)
    assert tgt_ext == [tv["b"], V, unk, tv["a"]], tgt_ext
    ex = [([4, 1, 5], [tv["b"], unk, unk, tv["a"]], src_copy, tgt_ext)]
    ids = (2, tv[T.SOS], tv[T.EOS])
    kept = T.collate(ex, *ids)
    skipped = T.collate(ex, *ids, unk_out=unk)
    assert kept[3].tolist() == [[tv["b"], V, unk, tv["a"], tv[T.EOS]]], kept[3].tolist()
    assert skipped[3].tolist() == [[tv["b"], V, -100, tv["a"], tv[T.EOS]]], skipped[3].tolist()
    assert torch.equal(kept[2], skipped[2]) and skipped[2].tolist() == [[tv[T.SOS], tv["b"], unk, unk, tv["a"]]]
    work, _ = run_train("skip-unk", ["--skip-unk-targets", "--copy"], steps=2, out=False)
    assert torch.load(os.path.join(work, "last.pt"))["train_state"]["step"] == 2


@case
def test_label_smoothing_of_a_copy_model():
    """--label-smoothing with --copy smooths the mixture of section 9.4: with
    the copy gate held at 1 (generation only) the loss is exactly PyTorch's
    cross_entropy with the same label_smoothing on the logits; with the
    trained gate it is (1 - eps) x the unsmoothed loss plus eps x the mean
    negative log-probability over the fixed vocabulary."""
    work, _ = run_train("smooth-copy", ["--copy", "--bidirectional", "--label-smoothing", "0.1"],
                        steps=4, out=False)
    ck = torch.load(os.path.join(work, "last.pt"))
    sv, tv = ck["source_vocab"], ck["target_vocab"]
    model = T.Seq2SeqTrain(ck["config"], len(sv), len(tv), dropout=0.2)
    model.load_state_dict(ck["state_dict"])
    model.eval()
    tk = T.make_tokenizer(ck["config"]["tokenizer"], ck["config"], work)
    toks = [(tk.split(s), tk.split(t)) for s, t in va[:6]]
    ex = [(T.encode_ids(ss, sv), T.encode_ids(tt, tv)) + tuple(T.copy_fields(ss, tt, tv)) for ss, tt in toks]
    batch = T.collate(ex, sv[T.EOS], tv[T.SOS], tv[T.EOS])
    eps = 0.1
    with torch.no_grad():
        plain = float(T.batch_loss(model, batch, 0.0))
        smooth = float(T.batch_loss(model, batch, eps))
        logp = model.batch_log_probs(batch)[..., :len(tv)]
        valid = batch[3] != -100
        uniform = float((-logp.mean(-1) * valid).sum())
        assert abs(smooth - ((1 - eps) * plain + eps * uniform)) < 1e-3 * abs(smooth), (smooth, plain, uniform)
        assert smooth > plain * 1.001, "smoothing left the copy loss unchanged"
        model.decoder.copy_gate.weight.zero_()
        model.decoder.copy_gate.bias.fill_(60.0)  # sigmoid = 1: the vocabulary distribution alone
        logits, _ = model(*batch[:3])
        want = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.size(-1)), batch[3].reshape(-1),
                                                 ignore_index=-100, reduction="sum", label_smoothing=eps)
        got = T.batch_loss(model, batch, eps)
    assert abs(float(got) - float(want)) < 1e-4 * float(want), (float(got), float(want))


@case
def test_resume_continues():
    work, _ = run_train("resume", [], steps=5, out=False)
    ck = torch.load(os.path.join(work, "last.pt"))
    assert ck["train_state"]["step"] == 5
    _, log = run_train("resume", [], steps=9, out=False, resume=True)
    assert "resumed from" in log, log[-500:]
    ck = torch.load(os.path.join(work, "last.pt"))
    assert ck["train_state"]["step"] == 9, ck["train_state"]["step"]


@case
def test_resume_from_its_own_export_counts_minutes_once():
    """A run continued from a model (--init-from) and resumed in a later
    session with --init-from naming that run's own export (as the recipes do
    once the model is shipped) keeps counting the minutes from the model it
    started from: the earlier run's minutes are not added twice."""
    base, _ = run_train("minutes-base", [], steps=2)
    base_model = os.path.join(base, "model")
    path = os.path.join(base_model, "config.json")
    cfg = json.load(open(path, encoding="utf-8"))
    cfg["scores"]["minutes_total"] = 100.0
    ref.write_config(path, cfg)
    opts = ["--valid-every", "2", "--patience", "9"]
    work, _ = run_train("minutes-run", ["--init-from", base_model] + opts, steps=4)
    exported = json.load(open(os.path.join(work, "model", "config.json"), encoding="utf-8"))["scores"]
    assert 100.0 <= exported["minutes_total"] < 101.0, exported
    shipped = os.path.join(TMP, "minutes-shipped")  # the export, where the run's --init-from now points
    os.rename(os.path.join(work, "model"), shipped)
    cfg = json.load(open(os.path.join(shipped, "config.json"), encoding="utf-8"))
    cfg["scores"]["minutes_total"] = 150.0  # as if the run had trained 50 minutes
    ref.write_config(os.path.join(shipped, "config.json"), cfg)
    _, log = run_train("minutes-run", ["--init-from", shipped] + opts, steps=8, resume=True)
    assert "resumed from" in log, log[-500:]
    history = torch.load(os.path.join(work, "last.pt"))["train_state"]["history"]
    assert len(history) == 4 and all(100.0 <= h["minutes_total"] < 101.0 for h in history), history


@case
def test_moving_average_of_weights():
    # decay 0.75: after each step, average = 0.75 * average + 0.25 * weights
    opts = ["--ema", "0.75", "--valid-every", "1", "--patience", "9"]
    work, log = run_train("ema", opts, steps=1, out=False)
    assert "moving average of the weights, decay 0.75" in log, log[-500:]
    assert '"valid_loss_without_ema": ' in log, "the weights' own loss is not logged"
    first = torch.load(os.path.join(work, "last.pt"))
    best = torch.load(os.path.join(work, "best.pt"))["state_dict"]
    ema1, live1 = first["ema"], first["state_dict"]
    assert sorted(ema1) == sorted(live1)
    # the first validation always keeps its weights: the average's
    assert all(torch.equal(best[k], ema1[k]) for k in ema1), "best.pt does not hold the average"
    assert any(not torch.equal(ema1[k], live1[k]) for k in ema1), "the average equals the weights"
    _, log = run_train("ema", opts, steps=2, out=False, resume=True)
    assert "decay 0.75, resumed" in log, log[-500:]
    second = torch.load(os.path.join(work, "last.pt"))
    for k, v in second["ema"].items():
        want = 0.75 * ema1[k] + 0.25 * second["state_dict"][k]
        assert torch.allclose(v, want, atol=1e-6), "%s: average off by %g" % (k, float((v - want).abs().max()))
    r = H.run_tool("train", ["--train", os.path.join(DATA, "train.tsv"), "--work", os.path.join(TMP, "ema1"),
                             "--ema", "1"], cwd=H.ROOT)
    assert r.returncode == 2 and "--ema takes a decay in [0, 1)" in r.stderr, r.stderr[-500:]


@case
def test_select_bleu_keeps_the_best_translations():
    """--select bleu: the best checkpoint is the validation with the highest
    greedy BLEU (the first of equals), not the lowest loss."""
    opts = ["--select", "bleu", "--bleu-sample", "30", "--valid-every", "2", "--patience", "99", "--lr", "1e-2"]
    work, log = run_train("select-bleu", opts, steps=12, out=False)
    history = torch.load(os.path.join(work, "last.pt"))["train_state"]["history"]
    bleus = [h["valid_sample_bleu"] for h in history]
    losses = [h["valid_loss"] for h in history]
    by_bleu = history[bleus.index(max(bleus))]["step"]
    by_loss = history[losses.index(min(losses))]["step"]
    assert by_bleu != by_loss, "this run cannot tell the two apart: %r %r" % (bleus, losses)
    best = torch.load(os.path.join(work, "best.pt"))["scores"]
    assert best["step"] == by_bleu, (best["step"], bleus, losses)
    assert "best valid bleu %.4f" % max(bleus) in log, log[-300:]
    r = H.run_tool("train", ["--train", os.path.join(DATA, "train.tsv"), "--work", os.path.join(TMP, "sel0"),
                             "--select", "bleu", "--bleu-sample", "0"], cwd=H.ROOT)
    assert r.returncode == 2 and "--select bleu needs --bleu-sample" in r.stderr, r.stderr[-500:]


RECIPE_ARCH = ["--normalizer", "text", "--level", "bpe", "--bpe-merges", "60", "--bidirectional",
               "--bridge", "final", "--attention", "general", "--attention-position", "after_rnn", "--copy"]


@case
def test_widen_keeps_what_the_model_computes():
    """tools/recipes/widen.py: the widened model (encoder 12 -> 20 per
    direction, decoder 24 -> 40) gives the narrow model's log-probabilities
    and attention rows on every step, copy included; its new units are live
    (fresh weights in); training continues from it with --init-from."""
    work, _ = run_train("widen-base", RECIPE_ARCH, steps=6)
    narrow_dir, wide_dir = os.path.join(work, "model"), os.path.join(TMP, "widen-wide")
    r = H.run_tool("recipes/widen.py", [narrow_dir, wide_dir, "--encoder-hidden", "20"])
    assert r.returncode == 0, r.stderr
    narrow, _, sv, tv = ref.load_model_dir(narrow_dir)
    wide, c, sv2, tv2 = ref.load_model_dir(wide_dir)
    assert (sv2, tv2) == (sv, tv)
    assert c["encoder"]["hidden_size"] == 20 and c["decoder"]["hidden_size"] == 40, c
    tensors, _, _ = ref.read_safetensors(os.path.join(wide_dir, "model.safetensors"))
    assert tensors["decoder.rnn.weight_hh_l0"].shape == (120, 40)
    new_rows = torch.cat([tensors["encoder.rnn.weight_ih_l0"][12:20], tensors["decoder.rnn.weight_ih_l0"][12:20]])
    assert float(new_rows.abs().min()) > 0.0, "a new unit has a zero incoming weight"
    tk = T.tok.Tokenizer(c["tokenizer"], wide_dir)
    worst = 0.0
    for s, t in list(va[:8]) + [("le 3 Zyx 1999", "1999-03-03")]:
        pieces, tpieces = tk.split(s), tk.split(t)
        src = T.encode_ids(pieces, sv) + [sv[T.EOS]]
        tgt = T.copy_fields(pieces, tpieces, tv)[-1]
        rows = [ref.teacher_forced(m, src, tgt, src_pieces=pieces + [T.EOS]) for m in (narrow, wide)]
        for (lp_a, at_a), (lp_b, at_b) in zip(zip(*rows[0]), zip(*rows[1])):
            fin = torch.isfinite(lp_a)
            assert torch.equal(fin, torch.isfinite(lp_b))
            worst = max(worst, float((lp_a[fin] - lp_b[fin]).abs().max()), float((at_a - at_b).abs().max()))
    assert worst < 1e-5, "the widened model's log-probabilities differ by %g" % worst
    _, log = run_train("widen-more", ["--init-from", wide_dir], steps=3)
    assert "weights from " + wide_dir in log, log[-800:]
    cont = json.load(open(os.path.join(TMP, "widen-more", "model", "config.json"), encoding="utf-8"))
    assert cont["decoder"]["hidden_size"] == 40, cont["decoder"]
    # a model of another architecture is refused with a message
    plain, _ = run_train("widen-plain", [], steps=2)
    r = H.run_tool("recipes/widen.py", [os.path.join(plain, "model"), os.path.join(TMP, "widen-no"),
                                        "--encoder-hidden", "20"])
    assert r.returncode != 0 and "widen: only" in r.stderr, (r.returncode, r.stderr)


TMPDIR.cleanup()
H.finish()
