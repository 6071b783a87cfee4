/*
 * config.c - config.json (model-format.md section 4) and its "tokenizer" object, parsed
 * with cJSON into model_config / tokenizer_config, plus the loader's shared
 * helpers (loader_read_file, config_check_relpath).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <utf8proc.h>


/* See config.h. */
s2s_status loader_read_file(const char *path, const char *name, size_t max_bytes, char **out,
                            size_t *len, s2s_error *err)
{
    *out = NULL;
    *len = 0;
    /* O_NONBLOCK: a FIFO or device must not block the open before the
     * regular-file check below refuses it. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return s2s_fail(err, S2S_ERR_IO, "%s: cannot open: %s", name, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return s2s_fail(err, S2S_ERR_IO, "%s: not a regular file", name);
    }
    if ((unsigned long long)sb.st_size > max_bytes) {
        close(fd);
        return s2s_fail(err, S2S_ERR_IO, "%s: %lld bytes, more than the limit of %zu", name,
                           (long long)sb.st_size, max_bytes);
    }
    size_t cap = (size_t)sb.st_size;
    char *buf = malloc(cap + 1);
    if (!buf) {
        close(fd);
        return s2s_fail(err, S2S_ERR_NOMEM, "%s: out of memory", name);
    }
    size_t got = 0;
    while (got < cap) {
        ssize_t r = read(fd, buf + got, cap - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            free(buf);
            close(fd);
            return s2s_fail(err, S2S_ERR_IO, "%s: read error: %s", name, strerror(e));
        }
        if (r == 0)
            break; /* file shrank while reading: use what is there */
        got += (size_t)r;
    }
    close(fd);
    buf[got] = '\0';
    *out = buf;
    *len = got;
    return S2S_OK;
}

/* See config.h. */
s2s_status config_check_relpath(const char *rel, const char *file, const char *key,
                                s2s_error *err)
{
    if (rel[0] == '\0')
        return s2s_fail(err, S2S_ERR_CONFIG, "%s: key \"%s\": empty path", file, key);
    if (rel[0] == '/')
        return s2s_fail(err, S2S_ERR_CONFIG,
                           "%s: key \"%s\": absolute path \"%.200s\" (paths must stay inside the "
                           "model directory)",
                           file, key, rel);
    const char *p = rel;
    while (*p) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return s2s_fail(err, S2S_ERR_CONFIG,
                               "%s: key \"%s\": path \"%.200s\" has a \"%.*s\" component (paths "
                               "must stay inside the model directory)",
                               file, key, rel, (int)n, p);
        p += n;
        if (*p == '/') {
            p++;
            if (*p == '\0')
                return s2s_fail(err, S2S_ERR_CONFIG,
                                   "%s: key \"%s\": path \"%.200s\" ends with '/'", file, key,
                                   rel);
        }
    }
    return S2S_OK;
}

/* ---- typed access to JSON members, with messages naming the key path ---- */

/* Context for messages: `file` is the prefix ("config.json"), or NULL. */
typedef struct jctx {
    const char *file;
    s2s_error *err;
} jctx;

#define JPRE(c) ((c)->file ? (c)->file : ""), ((c)->file ? ": " : "")

/* See config.h. */
const char *json_kind(const cJSON *v)
{
    if (cJSON_IsString(v)) return "a string";
    if (cJSON_IsNumber(v)) return "a number";
    if (cJSON_IsBool(v)) return "a boolean";
    if (cJSON_IsNull(v)) return "null";
    if (cJSON_IsArray(v)) return "an array";
    if (cJSON_IsObject(v)) return "an object";
    return "an invalid value";
}

/* Joins `prefix` and `key` into `buf` ("decoder" + "cell" = "decoder.cell"). */
static const char *keypath(char *buf, size_t size, const char *prefix, const char *key)
{
    if (prefix && prefix[0])
        snprintf(buf, size, "%s.%s", prefix, key);
    else
        snprintf(buf, size, "%s", key);
    return buf;
}

/* Member `key` of `obj`, or NULL when absent (a JSON null counts as absent
 * unless `null_ok` is 0 and the key is required: callers decide). */
