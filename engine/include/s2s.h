/*
 * s2s.h - the one public header of libs2s, a sequence-to-sequence inference
 * engine for RNN encoder / attention decoder models (the model format,
 * versions 1 and 2, is docs/model-format.md).
 *
 * Conventions
 *  - Handles are opaque. Every *_new / *_load has a matching *_free; every
 *    *_free accepts NULL.
 *  - Functions that can fail take an `s2s_error *err` (may be NULL) and either
 *    return NULL or an s2s_status. The library keeps no global error state.
 *  - Every function that returns memory says who frees it.
 *  - The library never prints and never exits.
 *  - A loaded s2s_model is immutable: any number of threads may use one model
 *    at once, each with its own s2s_session.
 *  - Only the functions marked S2S_API are exported from the shared library.
 */
#ifndef S2S_H
#define S2S_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Exported from libs2s.so; everything else in the library is hidden. */
#if defined(__GNUC__) || defined(__clang__)
#define S2S_API __attribute__((visibility("default")))
#else
#define S2S_API
#endif

#define S2S_VERSION "0.1.0" /* the one place the version is written */
#define S2S_FORMAT_VERSION 2 /* newest model format this library reads */

/* Limits, as named constants. */
#define S2S_ERROR_MAX 512                     /* bytes in s2s_error.message */
#define S2S_MAX_HEADER_BYTES 100000000ULL     /* safetensors JSON header */
#define S2S_MAX_LAYERS 16                     /* RNN layers per side */
#define S2S_MAX_BEAM 256                      /* beam width */
#define S2S_MAX_SOURCE_TOKENS 4096            /* longer input is cut */
#define S2S_MAX_DECODE_STEPS 4096             /* hard cap on max_length */
#define S2S_MAX_BATCH 65536                   /* sentences per s2s_translate_batch */
#define S2S_MAX_TARGET_TOKENS 65536           /* target tokens s2s_tokenize keeps (scoring) */
#define S2S_MAX_LENGTH_PENALTY 100.0f         /* largest GNMT alpha accepted */

typedef enum s2s_status {
    S2S_OK = 0,
    S2S_ERR_IO,            /* a file could not be opened, read or mapped */
    S2S_ERR_NOMEM,         /* out of memory */
    S2S_ERR_SAFETENSORS,   /* the weights file breaks the safetensors rules */
    S2S_ERR_CONFIG,        /* config.json: bad JSON, missing key, wrong type or value */
    S2S_ERR_VERSION,       /* format or format_version this library does not read */
    S2S_ERR_VOCAB,         /* a vocabulary file is malformed or inconsistent */
    S2S_ERR_TENSOR,        /* a needed tensor is missing, or has a wrong dtype or shape */
    S2S_ERR_UTF8,          /* input text is not valid UTF-8 */
    S2S_ERR_UNKNOWN_TOKEN, /* a token is not in the vocabulary and there is no unk */
    S2S_ERR_EMPTY_INPUT,   /* input has no tokens where some are needed */
    S2S_ERR_INVALID_ARG,   /* a bad argument or option value */
    S2S_ERR_ABORTED,       /* the abort callback asked to stop */
    S2S_ERR_MERGES,        /* a BPE merges file is malformed */
    S2S_STATUS_COUNT
} s2s_status;

/* Error details: status plus a one-line message that names the file, key,
 * tensor, token or byte offset concerned. Caller-owned, usually on the stack. */
typedef struct s2s_error {
    s2s_status status;
    char message[S2S_ERROR_MAX];
} s2s_error;

/* A static, never-NULL English description of `status` (not to be freed).
 * Unknown values give "unknown status". */
S2S_API const char *s2s_strerror(s2s_status status);

/* ------------------------------------------------------------------------ */
/* Model                                                                    */
/* ------------------------------------------------------------------------ */

typedef struct s2s_model s2s_model;

/* Loads the model directory `dir` (config.json, weights, vocabularies and
 * tokenizer files). F32 weights are views into a read-only mmap of the
 * safetensors file; F16/BF16 are widened into owned buffers.
 * Every rule of docs/model-format.md is checked, and every weight must be
 * finite (see s2s_model_load_params). The weights file must not be changed
 * in place while the model is loaded (replace it by renaming a new file over
 * it): the mapping would see the new bytes, or fault. Returns NULL on failure with `err` set.
 * The caller frees the model with s2s_model_free(). */
S2S_API s2s_model *s2s_model_load(const char *dir, s2s_error *err);

