"""s2s.Model: a loaded model directory and everything done with it."""
import contextlib
import ctypes
import json
import os
import unicodedata
import threading
from concurrent.futures import ThreadPoolExecutor

from ctypes import byref, c_int

from . import _lib
from ._errors import EmptyInputError, Error, InvalidArgumentError, NoMemError, from_status
from ._results import Hypothesis, Score, Tokens, Translation, decode
from ._unk import UnkReplacer

# Summarization defaults when config.json has no "decoding" value (as `s2s summarize`).
SUMMARIZE_BEAM = 4
SUMMARIZE_LENGTH_PENALTY = 1.0
# Lines decoded per call into the library (the command's batch is 16 too).
DEFAULT_BATCH_SIZE = 16

_SIDES = {"source": _lib.S2S_SOURCE, "target": _lib.S2S_TARGET}


def _as_bytes(text, what="line"):
    """UTF-8 bytes of a str (lone surrogates from 'surrogateescape' become
    the original bytes again) or of bytes as given."""
    if isinstance(text, str):
        return text.encode("utf-8", "surrogateescape")
    if isinstance(text, (bytes, bytearray, memoryview)):
        return bytes(text)
    raise TypeError("%s must be str or bytes, not %s" % (what, type(text).__name__))


def _as_list(lines, what):
    if isinstance(lines, (str, bytes)):
        raise TypeError("%s must be a list of lines, not a single %s (wrap it: [text])"
                        % (what, type(lines).__name__))
    return list(lines)


def _check_errors_arg(errors):
    if errors not in ("raise", "return"):
        raise ValueError("errors must be 'raise' or 'return', not %r" % (errors,))


def _chunks(n, k):
    """k contiguous (start, end) ranges covering range(n), sizes differing by at most one."""
    k = max(1, min(k, n))
    q, r = divmod(n, k)
    out, a = [], 0
    for i in range(k):
        b = a + q + (1 if i < r else 0)
        out.append((a, b))
        a = b
    return out


class _Stop:
    """Shared by the chunks of one call with errors='raise': the index of the
    first failed line found so far; chunks that start after it stop."""

    def __init__(self):
        self.lock = threading.Lock()
        self.first = None

    def failed(self, index):
        with self.lock:
            if self.first is None or index < self.first:
                self.first = index

    def should_stop(self, start):
        return self.first is not None and self.first < start


