"""s2s_tools.tokenizer - the Python twin of the C tokenizer (tokenizer/*.c).

Standard library only (unicodedata, re). It implements the "tokenizer" object
of config.json (model-format.md section 5 plus the extensions in docs/tokenizer.md):

    normalizer  "none" | "tutorial" | "text"      (default "none")
    level       "word" | "char" | "bpe"           (default "word")
    lowercase   bool, "text" normalizer only       (default false)
    merges      BPE merges file, relative to the model directory ("bpe" only)
    whole_numbers  bool, "bpe" only: a word of the digits 0-9 alone is one
                piece (default false)
    whole_names    bool, "bpe" only: a capitalized word (an upper- or
                title-case letter, then lowercase letters only) is one
                piece (default false)

The C tokenizer must give exactly the same tokens for the same text; the
parity goldens under tests/fixtures/tokenizer/ are made from this module by
tests/fixtures/make_tokenizer_golden.py.

    tok = Tokenizer({"normalizer": "text", "level": "bpe", "merges": "merges.txt"}, "models/x")
    tok.split("I'm fine, thanks.")   # -> list of token strings
    tok.join(tokens)                  # -> text a person reads

    merges = learn_bpe(lines, {"normalizer": "text"}, 8000)
    write_merges("merges.txt", merges)
"""

import heapq
import os
import re
import unicodedata

JOINER = "\uffed"  # HALFWIDTH BLACK SQUARE; NFKC maps it to U+25A0, so "text" input never holds it
BPE_MAX_WORD_CHARS = 64  # longer words are not merged: one piece per code point (C: S2S_BPE_MAX_WORD_CHARS)
MERGES_VERSION_LINE = "#version: 0.2"

NORMALIZERS = ("none", "tutorial", "text")
LEVELS = ("word", "char", "bpe")

_ASCII_WS = " \t\r\n\x0b\x0c"
_ASCII_WS_RUN = re.compile(r"[ \t\r\n\x0b\x0c]+")
_ASCII_DIGITS = re.compile(r"[0-9]+")  # a word of these alone is one piece with whole_numbers


def is_capitalized(word):
    """True for a capitalized word, kept whole by whole_names: a first code
    point of category Lu or Lt, then one or more of category Ll, nothing else."""
    return (len(word) >= 2 and unicodedata.category(word[0]) in ("Lu", "Lt")
            and all(unicodedata.category(c) == "Ll" for c in word[1:]))


def _kept_whole(word, whole_numbers, whole_names):
    """True when level bpe keeps this word unit as one piece."""
    return bool((whole_numbers and _ASCII_DIGITS.fullmatch(word)) or (whole_names and is_capitalized(word)))


# ---------------------------------------------------------------------------
# the PyTorch seq2seq tutorial's normalizeString, verbatim in behaviour

def _unicode_to_ascii(s):
    return "".join(c for c in unicodedata.normalize("NFD", s) if unicodedata.category(c) != "Mn")


def tutorial_normalize(s):
    """The tutorial's normalizeString: lower, strip, NFD minus Mn, space before
    .!?, runs outside a-zA-Z!? become one space, strip."""
    s = _unicode_to_ascii(s.lower().strip())
    s = re.sub(r"([.!?])", r" \1", s)
    s = re.sub(r"[^a-zA-Z!?]+", r" ", s)
    return s.strip()


# ---------------------------------------------------------------------------
# the "text" normalizer

def _lower_each(s):
    """Full lowercase mapping of each code point on its own (no context: a
    capital sigma always becomes U+03C3, U+0130 becomes 'i' + U+0307)."""
    return "".join(c.lower() for c in s)


def _is_space(c):
    # Python's str.isspace(): category Zs or bidirectional class WS, B or S
    return c.isspace()


MAX_NONSTARTERS = 30  # UAX #15 stream-safe limit; the C side uses the same
CGJ = "\u034f"       # COMBINING GRAPHEME JOINER, a starter-like break (ccc 0)


def stream_safe(s):
    """Inserts U+034F after every 30 consecutive non-starters (canonical
    combining class > 0, of the input code points), as UAX #15's stream-safe
    format does, so that normalization never sorts an unbounded run of marks
    (which takes quadratic time). Text with shorter runs is unchanged."""
    out, run = [], 0
    for c in s:
        if unicodedata.combining(c):
            if run == MAX_NONSTARTERS:
                out.append(CGJ)
                run = 0
            run += 1
        else:
            run = 0
        out.append(c)
    return "".join(out)