/* Options of s2s_model_load_with. */
typedef struct s2s_model_load_params {
    int allow_nonfinite; /* 1: accept weights that hold NaN or infinities (for
                            debugging a broken export; decoding them gives
                            meaningless output). Default 0: such a tensor is
                            refused with S2S_ERR_TENSOR naming it and the
                            index of its first non-finite element. */
} s2s_model_load_params;

S2S_API s2s_model_load_params s2s_model_load_default_params(void);

/* s2s_model_load with options; `params` NULL means the defaults, which is
 * what s2s_model_load uses. */
S2S_API s2s_model *s2s_model_load_with(const char *dir, const s2s_model_load_params *params, s2s_error *err);

/* Frees everything the model owns and unmaps its weights. NULL is a no-op.
 * No session of the model may be used afterwards. */
S2S_API void s2s_model_free(s2s_model *model);

typedef enum s2s_side { S2S_SOURCE = 0, S2S_TARGET = 1 } s2s_side;

/* Plain description of a loaded model, for `s2s info`. Strings point into the
 * model and live as long as it does. */
typedef struct s2s_rnn_info {
    const char *cell;      /* "gru" or "lstm" */
    int embedding_size;
    int hidden_size;
    int num_layers;
    int bidirectional;     /* 0 for the decoder */
} s2s_rnn_info;

typedef struct s2s_model_info {
    const char *dir;
    const char *task;             /* "translation", "summarization", or "" */
    const char *source_language;  /* "" when absent */
    const char *target_language;
    const char *weights_file;     /* path as given in config.json */
    s2s_rnn_info encoder;
    s2s_rnn_info decoder;
    int append_eos;
    const char *bridge;           /* "final", "zeros", "mean_tanh" */
    const char *attention;        /* "bahdanau", "dot", "scaled_dot", "general", "multihead" */
    const char *attention_position; /* "before_rnn", "after_rnn" */
    int attention_size;           /* A for bahdanau, else 0 */
    int format_version;           /* 1 or 2 */
    int coverage;                 /* version 2: coverage attention */
    const char *local;            /* version 2: "monotonic", "predictive", or NULL (global) */
    int window;                   /* version 2: local attention window W, else 0 */
    int predictor_size;           /* version 2: local-p predictor size P, else 0 */
    int heads;                    /* version 2: multihead heads, else 0 */
    int copy;                     /* version 2: pointer-generator copy */
    int input_feeding;
    int source_vocab_size;
    int target_vocab_size;
    const char *sos, *eos;        /* special tokens; unk/pad NULL when null */
    const char *unk, *pad;
    const char *normalizer;       /* tokenizer settings, as in config.json */
    const char *level;
    int lowercase;
    const char *merges_file;      /* NULL unless level is "bpe" */
    int max_length;               /* config decoding.max_length, 0 if absent */
    int beam_size;                /* config decoding.beam_size, 0 if absent */
    int min_length;               /* config decoding.min_length, 0 if absent */
    float length_penalty;         /* config decoding.length_penalty, -1 if absent */
    int max_input_tokens;         /* tokens kept per input: config tokenizer.max_input_tokens
                                     (or its default), at most S2S_MAX_SOURCE_TOKENS */
    size_t n_tensors;             /* tensors the model uses */
    size_t n_parameters;          /* sum of their element counts */
    const char *license;          /* config "license" string, NULL when absent */
    const char *attribution;      /* config "attribution" string, NULL when absent */
    const char *scores_json;      /* config "scores" value as compact JSON text, NULL when absent */
    int shortlist;                /* 1 when the model directory has shortlist.txt (the fast
                                     mode's lexical shortlist, parsed on first use) */
    int no_repeat_ngram;          /* config decoding.no_repeat_ngram, 0 if absent */
    float coverage_penalty;       /* config decoding.coverage_penalty, -1 if absent */
    int whole_numbers;            /* config tokenizer.whole_numbers: 1 when a word made only
                                     of the digits 0-9 is one BPE piece */
    int whole_names;              /* config tokenizer.whole_names: 1 when a capitalized word
                                     (an upper- or title-case letter, then lowercase letters
                                     only) is one BPE piece */
    int keep_numbers;             /* config decoding.keep_numbers, 0 if absent */
} s2s_model_info;

/* Fills `info` for `model`. Never fails for a loaded model. A NULL `info`
 * is a no-op; a NULL `model` gives a zeroed `info`. */
S2S_API void s2s_model_get_info(const s2s_model *model, s2s_model_info *info);

typedef struct s2s_tensor_info {
    const char *name;     /* state_dict name; lives as long as the model */
    const char *dtype;    /* dtype in the file: "F32", "F16" or "BF16" */
    int ndim;
    int64_t shape[4];
} s2s_tensor_info;