static const cJSON *member(const cJSON *obj, const char *key)
{
    return obj ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
}

/* Fails with S2S_ERR_CONFIG: required key `path` is absent. */
static s2s_status missing(jctx *c, const char *path)
{
    return s2s_fail(c->err, S2S_ERR_CONFIG, "%s%smissing required key \"%s\"", JPRE(c), path);
}

/* Fails with S2S_ERR_CONFIG: key `path` holds `v`, not `expected`. */
static s2s_status wrong_type(jctx *c, const char *path, const char *expected, const cJSON *v)
{
    return s2s_fail(c->err, S2S_ERR_CONFIG, "%s%skey \"%s\": expected %s, got %s", JPRE(c),
                       path, expected, json_kind(v));
}

/* Optional object member: *out = NULL when absent or null. */
static s2s_status get_object(jctx *c, const cJSON *obj, const char *prefix, const char *key,
                             int required, const cJSON **out)
{
    char path[128];
    keypath(path, sizeof path, prefix, key);
    const cJSON *v = member(obj, key);
    *out = NULL;
    if (!v || cJSON_IsNull(v))
        return required ? missing(c, path) : S2S_OK;
    if (!cJSON_IsObject(v))
        return wrong_type(c, path, "an object", v);
    *out = v;
    return S2S_OK;
}

/* String member copied into *out (owned). Absent/null: error when
 * `required`, else a copy of `def` (NULL def gives NULL). */
static s2s_status get_string(jctx *c, const cJSON *obj, const char *prefix, const char *key,
                             int required, const char *def, char **out)
{
    char path[128];
    keypath(path, sizeof path, prefix, key);
    const cJSON *v = member(obj, key);
    const char *s = def;
    if (!v || cJSON_IsNull(v)) {
        if (required)
            return missing(c, path);
    } else if (!cJSON_IsString(v)) {
        return wrong_type(c, path, "a string", v);
    } else {
        s = v->valuestring;
    }
    *out = NULL;
    if (s && !(*out = strdup(s)))
        return s2s_fail(c->err, S2S_ERR_NOMEM, "%s%sout of memory", JPRE(c));
    return S2S_OK;
}

/* String member that must be one of `names` (n of them); *out = its index,
 * or `def` when absent/null. */
static s2s_status get_enum(jctx *c, const cJSON *obj, const char *prefix, const char *key,
                           const char *const *names, int n, int def, int *out)
{
    char path[128];
    keypath(path, sizeof path, prefix, key);
    const cJSON *v = member(obj, key);
    *out = def;
    if (!v || cJSON_IsNull(v))
        return S2S_OK;
    if (!cJSON_IsString(v))
        return wrong_type(c, path, "a string", v);
    for (int i = 0; i < n; i++)
        if (strcmp(v->valuestring, names[i]) == 0) {
            *out = i;
            return S2S_OK;
        }
    char expected[256] = "";
    size_t used = 0;
    for (int i = 0; i < n && used < sizeof expected; i++)
        used += (size_t)snprintf(expected + used, sizeof expected - used, "%s%s", i ? ", " : "",
                                 names[i]);
    return s2s_fail(c->err, S2S_ERR_CONFIG,
                       "%s%skey \"%s\": unknown value \"%.100s\" (expected %s)", JPRE(c), path,
                       v->valuestring, expected);
}

/* Integer member in [lo, hi]; `def` when absent/null and not `required`. */
static s2s_status get_int(jctx *c, const cJSON *obj, const char *prefix, const char *key,
                          int required, int def, int lo, int hi, int *out)
{
    char path[128];
    keypath(path, sizeof path, prefix, key);
    const cJSON *v = member(obj, key);
    *out = def;
    if (!v || cJSON_IsNull(v))
        return required ? missing(c, path) : S2S_OK;
    if (!cJSON_IsNumber(v))
        return wrong_type(c, path, lo > 0 ? "a positive integer" : "an integer", v);
    double d = v->valuedouble;
    if (!isfinite(d) || d != floor(d))
        return s2s_fail(c->err, S2S_ERR_CONFIG, "%s%skey \"%s\": %g is not an integer",
                           JPRE(c), path, d);
    if (d < lo || d > hi)
        return s2s_fail(c->err, S2S_ERR_CONFIG, "%s%skey \"%s\": %.0f is out of range (%d..%d)",
                           JPRE(c), path, d, lo, hi);
    *out = (int)d;
    return S2S_OK;
}