class Model:
    """A model directory loaded by libs2s.

    Model(path, library=None, allow_nonfinite=False): `path` is the model
    directory; `library` an explicit path of libs2s.so (else $S2S_LIBRARY,
    the copy installed next to this package, the build tree, then the
    system's library path); `allow_nonfinite` accepts weights holding NaN or
    infinities (refused by default with a TensorError naming the tensor), as
    the command's --allow-nonfinite.

    A Model is safe to share between threads: each call takes a decoding
    session of its own from a pool (one per concurrent call or thread). The
    GIL is released while the library decodes a batch.
    """

    def __init__(self, path, library=None, allow_nonfinite=False):
        self._lib = _lib.load(library)
        self.path = os.fspath(path)
        err = _lib.Error()
        lp = self._lib.s2s_model_load_default_params()
        lp.allow_nonfinite = 1 if allow_nonfinite else 0
        handle = self._lib.s2s_model_load_with(os.fsencode(self.path), byref(lp), byref(err))
        if not handle:
            raise from_status(err.status, err.message)
        self._handle = handle
        self._sessions = []        # idle sessions
        self._busy = 0             # sessions lent out
        self._lock = threading.Lock()
        self._c_info = _lib.ModelInfo()
        self._lib.s2s_model_get_info(handle, byref(self._c_info))
        self._info = None
        self._vocab = [self._read_vocab(_lib.S2S_SOURCE, self._c_info.source_vocab_size),
                       self._read_vocab(_lib.S2S_TARGET, self._c_info.target_vocab_size)]
        self._unk = UnkReplacer(self)

    # ---- life cycle ----

    def close(self):
        """Frees the model and its sessions (also done when the Model is
        garbage collected). Using the Model afterwards raises an Error."""
        with self._lock:
            if self._busy:
                raise InvalidArgumentError("Model.close: %d calls are still running" % self._busy)
            handle, self._handle = getattr(self, "_handle", None), None
            sessions, self._sessions = getattr(self, "_sessions", []), []
        for s in sessions:
            self._lib.s2s_session_free(s)
        if handle:
            self._lib.s2s_model_free(handle)

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return "s2s.Model(%r)" % self.path

    def __reduce__(self):
        raise TypeError("an s2s.Model cannot be pickled; send the model path and load it where it is used "
                        "(s2s.dask does this once per worker)")

    def _model(self):
        if not self._handle:
            raise InvalidArgumentError("the model is closed")
        return self._handle

    @contextlib.contextmanager
    def _session(self):
        """A session of this model for the duration of the block."""
        with self._lock:
            self._model()
            s = self._sessions.pop() if self._sessions else None
            self._busy += 1
        try:
            if s is None:
                err = _lib.Error()
                s = self._lib.s2s_session_new(self._handle, byref(err))
                if not s:
                    raise from_status(err.status, err.message)
            yield s
        finally:
            with self._lock:
                self._busy -= 1
                if s is not None:
                    self._sessions.append(s)

    # ---- description ----

    def _read_vocab(self, side, n):
        out = []
        for i in range(n):
            t = self._lib.s2s_model_token(self._handle, side, i)
            out.append(None if t is None else decode(t))
        return out

    @property
    def info(self):
        """A dict describing the model, the same as `s2s info --format json`."""
        if self._info is None:
            self._info = self._make_info()
        return self._info

    def _make_info(self):
        c = self._c_info

        def s(b):
            return None if b is None else decode(b)

        def rnn(r, encoder):
            d = {"cell": s(r.cell), "embedding_size": r.embedding_size, "hidden_size": r.hidden_size,
                 "num_layers": r.num_layers}
            if encoder:
                d["bidirectional"] = bool(r.bidirectional)
            return d

        enc = rnn(c.encoder, True)
        enc["append_eos"] = bool(c.append_eos)
        dec = rnn(c.decoder, False)
        dec["attention"] = {"type": s(c.attention), "position": s(c.attention_position)}
        att = dec["attention"]
        if c.attention_size:
            att["size"] = c.attention_size
        if c.format_version >= 2:
            att["coverage"] = bool(c.coverage)
            if c.heads:
                att["heads"] = c.heads
            if c.local is not None:
                att["local"] = s(c.local)
                att["window"] = c.window
                if c.predictor_size:
                    att["predictor_size"] = c.predictor_size
            dec["copy"] = bool(c.copy)
        dec["input_feeding"] = bool(c.input_feeding)
        def as_written(v):  # as `s2s info` prints a float setting: 0.6, not 0.600000023841858
            return float("%g" % v)

        decoding = {"max_length": c.max_length or None}
        for key, value, present in (("beam_size", c.beam_size, c.beam_size > 0),
                                    ("min_length", c.min_length, c.min_length > 0),
                                    ("length_penalty", as_written(c.length_penalty), c.length_penalty >= 0),
                                    ("no_repeat_ngram", c.no_repeat_ngram, c.no_repeat_ngram > 0),
                                    ("coverage_penalty", as_written(c.coverage_penalty), c.coverage_penalty >= 0),
                                    ("keep_numbers", True, c.keep_numbers)):
            if present:
                decoding[key] = value
        tensors = []
        for i in range(c.n_tensors):
            t = _lib.TensorInfo()
            if self._lib.s2s_model_tensor(self._model(), i, byref(t)) != 0:
                continue
            tensors.append({"name": s(t.name), "dtype": s(t.dtype), "shape": list(t.shape[:t.ndim])})
        return {
            "dir": s(c.dir), "format_version": c.format_version, "task": s(c.task), "source_language": s(c.source_language),
            "target_language": s(c.target_language), "weights": s(c.weights_file),
            "encoder": enc, "bridge": s(c.bridge), "decoder": dec,
            "special_tokens": {"sos": s(c.sos), "eos": s(c.eos), "unk": s(c.unk), "pad": s(c.pad)},
            "source_vocab_size": c.source_vocab_size, "target_vocab_size": c.target_vocab_size,
            "tokenizer": {"normalizer": s(c.normalizer), "level": s(c.level), "lowercase": bool(c.lowercase),
                          "merges": s(c.merges_file), "max_input_tokens": c.max_input_tokens,
                          "whole_numbers": bool(c.whole_numbers),
                          "whole_names": bool(c.whole_names)},
            "decoding": decoding, "shortlist": bool(c.shortlist),
            "n_tensors": c.n_tensors, "n_parameters": c.n_parameters,
            "license": s(c.license), "attribution": s(c.attribution),
            "scores": None if c.scores_json is None else json.loads(decode(c.scores_json)),
            "tensors": tensors,
        }

    def vocabulary(self, side="source"):
        """The tokens of `side`'s vocabulary, indexed by id (a new list)."""
        return list(self._vocab[self._side(side)])

    @staticmethod
    def _side(side):
        try:
            return _SIDES[side]
        except KeyError:
            raise ValueError("side must be 'source' or 'target', not %r" % (side,)) from None

    # ---- tokenization ----

    def _tokenize_c(self, side, data, lenient, max_tokens=0):
        """A filled _lib.TokenSeq (the caller frees it) or an Error."""
        tp = self._lib.s2s_tokenize_default_params()
        tp.lenient = 1 if lenient else 0
        tp.max_tokens = max_tokens
        seq = _lib.TokenSeq()
        err = _lib.Error()
        st = self._lib.s2s_tokenize(self._model(), side, data, len(data), byref(tp), byref(seq), byref(err))
        if st != 0:
            return from_status(st, err.message)
        return seq

    def tokenize(self, text, side="source", lenient=False, max_tokens=0):
        """Tokens of `text` (str or UTF-8 bytes) as the model's tokenizer for
        `side` makes them: a list of vocabulary tokens (on the source side
        with the appended eos when the model appends one), with .ids,
        .pieces and .truncated. `lenient` replaces invalid UTF-8 by U+FFFD
        instead of raising Utf8Error; `max_tokens` > 0 cuts the text after
        that many tokens (default: the model's max_input_tokens)."""
        sd = self._side(side)
        seq = self._tokenize_c(sd, _as_bytes(text, "text"), lenient, max_tokens)
        if isinstance(seq, Error):
            raise seq
        try:
            ids = seq.ids[:seq.n] if seq.n else []
            pieces = [decode(seq.pieces[i]) for i in range(seq.n)]
            vocab = self._vocab[sd]
            return Tokens([vocab[i] for i in ids], ids, pieces, bool(seq.truncated))
        finally:
            self._lib.s2s_token_seq_free(byref(seq))

    def detokenize(self, ids):
        """Readable text of target ids (or target token strings), as the
        library joins them (eos ids are skipped)."""
        ids = list(ids)
        if ids and isinstance(ids[0], str):
            ids = [self._token_id(_lib.S2S_TARGET, t) for t in ids]
        arr = (c_int * len(ids))(*ids)
        for i in ids:
            if not 0 <= i < len(self._vocab[1]):
                raise InvalidArgumentError("target id %d is outside the vocabulary (0..%d)"
                                           % (i, len(self._vocab[1]) - 1))
        return self._detok(arr, len(ids))

    def _token_id(self, side, token):
        b = token.encode("utf-8")
        i = self._lib.s2s_model_token_id(self._model(), side, b, len(b))
        if i < 0:
            raise InvalidArgumentError("token '%s' is not in the %s vocabulary"
                                       % (token, "source" if side == 0 else "target"))
        return i

    def _detok(self, ptr, n):
        out = self._lib.take_string(self._lib.s2s_detokenize(self._model(), ptr, n))
        if out is None:
            raise NoMemError("out of memory in s2s_detokenize")
        return decode(out)

    # ---- decoding parameters ----

    def _decode_params(self, opts, want_attention, abort, extra):
        """The s2s_decode_params of a call: the library's defaults, then
        `opts` (C field name -> value), then `extra` (any other field by its
        C name). Returns it with the ctypes callback to keep alive."""
        dp = self._lib.s2s_decode_default_params()
        fields = {f[0] for f in _lib.DecodeParams._fields_} - {"abort_callback", "abort_user_data"}
        for k, v in list(opts.items()) + list(extra.items()):
            if k not in fields:
                raise TypeError("unknown decoding option %r" % k)
            try:
                setattr(dp, k, v)
            except TypeError:
                raise TypeError("decoding option %s: %r is not a number" % (k, v)) from None
        dp.want_attention = 1 if want_attention else 0
        keep = None
        if abort is not None:
            def cb(_user_data):
                try:
                    return 1 if abort() else 0
                except Exception:
                    return 1
            keep = _lib.ABORT_CALLBACK(cb)
            dp.abort_callback = keep
        return dp, keep

    def _check_params(self, session, dp):
        """Lets the library check the decoding parameters (a batch of none)."""
        res = (_lib.Result * 1)()
        err = _lib.Error()
        st = self._lib.s2s_translate_inputs(session, None, 0, byref(dp), res, byref(err))
        if st != 0:
            raise from_status(st, err.message)

    # ---- translation ----

    def translate(self, lines, beam=None, n_best=1, length_penalty=None, max_length=0, min_length=None,
                  no_repeat_ngram=None, coverage_penalty=None, prefix=None, sampling=False, num_samples=1,
                  temperature=1.0, top_k=0, top_p=1.0, seed=0, stream_offset=0, compute="f32",
                  shortlist=True, return_attention=False, replace_unk=False, lenient=False, threads=1,
                  batch_size=DEFAULT_BATCH_SIZE, errors="raise", abort=None, keep_numbers=None, **params):
        """Translates each line of `lines` (a list of str or UTF-8 bytes).

        Returns one Translation per line, in order: the list of its
        hypotheses (best first, n_best of them; sampling: num_samples in
        sample order) with .source_tokens and .truncated. Each Hypothesis has
        text, tokens, ids, score, ranking_score, finished, token_logprobs and,
        with return_attention=True, attention (numpy float32, n_steps x n_source).
        Each line is decoded whole, as written (as `s2s translate
        --no-split-sentences --case off`); a blank line (no source token but
        the eos) is not decoded: one empty finished hypothesis of score 0.

        beam              beam width (1 = greedy; default: config decoding.beam_size,
                          else 1; n_best when larger)
        n_best            hypotheses per line (<= beam)
        length_penalty    GNMT alpha (0 = none; default: config, else 0)
        max_length        most decoding steps, eos included (0 = config
                          decoding.max_length, else 2 x source tokens + 10)
        min_length        no eos before this many tokens (default: config, else 0)
        no_repeat_ngram   N >= 1: never emit a token that repeats an N-gram
                          (default: config, else 0)
        coverage_penalty  GNMT beta: rank finished hypotheses by score / lp + beta *
                          sum_j log(min(1, attention on j)) (default: config, else 0)
        keep_numbers      True: a hypothesis may not end while a number of its
                          source (a piece of digits 0-9 only) is missing from it;
                          a line none of whose hypotheses finishes so is decoded
                          again without it; sampling ignores it (default: config,
                          else False)
        A default from config is the model's config.json "decoding" value, as
        `s2s translate` uses it; an explicit argument always wins.
        prefix            target text forced first (kept and scored): one str
                          for every line, or a list with one str (or None) per line
        sampling          draw each token instead of searching (beam 1), with
                          num_samples, temperature, top_k, top_p and seed; line i
                          draws from stream stream_offset + i, so a line's samples
                          do not depend on threads, batches or the other lines
        compute           "f32" (exact, the default) or "int8" (the RNN and output-layer
                          products with int8 weights and activations: faster, results
                          close to f32)
        shortlist         with compute="int8": use the model's lexical shortlist
                          (its shortlist.txt) when it has one; False computes
                          every target word
        replace_unk       an emitted unk becomes the source word it attends to most
        lenient           invalid UTF-8 becomes U+FFFD instead of an error
        threads           split the lines into this many chunks decoded at once,
                          each by its own session (output identical for any value)
        batch_size        lines per call into the library
        errors            "raise": the first bad line (lowest index) raises its
                          s2s.Error (with .index); "return": a bad line's entry is
                          its s2s.Error instance and the other lines are translated
        abort             a callable checked at every decoding step; when it
                          returns true, decoding stops with AbortedError
        **params          any other field of s2s_decode_params, by its C name
        """
        _check_errors_arg(errors)
        items = _as_list(lines, "lines")
        data = [_as_bytes(t) for t in items]
        prefixes = self._prefixes(prefix, len(data))
        if not isinstance(threads, int) or threads < 1:
            raise InvalidArgumentError("threads must be a whole number >= 1, not %r" % (threads,))
        if not isinstance(batch_size, int) or not 1 <= batch_size <= _lib.S2S_MAX_BATCH:
            raise InvalidArgumentError("batch_size must be between 1 and %d, not %r" % (_lib.S2S_MAX_BATCH, batch_size))
        beam, length_penalty, min_length, no_repeat_ngram, coverage_penalty, keep_numbers = self._defaults(
            False, sampling, n_best, max_length, beam, length_penalty, min_length, no_repeat_ngram, coverage_penalty,
            keep_numbers)
        opts = dict(beam_size=beam, n_best=n_best, length_penalty=length_penalty, max_length=max_length,
                    min_length=min_length, no_repeat_ngram=no_repeat_ngram, coverage_penalty=coverage_penalty,
                    keep_numbers=1 if keep_numbers else 0, sampling=1 if sampling else 0,
                    num_samples=num_samples, temperature=temperature, top_k=top_k,
                    top_p=top_p, seed=seed, compute=self._compute(compute), shortlist=1 if shortlist else 0)
        dp, keep = self._decode_params(opts, return_attention or replace_unk, abort, params)
        with self._session() as s:
            self._check_params(s, dp)
        job = _Job(self, dp, bool(return_attention), bool(replace_unk), bool(lenient), batch_size,
                   errors == "raise", stream_offset)
        out = [None] * len(data)
        ranges = _chunks(len(data), threads)
        if len(ranges) <= 1:
            job.run_chunk(data, prefixes, 0, len(data), out)
        else:
            with ThreadPoolExecutor(max_workers=len(ranges)) as pool:
                futures = [pool.submit(job.run_chunk, data, prefixes, a, b, out) for a, b in ranges]
                for f in futures:
                    f.result()
        del keep
        if errors == "raise" and job.stop.first is not None:
            raise out[job.stop.first]
        return out

    @staticmethod
    def _compute(name):
        try:
            return _lib.COMPUTE_NAMES.index(name)
        except ValueError:
            raise InvalidArgumentError("compute must be one of %s, not %r"
                                       % (", ".join(_lib.COMPUTE_NAMES), name)) from None

    @staticmethod
    def _prefixes(prefix, n):
        """One target prefix (bytes or None) per line."""
        if prefix is None:
            return [None] * n
        if isinstance(prefix, (str, bytes)):
            return [_as_bytes(prefix, "prefix")] * n
        out = [None if p is None else _as_bytes(p, "prefix") for p in _as_list(prefix, "prefix")]
        if len(out) != n:
            raise InvalidArgumentError("%d prefixes for %d lines" % (len(out), n))
        return out

    def _defaults(self, summarize, sampling, n_best, max_length, beam, length_penalty, min_length,
                  no_repeat_ngram, coverage_penalty, keep_numbers):
        """The decoding options left at None, from config.json "decoding" (as
        `s2s translate` and `s2s summarize` read it), else the command's
        defaults: greedy without a length penalty, or for summarize beam 4
        and length penalty 1."""
        c = self._c_info
        if beam is None:
            beam = 1 if sampling else c.beam_size if c.beam_size > 0 else SUMMARIZE_BEAM if summarize else 1
            beam = max(beam, n_best)
        if length_penalty is None:
            length_penalty = c.length_penalty if c.length_penalty >= 0 else \
                SUMMARIZE_LENGTH_PENALTY if summarize else 0.0
        if min_length is None:
            min_length = c.min_length
            if max_length and min_length >= max_length:
                min_length = max_length - 1
        if no_repeat_ngram is None:
            no_repeat_ngram = c.no_repeat_ngram
        if coverage_penalty is None:
            coverage_penalty = c.coverage_penalty if c.coverage_penalty >= 0 else 0.0
        if keep_numbers is None:
            keep_numbers = bool(c.keep_numbers)
        return beam, length_penalty, min_length, no_repeat_ngram, coverage_penalty, keep_numbers

    def summarize(self, lines, beam=None, n_best=1, length_penalty=None, max_length=0, min_length=None,
                  no_repeat_ngram=None, coverage_penalty=None, keep_numbers=None, sampling=False, **kw):
        """translate() with the defaults of `s2s summarize`: beam, length
        penalty, min length, n-gram blocking, coverage penalty and keep
        numbers from config.json "decoding" when given, else beam 4 and
        length penalty 1 (an explicit argument always wins)."""
        beam, length_penalty, min_length, no_repeat_ngram, coverage_penalty, keep_numbers = self._defaults(
            True, sampling, n_best, max_length, beam, length_penalty, min_length, no_repeat_ngram, coverage_penalty,
            keep_numbers)
        return self.translate(lines, beam=beam, n_best=n_best, length_penalty=length_penalty,
                              max_length=max_length, min_length=min_length, no_repeat_ngram=no_repeat_ngram,
                              coverage_penalty=coverage_penalty, keep_numbers=keep_numbers, sampling=sampling, **kw)

    # ---- scoring ----

    def score(self, sources, targets, return_attention=False, lenient=False, threads=1, errors="raise"):
        """Forced decoding: the score of each target given its source (two
        lists of the same length). Returns one Score per pair: a finished
        Hypothesis of the target followed by eos (score, token_logprobs with
        the eos step last, text, tokens, attention when asked) with
        .source_tokens and .truncated. Errors as in translate(); the
        message says which side failed ("source: ..." / "target: ...")."""
        _check_errors_arg(errors)
        src = [_as_bytes(t, "source") for t in _as_list(sources, "sources")]
        tgt = [_as_bytes(t, "target") for t in _as_list(targets, "targets")]
        if len(src) != len(tgt):
            raise InvalidArgumentError("score: %d sources but %d targets" % (len(src), len(tgt)))
        if not isinstance(threads, int) or threads < 1:
            raise InvalidArgumentError("threads must be a whole number >= 1, not %r" % (threads,))
        stop = _Stop() if errors == "raise" else None
        out = [None] * len(src)

        def run(a, b):
            with self._session() as s:
                for i in range(a, b):
                    if stop and stop.should_stop(i):
                        return
                    out[i] = self._score_one(s, src[i], tgt[i], i, return_attention, lenient)
                    if stop and isinstance(out[i], Error):
                        stop.failed(i)
                        return

        ranges = _chunks(len(src), threads)
        if len(ranges) <= 1:
            run(0, len(src))
        else:
            with ThreadPoolExecutor(max_workers=len(ranges)) as pool:
                for f in [pool.submit(run, a, b) for a, b in ranges]:
                    f.result()
        if stop and stop.first is not None:
            raise out[stop.first]
        return out

    def _score_one(self, session, src_b, tgt_b, index, return_attention, lenient):
        seqs = []
        try:
            for side, data in ((_lib.S2S_SOURCE, src_b), (_lib.S2S_TARGET, tgt_b)):
                seq = self._tokenize_c(side, data, lenient)
                if isinstance(seq, Error):
                    seq.message = ("source: " if side == _lib.S2S_SOURCE else "target: ") + seq.message
                    seq.index = index
                    return seq
                seqs.append(seq)
            s, t = seqs
            if s.n == 0:
                return EmptyInputError("empty source: no tokens", index)
            res = _lib.Result()
            err = _lib.Error()
            try:
                st = self._lib.s2s_score(session, byref(s), byref(t), 1, byref(res), byref(err))
                if st != 0:
                    return from_status(st, err.message, index)
                if res.n_hyps < 1:
                    return Error("no score returned", index)
                h = res.hyps[0]
                hyp = _convert_hyp(self, res, h, return_attention, self._detok_result(res, h.tokens, h.n_tokens))
            finally:
                self._lib.s2s_result_free(byref(res))
            source_tokens = [self._vocab[0][i] for i in s.ids[:s.n]]
            return Score(hyp, source_tokens, bool(s.truncated or t.truncated))
        finally:
            for seq in seqs:
                self._lib.s2s_token_seq_free(byref(seq))

    def _detok_result(self, res, ptr, n):
        """Text of ids (a copy model's extended ids spelled from `res`)."""
        out = self._lib.take_string(self._lib.s2s_detokenize_result(self._model(), byref(res), ptr, n))
        if out is None:
            raise NoMemError("out of memory in s2s_detokenize_result")
        return decode(out)