/* Describes the i-th used tensor (0 <= i < info.n_tensors), in name order.
 * Returns S2S_ERR_INVALID_ARG for an out-of-range i. */
S2S_API s2s_status s2s_model_tensor(const s2s_model *model, size_t i, s2s_tensor_info *out);

/* Vocabulary look-ups. s2s_model_token returns the token string of `id` on
 * `side` (owned by the model) or NULL for an out-of-range id;
 * s2s_model_token_id returns the id of a token string or -1. */
S2S_API const char *s2s_model_token(const s2s_model *model, s2s_side side, int id);
S2S_API int s2s_model_token_id(const s2s_model *model, s2s_side side, const char *token, size_t len);

/* ------------------------------------------------------------------------ */
/* Tokenization                                                             */
/* ------------------------------------------------------------------------ */

typedef struct s2s_tokenize_params {
    int lenient;   /* 1: replace invalid UTF-8 by U+FFFD instead of failing. Default 0. */
    int max_tokens; /* cut input after this many tokens (before the appended eos);
                       0 = the model's max_input_tokens for the source side,
                       S2S_MAX_TARGET_TOKENS for the target side. Default 0. */
} s2s_tokenize_params;

S2S_API s2s_tokenize_params s2s_tokenize_default_params(void);

/* Token ids of one text plus the strings they came from. */
typedef struct s2s_token_seq {
    int *ids;          /* n ids (for the source, the appended eos included) */
    char **pieces;     /* n NUL-terminated token strings as split from the
                          text, before vocabulary look-up; for an appended eos
                          the eos token */
    int n;
    int truncated;     /* 1 when the input was cut at max_tokens */
} s2s_token_seq;

/* Tokenizes `text` (`len` bytes, need not be NUL-terminated) with the model's
 * tokenizer for `side`. On the source side the eos id is appended when the
 * model's encoder.append_eos is set. Unknown source tokens map to unk, or
 * fail with S2S_ERR_UNKNOWN_TOKEN naming the token when unk is null; an
 * unknown target token is S2S_ERR_UNKNOWN_TOKEN (model-format.md section 5),
 * except with a copy model, where it gets id -1 (its piece kept) for
 * s2s_translate_inputs or s2s_score to resolve against the source. Invalid UTF-8
 * fails with S2S_ERR_UTF8 naming the byte offset (unless params->lenient).
 * An empty or all-blank text gives n == 0 (source: just eos when appended).
 * On success `out` owns its arrays; free with s2s_token_seq_free(). On
 * failure `out` is left empty. `params` may be NULL for defaults. */
S2S_API s2s_status s2s_tokenize(const s2s_model *model, s2s_side side, const char *text, size_t len,
                                const s2s_tokenize_params *params, s2s_token_seq *out, s2s_error *err);

/* Frees what s2s_tokenize put in `seq` and zeroes it. NULL is a no-op. */
S2S_API void s2s_token_seq_free(s2s_token_seq *seq);

/* Turns target ids into text a person reads: "word" level joins with single
 * spaces, "char" concatenates, "bpe" and the "text" normalizer undo their
 * joiner marks. Ids equal to eos are skipped. Returns a malloc'd NUL-terminated
 * string the caller frees with free(), or NULL when out of memory. */
S2S_API char *s2s_detokenize(const s2s_model *model, const int *ids, int n);

/* ------------------------------------------------------------------------ */
/* Decoding                                                                 */
/* ------------------------------------------------------------------------ */

/* Arithmetic of the model's matrix products. */
typedef enum s2s_compute {
    S2S_COMPUTE_F32 = 0,  /* float32 as stored: outputs identical to PyTorch's */
    S2S_COMPUTE_INT8 = 1  /* fast mode: the encoder's and decoder's RNNs, attention_out
                             and the output projection with int8 weights (per-row scales, made once
                             per model on first use) and int8 activations (per-row
                             scales); results close to, not equal to, F32 */
} s2s_compute;

