"""Exceptions: one s2s.Error subclass per status of the library.

Every error carries the library's status as `status` (its name, e.g.
"S2S_ERR_UTF8") and `code` (its number), the library's one-line `message`,
and, for an error about one line of a batch, that line's 0-based `index`.
"""
from . import _lib


class Error(Exception):
    """Base class of every error the package raises for a failure the library
    reports (and for the few checks the package makes itself, which use the
    same statuses)."""

    status = "S2S_ERR"  # overridden by each subclass
    code = -1

    def __init__(self, message, index=None):
        super().__init__(message)
        self.message = message
        self.index = index

    def __str__(self):
        where = "line %d: " % self.index if self.index is not None else ""
        return "%s%s [%s]" % (where, self.message, self.status)

    def __repr__(self):
        return "%s(%r, index=%r)" % (type(self).__name__, self.message, self.index)

    def __eq__(self, other):
        return (type(self) is type(other) and self.message == other.message and self.index == other.index)

    def __hash__(self):
        return hash((type(self).__name__, self.message, self.index))

    def __reduce__(self):  # picklable, for Dask and multiprocessing
        return (type(self), (self.message, self.index))


class IoError(Error):
    """A file could not be opened, read or mapped."""


class NoMemError(Error, MemoryError):
    """Out of memory."""


class SafetensorsError(Error):
    """The weights file breaks the safetensors rules."""


class ConfigError(Error):
    """config.json: bad JSON, missing key, wrong type or value."""


class VersionError(Error):
    """A model format or format_version this library does not read."""


class VocabError(Error):
    """A vocabulary file is malformed or inconsistent."""


class TensorError(Error):
    """A needed tensor is missing, or has a wrong dtype or shape."""


class Utf8Error(Error, ValueError):
    """Input text is not valid UTF-8."""


class UnknownTokenError(Error, ValueError):
    """A token is not in the vocabulary and the model has no unk."""


class EmptyInputError(Error, ValueError):
    """Input has no tokens where some are needed."""


class InvalidArgumentError(Error, ValueError):
    """A bad argument or option value."""


class AbortedError(Error):
    """The abort callback asked to stop."""


class MergesError(Error):
    """A BPE merges file is malformed."""


_BY_STATUS = {
    "S2S_ERR_IO": IoError,
    "S2S_ERR_NOMEM": NoMemError,
    "S2S_ERR_SAFETENSORS": SafetensorsError,
    "S2S_ERR_CONFIG": ConfigError,
    "S2S_ERR_VERSION": VersionError,
    "S2S_ERR_VOCAB": VocabError,
    "S2S_ERR_TENSOR": TensorError,
    "S2S_ERR_UTF8": Utf8Error,
    "S2S_ERR_UNKNOWN_TOKEN": UnknownTokenError,
    "S2S_ERR_EMPTY_INPUT": EmptyInputError,
    "S2S_ERR_INVALID_ARG": InvalidArgumentError,
    "S2S_ERR_ABORTED": AbortedError,
    "S2S_ERR_MERGES": MergesError,
}
for _name, _cls in _BY_STATUS.items():
    _cls.status = _name
    _cls.code = _lib.STATUS[_name]


def error_class(code):
    """The Error subclass of status number `code` (Error itself for a number
    this package does not know)."""
    if 0 < code < len(_lib.STATUS_NAMES):
        return _BY_STATUS[_lib.STATUS_NAMES[code]]
    return Error


def from_status(code, message, index=None):
    """An Error instance for status `code` and `message` (bytes or str)."""
    if isinstance(message, bytes):
        message = message.decode("utf-8", "replace")
    cls = error_class(code)
    e = cls(message, index)
    if cls is Error:  # a status newer than this package: keep its number
        e.code, e.status = code, "S2S_STATUS_%d" % code
    return e
