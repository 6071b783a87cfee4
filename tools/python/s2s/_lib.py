"""The ctypes view of libs2s: finding and loading the shared library, the
structs and enums of engine/include/s2s.h, and the prototypes of the
functions the package calls.

Every struct is written as a list of (field, type) pairs, one field per
line, in the order of the header; tests/py/test_python_abi.py compiles a
small C program against the header and checks every field name, offset and
size, and every status value, against these lists.

No compiler is needed here: only the standard library's ctypes.
"""
import ctypes
import ctypes.util
import os
import threading

from ctypes import POINTER, c_char, c_char_p, c_float, c_int, c_int64, c_size_t, c_uint64, c_void_p

# ---- constants (s2s.h) ----------------------------------------------------

S2S_ERROR_MAX = 512
S2S_MAX_BATCH = 65536

# s2s_status, in enum order (the value is the index).
STATUS_NAMES = [
    "S2S_OK",
    "S2S_ERR_IO",
    "S2S_ERR_NOMEM",
    "S2S_ERR_SAFETENSORS",
    "S2S_ERR_CONFIG",
    "S2S_ERR_VERSION",
    "S2S_ERR_VOCAB",
    "S2S_ERR_TENSOR",
    "S2S_ERR_UTF8",
    "S2S_ERR_UNKNOWN_TOKEN",
    "S2S_ERR_EMPTY_INPUT",
    "S2S_ERR_INVALID_ARG",
    "S2S_ERR_ABORTED",
    "S2S_ERR_MERGES",
]
STATUS = {name: code for code, name in enumerate(STATUS_NAMES)}

S2S_SOURCE = 0
S2S_TARGET = 1

# s2s_compute, in enum order.
COMPUTE_NAMES = ["f32", "int8"]

# ---- structs --------------------------------------------------------------

ABORT_CALLBACK = ctypes.CFUNCTYPE(c_int, c_void_p)


class Error(ctypes.Structure):
    """s2s_error"""
    _fields_ = [
        ("status", c_int),
        ("message", c_char * S2S_ERROR_MAX),
    ]


class ModelLoadParams(ctypes.Structure):
    """s2s_model_load_params"""
    _fields_ = [
        ("allow_nonfinite", c_int),
    ]


class RnnInfo(ctypes.Structure):
    """s2s_rnn_info"""
    _fields_ = [
        ("cell", c_char_p),
        ("embedding_size", c_int),
        ("hidden_size", c_int),
        ("num_layers", c_int),
        ("bidirectional", c_int),
    ]


class ModelInfo(ctypes.Structure):
    """s2s_model_info"""
    _fields_ = [
        ("dir", c_char_p),
        ("task", c_char_p),
        ("source_language", c_char_p),
        ("target_language", c_char_p),
        ("weights_file", c_char_p),
        ("encoder", RnnInfo),
        ("decoder", RnnInfo),
        ("append_eos", c_int),
        ("bridge", c_char_p),
        ("attention", c_char_p),
        ("attention_position", c_char_p),
        ("attention_size", c_int),
        ("format_version", c_int),
        ("coverage", c_int),
        ("local", c_char_p),
        ("window", c_int),
        ("predictor_size", c_int),
        ("heads", c_int),
        ("copy", c_int),
        ("input_feeding", c_int),
        ("source_vocab_size", c_int),
        ("target_vocab_size", c_int),
        ("sos", c_char_p),
        ("eos", c_char_p),
        ("unk", c_char_p),
        ("pad", c_char_p),
        ("normalizer", c_char_p),
        ("level", c_char_p),
        ("lowercase", c_int),
        ("merges_file", c_char_p),
        ("max_length", c_int),
        ("beam_size", c_int),
        ("min_length", c_int),
        ("length_penalty", c_float),
        ("max_input_tokens", c_int),
        ("n_tensors", c_size_t),
        ("n_parameters", c_size_t),
        ("license", c_char_p),
        ("attribution", c_char_p),
        ("scores_json", c_char_p),
        ("shortlist", c_int),
        ("no_repeat_ngram", c_int),
        ("coverage_penalty", c_float),
        ("whole_numbers", c_int),
        ("whole_names", c_int),
        ("keep_numbers", c_int),
    ]


