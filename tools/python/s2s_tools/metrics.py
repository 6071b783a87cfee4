"""Corpus-level evaluation metrics for s2s: BLEU, chrF and ROUGE-1/2/L.

Standard library only.  The BLEU and chrF implementations follow the
algorithms of sacreBLEU 2.x with its default settings, so that scores are
directly comparable with published sacreBLEU numbers:

  BLEU   13a tokenisation (mteval-v13a rules), case-sensitive, n-gram orders
         1..4, brevity penalty against the closest reference length (ties go
         to the shorter reference), 'exp' smoothing (each order with zero
         matches gets precision 1 / (2^k * total), k counting such orders),
         no effective order.  A corpus with no matching n-gram at all scores
         0 with all precisions reported as 0.
  chrF2  character n-grams of order 1..6, no word n-grams, beta = 2, all
         whitespace removed before extraction, case-sensitive.  Statistics
         (hyp / ref / matching n-gram counts per order) are summed over the
         corpus; precision and recall are averaged over the orders for which
         both the hypothesis and the reference side have n-grams (sacreBLEU's
         default "effective order", no epsilon smoothing).  When a reference
         segment has no n-grams of some order, that segment's hypothesis
         n-grams of that order are not counted either.

ROUGE follows the conventions of Google's rouge-score package: lowercase,
every run of characters outside [a-z0-9] becomes a token boundary (so
non-ASCII letters are dropped; tokenize="unicode" keeps Unicode letters and
digits instead), no stemming, F1 per segment, and the corpus value is the
plain mean of the per-segment precision, recall and F1 (rouge-score's
BootstrapAggregator reports the same mean as its "mid" value).  ROUGE-N counts
clipped n-gram overlaps; ROUGE-L uses the longest common subsequence of the
token sequences (sentence-level, not the summary-level ROUGE-Lsum).

References are given as a list of reference streams, each a list of strings
with one entry per hypothesis line.  With several streams, a segment whose
reference is empty (only whitespace) in some stream is scored against the
remaining references, like sacreBLEU; the signature then says nrefs:var.
sacreBLEU refuses a segment whose references are all empty; here such a
segment is scored against one empty reference (it contributes to the
hypothesis length and counts, never to matches) and `empty_refs` on the
scorer says how many segments that concerned.
"""

import math
import re
import unicodedata
from collections import Counter

VERSION = "s2s-0.1.0"

__all__ = [
    "VERSION", "tokenize_13a", "tokenize_rouge", "read_lines", "lcs_length",
    "compute_bleu", "compute_chrf", "BLEU", "CHRF", "ROUGE", "BLEUScore",
    "CHRFScore", "ROUGEScore", "corpus_bleu", "corpus_chrf", "corpus_rouge",
]


# ---------------------------------------------------------------------------
# Input helpers

def read_lines(path):
    """Reads a UTF-8 text file as a list of lines without their final '\\n'.

    Only '\\n' ends a line (a '\\r' before it stays part of the line, which is
    harmless because every metric ignores trailing whitespace).  Raises
    OSError or UnicodeDecodeError like open() and read() do.
    """
    with open(path, "r", encoding="utf-8", newline="\n") as f:
        return split_lines(f.read())


def split_lines(text):
    """Splits text on '\\n' only; a final '\\n' does not start a new line."""
    if text == "":
        return []
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


# ---------------------------------------------------------------------------
# Tokenisers

# mteval-v13a's language-dependent rules, applied in this order.  The first
# character class is the ASCII punctuation and symbols except the apostrophe,
# the period, the comma and the hyphen-minus: { | } ~ [ \ ] ^ _ ` space ! " #
# $ % & ( ) * + : ; < = > ? @ /
_13A_RULES = (
    (re.compile(r"([\{-\~\[-\` -\&\(-\+\:-\@\/])"), r" \1 "),
    # period and comma, unless preceded by a digit
    (re.compile(r"([^0-9])([\.,])"), r"\1 \2 "),
    # period and comma, unless followed by a digit
    (re.compile(r"([\.,])([^0-9])"), r" \1 \2"),
    # hyphen-minus after a digit
    (re.compile(r"([0-9])(-)"), r"\1 \2 "),
)