/* Number member in [lo, hi]; `def` when absent/null. */
static s2s_status get_number(jctx *c, const cJSON *obj, const char *prefix, const char *key,
                             double def, double lo, double hi, double *out)
{
    char path[128];
    keypath(path, sizeof path, prefix, key);
    const cJSON *v = member(obj, key);
    *out = def;
    if (!v || cJSON_IsNull(v))
        return S2S_OK;
    if (!cJSON_IsNumber(v))
        return wrong_type(c, path, "a number", v);
    double d = v->valuedouble;
    if (!isfinite(d) || d < lo || d > hi)
        return s2s_fail(c->err, S2S_ERR_CONFIG, "%s%skey \"%s\": %g is out of range (%g..%g)",
                           JPRE(c), path, d, lo, hi);
    *out = d;
    return S2S_OK;
}

/* Boolean member; `def` when absent/null. */
static s2s_status get_bool(jctx *c, const cJSON *obj, const char *prefix, const char *key,
                           int def, int *out)
{
    char path[128];
    keypath(path, sizeof path, prefix, key);
    const cJSON *v = member(obj, key);
    *out = def;
    if (!v || cJSON_IsNull(v))
        return S2S_OK;
    if (!cJSON_IsBool(v))
        return wrong_type(c, path, "true or false", v);
    *out = cJSON_IsTrue(v) ? 1 : 0;
    return S2S_OK;
}

/* ---- enum names ---------------------------------------------------------- */

static const char *const cell_names[] = {"gru", "lstm"};
static const char *const bridge_names[] = {"final", "zeros", "mean_tanh"};
static const char *const attn_names[] = {"bahdanau", "dot", "scaled_dot", "general", "multihead"};
static const char *const local_names[] = {"none", "monotonic", "predictive"};
static const char *const pos_names[] = {"before_rnn", "after_rnn"};
static const char *const norm_names[] = {"none", "tutorial", "text"};
static const char *const level_names[] = {"word", "char", "bpe"};
static const char *const task_names[] = {"translation", "summarization"};

#define NAME_OF(table, v) ((unsigned)(v) < sizeof table / sizeof table[0] ? table[v] : "?")

/* Enum value -> config.json spelling; static strings, "?" when out of range. */
const char *config_cell_name(cell_kind c) { return NAME_OF(cell_names, c); }
const char *config_bridge_name(bridge_kind b) { return NAME_OF(bridge_names, b); }
const char *config_attention_name(attn_kind a) { return NAME_OF(attn_names, a); }
const char *config_position_name(attn_position p) { return NAME_OF(pos_names, p); }
const char *config_local_name(local_kind k) { return NAME_OF(local_names, k); }
const char *normalizer_name(normalizer_kind k) { return NAME_OF(norm_names, k); }
const char *level_name(level_kind k) { return NAME_OF(level_names, k); }

/* ---- tokenizer object ----------------------------------------------------- */

/* The error for a tokenizer option `key` that only level "bpe" has. */
static s2s_status bpe_only(jctx *c, const char *key, level_kind level)
{
    return s2s_fail(c->err, S2S_ERR_CONFIG, "%s%skey \"tokenizer.%s\": only for level \"bpe\" (it is \"%s\")",
                    JPRE(c), key, level_names[level]);
}

/* Parses the "tokenizer" object `obj` (NULL = defaults) with messages
 * prefixed by `file` (NULL = no prefix). */
