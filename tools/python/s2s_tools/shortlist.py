"""Learn the lexical shortlist of a model directory (the fast mode's output
vocabulary restriction; format in docs/engine.md, "Lexical shortlist").

    tools/shortlist -m MODEL_DIR --train PAIRS.tsv [--src-col 0 --tgt-col 1]
                    [--frequent 100 --per-source 20] [-o MODEL_DIR/shortlist.txt]

Both sides of the training pairs are tokenized by the model itself (the s2s
command's `tokenize --show pieces`, $S2S or build/s2s) and looked up in its
vocabularies, so the ids are the model's. For each source id the target ids that co-occur with it most
strongly in the same pairs (Dice coefficient 2 c(s,t) / (c(s) + c(t)) over
sentences, pairs seen at least twice) are kept, --per-source of them; the
--frequent most frequent target ids are always kept. The engine adds eos,
unk and any target prefix itself.
"""
import argparse
import collections
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))


def read_columns(path, src_col, tgt_col, limit=None):
    src, tgt = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            cols = line.rstrip("\n").split("\t")
            if len(cols) <= max(src_col, tgt_col):
                continue
            src.append(cols[src_col])
            tgt.append(cols[tgt_col])
            if limit and len(src) >= limit:
                break
    return src, tgt


def token_ids(s2s, model, lines, vocab):
    """The model's ids of each line: its pieces (the s2s command's `tokenize
    --show pieces`; the model's one tokenizer serves both sides) looked up in
    `vocab`; pieces the vocabulary lacks are left out."""
    text = "".join(line.replace("\r", " ") + "\n" for line in lines)
    r = subprocess.run([s2s, "tokenize", "-m", model, "-q", "--lenient", "--show", "pieces"],
                       input=text.encode("utf-8"), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode != 0:
        raise SystemExit("shortlist: s2s tokenize failed: %s" % r.stderr.decode("utf-8", "replace")[:500].strip())
    rows = r.stdout.decode("utf-8").split("\n")[:len(lines)]
    if len(rows) != len(lines):
        raise SystemExit("shortlist: s2s tokenize gave %d lines for %d" % (len(rows), len(lines)))
    space = "\u2423"  # how the command shows a space inside a token
    return [[vocab[p] for p in (q.replace(space, " ") for q in row.split(" ")) if p in vocab] for row in rows]


def learn(src_ids, tgt_ids, n_frequent, per_source, skip_src=(), skip_tgt=()):
    """-> (frequent target ids, {source id: [target ids, best first]})."""
    c_s, c_t, c_st = collections.Counter(), collections.Counter(), collections.Counter()
    for s_line, t_line in zip(src_ids, tgt_ids):
        S = set(s_line) - set(skip_src)
        T = set(t_line) - set(skip_tgt)
        c_s.update(S)
        c_t.update(T)
        c_st.update((s, t) for s in S for t in T)
    frequent = [t for t, _ in sorted(c_t.items(), key=lambda x: (-x[1], x[0]))[:n_frequent]]
    by_source = collections.defaultdict(list)
    for (s, t), c in c_st.items():
        if c >= 2:
            by_source[s].append((2.0 * c / (c_s[s] + c_t[t]), t))
    cand = {}
    for s, lst in by_source.items():
        lst.sort(key=lambda x: (-x[0], x[1]))
        cand[s] = [t for _, t in lst[:per_source]]
    return frequent, cand


def write(path, v_src, v_tgt, frequent, cand, note):
    with open(path, "w", encoding="utf-8") as f:
        f.write("s2s-shortlist 1 %d %d\n" % (v_src, v_tgt))
        f.write("# %s\n" % note)
        f.write("frequent %s\n" % " ".join(map(str, frequent)))
        for s in sorted(cand):
            f.write("%d %s\n" % (s, " ".join(map(str, cand[s]))))


def vocabularies(model):
    """-> (source vocabulary, target vocabulary, ids of the special tokens
    per side) of a model directory."""
    import json
    with open(os.path.join(model, "config.json"), encoding="utf-8") as f:
        cfg = json.load(f)
    vocabs, specials = [], []
    defaults = {"source_vocab": "source.vocab.json", "target_vocab": "target.vocab.json"}  # model format, section 4
    for key in ("source_vocab", "target_vocab"):
        with open(os.path.join(model, cfg.get(key) or defaults[key]), encoding="utf-8") as f:
            vocab = json.load(f)
        vocabs.append(vocab)
        specials.append({vocab[t] for t in (cfg.get("special_tokens") or {}).values() if t in vocab})
    return vocabs[0], vocabs[1], specials


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-m", "--model", required=True, help="model directory")
    ap.add_argument("--train", required=True, help="TSV of training pairs")
    ap.add_argument("--src-col", type=int, default=0)
    ap.add_argument("--tgt-col", type=int, default=1)
    ap.add_argument("--limit", type=int, default=None, help="use the first N pairs")
    ap.add_argument("--frequent", type=int, default=100, help="most frequent target ids always kept")
    ap.add_argument("--per-source", type=int, default=20, help="target ids kept per source id")
    ap.add_argument("-o", "--output", help="default MODEL_DIR/shortlist.txt")
    ap.add_argument("--s2s", default=os.environ.get("S2S") or os.path.join(ROOT, "build", "s2s"))
    a = ap.parse_args(argv)
    src, tgt = read_columns(a.train, a.src_col, a.tgt_col, a.limit)
    if not src:
        raise SystemExit("shortlist: no pairs in %s (columns %d and %d)" % (a.train, a.src_col, a.tgt_col))
    src_vocab, tgt_vocab, (sp_src, sp_tgt) = vocabularies(a.model)
    v_src, v_tgt = len(src_vocab), len(tgt_vocab)
    src_ids = token_ids(a.s2s, a.model, src, src_vocab)
    tgt_ids = token_ids(a.s2s, a.model, tgt, tgt_vocab)
    frequent, cand = learn(src_ids, tgt_ids, a.frequent, a.per_source, sp_src, sp_tgt)
    out = a.output or os.path.join(a.model, "shortlist.txt")
    note = ("tools/shortlist --frequent %d --per-source %d on %d pairs of %s"
            % (a.frequent, a.per_source, len(src), os.path.basename(a.train)))
    write(out, v_src, v_tgt, frequent, cand, note)
    print("shortlist: %d frequent, %d source ids with candidates -> %s" % (len(frequent), len(cand), out),
          file=sys.stderr)


if __name__ == "__main__":
    main()