_13A_UNESCAPE = (("&quot;", '"'), ("&amp;", "&"), ("&lt;", "<"), ("&gt;", ">"))


def tokenize_13a(line):
    """Returns the list of 13a tokens of one segment (sacreBLEU's 'tok:13a')."""
    line = line.replace("<skipped>", "").replace("-\n", "").replace("\n", " ")
    if "&" in line:
        for entity, char in _13A_UNESCAPE:
            line = line.replace(entity, char)
    line = " " + line + " "
    for pattern, repl in _13A_RULES:
        line = pattern.sub(repl, line)
    return line.split()


_ROUGE_ASCII_SPLIT = re.compile(r"[^a-z0-9]+")
_ROUGE_UNICODE_SPLIT = re.compile(r"[\W_]+")


def tokenize_rouge(text, tokenize="ascii"):
    """rouge-score style tokens: lowercase, split on non-alphanumerics.

    tokenize="ascii" (default) is rouge-score's rule: only a-z and 0-9 are
    word characters, so accented and other non-ASCII letters act as
    separators.  tokenize="unicode" applies NFC, lowercases and keeps every
    Unicode letter and digit (str.isalnum) as a word character.
    """
    if tokenize == "ascii":
        return _ROUGE_ASCII_SPLIT.sub(" ", text.lower()).split()
    if tokenize == "unicode":
        text = unicodedata.normalize("NFC", text).lower()
        return _ROUGE_UNICODE_SPLIT.sub(" ", text).split()
    raise ValueError("unknown ROUGE tokenization %r (ascii or unicode)" % (tokenize,))


# ---------------------------------------------------------------------------
# Shared reference handling

def _segments(references):
    """Transposes reference streams into per-segment lists of usable refs.

    Returns (segments, nrefs, all_empty) where nrefs is the common number of
    usable references per segment, or -1 if it varies, and all_empty counts
    segments whose references were all empty.
    """
    if isinstance(references, str) or not references:
        raise ValueError("references must be a non-empty list of reference streams")
    streams = [list(s) for s in references]
    n = len(streams[0])
    for s in streams[1:]:
        if len(s) != n:
            raise ValueError("reference streams have different numbers of lines "
                             "(%d and %d)" % (n, len(s)))
    segments, counts, all_empty = [], set(), 0
    for refs in zip(*streams):
        kept = [r for r in refs if r is not None and r.strip() != ""]
        if not kept:
            all_empty += 1
            kept = [""]
        counts.add(len(kept))
        segments.append(kept)
    nrefs = counts.pop() if len(counts) == 1 else -1
    return segments, nrefs, all_empty


def _check_hyps(hyps, n):
    if isinstance(hyps, str):
        raise TypeError("hypotheses must be a list of strings, not one string")
    hyps = list(hyps)
    if len(hyps) != n:
        raise ValueError("%d hypothesis lines but %d reference lines" % (len(hyps), n))
    return hyps


def _nrefs_str(nrefs):
    return "var" if nrefs == -1 else str(nrefs)


# ---------------------------------------------------------------------------
# BLEU

def _word_ngrams(tokens, max_order):
    """One Counter of n-gram tuples per order 1..max_order."""
    return [Counter(zip(*[tokens[i:] for i in range(n)]))
            for n in range(1, max_order + 1)]