static s2s_status tokenizer_parse_ctx(jctx *c, const cJSON *obj, tokenizer_config *out)
{
    memset(out, 0, sizeof *out);
    out->max_input_tokens = S2S_DEFAULT_MAX_INPUT_TOKENS;
    if (obj && !cJSON_IsObject(obj))
        return wrong_type(c, "tokenizer", "an object", obj);
    const char *pre = "tokenizer";
    int v;
    s2s_status st;
    if ((st = get_enum(c, obj, pre, "normalizer", norm_names, 3, NORM_NONE, &v)) != S2S_OK)
        return st;
    out->normalizer = (normalizer_kind)v;
    if ((st = get_enum(c, obj, pre, "level", level_names, 3, LEVEL_WORD, &v)) != S2S_OK)
        return st;
    out->level = (level_kind)v;
    if ((st = get_bool(c, obj, pre, "lowercase", 0, &out->lowercase)) != S2S_OK)
        return st;
    if ((st = get_int(c, obj, pre, "max_input_tokens", 0, S2S_DEFAULT_MAX_INPUT_TOKENS, 1, INT_MAX,
                      &out->max_input_tokens)) != S2S_OK)
        return st;
    if ((st = get_bool(c, obj, pre, "whole_numbers", 0, &out->whole_numbers)) != S2S_OK)
        return st;
    if ((st = get_bool(c, obj, pre, "whole_names", 0, &out->whole_names)) != S2S_OK)
        return st;
    if (out->whole_numbers && out->level != LEVEL_BPE)
        return bpe_only(c, "whole_numbers", out->level);
    if (out->whole_names && out->level != LEVEL_BPE)
        return bpe_only(c, "whole_names", out->level);
    if (out->level == LEVEL_BPE) {
        if ((st = get_string(c, obj, pre, "merges", 1, NULL, &out->merges)) != S2S_OK)
            return st;
        if ((st = config_check_relpath(out->merges, c->file ? c->file : "config.json",
                                       "tokenizer.merges", c->err)) != S2S_OK) {
            tokenizer_config_free(out);
            return st;
        }
    }
    return S2S_OK;
}

/* See tokenizer.h. Messages name the key ("tokenizer.level") without a file. */
s2s_status tokenizer_config_parse(const cJSON *obj, tokenizer_config *out, s2s_error *err)
{
    jctx c = {NULL, err};
    s2s_status st = tokenizer_parse_ctx(&c, obj, out);
    if (st != S2S_OK)
        tokenizer_config_free(out);
    return st;
}

/* See tokenizer.h. */
void tokenizer_config_free(tokenizer_config *cfg)
{
    if (!cfg)
        return;
    free(cfg->merges);
    memset(cfg, 0, sizeof *cfg);
    cfg->max_input_tokens = S2S_DEFAULT_MAX_INPUT_TOKENS;
}

/* ---- config.json ---------------------------------------------------------- */

/* Parses one RNN side ("encoder" or "decoder") into `r`. */
static s2s_status parse_rnn(jctx *c, const cJSON *obj, const char *side, rnn_config *r)
{
    s2s_status st;
    int v;
    char path[64];
    snprintf(path, sizeof path, "%s.cell", side);
    const cJSON *cell = member(obj, "cell");
    if (!cell || cJSON_IsNull(cell))
        return missing(c, path);
    if ((st = get_enum(c, obj, side, "cell", cell_names, 2, CELL_GRU, &v)) != S2S_OK)
        return st;
    r->cell = (cell_kind)v;
    if ((st = get_int(c, obj, side, "embedding_size", 1, 0, 1, CONFIG_MAX_SIZE, &r->emb)) !=
        S2S_OK)
        return st;
    if ((st = get_int(c, obj, side, "hidden_size", 1, 0, 1, CONFIG_MAX_SIZE, &r->hidden)) !=
        S2S_OK)
        return st;
    if ((st = get_int(c, obj, side, "num_layers", 0, 1, 1, S2S_MAX_LAYERS, &r->layers)) != S2S_OK)
        return st;
    if ((st = get_bool(c, obj, side, "bidirectional", 0, &r->bidirectional)) != S2S_OK)
        return st;
    return S2S_OK;
}

/* The descriptive keys, kept for s2s_model_get_info: "license" and
 * "attribution" when they are strings, "scores" (any value) as compact
 * JSON text. They change nothing in what the model computes, so a value
 * of another type is ignored like an unknown key. */