def _blank(data):
    """A line of nothing but white space: ASCII, or Unicode Zs, Zl, Zp and
    NEL (as the command tells a blank line); invalid UTF-8 is not white space."""
    if not data.strip(b" \t\n\v\f\r"):
        return True
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(ch in " \t\n\v\f\r\x85" or unicodedata.category(ch) in ("Zs", "Zl", "Zp") for ch in text)


def _convert_hyp(model, res, h, return_attention, text):
    """A Hypothesis from the C hypothesis `h` of result `res` (copied; the
    caller frees the result)."""
    n, steps, n_source = h.n_tokens, h.n_steps, res.n_source
    ids = h.tokens[:n] if n > 0 else []
    vocab = model._vocab[1]
    V = len(vocab)
    tokens = []
    for i in ids:
        if 0 <= i < V:
            tokens.append(vocab[i])
        else:  # a copy model's extended id, or out of range (None)
            t = model._lib.s2s_result_token(model._handle, byref(res), i)
            tokens.append(None if t is None else decode(t))
    logprobs = h.token_logprobs[:steps] if (steps > 0 and h.token_logprobs) else []
    att = None
    if return_attention:
        import numpy as np
        if h.attention and steps > 0 and n_source > 0:
            buf = (ctypes.c_float * (steps * n_source)).from_address(ctypes.addressof(h.attention.contents))
            att = np.frombuffer(buf, dtype=np.float32).reshape(steps, n_source).copy()
        else:
            att = np.zeros((0, n_source), dtype=np.float32)
    return Hypothesis(text, tokens, ids, h.score, h.ranking_score, bool(h.finished), logprobs, att, n_source)