typedef struct s2s_decode_params {
    int beam_size;          /* 1 = greedy. Default 1. Range 1..S2S_MAX_BEAM. */
    int n_best;             /* hypotheses returned, <= beam_size. Default 1. */
    float length_penalty;   /* GNMT alpha; 0 = none. Default 0. */
    int max_length;         /* decoding steps incl. eos; 0 = config
                               decoding.max_length, else 2 * n_source + 10. Default 0. */
    int min_length;         /* eos is not allowed before this many tokens
                               (eos excluded); 0 = no minimum (model-format.md section 6). Default 0. */
    int want_attention;     /* 1: fill hypothesis attention matrices. Default 1. */
    int no_repeat_ngram;    /* N >= 1: a token that would repeat an N-gram of the
                               hypothesis' tokens is never chosen (forced steps are
                               not blocked); 0 = off. Default 0. */
    float coverage_penalty; /* GNMT beta >= 0: a finished hypothesis ranks by
                               score / lp + beta * sum_j log(min(1, attention summed
                               over its steps)); 0 = off. Not with local attention.
                               Default 0. */
    int sampling;           /* 1: draw each token instead of searching; needs
                               beam_size 1. Default 0. */
    int num_samples;        /* sampling: independent samples per input, returned
                               in sample order, 1..S2S_MAX_BEAM. Default 1. */
    float temperature;      /* sampling: > 0; log p is divided by it. Default 1. */
    int top_k;              /* sampling: draw among the k most likely tokens; 0 = all.
                               Default 0. */
    float top_p;            /* sampling: then among the fewest tokens whose
                               probability reaches p, in (0, 1]. Default 1. */
    uint64_t seed;          /* sampling: the generator of sample k of an input is
                               seeded by (seed, the input's stream number, k), so
                               output does not depend on threads or batching.
                               Default 0. */
    /* Called once per decoding step; returning nonzero stops with
     * S2S_ERR_ABORTED. NULL = never. */
    int (*abort_callback)(void *user_data);
    void *abort_user_data;
    s2s_compute compute;    /* S2S_COMPUTE_F32 or S2S_COMPUTE_INT8. Forced decoding
                               (s2s_score*) always uses F32. Default S2S_COMPUTE_F32. */
    int shortlist;          /* fast mode only: 1 computes the output projection for
                               the model's lexical shortlist (its shortlist.txt) when
                               the model has one: each input's own list (the likely
                               words of its source words, the frequent words, eos,
                               unk and its prefix), log p normalized over that list,
                               every other word -infinity, so an input's result does
                               not depend on the others of the call; 0 = the whole
                               vocabulary. Ignored with F32. Default 1. */
    int want_scores;        /* 1: every hypothesis carries score, ranking_score and
                               token_logprobs. 0: the caller will not read them, and
                               greedy decoding (beam 1, n_best 1, no sampling, no
                               length or coverage penalty, no n-gram blocking, a
                               model without copy, F32 or int8 without a shortlist)
                               may pick each token from the logits without the
                               log-softmax over the vocabulary, choosing the same
                               tokens; score and ranking_score are then NaN, and
                               so is token_logprobs at each step decoded that way.
                               Default 1. */
    int keep_numbers;       /* 1: a hypothesis may not end (eos is not allowed)
                               while a number of its source is missing from its
                               tokens: a source piece made only of the digits 0-9
                               whose target id (its extended id in a copy model)
                               exists. An input for which no hypothesis finishes
                               that way is decoded again without it. Sampling
                               ignores it. 0 = off (section 6 exactly).
                               Default 0. */
} s2s_decode_params;

S2S_API s2s_decode_params s2s_decode_default_params(void);

typedef struct s2s_hypothesis {
    int *tokens;           /* n_tokens target ids, the final eos excluded */
    int n_tokens;
    float score;           /* sum of natural-log probabilities (eos included when emitted) */
    float ranking_score;   /* score with the length penalty applied */
    float *token_logprobs; /* n_steps log-probabilities, one per step (eos step included) */
    float *attention;      /* n_steps x n_source, row-major; NULL unless want_attention */
    int n_steps;           /* n_tokens + (finished ? 1 : 0) */
    int finished;          /* 1 when eos was emitted */
} s2s_hypothesis;

typedef struct s2s_result {
    int n_source;          /* source length the attention columns refer to */
    s2s_hypothesis *hyps;  /* n_hyps hypotheses, best first (sampling: in sample order) */
    int n_hyps;
    /* Copy models (format version 2): token ids V, V+1, ... (V = target
     * vocabulary size) are extended ids, the source pieces the target
     * vocabulary lacks, in order of first occurrence; extended[id - V] spells
     * one. s2s_result_token() and s2s_detokenize_result() read them. NULL and 0
     * for other models. Owned by the result. */
    char **extended;
    int n_extended;
} s2s_result;

/* The token string of target id `id` in `result`: a target-vocabulary token
 * (owned by the model) or, for a copy model, the source piece of an extended
 * id (owned by the result). NULL for an id out of range. */
S2S_API const char *s2s_result_token(const s2s_model *model, const s2s_result *result, int id);