class TensorInfo(ctypes.Structure):
    """s2s_tensor_info"""
    _fields_ = [
        ("name", c_char_p),
        ("dtype", c_char_p),
        ("ndim", c_int),
        ("shape", c_int64 * 4),
    ]


class TokenizeParams(ctypes.Structure):
    """s2s_tokenize_params"""
    _fields_ = [
        ("lenient", c_int),
        ("max_tokens", c_int),
    ]


class TokenSeq(ctypes.Structure):
    """s2s_token_seq"""
    _fields_ = [
        ("ids", POINTER(c_int)),
        ("pieces", POINTER(c_char_p)),
        ("n", c_int),
        ("truncated", c_int),
    ]


class DecodeParams(ctypes.Structure):
    """s2s_decode_params"""
    _fields_ = [
        ("beam_size", c_int),
        ("n_best", c_int),
        ("length_penalty", c_float),
        ("max_length", c_int),
        ("min_length", c_int),
        ("want_attention", c_int),
        ("no_repeat_ngram", c_int),
        ("coverage_penalty", c_float),
        ("sampling", c_int),
        ("num_samples", c_int),
        ("temperature", c_float),
        ("top_k", c_int),
        ("top_p", c_float),
        ("seed", c_uint64),
        ("abort_callback", ABORT_CALLBACK),
        ("abort_user_data", c_void_p),
        ("compute", c_int),
        ("shortlist", c_int),
        ("want_scores", c_int),
        ("keep_numbers", c_int),
    ]


class Hypothesis(ctypes.Structure):
    """s2s_hypothesis"""
    _fields_ = [
        ("tokens", POINTER(c_int)),
        ("n_tokens", c_int),
        ("score", c_float),
        ("ranking_score", c_float),
        ("token_logprobs", POINTER(c_float)),
        ("attention", POINTER(c_float)),
        ("n_steps", c_int),
        ("finished", c_int),
    ]


class Result(ctypes.Structure):
    """s2s_result"""
    _fields_ = [
        ("n_source", c_int),
        ("hyps", POINTER(Hypothesis)),
        ("n_hyps", c_int),
        ("extended", POINTER(c_char_p)),
        ("n_extended", c_int),
    ]


class Input(ctypes.Structure):
    """s2s_input"""
    _fields_ = [
        ("source", POINTER(TokenSeq)),
        ("prefix", POINTER(TokenSeq)),
        ("stream", c_uint64),
    ]


# C struct name -> ctypes class, for the ABI test.
STRUCTS = {
    "s2s_error": Error,
    "s2s_model_load_params": ModelLoadParams,
    "s2s_rnn_info": RnnInfo,
    "s2s_model_info": ModelInfo,
    "s2s_tensor_info": TensorInfo,
    "s2s_tokenize_params": TokenizeParams,
    "s2s_token_seq": TokenSeq,
    "s2s_decode_params": DecodeParams,
    "s2s_hypothesis": Hypothesis,
    "s2s_result": Result,
    "s2s_input": Input,
}

# ---- prototypes -----------------------------------------------------------

_m = c_void_p  # const s2s_model *
_s = c_void_p  # s2s_session *

