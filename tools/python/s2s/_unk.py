"""replace_unk: every emitted unk becomes the source word it attends to
most, in its spelling in the input line. The same rules as the command's
--replace-unk (tools/s2s/cli_unk.c), on the bytes of the line:

  - the source column is the row's argmax (first on ties), not counting an
    appended eos column when there is any other column;
  - the line is split into ASCII-white-space separated words; each word is
    tokenized with the white space before it to count its pieces, which
    finds the word the column's piece came from;
  - in that word the piece (joiner marks removed) is searched ignoring ASCII
    case and its span of the line is used; when not found and the word makes
    one piece, the word without ASCII punctuation at either end is used;
  - otherwise (or when the word is not found) the piece itself, without
    joiner marks;
  - the replaced word is separated from its neighbours by one space (none
    for character-level models); the runs between unks are detokenized by
    the library.
"""
import ctypes

from . import _lib
from ._results import decode

_WS = b" \t\n\v\f\r"          # C isspace in the C locale
_PUNCT = set(b"!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")  # C ispunct in the C locale
_JOINER = "\uffed".encode("utf-8")


class UnkReplacer:
    def __init__(self, model):
        c = model._c_info
        self.m = model
        self.has_eos = bool(c.append_eos)
        self.unk_id = -1
        if c.unk is not None:
            self.unk_id = model._lib.s2s_model_token_id(model._handle, _lib.S2S_TARGET, c.unk, len(c.unk))
        self.separator = b"" if c.level == b"char" else b" "

    def text(self, line, seq, res, h, lenient):
        """Readable text (str) of C hypothesis `h` of result `res` for the
        input `line` (bytes) tokenized into `seq` (a _lib.TokenSeq)."""
        n_source = res.n_source
        if self.unk_id < 0 or not h.attention:
            return self.m._detok_result(res, h.tokens, h.n_tokens)
        ids = h.tokens[:h.n_tokens] if h.n_tokens > 0 else []
        buf = b""
        run = 0
        for i, tok in enumerate(ids):
            if tok != self.unk_id:
                continue
            col = self._best_column(h, i, n_source)
            word = self._original_spelling(line, seq, col, lenient)
            buf = self._append_run(res, buf, ids, run, i)
            if buf:
                buf += self.separator
            buf += word
            run = i + 1
        buf = self._append_run(res, buf, ids, run, len(ids))
        return decode(buf)

    def _best_column(self, h, i, n_source):
        n = n_source - 1 if (self.has_eos and n_source > 1) else n_source
        row = h.attention[i * n_source:i * n_source + n]
        best = 0 if n > 0 else -1
        for j in range(1, n):
            if row[j] > row[best]:
                best = j
        return best

    def _append_run(self, res, buf, ids, a, b):
        if b <= a:
            return buf
        arr = (ctypes.c_int * (b - a))(*ids[a:b])
        t = self.m._lib.take_string(self.m._lib.s2s_detokenize_result(self.m._handle, ctypes.byref(res), arr, b - a))
        if t is None:
            raise MemoryError("out of memory in s2s_detokenize_result")
        if buf:
            buf += self.separator
        return buf + t

    def _count_pieces(self, word, lenient):
        seq = self.m._tokenize_c(_lib.S2S_SOURCE, word, lenient)
        if not isinstance(seq, _lib.TokenSeq):
            return -1
        n = seq.n - (1 if self.has_eos and seq.n > 0 else 0)
        self.m._lib.s2s_token_seq_free(ctypes.byref(seq))
        return n

    def _original_spelling(self, line, seq, col, lenient):
        bare = (seq.pieces[col] if col >= 0 else b"").replace(_JOINER, b"")
        before = 0
        i, n = 0, len(line)
        while i < n:
            seg = i
            while i < n and line[i] in _WS:
                i += 1
            s = i
            while i < n and line[i] not in _WS:
                i += 1
            if i == s:
                break
            k = self._count_pieces(line[seg:i], lenient)
            if k < 0:
                break
            if col < before + k:
                w = line[s:i]
                at = w.lower().find(bare.lower()) if bare else -1
                if at >= 0:
                    return w[at:at + len(bare)]
                a, b = 0, len(w)
                while a < b and w[a] in _PUNCT:
                    a += 1
                while b > a and w[b - 1] in _PUNCT:
                    b -= 1
                if k == 1 and b > a:
                    return w[a:b]
                break
            before += k
        return bare