class BLEUScore:
    """A corpus BLEU result; str() gives sacreBLEU's printed form."""

    name = "BLEU"

    def __init__(self, score, counts, totals, precisions, bp, sys_len, ref_len):
        self.score = score
        self.counts = list(counts)
        self.totals = list(totals)
        self.precisions = list(precisions)
        self.bp = bp
        self.sys_len = sys_len
        self.ref_len = ref_len
        self.ratio = sys_len / ref_len if ref_len else 0.0

    def format(self):
        prec = "/".join("%.1f" % p for p in self.precisions)
        return ("BLEU = %.2f %s (BP = %.3f ratio = %.3f hyp_len = %d ref_len = %d)"
                % (self.score, prec, self.bp, self.ratio, self.sys_len, self.ref_len))

    __str__ = format

    def as_dict(self):
        return {"score": self.score, "counts": self.counts, "totals": self.totals,
                "precisions": self.precisions, "bp": self.bp, "ratio": self.ratio,
                "hyp_len": self.sys_len, "ref_len": self.ref_len}


def compute_bleu(correct, total, sys_len, ref_len, max_order=4):
    """BLEU with 'exp' smoothing from corpus statistics (lists of length max_order).

    correct[n-1] / total[n-1] are the clipped matches and the hypothesis
    n-gram count of order n; sys_len / ref_len the hypothesis and effective
    reference lengths in tokens.
    """
    if sys_len < ref_len:
        bp = math.exp(1.0 - ref_len / sys_len) if sys_len > 0 else 0.0
    else:
        bp = 1.0
    precisions = [0.0] * max_order
    if not any(correct):
        return BLEUScore(0.0, correct, total, precisions, bp, sys_len, ref_len)
    smooth = 1.0
    for i in range(max_order):
        if total[i] == 0:
            break  # no n-grams of this order or higher: precision stays 0
        if correct[i] == 0:
            smooth *= 2.0
            precisions[i] = 100.0 / (smooth * total[i])
        else:
            precisions[i] = 100.0 * correct[i] / total[i]
    # a zero precision contributes log -> a huge negative number (score 0)
    log_sum = sum(math.log(p) if p > 0 else -9999999999.0 for p in precisions)
    score = bp * math.exp(log_sum / max_order)
    return BLEUScore(score, correct, total, precisions, bp, sys_len, ref_len)


class BLEU:
    """Corpus BLEU against fixed references (reference n-grams are cached,
    so scoring many systems against the same references is cheap)."""

    def __init__(self, references, lowercase=False, max_order=4):
        self.lowercase = lowercase
        self.max_order = max_order
        segments, self.nrefs, self.empty_refs = _segments(references)
        self._refs = []
        for refs in segments:
            merged = None
            lens = []
            for ref in refs:
                toks = self._tokens(ref)
                lens.append(len(toks))
                grams = _word_ngrams(toks, max_order)
                if merged is None:
                    merged = grams
                else:  # clip against the maximum count over the references
                    for m, g in zip(merged, grams):
                        for k, c in g.items():
                            if c > m[k]:
                                m[k] = c
            self._refs.append((merged, lens))

    def _tokens(self, sent):
        if self.lowercase:
            sent = sent.lower()
        return tokenize_13a(sent.rstrip())

    @staticmethod
    def _closest(hyp_len, lens):
        best = None
        for r in lens:
            if best is None or abs(hyp_len - r) < abs(hyp_len - best) or \
                    (abs(hyp_len - r) == abs(hyp_len - best) and r < best):
                best = r
        return best

    def corpus_score(self, hyps):
        hyps = _check_hyps(hyps, len(self._refs))
        order = self.max_order
        correct = [0] * order
        total = [0] * order
        sys_len = ref_len = 0
        for hyp, (ref_grams, lens) in zip(hyps, self._refs):
            toks = self._tokens(hyp)
            sys_len += len(toks)
            ref_len += lens[0] if len(lens) == 1 else self._closest(len(toks), lens)
            for i, (hg, rg) in enumerate(zip(_word_ngrams(toks, order), ref_grams)):
                total[i] += max(len(toks) - i, 0)
                m = 0
                for g, c in hg.items():
                    rc = rg.get(g)
                    if rc:
                        m += c if c < rc else rc
                correct[i] += m
        return compute_bleu(correct, total, sys_len, ref_len, order)

    def signature(self):
        return "nrefs:%s|case:%s|eff:no|tok:13a|smooth:exp|version:%s" % (
            _nrefs_str(self.nrefs), "lc" if self.lowercase else "mixed", VERSION)


