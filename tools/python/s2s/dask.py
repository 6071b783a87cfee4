"""s2s.dask: translate a Dask bag, or a column of a Dask dataframe, on a Dask
cluster (Debian: python3-dask, python3-distributed; python3-pandas for
dataframes).

    import dask.bag as db
    from distributed import Client
    import s2s.dask
    client = Client("tcp://scheduler:8786")
    lines = db.read_text("/data/corpus.fr", blocksize="4MB").map(str.rstrip)
    out = s2s.dask.translate_bag(lines, "/opt/models/fra-eng", beam=5)
    out.to_textfiles("/data/out/*.en")   # or out.compute()

  - The model is loaded once per worker process (a cache in this module,
    keyed by model path and library), not once per task; each worker thread
    takes its own decoding session from it.
  - The output keeps the input order: one element per input element.
  - Every keyword argument of Model.translate passes through (beam, n_best,
    length_penalty, max_length, min_length, replace_unk, lenient, threads,
    batch_size, ...). Errors are kept in place (errors="return"): a bad
    line never fails the job.
  - `output` chooses what each element is: "text" (default: the command's
    text line for the input, "" for a failed line; with n_best in the
    options the "ID ||| text ||| score= S ||| R" lines joined by newlines), "jsonl"
    (the command's --format jsonl object, ids counted from 0 over the whole
    collection), or "translation" (the s2s.Translation, or the s2s.Error of
    a failed line). With sampling, line N of the collection draws from
    stream N, so the samples equal the command's for the same seed.

The model directory must be readable at the same path on every worker, and
this package importable there (docs/scale-out.md).
"""
import math
import operator
import os
import threading

from ._errors import Error, InvalidArgumentError
from ._model import Model
from ._results import format_jsonl, format_text

OUTPUTS = ("text", "jsonl", "translation")

_models = {}
_lock = threading.Lock()
loads = 0  # models loaded by this process (a worker's count, read by the tests)


def worker_model(model_path, library=None):
    """The Model of `model_path` for this process: loaded by the first call,
    then shared by every task (and thread) the process runs."""
    global loads
    key = (os.path.abspath(model_path), library)
    with _lock:
        m = _models.get(key)
        if m is None:
            m = Model(model_path, library=library)
            _models[key] = m
            loads += 1
        return m


def _not_text(x):
    return not isinstance(x, (str, bytes))


def translate_lines(lines, model_path, output="text", offset=0, scores=False, alignment=None, library=None,
                    **options):
    """Translates a list of lines with the worker's model and renders each
    result as `output` asks (see the module doc); `offset` is the id of the
    first line. Items that are not text (None, NaN) get an error in place.
    This is what every task runs; it can also be called directly."""
    _check(output)
    lines = list(lines)
    m = worker_model(model_path, library)
    if output == "jsonl" or alignment is not None:
        options.setdefault("return_attention", True)
    options.setdefault("stream_offset", offset)  # sampling: line N draws from stream N, as in the command
    good = [i for i, x in enumerate(lines) if not _not_text(x)]
    res = [InvalidArgumentError("not a text: %r" % (x,), i) for i, x in enumerate(lines)]
    if good:
        done = m.translate([lines[i] for i in good], errors="return", **options)
        for i, r in zip(good, done):
            if isinstance(r, Error):
                r.index = i
            res[i] = r
    if output == "translation":
        return res
    if output == "jsonl":
        return [format_jsonl(r, offset + i, alignment).rstrip("\n") for i, r in enumerate(res)]
    listed = _listed(options)
    return [format_text(r, offset + i, listed, scores, alignment)[:-1] for i, r in enumerate(res)]


def _partition(lines, model_path, kw, offset=0):
    """One task: translate_lines with the keywords in a dict (Dask's own
    map_partitions keywords, such as `output`, must not clash)."""
    return translate_lines(lines, model_path, offset=offset, **kw)


def _check(output):
    if output not in OUTPUTS:
        raise ValueError("output must be one of %s, not %r" % (", ".join(OUTPUTS), output))


def _listed(options):
    """Text output lists every hypothesis as "ID ||| text ||| score= S ||| R" lines,
    as the command does for --n-best or --num-samples above 1."""
    return "n_best" in options or options.get("num_samples", 1) > 1


def _needs_ids(output, options):
    """Whether each task must know the number of its first line: for jsonl
    ids, listed text, and sampling (line N draws from stream N)."""
    return output == "jsonl" or (output == "text" and _listed(options)) or bool(options.get("sampling"))


def _offsets(parts, as_list=True):
    """The partitions (made lists once when `as_list`) and the delayed id of
    the first line of each (a running sum of the partition lengths)."""
    from dask import delayed
    if as_list:
        parts = [delayed(list)(p) for p in parts]
    offs, off = [], 0
    for p in parts:
        offs.append(off)
        off = delayed(operator.add)(off, delayed(len)(p))
    return parts, offs


def translate_bag(bag, model_path, output="text", scores=False, alignment=None, library=None, **options):
    """A bag with one result per element of `bag` (lines of text), in order.
    See the module doc for `output`; `scores` and `alignment` ("hard",
    "soft") shape the text lines as the command's --scores and --alignment
    do; every other keyword goes to Model.translate."""
    _check(output)
    kw = dict(output=output, scores=scores, alignment=alignment, library=library, **options)
    if not _needs_ids(output, options):
        return bag.map_partitions(_partition, model_path, kw)
    import dask.bag as db
    from dask import delayed
    parts, offs = _offsets(bag.to_delayed())
    return db.from_delayed([delayed(_partition)(p, model_path, kw, o) for p, o in zip(parts, offs)])


def _translate_series(s, model_path, name, kw, offset=0):
    import pandas as pd
    out = _partition([None if (isinstance(x, float) and math.isnan(x)) else x for x in s.tolist()],
                     model_path, kw, offset)
    return pd.Series(out, index=s.index, name=name, dtype=object)


def translate_column(ddf, column, model_path, output="text", scores=False, alignment=None, library=None,
                     name=None, **options):
    """A Dask series, aligned with `ddf` (same index and divisions), of the
    results for each row's text in `column`; named `name` (default: the
    column's name). Missing values (None, NaN) get an error in place. See
    translate_bag for the other arguments."""
    _check(output)
    name = column if name is None else name
    series = ddf[column]
    kw = dict(output=output, scores=scores, alignment=alignment, library=library, **options)
    if not _needs_ids(output, options):
        return series.map_partitions(_translate_series, model_path, name, kw, meta=(name, object))
    import dask.dataframe as dd
    import pandas as pd
    from dask import delayed
    parts, offs = _offsets(series.to_delayed(), as_list=False)
    out = [delayed(_translate_series)(p, model_path, name, kw, o) for p, o in zip(parts, offs)]
    return dd.from_delayed(out, meta=pd.Series([], name=name, dtype=object), divisions=series.divisions)