PROTOTYPES = {
    "s2s_strerror": (c_char_p, [c_int]),
    "s2s_model_load": (c_void_p, [c_char_p, POINTER(Error)]),
    "s2s_model_load_default_params": (ModelLoadParams, []),
    "s2s_model_load_with": (c_void_p, [c_char_p, POINTER(ModelLoadParams), POINTER(Error)]),
    "s2s_model_free": (None, [_m]),
    "s2s_model_get_info": (None, [_m, POINTER(ModelInfo)]),
    "s2s_model_tensor": (c_int, [_m, c_size_t, POINTER(TensorInfo)]),
    "s2s_model_token": (c_char_p, [_m, c_int, c_int]),
    "s2s_model_token_id": (c_int, [_m, c_int, c_char_p, c_size_t]),
    "s2s_tokenize_default_params": (TokenizeParams, []),
    "s2s_tokenize": (c_int, [_m, c_int, c_char_p, c_size_t, POINTER(TokenizeParams), POINTER(TokenSeq),
                             POINTER(Error)]),
    "s2s_token_seq_free": (None, [POINTER(TokenSeq)]),
    "s2s_detokenize": (c_void_p, [_m, POINTER(c_int), c_int]),  # malloc'd char *, freed with free()
    "s2s_decode_default_params": (DecodeParams, []),
    "s2s_result_token": (c_char_p, [_m, POINTER(Result), c_int]),
    "s2s_detokenize_result": (c_void_p, [_m, POINTER(Result), POINTER(c_int), c_int]),  # malloc'd, free()
    "s2s_result_free": (None, [POINTER(Result)]),
    "s2s_session_new": (c_void_p, [_m, POINTER(Error)]),
    "s2s_session_free": (None, [_s]),
    "s2s_translate_ids": (c_int, [_s, POINTER(c_int), c_int, POINTER(DecodeParams), POINTER(Result),
                                  POINTER(Error)]),
    "s2s_score_ids": (c_int, [_s, POINTER(c_int), c_int, POINTER(c_int), c_int, c_int, POINTER(Result),
                              POINTER(Error)]),
    "s2s_translate_inputs": (c_int, [_s, POINTER(Input), c_int, POINTER(DecodeParams), POINTER(Result),
                                     POINTER(Error)]),
    "s2s_score": (c_int, [_s, POINTER(TokenSeq), POINTER(TokenSeq), c_int, POINTER(Result), POINTER(Error)]),
    "s2s_translate_batch": (c_int, [_s, POINTER(POINTER(c_int)), POINTER(c_int), c_int, POINTER(DecodeParams),
                                    POINTER(Result), POINTER(Error)]),
}

# ---- finding the library --------------------------------------------------

LIBRARY_NAMES = ("libs2s.so", "libs2s.so.0")
PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
# tools/python/s2s -> the repository root, for a build tree.
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(PACKAGE_DIR)))


def candidates(path=None):
    """The places looked at, in order, as (how, path) pairs: an explicit
    path, $S2S_LIBRARY, next to the package (installed layout), the build
    tree (build/libs2s.so of the repository the package sits in), then
    ctypes.util.find_library("s2s") (the system's library path)."""
    out = []
    if path:
        return [("argument", os.fspath(path))]
    env = os.environ.get("S2S_LIBRARY")
    if env:
        return [("S2S_LIBRARY", env)]
    for name in LIBRARY_NAMES:
        out.append(("package", os.path.join(PACKAGE_DIR, name)))
    out.append(("build tree", os.path.join(REPO_ROOT, "build", "libs2s.so")))
    found = ctypes.util.find_library("s2s")
    if found:
        out.append(("system", found))
    return out


class Library:
    """A loaded libs2s with its prototypes set, plus libc's free()."""

    def __init__(self, path):
        self.path = path
        self.dll = ctypes.CDLL(path)  # CDLL: the GIL is released during every call
        for name, (restype, argtypes) in PROTOTYPES.items():
            fn = getattr(self.dll, name)
            fn.restype = restype
            fn.argtypes = argtypes
            setattr(self, name, fn)
        # free() as the library's own malloc() binds it: the process-wide
        # symbol (an interposed allocator, e.g. a sanitizer's, included)
        self.free = ctypes.CDLL(None).free
        self.free.restype = None
        self.free.argtypes = [c_void_p]

    def take_string(self, ptr):
        """Bytes of a malloc'd NUL-terminated string, which is then freed;
        None for NULL."""
        if not ptr:
            return None
        try:
            return ctypes.string_at(ptr)
        finally:
            self.free(ptr)


_loaded = {}
_lock = threading.Lock()


def load(path=None):
    """The Library for `path` (see candidates() for the search when None),
    loaded once per process and file. Raises OSError naming every place
    tried when none can be loaded."""
    tried = []
    for how, p in candidates(path):
        if how in ("package", "build tree") and not os.path.exists(p):
            tried.append("%s: %s (absent)" % (how, p))
            continue
        key = os.path.realpath(p) if os.path.sep in p else p
        with _lock:
            if key in _loaded:
                return _loaded[key]
            try:
                lib = Library(p)
            except OSError as e:
                tried.append("%s: %s (%s)" % (how, p, e))
                continue
            _loaded[key] = lib
            return lib
    raise OSError("s2s: cannot load libs2s; tried " + "; ".join(tried or ["nothing"]) +
                  ". Build it with 'make', set S2S_LIBRARY, or install with 'make install-python'")