def text_chunks(s, lowercase=False):
    """The "text" normalizer: NFKC, optional lowercasing, control and format
    characters (Cc, Cf) dropped, split on white space. Returns a list of
    chunks; each chunk is a list of segments (kind, string) with kind "w"
    (word: a run of characters that are neither punctuation nor symbol) or
    "p" (one P* or S* code point plus the combining marks that follow it).
    Segments of one chunk touch each other in the text."""
    s = unicodedata.normalize("NFKC", stream_safe(s))
    if lowercase:
        s = _lower_each(s)
    chunks = []
    cur = []          # segments of the current chunk
    for c in s:
        if _is_space(c):
            if cur:
                chunks.append(cur)
                cur = []
            continue
        cat = unicodedata.category(c)
        if cat in ("Cc", "Cf"):
            continue
        if cat[0] in "PS":
            cur.append(["p", c])
        elif cat[0] == "M" and cur:
            cur[-1][1] += c
        elif cur and cur[-1][0] == "w":
            cur[-1][1] += c
        else:
            cur.append(["w", c])
    if cur:
        chunks.append(cur)
    return [[(k, v) for k, v in ch] for ch in chunks]


def text_normalize(s, lowercase=False):
    """The normalized text of the "text" normalizer (used by level "char"):
    the chunks joined by single spaces."""
    return " ".join("".join(v for _, v in ch) for ch in text_chunks(s, lowercase))


# ---------------------------------------------------------------------------
# BPE merges files

def read_merges(path):
    """Reads a merges file: one merge "a b" per line, in rank order; a first
    line starting with "#version" is skipped; "\r\n" line ends are accepted;
    a pair listed twice keeps its first rank (Tokenizer ranks it so). Raises
    ValueError naming the line for a malformed one (a NUL byte included), and
    naming the file when it holds no merge at all (BPE would then split every
    word into characters). Returns a list of (a, b)."""
    with open(path, "rb") as f:
        data = f.read()
    text = data.decode("utf-8")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    merges = []
    for i, line in enumerate(lines, 1):
        if line.endswith("\r"):
            line = line[:-1]
        if "\0" in line:
            raise ValueError("%s: line %d: NUL byte at column %d" % (path, i, line.index("\0") + 1))
        if i == 1 and line.startswith("#version"):
            continue
        parts = line.split(" ")
        if len(parts) != 2 or not parts[0] or not parts[1]:
            raise ValueError("%s: line %d: expected two symbols separated by one space" % (path, i))
        merges.append((parts[0], parts[1]))
    if not merges:
        raise ValueError("%s: no merges (the file is empty%s)"
                         % (path, " apart from its #version line" if lines else ""))
    return merges


def write_merges(path, merges):
    """Writes merges (list of (a, b)) in rank order with a "#version" first line."""
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(MERGES_VERSION_LINE + "\n")
        for a, b in merges:
            f.write("%s %s\n" % (a, b))


def bpe_encode(word, ranks):
    """Splits `word` (str) into BPE pieces (list of str). `ranks` maps (a, b)
    to its rank (0 = first merge). Rank-priority loop as in subword-nmt: while
    some adjacent pair has a rank, take the lowest-ranked one and merge every
    occurrence of it, left to right, without overlap. Words longer than
    BPE_MAX_WORD_CHARS code points are returned one code point per piece."""
    syms = list(word)
    if len(syms) > BPE_MAX_WORD_CHARS:
        return syms
    while len(syms) > 1:
        best = None
        best_rank = None
        for i in range(len(syms) - 1):
            r = ranks.get((syms[i], syms[i + 1]))
            if r is not None and (best_rank is None or r < best_rank):
                best_rank = r
                best = (syms[i], syms[i + 1])
        if best is None:
            break
        a, b = best
        out = []
        i = 0
        n = len(syms)
        while i < n:
            if i + 1 < n and syms[i] == a and syms[i + 1] == b:
                out.append(a + b)
                i += 2
            else:
                out.append(syms[i])
                i += 1
        syms = out
    return syms


# ---------------------------------------------------------------------------
# the tokenizer