class _Job:
    """One translate() call: the parameters every chunk shares."""

    def __init__(self, model, dp, return_attention, replace_unk, lenient, batch_size, stop_on_error, stream_offset):
        self.m = model
        self.lib = model._lib
        self.dp = dp
        self.return_attention = return_attention
        self.replace_unk = replace_unk
        self.lenient = lenient
        self.batch_size = batch_size
        self.stream_offset = stream_offset
        self.stop = _Stop() if stop_on_error else None

    def run_chunk(self, data, prefixes, a, b, out):
        """Translates data[a:b] into out[a:b] with a session of its own, one
        library call per batch of batch_size lines."""
        with self.m._session() as session:
            for start in range(a, b, self.batch_size):
                if self.stop and self.stop.should_stop(start):
                    return
                end = min(b, start + self.batch_size)
                self._batch(session, data, prefixes, start, end, out)
                if self.stop:
                    for i in range(start, end):
                        if isinstance(out[i], Error):
                            self.stop.failed(i)
                            return

    def _prepare(self, data, prefix, i):
        """(source TokenSeq, prefix TokenSeq or None, blank) of line i, or an
        Error; the caller frees the sequences. A blank line (white space
        only, or no token but the appended eos) is not decoded, and its
        prefix is not used."""
        src = self.m._tokenize_c(_lib.S2S_SOURCE, b"" if _blank(data) else data, self.lenient)
        if isinstance(src, Error):
            src.index = i
            return src
        if src.n <= (1 if self.m._c_info.append_eos else 0):
            return src, None, True
        if prefix is None:
            return src, None, False
        pre = self.m._tokenize_c(_lib.S2S_TARGET, prefix, self.lenient)
        if isinstance(pre, Error):
            self.lib.s2s_token_seq_free(byref(src))
            pre.message = "target prefix: " + pre.message
            pre.index = i
            return pre
        return src, pre, False

    def _batch(self, session, data, prefixes, a, b, out):
        seqs = {}
        try:
            for i in range(a, b):
                r = self._prepare(data[i], prefixes[i], i)
                if isinstance(r, Error):
                    out[i] = r
                    continue
                seqs[i] = r
                if r[2]:
                    out[i] = self._blank_translation(r[0])
            self._decode(session, data, {i: r for i, r in seqs.items() if not r[2]}, out)
        finally:
            for src, pre, _ in seqs.values():
                self.lib.s2s_token_seq_free(byref(src))
                if pre is not None:
                    self.lib.s2s_token_seq_free(byref(pre))

    def _decode(self, session, data, seqs, out):
        """Decodes the prepared lines `seqs` ({index: (source, prefix)}) as
        one batch (one foreign call, the GIL released); when the batch call
        fails, line by line, so that only the bad line gets the error."""
        idx = list(seqs)
        nb = len(idx)
        if nb == 0:
            return
        inputs = (_lib.Input * nb)()
        for k, i in enumerate(idx):
            src, pre, _ = seqs[i]
            inputs[k].source = ctypes.pointer(src)
            inputs[k].prefix = ctypes.pointer(pre) if pre is not None else None
            inputs[k].stream = self.stream_offset + i
        results = (_lib.Result * nb)()
        err = _lib.Error()
        ok = nb > 1 and self.lib.s2s_translate_inputs(session, inputs, nb, byref(self.dp), results, byref(err)) == 0
        try:
            for k, i in enumerate(idx):
                if not ok:
                    st = self.lib.s2s_translate_inputs(session, byref(inputs[k]), 1, byref(self.dp),
                                                       byref(results[k]), byref(err))
                    if st != 0:
                        out[i] = from_status(st, err.message, i)
                        continue
                out[i] = self._convert(results[k], seqs[i][0], data[i])
        finally:
            for k in range(nb):
                self.lib.s2s_result_free(byref(results[k]))

    def _blank_translation(self, seq):
        """One empty, finished hypothesis of score 0 and no step."""
        att = None
        if self.return_attention:
            import numpy as np
            att = np.zeros((0, seq.n), dtype=np.float32)
        hyp = Hypothesis("", [], [], 0.0, 0.0, True, [], att, seq.n)
        return Translation([hyp], [self.m._vocab[0][i] for i in seq.ids[:seq.n]], bool(seq.truncated))

    def _convert(self, res, seq, line):
        m = self.m
        hyps = []
        for k in range(res.n_hyps):
            h = res.hyps[k]
            if self.replace_unk:
                text = m._unk.text(line, seq, res, h, self.lenient)
            else:
                text = m._detok_result(res, h.tokens, h.n_tokens)
            hyps.append(_convert_hyp(m, res, h, self.return_attention, text))
        source_tokens = [m._vocab[0][i] for i in seq.ids[:seq.n]]
        return Translation(hyps, source_tokens, bool(seq.truncated))
