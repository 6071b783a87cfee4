"""What the package returns (Hypothesis, Translation, Score, Tokens) and the
two output layouts of the `s2s` command, written the same way byte for
byte: the jsonl object (format_jsonl) and the text lines (format_text).
"""
import codecs
import math


def _one_byte_replace(exc):
    """Decoding error handler: each invalid byte becomes one U+FFFD, as the
    command's JSON writer does (Python's "replace" may merge several)."""
    return ("\ufffd", exc.start + 1)


codecs.register_error("s2s-per-byte", _one_byte_replace)


def decode(b):
    """Text of UTF-8 bytes, each invalid byte shown as U+FFFD."""
    return b.decode("utf-8", "s2s-per-byte")


def argmax(row):
    """Index of the largest entry of `row` (the first on ties; NaN never
    wins, as in the command); -1 for an empty row."""
    best = 0 if len(row) else -1
    for j in range(1, len(row)):
        if row[j] > row[best]:
            best = j
    return best


class Hypothesis:
    """One output sequence.

    text            readable text (detokenized; with replace_unk, unks replaced)
    tokens          target vocabulary tokens, the final eos excluded
    ids             their ids
    score           sum of natural-log probabilities (eos included when emitted)
    ranking_score   score with the length penalty applied (what beams rank by)
    finished        True when eos was emitted
    token_logprobs  one log-probability per decoding step, eos step included
    attention       numpy float32 array n_steps x n_source (None unless asked)
    n_source        number of source positions the attention columns refer to
    """

    __slots__ = ("text", "tokens", "ids", "score", "ranking_score", "finished", "token_logprobs",
                 "attention", "n_source")

    def __init__(self, text, tokens, ids, score, ranking_score, finished, token_logprobs, attention, n_source):
        self.text = text
        self.tokens = tokens
        self.ids = ids
        self.score = score
        self.ranking_score = ranking_score
        self.finished = finished
        self.token_logprobs = token_logprobs
        self.attention = attention
        self.n_source = n_source

    @property
    def n_steps(self):
        """Decoding steps: the tokens plus the eos step when finished."""
        return len(self.token_logprobs)

    def alignment(self):
        """Hard alignment as (source_position, target_position) pairs: for
        each emitted token (eos step excluded) the source position it attends
        to most. Needs the attention (return_attention=True)."""
        if self.attention is None:
            raise ValueError("no attention: translate with return_attention=True")
        rows = self.attention.tolist()
        return [(argmax(rows[i]), i) for i in range(min(len(self.ids), len(rows)))]

    def __repr__(self):
        return "Hypothesis(text=%r, score=%.6g, finished=%r)" % (self.text, self.score, self.finished)

    def __eq__(self, other):
        if not isinstance(other, Hypothesis):
            return NotImplemented
        same = all(getattr(self, k) == getattr(other, k) for k in self.__slots__ if k != "attention")
        a, b = self.attention, other.attention
        if a is None or b is None:
            return same and a is b
        return same and a.shape == b.shape and bool((a == b).all())

    def __getstate__(self):
        return {k: getattr(self, k) for k in self.__slots__}

    def __setstate__(self, state):
        for k, v in state.items():
            setattr(self, k, v)


class Translation(list):
    """The hypotheses of one input line, best first (a list), with:

    source_tokens   the source vocabulary tokens fed to the encoder (eos included)
    truncated       True when the input was cut at the model's max_input_tokens
    """

    def __init__(self, hyps, source_tokens, truncated):
        super().__init__(hyps)
        self.source_tokens = source_tokens
        self.truncated = truncated

    @property
    def text(self):
        """Text of the best hypothesis ("" when there is none)."""
        return self[0].text if self else ""

    def __repr__(self):
        return "Translation(%s)" % list.__repr__(self)

    def __eq__(self, other):
        return (isinstance(other, Translation) and list.__eq__(self, other) and
                self.source_tokens == other.source_tokens and self.truncated == other.truncated)

    __hash__ = None

    def __reduce__(self):
        return (Translation, (list(self), self.source_tokens, self.truncated))


class Score(Hypothesis):
    """Forced decoding of one (source, target) pair: a finished Hypothesis of
    the target (text is the detokenized target) with the source_tokens and
    `truncated` (source or target cut at the tokenizer's limit)."""

    __slots__ = ("source_tokens", "truncated")

    def __init__(self, hyp, source_tokens, truncated):
        for k in Hypothesis.__slots__:
            setattr(self, k, getattr(hyp, k))
        self.source_tokens = source_tokens
        self.truncated = truncated

    def __repr__(self):
        return "Score(%.9g, text=%r)" % (self.score, self.text)

    def __reduce__(self):
        hyp = Hypothesis(*(getattr(self, k) for k in Hypothesis.__slots__))
        return (Score, (hyp, self.source_tokens, self.truncated))