static s2s_status parse_descriptive(jctx *c, const cJSON *root, model_config *cfg)
{
    const cJSON *v;
    if ((v = member(root, "license")) && cJSON_IsString(v) && !(cfg->license = strdup(v->valuestring)))
        return s2s_fail(c->err, S2S_ERR_NOMEM, "%s: out of memory", c->file);
    if ((v = member(root, "attribution")) && cJSON_IsString(v) && !(cfg->attribution = strdup(v->valuestring)))
        return s2s_fail(c->err, S2S_ERR_NOMEM, "%s: out of memory", c->file);
    if ((v = member(root, "scores")) && !cJSON_IsNull(v) && !(cfg->scores_json = cJSON_PrintUnformatted(v)))
        return s2s_fail(c->err, S2S_ERR_NOMEM, "%s: out of memory", c->file);
    return S2S_OK;
}

/* The body of model_config_parse on a parsed root object. */
/* Version-2 keys of the decoder (model-format.md section 9): coverage, local
 * attention, multi-head attention and copy, with every combination the
 * format does not allow refused by name. `D` is the encoder output size. */
static s2s_status parse_version2(jctx *c, const cJSON *dec, const cJSON *attn, int D, model_config *cfg)
{
    s2s_status st;
    int v, has_local = member(attn, "local") && !cJSON_IsNull(member(attn, "local"));
    const char *A = "decoder.attention";
    if ((st = get_bool(c, attn, A, "coverage", 0, &cfg->coverage)) ||
        (st = get_int(c, attn, A, "window", 0, 0, 1, 1024, &cfg->window)) ||
        (st = get_enum(c, attn, A, "local", local_names + 1, 2, LOCAL_PREDICTIVE - 1, &v)) ||
        (st = get_int(c, attn, A, "predictor_size", 0, cfg->dec.hidden, 1, CONFIG_MAX_SIZE,
                      &cfg->predictor_size)) ||
        (st = get_int(c, attn, A, "heads", 0, 0, 1, CONFIG_MAX_SIZE, &cfg->heads)) ||
        (st = get_bool(c, dec, "decoder", "copy", 0, &cfg->copy)))
        return st;
    cfg->local = cfg->window ? (local_kind)(v + 1) : LOCAL_NONE;
    if (cfg->coverage && cfg->attention != ATTN_BAHDANAU)
        return s2s_fail(c->err, S2S_ERR_CONFIG,
                        "%s: key \"decoder.attention.coverage\": coverage needs type \"bahdanau\" (it is \"%s\")",
                        c->file, attn_names[cfg->attention]);
    if (has_local && !cfg->window)
        return s2s_fail(c->err, S2S_ERR_CONFIG,
                        "%s: key \"decoder.attention.local\" needs \"decoder.attention.window\"", c->file);
    if (cfg->window && cfg->coverage)
        return s2s_fail(c->err, S2S_ERR_CONFIG,
                        "%s: key \"decoder.attention.window\": local attention does not combine with coverage",
                        c->file);
    if (cfg->window && cfg->attention == ATTN_MULTIHEAD)
        return s2s_fail(c->err, S2S_ERR_CONFIG,
                        "%s: key \"decoder.attention.window\": local attention does not combine with type "
                        "\"multihead\"", c->file);
    if (cfg->local != LOCAL_PREDICTIVE)
        cfg->predictor_size = 0;
    if (cfg->attention == ATTN_MULTIHEAD) {
        if (!cfg->heads)
            return s2s_fail(c->err, S2S_ERR_CONFIG,
                            "%s: key \"decoder.attention.type\": \"multihead\" needs \"decoder.attention.heads\"",
                            c->file);
        if (cfg->dec.hidden % cfg->heads)
            return s2s_fail(c->err, S2S_ERR_CONFIG,
                            "%s: key \"decoder.attention.heads\": %d heads do not divide decoder.hidden_size %d",
                            c->file, cfg->heads, cfg->dec.hidden);
    } else if (cfg->heads) {
        return s2s_fail(c->err, S2S_ERR_CONFIG,
                        "%s: key \"decoder.attention.heads\" needs type \"multihead\" (it is \"%s\")", c->file,
                        attn_names[cfg->attention]);
    }
    if (cfg->copy && !cfg->unk)
        return s2s_fail(c->err, S2S_ERR_CONFIG,
                        "%s: key \"decoder.copy\": copy needs a non-null special_tokens.unk", c->file);
    (void)D;
    return S2S_OK;
}