# ---------------------------------------------------------------------------
# chrF

def _char_ngrams(sent, max_order):
    """One Counter of character n-grams per order 1..max_order, whitespace removed."""
    s = "".join(sent.split())
    grams = list(s)
    out = [Counter(grams)]
    for n in range(2, max_order + 1):
        # extend each (n-1)-gram by the character that follows it
        grams = [g + ch for g, ch in zip(grams, s[n - 1:])]
        out.append(Counter(grams))
    return out


def compute_chrf(stats, order=6, beta=2):
    """chrF in [0, 100] from flattened [hyp, ref, match] counts per order."""
    factor = beta * beta
    avg_p = avg_r = 0.0
    eff = 0
    for i in range(order):
        n_hyp, n_ref, n_match = stats[3 * i:3 * i + 3]
        if n_hyp > 0 and n_ref > 0:
            avg_p += n_match / n_hyp
            avg_r += n_match / n_ref
            eff += 1
    if eff == 0:
        return 0.0
    avg_p /= eff
    avg_r /= eff
    if avg_p + avg_r == 0:
        return 0.0
    return 100.0 * (1 + factor) * avg_p * avg_r / (factor * avg_p + avg_r)


class CHRFScore:
    def __init__(self, score, beta, stats):
        self.score = score
        self.beta = beta
        self.stats = list(stats)
        self.name = "chrF%d" % beta

    def format(self):
        return "%s = %.2f" % (self.name, self.score)

    __str__ = format

    def as_dict(self):
        return {"score": self.score, "beta": self.beta, "stats": self.stats}


class CHRF:
    """Corpus chrF (default chrF2: char order 6, word order 0, beta 2)."""

    def __init__(self, references, order=6, beta=2, lowercase=False):
        self.order = order
        self.beta = beta
        self.lowercase = lowercase
        segments, self.nrefs, self.empty_refs = _segments(references)
        self._refs = []
        for refs in segments:
            entry = []
            for ref in refs:
                grams = _char_ngrams(self._prep(ref), order)
                entry.append([(g, sum(g.values())) for g in grams])
            self._refs.append(entry)

    def _prep(self, sent):
        return sent.lower() if self.lowercase else sent

    def _segment_stats(self, hyp_grams, ref_entry):
        stats = []
        for hg, (rg, r_total) in zip(hyp_grams, ref_entry):
            h_total = m = 0
            for g, c in hg.items():
                h_total += c
                rc = rg.get(g)
                if rc:
                    m += c if c < rc else rc
            # a reference without n-grams of this order: the hypothesis
            # n-grams of this order are not counted either (as sacreBLEU)
            stats += (h_total if rg else 0, r_total, m)
        return stats

    def corpus_score(self, hyps):
        hyps = _check_hyps(hyps, len(self._refs))
        total = [0] * (3 * self.order)
        for hyp, entry in zip(hyps, self._refs):
            hg = _char_ngrams(self._prep(hyp), self.order)
            if len(entry) == 1:
                stats = self._segment_stats(hg, entry[0])
            else:  # several references: the one with the best segment chrF
                best, best_f = None, -1.0
                for ref in entry:
                    seg = self._segment_stats(hg, ref)
                    f = compute_chrf(seg, self.order, self.beta)
                    if f > best_f:
                        best, best_f = seg, f
                stats = best
            for i, v in enumerate(stats):
                total[i] += v
        return CHRFScore(compute_chrf(total, self.order, self.beta), self.beta, total)

    def signature(self):
        return "nrefs:%s|case:%s|eff:yes|nc:%d|nw:0|space:no|version:%s" % (
            _nrefs_str(self.nrefs), "lc" if self.lowercase else "mixed",
            self.order, VERSION)