/* As s2s_detokenize, with the extended ids of `result` (a copy model's
 * result; may be NULL) spelled as their source pieces: the text of
 * hypothesis k is s2s_detokenize_result(model, result, hyps[k].tokens,
 * hyps[k].n_tokens). Returns a malloc'd string the caller frees, or NULL
 * when out of memory. */
S2S_API char *s2s_detokenize_result(const s2s_model *model, const s2s_result *result, const int *ids, int n);

/* Frees the arrays in `result` and zeroes it. NULL is a no-op. The decoding
 * functions zero their results first, so freeing after a failed call is safe. */
S2S_API void s2s_result_free(s2s_result *result);

/* Per-thread decoding state (buffers). One session per thread; a session is
 * not thread-safe, the model is. */
typedef struct s2s_session s2s_session;

/* Creates a session for `model`. Returns NULL when out of memory. The model
 * must outlive the session. Free with s2s_session_free(). */
S2S_API s2s_session *s2s_session_new(const s2s_model *model, s2s_error *err);
S2S_API void s2s_session_free(s2s_session *session);

/* Decodes source ids `src` (n_src > 0, ids already including any appended
 * eos, as s2s_tokenize returns them) with greedy (beam_size 1) or beam
 * search. Fills `result` (caller frees with s2s_result_free()). Buffers are
 * sized once per call before the decoding loop. Fails with
 * S2S_ERR_INVALID_ARG for an empty source, an out-of-range id or bad params. */
S2S_API s2s_status s2s_translate_ids(s2s_session *session, const int *src, int n_src,
                                     const s2s_decode_params *params, s2s_result *result, s2s_error *err);

/* Forced decoding: scores the target ids `tgt` (without eos; eos is added)
 * given `src`, with no length limit. `result` gets one finished hypothesis
 * with the score, per-step log-probabilities and alignment. */
S2S_API s2s_status s2s_score_ids(s2s_session *session, const int *src, int n_src,
                                 const int *tgt, int n_tgt, int want_attention,
                                 s2s_result *result, s2s_error *err);

/* One input of s2s_translate_inputs. */
typedef struct s2s_input {
    const s2s_token_seq *source; /* from s2s_tokenize(..., S2S_SOURCE, ...); its
                                    pieces give a copy model's extended vocabulary */
    const s2s_token_seq *prefix; /* target prefix from s2s_tokenize(..., S2S_TARGET,
                                    ...) forced before free decoding, or NULL. Its
                                    steps count toward max_length and the score. */
    uint64_t stream;             /* sampling: the input's stream number (for
                                    example its line number) */
} s2s_input;

/* Translates `n` inputs as one batch, like s2s_translate_batch, with target
 * prefixes, sampling streams and, for a copy model, the extended vocabulary
 * taken from each source's pieces (a target token a copy model's vocabulary
 * lacks, as s2s_tokenize leaves it with id -1, resolves to the extended id of
 * the same source piece, else fails with S2S_ERR_UNKNOWN_TOKEN). A prefix
 * holding eos is S2S_ERR_INVALID_ARG. results[i] belongs to inputs[i]; on
 * failure no result is filled. */
S2S_API s2s_status s2s_translate_inputs(s2s_session *session, const s2s_input *inputs, int n,
                                        const s2s_decode_params *params, s2s_result *results, s2s_error *err);

/* Forced decoding of `target` (from s2s_tokenize on the target side) given
 * `source`, as s2s_score_ids, with a copy model's extended vocabulary taken
 * from the source pieces (see s2s_translate_inputs). */
S2S_API s2s_status s2s_score(s2s_session *session, const s2s_token_seq *source, const s2s_token_seq *target,
                             int want_attention, s2s_result *result, s2s_error *err);

/* Translates `n` source sequences in one call, all decoded as one batch
 * through the matrix-matrix kernels; results[i] belongs to srcs[i] and is
 * identical to what s2s_translate_ids would give for it alone. `results`
 * must have room for n; on failure of any input the whole call fails and no
 * result is filled. The arguments session, srcs, n_srcs, n (0..S2S_MAX_BATCH)
 * and results are checked before anything is written: when one of them is
 * bad the call fails with S2S_ERR_INVALID_ARG and `results` is untouched;
 * otherwise results[0..n) are zeroed first. */
S2S_API s2s_status s2s_translate_batch(s2s_session *session, const int *const *srcs, const int *n_srcs,
                                       int n, const s2s_decode_params *params, s2s_result *results,
                                       s2s_error *err);

#ifdef __cplusplus
}
#endif
#endif /* S2S_H */