static s2s_status parse_root(jctx *c, const cJSON *root, model_config *cfg)
{
    s2s_status st;
    int v;
    if (!cJSON_IsObject(root))
        return s2s_fail(c->err, S2S_ERR_CONFIG, "%s: expected a JSON object, got %s", c->file,
                           json_kind(root));

    /* format and version first: a newer model gets the version message even
     * when the rest no longer follows version 1. */
    const cJSON *fmt = member(root, "format");
    if (!fmt || cJSON_IsNull(fmt))
        return missing(c, "format");
    if (!cJSON_IsString(fmt))
        return wrong_type(c, "format", "a string", fmt);
    if (strcmp(fmt->valuestring, "s2s-rnn") != 0)
        return s2s_fail(c->err, S2S_ERR_VERSION,
                           "%s: key \"format\": \"%.100s\" is not a format this engine reads "
                           "(expected \"s2s-rnn\")",
                           c->file, fmt->valuestring);
    const cJSON *ver = member(root, "format_version");
    if (!ver || cJSON_IsNull(ver))
        return missing(c, "format_version");
    if (!cJSON_IsNumber(ver))
        return wrong_type(c, "format_version", "an integer", ver);
    double dv = ver->valuedouble;
    if (!isfinite(dv) || dv != floor(dv) || dv < 1)
        return s2s_fail(c->err, S2S_ERR_CONFIG,
                           "%s: key \"format_version\": %g is not a positive integer", c->file,
                           dv);
    if (dv > S2S_FORMAT_VERSION)
        return s2s_fail(c->err, S2S_ERR_VERSION,
                           "%s: format_version %.0f is newer than this engine reads (%d)",
                           c->file, dv, S2S_FORMAT_VERSION);
    cfg->format_version = (int)dv;

    if ((st = get_enum(c, root, "", "task", task_names, 2, -1, &v)) != S2S_OK)
        return st;
    if (!(cfg->task = strdup(v < 0 ? "" : task_names[v])))
        return s2s_fail(c->err, S2S_ERR_NOMEM, "%s: out of memory", c->file);
    if ((st = get_string(c, root, "", "source_language", 0, "", &cfg->source_language)) ||
        (st = get_string(c, root, "", "target_language", 0, "", &cfg->target_language)) ||
        (st = get_string(c, root, "", "weights", 0, "model.safetensors", &cfg->weights)) ||
        (st = get_string(c, root, "", "source_vocab", 0, "source.vocab.json",
                         &cfg->source_vocab)) ||
        (st = get_string(c, root, "", "target_vocab", 0, "target.vocab.json",
                         &cfg->target_vocab)))
        return st;
    if ((st = config_check_relpath(cfg->weights, c->file, "weights", c->err)) ||
        (st = config_check_relpath(cfg->source_vocab, c->file, "source_vocab", c->err)) ||
        (st = config_check_relpath(cfg->target_vocab, c->file, "target_vocab", c->err)))
        return st;

    const cJSON *sp;
    if ((st = get_object(c, root, "", "special_tokens", 1, &sp)) != S2S_OK)
        return st;
    if ((st = get_string(c, sp, "special_tokens", "sos", 1, NULL, &cfg->sos)) ||
        (st = get_string(c, sp, "special_tokens", "eos", 1, NULL, &cfg->eos)) ||
        (st = get_string(c, sp, "special_tokens", "unk", 0, NULL, &cfg->unk)) ||
        (st = get_string(c, sp, "special_tokens", "pad", 0, NULL, &cfg->pad)))
        return st;
    if (cfg->sos[0] == '\0' || cfg->eos[0] == '\0')
        return s2s_fail(c->err, S2S_ERR_CONFIG, "%s: key \"special_tokens.%s\": empty token",
                           c->file, cfg->sos[0] == '\0' ? "sos" : "eos");

    const cJSON *enc, *dec, *attn, *tok, *decoding;
    if ((st = get_object(c, root, "", "encoder", 1, &enc)) != S2S_OK)
        return st;
    if ((st = parse_rnn(c, enc, "encoder", &cfg->enc)) != S2S_OK)
        return st;
    if ((st = get_bool(c, enc, "encoder", "append_eos", 1, &cfg->append_eos)) != S2S_OK)
        return st;
    if ((st = get_object(c, root, "", "decoder", 1, &dec)) != S2S_OK)
        return st;
    if ((st = parse_rnn(c, dec, "decoder", &cfg->dec)) != S2S_OK)
        return st;
    if (cfg->dec.bidirectional)
        return s2s_fail(c->err, S2S_ERR_CONFIG,
                           "%s: key \"decoder.bidirectional\": the decoder cannot be "
                           "bidirectional",
                           c->file);
    if ((st = get_enum(c, root, "", "bridge", bridge_names, 3, BRIDGE_FINAL, &v)) != S2S_OK)
        return st;
    cfg->bridge = (bridge_kind)v;

    if ((st = get_object(c, dec, "decoder", "attention", 0, &attn)) != S2S_OK)
        return st;
    /* "multihead" is a version-2 value: a version-1 model naming it is refused */
    if ((st = get_enum(c, attn, "decoder.attention", "type", attn_names, cfg->format_version >= 2 ? 5 : 4,
                       ATTN_BAHDANAU, &v)))
        return st;
    cfg->attention = (attn_kind)v;
    if ((st = get_enum(c, attn, "decoder.attention", "position", pos_names, 2, POS_BEFORE_RNN,
                       &v)))
        return st;
    cfg->position = (attn_position)v;
    if ((st = get_int(c, attn, "decoder.attention", "size", 0, cfg->dec.hidden, 1,
                      CONFIG_MAX_SIZE, &cfg->attention_size)))
        return st;
    if (cfg->attention != ATTN_BAHDANAU)
        cfg->attention_size = 0;
    if ((st = get_bool(c, dec, "decoder", "input_feeding", 0, &cfg->input_feeding)))
        return st;
    if (cfg->input_feeding && cfg->position != POS_AFTER_RNN)
        return s2s_fail(c->err, S2S_ERR_CONFIG,
                           "%s: key \"decoder.input_feeding\": true needs "
                           "decoder.attention.position \"after_rnn\" (it is \"%s\")",
                           c->file, pos_names[cfg->position]);

    /* Cross-key checks. */
    int dirs = cfg->enc.bidirectional ? 2 : 1;
    int D = cfg->enc.hidden * dirs;
    if (cfg->bridge == BRIDGE_FINAL) {
        if (cfg->enc.layers != cfg->dec.layers)
            return s2s_fail(c->err, S2S_ERR_CONFIG,
                               "%s: key \"bridge\": \"final\" needs equal layer counts "
                               "(encoder.num_layers %d, decoder.num_layers %d)",
                               c->file, cfg->enc.layers, cfg->dec.layers);
        if (cfg->enc.cell != cfg->dec.cell)
            return s2s_fail(c->err, S2S_ERR_CONFIG,
                               "%s: key \"bridge\": \"final\" needs equal cells (encoder.cell "
                               "%s, decoder.cell %s)",
                               c->file, cell_names[cfg->enc.cell], cell_names[cfg->dec.cell]);
        if (cfg->dec.hidden != D)
            return s2s_fail(c->err, S2S_ERR_CONFIG,
                               "%s: key \"bridge\": \"final\" needs decoder.hidden_size (%d) == "
                               "encoder output size D (%d)",
                               c->file, cfg->dec.hidden, D);
    }
    if ((cfg->attention == ATTN_DOT || cfg->attention == ATTN_SCALED_DOT) && D != cfg->dec.hidden)
        return s2s_fail(c->err, S2S_ERR_CONFIG,
                           "%s: key \"decoder.attention.type\": \"%s\" needs "
                           "decoder.hidden_size (%d) == encoder output size D (%d)",
                           c->file, attn_names[cfg->attention], cfg->dec.hidden, D);

    if (cfg->format_version >= 2 && (st = parse_version2(c, dec, attn, D, cfg)) != S2S_OK)
        return st;

    if ((st = get_object(c, root, "", "tokenizer", 0, &tok)) != S2S_OK)
        return st;
    if ((st = tokenizer_parse_ctx(c, tok, &cfg->tokenizer)) != S2S_OK)
        return st;
    if ((st = get_object(c, root, "", "decoding", 0, &decoding)) != S2S_OK)
        return st;
    double lp, cp;
    if ((st = get_int(c, decoding, "decoding", "max_length", 0, 0, 1, S2S_MAX_DECODE_STEPS,
                      &cfg->max_length)) ||
        (st = get_int(c, decoding, "decoding", "beam_size", 0, 0, 1, S2S_MAX_BEAM, &cfg->beam_size)) ||
        (st = get_int(c, decoding, "decoding", "min_length", 0, 0, 0, S2S_MAX_DECODE_STEPS,
                      &cfg->min_length)) ||
        (st = get_number(c, decoding, "decoding", "length_penalty", -1.0, 0.0, S2S_MAX_LENGTH_PENALTY, &lp)) ||
        (st = get_int(c, decoding, "decoding", "no_repeat_ngram", 0, 0, 0, S2S_MAX_DECODE_STEPS,
                      &cfg->no_repeat_ngram)) ||
        (st = get_number(c, decoding, "decoding", "coverage_penalty", -1.0, 0.0, 1000.0, &cp)) ||
        (st = get_bool(c, decoding, "decoding", "keep_numbers", 0, &cfg->keep_numbers)))
        return st;
    cfg->length_penalty = (float)lp;
    cfg->coverage_penalty = (float)cp;
    if (cp > 0.0 && cfg->window)
        return s2s_fail(c->err, S2S_ERR_CONFIG,
                        "%s: key \"decoding.coverage_penalty\": a coverage penalty does not apply to local attention "
                        "(decoder.attention.window)",
                        c->file);
    cfg->has_attn_out_bias = 0; /* decided by the loader from the weights */
    return parse_descriptive(c, root, cfg);
}