# ---------------------------------------------------------------------------
# ROUGE

def lcs_length(a, b):
    """Length of the longest common subsequence of two sequences."""
    if len(a) < len(b):
        a, b = b, a
    if not b:
        return 0
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            if x == y:
                cur.append(prev[j] + 1)
            else:
                left = cur[j]
                up = prev[j + 1]
                cur.append(left if left > up else up)
        prev = cur
    return prev[-1]


def _prf(overlap, n_hyp, n_ref):
    p = overlap / n_hyp if n_hyp else 0.0
    r = overlap / n_ref if n_ref else 0.0
    f = 2 * p * r / (p + r) if p + r > 0 else 0.0
    return p, r, f


def _rouge_n(hyp_toks, ref_toks, n):
    hg = Counter(zip(*[hyp_toks[i:] for i in range(n)]))
    rg = Counter(zip(*[ref_toks[i:] for i in range(n)]))
    overlap = sum(min(c, hg[g]) for g, c in rg.items() if g in hg)
    return _prf(overlap, sum(hg.values()), sum(rg.values()))


def _rouge_l(hyp_toks, ref_toks):
    if not hyp_toks or not ref_toks:
        return 0.0, 0.0, 0.0
    return _prf(lcs_length(hyp_toks, ref_toks), len(hyp_toks), len(ref_toks))


class ROUGEScore:
    """Mean per-segment precision / recall / F1 (x100) for each ROUGE type."""

    KINDS = ("rouge1", "rouge2", "rougeL")
    LABELS = {"rouge1": "ROUGE-1", "rouge2": "ROUGE-2", "rougeL": "ROUGE-L"}

    def __init__(self, values, segments):
        self.values = values  # kind -> (p, r, f), each in [0, 100]
        self.segments = segments

    def format(self):
        return "\n".join("%s = %.2f (P = %.2f R = %.2f)" % (
            self.LABELS[k], self.values[k][2], self.values[k][0], self.values[k][1])
            for k in self.KINDS)

    __str__ = format

    def as_dict(self):
        return {k: {"precision": v[0], "recall": v[1], "f1": v[2]}
                for k, v in self.values.items()}


class ROUGE:
    """Corpus ROUGE-1/2/L F1 (rouge-score conventions, see module doc)."""

    def __init__(self, references, tokenize="ascii"):
        tokenize_rouge("", tokenize)  # validate the option early
        self.tokenize = tokenize
        segments, self.nrefs, self.empty_refs = _segments(references)
        self._refs = [[tokenize_rouge(r, tokenize) for r in refs] for refs in segments]

    def corpus_score(self, hyps):
        hyps = _check_hyps(hyps, len(self._refs))
        sums = {k: [0.0, 0.0, 0.0] for k in ROUGEScore.KINDS}
        for hyp, refs in zip(hyps, self._refs):
            h = tokenize_rouge(hyp, self.tokenize)
            for kind in ROUGEScore.KINDS:
                best = None
                for r in refs:  # several references: the best F1 per type
                    if kind == "rougeL":
                        s = _rouge_l(h, r)
                    else:
                        s = _rouge_n(h, r, 1 if kind == "rouge1" else 2)
                    if best is None or s[2] > best[2]:
                        best = s
                acc = sums[kind]
                for i in range(3):
                    acc[i] += best[i]
        n = len(self._refs)
        values = {k: tuple(100.0 * v / n if n else 0.0 for v in sums[k]) for k in sums}
        return ROUGEScore(values, n)

    def signature(self):
        return "nrefs:%s|case:lc|tok:%s|stem:no|avg:segment-mean|version:%s" % (
            _nrefs_str(self.nrefs),
            "rouge" if self.tokenize == "ascii" else "rouge-unicode", VERSION)