class Tokens(list):
    """Tokens of one text (vocabulary tokens, a list of str) with:

    ids        their ids
    pieces     the strings split from the text before vocabulary look-up
    truncated  True when the text was cut at the tokenizer's limit
    """

    def __init__(self, tokens, ids, pieces, truncated):
        super().__init__(tokens)
        self.ids = ids
        self.pieces = pieces
        self.truncated = truncated

    def __repr__(self):
        return "Tokens(%s)" % list.__repr__(self)


# ---- the command's output layouts ----------------------------------------

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}


def json_str(s):
    """`s` as a JSON string the way the command writes it: quotes,
    backslashes and the usual control escapes, other control characters
    and DEL as \\u00xx, everything else as is."""
    if s is None:
        return "null"
    out = ['"']
    for ch in s:
        e = _ESCAPES.get(ch)
        if e is None and (ch < " " or ch == "\x7f"):
            e = "\\u%04x" % ord(ch)
        out.append(e or ch)
    out.append('"')
    return "".join(out)


def json_num(v):
    """A number with 9 significant digits; NaN and infinities as null."""
    return "%.9g" % v if math.isfinite(v) else "null"


def text_num(v):
    """A number for text output ("%.9g"; nan/inf/-inf spelled out)."""
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return "%.9g" % v


def _json_list(items, fmt):
    return "[" + ", ".join(fmt(x) for x in items) + "]"


def hard_alignment(h):
    """Pharaoh 'src-tgt' pairs as the command writes them ("" without attention)."""
    if h.attention is None:
        return ""
    return " ".join("%d-%d" % p for p in h.alignment())


def soft_alignment(h):
    """Every step's attention row, rows separated by spaces, weights by commas."""
    if h.attention is None:
        return ""
    return " ".join(",".join("%.6g" % w for w in row) for row in h.attention.tolist())


def _json_hyp(h, alignment):
    parts = ['{"text": ', json_str(h.text),
             ', "tokens": ', _json_list(h.tokens, json_str),
             ', "score": ', json_num(h.score),
             ', "ranking_score": ', json_num(h.ranking_score),
             ', "finished": ', "true" if h.finished else "false",
             ', "token_logprobs": ', _json_list(h.token_logprobs, json_num)]
    if alignment == "hard":
        parts += [', "alignment": "', hard_alignment(h), '"']
    rows = h.attention.tolist() if h.attention is not None else []
    parts += [', "attention": ', _json_list(rows, lambda r: _json_list(r, json_num)), "}"]
    return "".join(parts)


def format_jsonl(result, id, alignment=None):
    """The jsonl line (newline included) the command writes for input line
    `id` (0-based): `result` is a Translation, a Score, or an s2s.Error
    (written as {"id": N, "error": message}). `alignment` "hard" adds the
    Pharaoh pairs, as --alignment hard does. The attention is written when
    the result has it (the command always has it in jsonl)."""
    from ._errors import Error
    if isinstance(result, Error):
        return '{"id": %d, "error": %s}\n' % (id, json_str(result.message))
    hyps = [result] if isinstance(result, Score) else result
    s = '{"id": %d, "source_tokens": %s' % (id, _json_list(result.source_tokens, json_str))
    if result.truncated:
        s += ', "truncated": true'
    return s + ', "hypotheses": [' + ", ".join(_json_hyp(h, alignment) for h in hyps) + "]}\n"


def format_text(result, id=0, n_best=False, scores=False, alignment=None):
    """The text line(s) (newlines included) the command's translate writes
    for input line `id`: "text[ ||| alignment][ ||| score= S ||| R]" (S the
    score, R the ranking score); with n_best one "ID ||| text[ |||
    alignment] ||| score= S ||| R" line per hypothesis (the layout of
    --n-best); an s2s.Error or no hypothesis gives an empty line.
    `alignment` is None, "hard" or "soft"."""
    from ._errors import Error
    if isinstance(result, Error):
        return "\n"
    if not n_best:
        if not result:
            return "\n"
        return _text_hyp(result[0], None, alignment, scores)
    return "".join(_text_hyp(h, id, alignment, True) for h in result)


def _text_hyp(h, id, alignment, with_score):
    s = "" if id is None else "%d ||| " % id
    s += h.text
    if alignment in ("hard", "soft"):
        s += " ||| " + (hard_alignment(h) if alignment == "hard" else soft_alignment(h))
    if with_score:  # a feature field, then the score the list is ranked by (Moses, Marian)
        s += " ||| score= " + text_num(h.score) + " ||| " + text_num(h.ranking_score)
    return s + "\n"