/* See config.h. */
s2s_status model_config_parse(const char *json, size_t len, const char *name, model_config *out,
                              s2s_error *err)
{
    memset(out, 0, sizeof *out);
    jctx c = {name ? name : "config.json", err};
    for (size_t i = 0; i < len;) {
        utf8proc_int32_t cp;
        size_t left = len - i;
        utf8proc_ssize_t n =
            utf8proc_iterate((const utf8proc_uint8_t *)json + i,
                             left > 4 ? 4 : (utf8proc_ssize_t)left, &cp);
        if (n <= 0)
            return s2s_fail(err, S2S_ERR_CONFIG, "%s: invalid UTF-8 at byte offset %zu",
                               c.file, i);
        if (cp == 0)
            return s2s_fail(err, S2S_ERR_CONFIG, "%s: NUL byte at byte offset %zu", c.file,
                               i);
        i += (size_t)n;
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
    if (!root) {
        size_t off = (end && end >= json && end <= json + len) ? (size_t)(end - json) : 0;
        return s2s_fail(err, S2S_ERR_CONFIG, "%s: invalid JSON near byte offset %zu", c.file,
                           off);
    }
    for (const char *p = end; p && p < json + len; p++)
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
            cJSON_Delete(root);
            return s2s_fail(err, S2S_ERR_CONFIG,
                               "%s: trailing data after the JSON at byte offset %zu", c.file,
                               (size_t)(p - json));
        }
    s2s_status st = parse_root(&c, root, out);
    cJSON_Delete(root);
    if (st != S2S_OK)
        model_config_free(out);
    return st;
}

/* See config.h. */
void model_config_free(model_config *cfg)
{
    if (!cfg)
        return;
    free(cfg->task);
    free(cfg->source_language);
    free(cfg->target_language);
    free(cfg->weights);
    free(cfg->source_vocab);
    free(cfg->target_vocab);
    free(cfg->sos);
    free(cfg->eos);
    free(cfg->unk);
    free(cfg->pad);
    free(cfg->license);
    free(cfg->attribution);
    cJSON_free(cfg->scores_json);
    tokenizer_config_free(&cfg->tokenizer);
    memset(cfg, 0, sizeof *cfg);
}
