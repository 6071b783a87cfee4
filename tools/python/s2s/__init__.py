"""s2s: sequence-to-sequence inference with libs2s, from Python.

    import s2s
    m = s2s.Model("models/fra-eng")
    hyp = m.translate(["Où est la gare ?"], return_attention=True)[0][0]
    hyp.text, hyp.score, hyp.attention        # attention: numpy n_steps x n_source

The binding uses ctypes from the standard library (no compiler at import
time); numpy is needed only for attention matrices. libs2s.so is found in
this order: Model(path, library=...), $S2S_LIBRARY, next to this package
(installed layout), the build tree (build/libs2s.so), the system's library
path. See docs/python.md.
"""
from ._errors import (AbortedError, ConfigError, EmptyInputError, Error, InvalidArgumentError, IoError,
                      MergesError, NoMemError, SafetensorsError, TensorError, UnknownTokenError, Utf8Error,
                      VersionError, VocabError)
from ._model import Model
from ._results import Hypothesis, Score, Tokens, Translation, format_jsonl, format_text

__version__ = "0.1.0"  # equals S2S_VERSION of engine/include/s2s.h (checked by the tests)

__all__ = [
    "Model", "Hypothesis", "Translation", "Score", "Tokens", "format_jsonl", "format_text", "library_path",
    "Error", "IoError", "NoMemError", "SafetensorsError", "ConfigError", "VersionError", "VocabError",
    "TensorError", "Utf8Error", "UnknownTokenError", "EmptyInputError", "InvalidArgumentError", "AbortedError",
    "MergesError",
]


def library_path(library=None):
    """The path of the libs2s the package uses (loading it if needed)."""
    from . import _lib
    return _lib.load(library).path