class Tokenizer:
    """Tokenizer for one config.json "tokenizer" object `cfg` (a dict).
    `model_dir` is the directory the merges file name is relative to (needed
    for level "bpe" only; the merges may also be given as `merges=[(a, b)...]`)."""

    def __init__(self, cfg=None, model_dir=None, merges=None):
        cfg = dict(cfg or {})
        self.normalizer = cfg.get("normalizer", "none")
        self.level = cfg.get("level", "word")
        self.lowercase = bool(cfg.get("lowercase", False))
        self.whole_numbers = bool(cfg.get("whole_numbers", False))
        self.whole_names = bool(cfg.get("whole_names", False))
        if self.normalizer not in NORMALIZERS:
            raise ValueError("tokenizer.normalizer: unknown value %r" % (self.normalizer,))
        if self.level not in LEVELS:
            raise ValueError("tokenizer.level: unknown value %r" % (self.level,))
        for key in ("whole_numbers", "whole_names"):
            if getattr(self, key) and self.level != "bpe":
                raise ValueError("tokenizer.%s: only for level \"bpe\" (it is %r)" % (key, self.level))
        self.ranks = None
        if self.level == "bpe":
            if merges is None:
                name = cfg.get("merges")
                if not name:
                    raise ValueError("tokenizer.merges: required for level \"bpe\"")
                merges = read_merges(os.path.join(model_dir or ".", name))
            self.ranks = {}
            for r, pair in enumerate(merges):
                self.ranks.setdefault(tuple(pair), r)

    # -- normalizers: text -> list of units (kind, string, attached) -------
    def units(self, text):
        """Normalized words and punctuation: list of (kind, string, attached)
        where kind is "w" or "p" and attached tells that the unit touches the
        previous one (no white space between them)."""
        if self.normalizer == "none":
            text = text.replace("\x00", "")  # U+0000 is dropped (C strings cannot hold it)
            return [("w", w, False) for w in _ASCII_WS_RUN.split(text) if w]
        if self.normalizer == "tutorial":
            return [("w", w, False) for w in tutorial_normalize(text).split(" ") if w]
        out = []
        for ch in text_chunks(text, self.lowercase):
            for i, (k, v) in enumerate(ch):
                out.append((k, v, i > 0))
        return out

    def normalized_text(self, text):
        """The normalized text that level "char" splits into code points."""
        if self.normalizer == "none":
            return text.replace("\x00", "")
        if self.normalizer == "tutorial":
            return tutorial_normalize(text)
        return text_normalize(text, self.lowercase)

    def split(self, text, vocab=None):
        """Tokens of `text` (str). For level "char", an ASCII white-space
        character becomes " " when `vocab` (a dict or set) holds " " or when
        `vocab` is None, and is dropped otherwise."""
        if self.level == "char":
            keep_space = vocab is None or " " in vocab
            out = []
            for c in self.normalized_text(text):
                if c in _ASCII_WS:
                    if keep_space:
                        out.append(" ")
                else:
                    out.append(c)
            return out
        units = self.units(text)
        if self.level == "bpe":
            expanded = []
            for k, v, att in units:
                if k == "w" and not _kept_whole(v, self.whole_numbers, self.whole_names):
                    for j, piece in enumerate(bpe_encode(v, self.ranks)):
                        expanded.append((k, piece, att if j == 0 else True))
                else:
                    expanded.append((k, v, att))
            units = expanded
        if self.normalizer != "text" and self.level == "word":
            return [v for _, v, _ in units]
        # joiner marks: at each attached boundary, a punctuation unit on the
        # left takes a trailing mark, otherwise the right unit takes a leading one
        toks = [v for _, v, _ in units]
        for i in range(1, len(units)):
            if units[i][2]:
                if units[i - 1][0] == "p":
                    toks[i - 1] = toks[i - 1] + JOINER
                else:
                    toks[i] = JOINER + toks[i]
        return toks

    def split_bytes(self, data, lenient=False, vocab=None):
        """Tokens of UTF-8 `data` (bytes), as the C s2s_tokenize splits them:
        invalid UTF-8 raises ValueError("invalid UTF-8 at byte N"), or with
        `lenient` each maximal ill-formed subpart becomes U+FFFD."""
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            if not lenient:
                raise ValueError("invalid UTF-8 at byte %d" % e.start) from None
            text = data.decode("utf-8", "replace")
        return self.split(text, vocab)

    def join(self, tokens):
        """Text a person reads from tokens: "char" concatenates; "word" with
        the "none"/"tutorial" normalizer joins with single spaces; otherwise
        tokens are joined with a space except where a joiner mark ends the
        left token or starts the right one, and the marks are removed."""
        if self.level == "char":
            return "".join(tokens)
        if self.normalizer != "text" and self.level == "word":
            return " ".join(tokens)
        out = []
        glue_next = True  # nothing before the first token
        for t in tokens:
            left = t.startswith(JOINER)
            if left:
                t = t[len(JOINER):]
            right = t.endswith(JOINER)
            if right:
                t = t[:-len(JOINER)]
            if not (glue_next or left):
                out.append(" ")
            out.append(t)
            glue_next = right
        return "".join(out)