# ---------------------------------------------------------------------------
# Copy rate: do numbers and names come through?

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_CAPITALIZED = re.compile(r"[^\W\d_][\w'’-]*", re.UNICODE)


def source_numbers(text):
    """The numbers of a text, as written (1791, 3.14, 12,5)."""
    return _NUMBER.findall(text)


def source_names(text):
    """Capitalized words of a text that do not start it (a sentence-initial
    word is capitalized anyway), as written: Marseille, INSEE, PSG."""
    words = [m.group(0) for m in _CAPITALIZED.finditer(text)]
    return [w for i, w in enumerate(words) if i > 0 and w[:1].isupper()]


def _kept(items, text):
    """The items that occur in `text` as whole tokens (numbers are not matched
    inside longer numbers, words not inside longer words)."""
    out = []
    for it in items:
        if re.search(r"(?<![\w.,])%s(?![\w]|[.,]\d)" % re.escape(it), text):
            out.append(it)
    return out


class CopyScore:
    """Share (x100) of the source numbers and names that the reference keeps
    which the hypothesis keeps as well."""

    def __init__(self, numbers, names):
        self.numbers = numbers  # (kept by the hypothesis, kept by the reference)
        self.names = names

    @staticmethod
    def _rate(pair):
        return 100.0 * pair[0] / pair[1] if pair[1] else float("nan")

    def format(self):
        return "copy rate: numbers = %.1f%% (%d of %d), names = %.1f%% (%d of %d)" % (
            self._rate(self.numbers), self.numbers[0], self.numbers[1],
            self._rate(self.names), self.names[0], self.names[1])

    __str__ = format

    def as_dict(self):
        return {"numbers": self._rate(self.numbers), "numbers_kept": self.numbers[0],
                "numbers_in_reference": self.numbers[1], "names": self._rate(self.names),
                "names_kept": self.names[0], "names_in_reference": self.names[1]}


class CopyRate:
    """Copy rate against one reference stream and the source lines: for each
    segment, the source numbers (and capitalized non-initial source words)
    that the reference keeps verbatim are the ones to copy; the score is the
    share of them the hypothesis keeps verbatim too."""

    def __init__(self, references, sources):
        segments, self.nrefs, self.empty_refs = _segments(references)
        if len(sources) != len(segments):
            raise ValueError("%d source lines for %d segments" % (len(sources), len(segments)))
        self._todo = []
        for src, refs in zip(sources, segments):
            ref = refs[0] if refs else ""
            self._todo.append((_kept(source_numbers(src), ref), _kept(source_names(src), ref)))

    def corpus_score(self, hyps):
        hyps = _check_hyps(hyps, len(self._todo))
        num, names = [0, 0], [0, 0]
        for hyp, (want_num, want_names) in zip(hyps, self._todo):
            num[0] += len(_kept(want_num, hyp))
            num[1] += len(want_num)
            names[0] += len(_kept(want_names, hyp))
            names[1] += len(want_names)
        return CopyScore(tuple(num), tuple(names))

    def signature(self):
        return "nrefs:%s|numbers:\\d+([.,]\\d+)*|names:capitalized-non-initial|version:%s" % (
            _nrefs_str(self.nrefs), VERSION)


# ---------------------------------------------------------------------------
# One-call conveniences

def corpus_bleu(hyps, references, **kw):
    """references: a list of reference streams (or one stream as a list of str)."""
    return BLEU(_as_streams(references), **kw).corpus_score(hyps)


def corpus_chrf(hyps, references, **kw):
    return CHRF(_as_streams(references), **kw).corpus_score(hyps)


def corpus_rouge(hyps, references, **kw):
    return ROUGE(_as_streams(references), **kw).corpus_score(hyps)


def _as_streams(references):
    references = list(references)
    if references and all(isinstance(r, str) for r in references):
        return [references]
    return references