# ---------------------------------------------------------------------------
# learning BPE merges

def _word_counts(texts, cfg):
    norm_cfg = {"normalizer": (cfg or {}).get("normalizer", "none"),
                "lowercase": (cfg or {}).get("lowercase", False), "level": "word"}
    tok = Tokenizer(norm_cfg)
    whole_numbers = bool((cfg or {}).get("whole_numbers", False))
    whole_names = bool((cfg or {}).get("whole_names", False))
    counts = {}
    for t in texts:
        for k, v, _ in tok.units(t):
            if k == "w" and not _kept_whole(v, whole_numbers, whole_names):
                counts[v] = counts.get(v, 0) + 1
    return counts


def learn_bpe(texts, cfg, num_merges, min_frequency=2):
    """Learns up to `num_merges` BPE merges from `texts` (an iterable of str)
    normalized by the "tokenizer" object `cfg` (its normalizer and lowercase;
    only word units are used, punctuation units are never merged; with its
    "whole_numbers" and "whole_names", digit-only and capitalized words are
    left out, as encoding keeps them whole). Words longer than
    BPE_MAX_WORD_CHARS code points are left out, as encoding never merges
    them. At each step the most frequent adjacent pair (counted over word
    occurrences) is merged; ties go to the smallest pair in (string, string)
    order. Stops early when the best pair occurs fewer than `min_frequency`
    times. Returns a list of (a, b) in rank order."""
    counts = _word_counts(texts, cfg)
    words = []
    freqs = []
    for w in sorted(counts):
        if 2 <= len(w) <= BPE_MAX_WORD_CHARS:
            words.append(list(w))
            freqs.append(counts[w])

    pair_count = {}
    where = {}  # pair -> set of word indices that (may) contain it
    for wi, syms in enumerate(words):
        f = freqs[wi]
        for i in range(len(syms) - 1):
            p = (syms[i], syms[i + 1])
            pair_count[p] = pair_count.get(p, 0) + f
            where.setdefault(p, set()).add(wi)

    heap = [(-c, p) for p, c in pair_count.items()]
    heapq.heapify(heap)
    merges = []

    def add(p, delta, wi):
        c = pair_count.get(p, 0) + delta
        if c:
            pair_count[p] = c
        else:
            pair_count.pop(p, None)
        if delta > 0:
            where.setdefault(p, set()).add(wi)
            heapq.heappush(heap, (-c, p))

    while len(merges) < num_merges and heap:
        negc, p = heapq.heappop(heap)
        cur = pair_count.get(p, 0)
        if cur != -negc:
            if cur > 0 and cur < -negc:
                heapq.heappush(heap, (-cur, p))  # stale entry of a decreased count
            continue
        if cur < min_frequency:
            break
        merges.append(p)
        a, b = p
        ab = a + b
        for wi in sorted(where.pop(p, ())):
            syms = words[wi]
            f = freqs[wi]
            n = len(syms)
            i = 0
            out = []
            changed = False
            while i < n:
                if i + 1 < n and syms[i] == a and syms[i + 1] == b:
                    out.append(ab)
                    i += 2
                    changed = True
                else:
                    out.append(syms[i])
                    i += 1
            if not changed:
                continue
            # remove the old pairs of this word, add the new ones
            for i in range(n - 1):
                add((syms[i], syms[i + 1]), -f, wi)
            for i in range(len(out) - 1):
                add((out[i], out[i + 1]), f, wi)
            words[wi] = out
        pair_count.pop(p, None)
    return merges
