/*
 * serve_request.c - a POST body (JSON) -> a serve_task: the model, the
 * command's options from the decoding fields, and the text lines as
 * cli_job lines. Every refusal names the field and the problem.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "serve.h"

/* Which endpoints a field belongs to. */
#define ON_V1T (1u << SERVE_V1_TRANSLATE)
#define ON_V1S (1u << SERVE_V1_SCORE)
#define ON_LIBRE (1u << SERVE_LIBRE)

enum field_kind { F_INT, F_NUMBER, F_BOOL, F_CHOICE, F_STRING, F_SEED };
enum field_cap { CAP_NONE, CAP_BEAM, CAP_LENGTH }; /* server limit lowering `hi` */

/* A JSON field that sets one of the command's options. */
typedef struct field_def {
    const char *name;
    enum field_kind kind;
    double lo, hi;
    enum field_cap cap;
    size_t offset;                 /* of the value in cli_opts: int; float for F_NUMBER; a
                                      malloc'd char * for F_STRING; uint64_t for F_SEED */
    size_t set_offset;             /* of its "_set" flag in cli_opts, or NO_FLAG */
    const char *const *choices;    /* F_CHOICE: NULL-terminated names, index stored */
    unsigned on;                   /* endpoints that accept it */
} field_def;

#define OPT(member) offsetof(cli_opts, member)
#define NO_FLAG ((size_t)-1)

static const char *const ALIGNMENTS[] = {"none", "hard", "soft", NULL};
static const char *const COMPUTES[] = {"f32", "int8", NULL}; /* index = s2s_compute value */
_Static_assert(sizeof(s2s_compute) == sizeof(int), "F_CHOICE stores an int into dp.compute");

#define ON_TRANSLATE (ON_V1T | ON_LIBRE)
#define SEED_MAX 9007199254740992.0 /* 2^53: the largest whole number a JSON number keeps exactly */

/* The decoding fields: each is the command-line option of the same name
 * (with '_' for '-'), with the same range. A new option is one line here. */
static const field_def FIELDS[] = {
    {"beam", F_INT, 1, S2S_MAX_BEAM, CAP_BEAM, OPT(dp.beam_size), OPT(beam_set), NULL, ON_TRANSLATE},
    {"n_best", F_INT, 1, S2S_MAX_BEAM, CAP_BEAM, OPT(dp.n_best), OPT(n_best_set), NULL, ON_V1T},
    {"length_penalty", F_NUMBER, 0, S2S_MAX_LENGTH_PENALTY, CAP_NONE, OPT(dp.length_penalty), OPT(lp_set), NULL, ON_TRANSLATE},
    {"min_length", F_INT, 0, S2S_MAX_DECODE_STEPS, CAP_LENGTH, OPT(dp.min_length), OPT(min_len_set), NULL, ON_TRANSLATE},
    {"max_length", F_INT, 1, S2S_MAX_DECODE_STEPS, CAP_LENGTH, OPT(dp.max_length), OPT(max_len_set), NULL, ON_TRANSLATE},
    {"compute", F_CHOICE, 0, 0, CAP_NONE, OPT(dp.compute), NO_FLAG, COMPUTES, ON_TRANSLATE},
    {"shortlist", F_BOOL, 0, 1, CAP_NONE, OPT(dp.shortlist), NO_FLAG, NULL, ON_TRANSLATE},
    {"keep_numbers", F_BOOL, 0, 1, CAP_NONE, OPT(dp.keep_numbers), OPT(keep_numbers_set), NULL, ON_TRANSLATE},
    {"no_repeat_ngram", F_INT, 0, S2S_MAX_DECODE_STEPS, CAP_NONE, OPT(dp.no_repeat_ngram), OPT(no_repeat_set), NULL, ON_TRANSLATE},
    {"coverage_penalty", F_NUMBER, 0, 1000, CAP_NONE, OPT(dp.coverage_penalty), OPT(coverage_penalty_set), NULL, ON_TRANSLATE},
    {"prefix", F_STRING, 0, 0, CAP_NONE, OPT(prefix), NO_FLAG, NULL, ON_V1T},
    {"prefix_column", F_BOOL, 0, 1, CAP_NONE, OPT(prefix_column), NO_FLAG, NULL, ON_V1T},
    {"sample", F_BOOL, 0, 1, CAP_NONE, OPT(dp.sampling), NO_FLAG, NULL, ON_V1T},
    {"num_samples", F_INT, 1, S2S_MAX_BEAM, CAP_BEAM, OPT(dp.num_samples), NO_FLAG, NULL, ON_V1T},
    {"temperature", F_NUMBER, 1e-6, 1e6, CAP_NONE, OPT(dp.temperature), NO_FLAG, NULL, ON_V1T},
    {"top_k", F_INT, 0, 1 << 30, CAP_NONE, OPT(dp.top_k), NO_FLAG, NULL, ON_V1T},
    {"top_p", F_NUMBER, 1e-9, 1.0, CAP_NONE, OPT(dp.top_p), NO_FLAG, NULL, ON_V1T},
    {"seed", F_SEED, 0, SEED_MAX, CAP_NONE, OPT(dp.seed), NO_FLAG, NULL, ON_V1T},
    {"alignment", F_CHOICE, 0, 0, CAP_NONE, OPT(alignment), NO_FLAG, ALIGNMENTS, ON_V1T | ON_V1S},
    {"replace_unk", F_BOOL, 0, 1, CAP_NONE, OPT(replace_unk), NO_FLAG, NULL, ON_TRANSLATE},
    {"lenient", F_BOOL, 0, 1, CAP_NONE, OPT(lenient), NO_FLAG, NULL, ON_TRANSLATE | ON_V1S},
};
#define N_FIELDS (sizeof FIELDS / sizeof FIELDS[0])

/* The other fields of each endpoint. */
static const char *const V1T_FIELDS[] = {"model", "text", NULL};
static const char *const V1S_FIELDS[] = {"model", "source", "target", NULL};

static pthread_mutex_t json_lock = PTHREAD_MUTEX_INITIALIZER;

int serve_fail(serve_err *e, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    e->status = status;
    return -1;
}

void serve_task_free(serve_task *t)
{
    if (!t) return;
    for (size_t i = 0; i < N_FIELDS; i++)
        if (FIELDS[i].kind == F_STRING) free(*(char **)((char *)&t->opts + FIELDS[i].offset));
    for (int i = 0; i < t->n_jobs; i++) {
        free(t->jobs[i].text);
        free(t->jobs[i].out);
        free(t->jobs[i].msg);
    }
    free(t->jobs);
    free(t->item_first);
    free(t->line_job);
    free(t->body);
    free(t);
}

/* cJSON keeps its last error in a global, so parses take turns. */
cJSON *serve_json_parse(const char *s, size_t len, serve_err *e)
{
    const char *end = NULL;
    pthread_mutex_lock(&json_lock);
    cJSON *root = cJSON_ParseWithLengthOpts(s, len, &end, 0);
    pthread_mutex_unlock(&json_lock);
    size_t at = end ? (size_t)(end - s) : 0;
    if (!root) {
        serve_fail(e, 400, len == 0 ? "empty request body: a JSON object is expected"
                                    : "malformed JSON at byte %zu", at);
        return NULL;
    }
    while (at < len && strchr(" \t\r\n", s[at])) at++;
    if (at < len) {
        cJSON_Delete(root);
        serve_fail(e, 400, "malformed JSON: text after the value at byte %zu", at);
        return NULL;
    }
    return root;
}

/* "a string", "a number", ... for messages. */
static const char *json_type(const cJSON *v)
{
    if (cJSON_IsString(v)) return "a string";
    if (cJSON_IsNumber(v)) return "a number";
    if (cJSON_IsBool(v)) return cJSON_IsTrue(v) ? "true" : "false";
    if (cJSON_IsNull(v)) return "null";
    if (cJSON_IsArray(v)) return "an array";
    return "an object";
}

/* The decoding field called `name`, or NULL. */
static const field_def *find_field(const char *name)
{
    for (size_t i = 0; i < N_FIELDS; i++)
        if (strcmp(FIELDS[i].name, name) == 0) return &FIELDS[i];
    return NULL;
}

/* 1 when `name` is in the NULL-terminated `names`. */
static int in_list(const char *const *names, const char *name)
{
    for (int i = 0; names[i]; i++)
        if (strcmp(names[i], name) == 0) return 1;
    return 0;
}

/* Fields /translate reads besides the decoding fields. */
static const char *const LIBRE_FIELDS[] = {"q", "source", "target", "format", "alternatives", NULL};

/* The fields of endpoint `kind` other than the decoding fields. */
static const char *const *own_fields(enum serve_kind kind)
{
    return kind == SERVE_V1_SCORE ? V1S_FIELDS : kind == SERVE_LIBRE ? LIBRE_FIELDS : V1T_FIELDS;
}

/* Refuses a field the request gives twice; only the fields the server
 * reads are counted, so that the work stays linear in the body. */
static int check_repeated(const cJSON *root, const char *name, serve_err *e)
{
    int n = 0;
    for (const cJSON *f = root->child; f; f = f->next)
        if (strcmp(f->string, name) == 0 && ++n == 2) return serve_fail(e, 400, "field '%s' is given twice", name);
    return 0;
}

/* Refuses repeated fields, and on the v1 endpoints unknown fields and
 * fields of the other endpoint (LibreTranslate clients send fields of
 * their own, which /translate ignores). */
static int check_field_names(const cJSON *root, enum serve_kind kind, serve_err *e)
{
    const char *const *own = own_fields(kind);
    for (int i = 0; own[i]; i++)
        if (check_repeated(root, own[i], e) < 0) return -1;
    for (size_t i = 0; i < N_FIELDS; i++)
        if (check_repeated(root, FIELDS[i].name, e) < 0) return -1;
    if (kind == SERVE_LIBRE) return 0;
    for (const cJSON *f = root->child; f; f = f->next) {
        if (in_list(own, f->string)) continue;
        const field_def *d = find_field(f->string);
        if (!d) return serve_fail(e, 400, "unknown field '%s'", f->string);
        if (!(d->on & (1u << kind)))
            return serve_fail(e, 400, "field '%s' does not apply to %s", f->string,
                              kind == SERVE_V1_SCORE ? "/v1/score" : "/v1/translate");
    }
    return 0;
}

/* The largest value field `d` may take under the server's limits. */
static double field_hi(const field_def *d, const serve_limits *lim)
{
    double cap = d->cap == CAP_BEAM ? lim->max_beam : d->cap == CAP_LENGTH ? lim->max_length : d->hi;
    return cap < d->hi ? cap : d->hi;
}

/* Checks a number for field `d` (whole when F_INT or F_SEED) against its range. */
static int check_number(const field_def *d, const cJSON *v, const serve_limits *lim, serve_err *e)
{
    int whole = d->kind == F_INT || d->kind == F_SEED;
    const char *what = whole ? "a whole number" : "a number";
    if (!cJSON_IsNumber(v)) return serve_fail(e, 400, "field '%s' must be %s, not %s", d->name, what, json_type(v));
    double x = v->valuedouble, hi = field_hi(d, lim);
    if (!isfinite(x) || (whole && x != floor(x)))
        return serve_fail(e, 400, "field '%s' must be %s, not %g", d->name, what, x);
    if (x < d->lo || x > hi)
        return serve_fail(e, 400, "field '%s' must be between %g and %g, not %g", d->name, d->lo, hi, x);
    return 0;
}

/* Index of string `v` among d->choices, or -1 with e set. */
static int check_choice(const field_def *d, const cJSON *v, serve_err *e)
{
    if (cJSON_IsString(v))
        for (int i = 0; d->choices[i]; i++)
            if (strcmp(d->choices[i], v->valuestring) == 0) return i;
    char names[128] = "";
    for (int i = 0; d->choices[i]; i++) {
        strncat(names, i ? ", " : "", sizeof names - strlen(names) - 1);
        strncat(names, d->choices[i], sizeof names - strlen(names) - 1);
    }
    if (!cJSON_IsString(v))
        return serve_fail(e, 400, "field '%s' must be one of %s, not %s", d->name, names, json_type(v));
    return serve_fail(e, 400, "field '%s' must be one of %s, not '%.100s'", d->name, names, v->valuestring);
}

/* Refuses a string field longer than a line may be, or holding a line break. */
static int check_text(const char *name, const char *s, const serve_limits *lim, serve_err *e)
{
    size_t len = strlen(s);
    if (len > lim->max_line)
        return serve_fail(e, 413, "field '%s' is %zu bytes long; the limit is %zu", name, len, lim->max_line);
    if (strpbrk(s, "\r\n")) return serve_fail(e, 400, "field '%s' holds a line break", name);
    return 0;
}

/* Checks value `v` of field `d` and stores it into the options `o`. */
static int apply_field(const field_def *d, const cJSON *v, const serve_limits *lim, cli_opts *o, serve_err *e)
{
    char *base = (char *)o;
    if (d->kind == F_BOOL) {
        if (!cJSON_IsBool(v)) return serve_fail(e, 400, "field '%s' must be true or false, not %s", d->name, json_type(v));
        *(int *)(base + d->offset) = cJSON_IsTrue(v);
    } else if (d->kind == F_CHOICE) {
        int i = check_choice(d, v, e);
        if (i < 0) return -1;
        *(int *)(base + d->offset) = i;
    } else if (d->kind == F_STRING) {
        if (!cJSON_IsString(v)) return serve_fail(e, 400, "field '%s' must be a string, not %s", d->name, json_type(v));
        if (check_text(d->name, v->valuestring, lim, e) < 0) return -1;
        char **slot = (char **)(base + d->offset);
        free(*slot);
        if (!(*slot = strdup(v->valuestring))) return serve_fail(e, 503, "out of memory");
    } else {
        if (check_number(d, v, lim, e) < 0) return -1;
        if (d->kind == F_INT) *(int *)(base + d->offset) = (int)v->valuedouble;
        else if (d->kind == F_SEED) *(uint64_t *)(base + d->offset) = (uint64_t)v->valuedouble;
        else *(float *)(base + d->offset) = (float)v->valuedouble;
    }
    if (d->set_offset != NO_FLAG) *(int *)(base + d->set_offset) = 1;
    return 0;
}

/* Checks what single fields cannot, as the command does for its options. */
static int check_combinations(cli_opts *o, serve_err *e)
{
    if (o->n_best_set && !o->beam_set && o->dp.n_best > o->dp.beam_size) o->dp.beam_size = o->dp.n_best;
    if (o->dp.n_best > o->dp.beam_size)
        return serve_fail(e, 400, "field 'n_best' (%d) cannot exceed 'beam' (%d)", o->dp.n_best, o->dp.beam_size);
    if (o->min_len_set && o->max_len_set && o->dp.min_length >= o->dp.max_length)
        return serve_fail(e, 400, "field 'min_length' (%d) must be below 'max_length' (%d)", o->dp.min_length,
                          o->dp.max_length);
    if (o->dp.sampling && o->beam_set && o->dp.beam_size != 1)
        return serve_fail(e, 400, "field 'sample' draws tokens one row at a time: it does not combine with "
                                  "'beam' %d", o->dp.beam_size);
    if (o->dp.sampling && o->n_best_set)
        return serve_fail(e, 400, "field 'sample' gives 'num_samples' hypotheses, not 'n_best'");
    if (o->prefix && o->prefix_column)
        return serve_fail(e, 400, "give either 'prefix' or 'prefix_column', not both");
    return 0;
}

/* The command's defaults, then every decoding field of the body. */
static int read_options(const cJSON *root, enum serve_kind kind, const serve_limits *lim, cli_opts *o,
                        serve_err *e)
{
    memset(o, 0, sizeof *o);
    o->cmd = "serve";
    o->dp = s2s_decode_default_params();
    o->threads = 1;
    o->format = CLI_FMT_JSONL;
    o->split_sentences = 1; /* as `s2s translate`: a line's sentences each translated */
    for (size_t i = 0; i < N_FIELDS; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, FIELDS[i].name);
        if (v && (FIELDS[i].on & (1u << kind)) && apply_field(&FIELDS[i], v, lim, o, e) < 0) return -1;
    }
    return check_combinations(o, e);
}

/* Comma-separated names of the loaded models, for messages. */
static void model_names(const serve_config *cfg, char *buf, size_t size)
{
    buf[0] = '\0';
    for (int i = 0; i < cfg->n_models; i++) {
        strncat(buf, i ? ", " : "", size - strlen(buf) - 1);
        strncat(buf, cfg->models[i].name, size - strlen(buf) - 1);
    }
}

/* The model a v1 request names (field "model"; optional with one model). */
static int pick_model_by_name(const serve_config *cfg, const cJSON *root, serve_err *e)
{
    char names[256];
    model_names(cfg, names, sizeof names);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "model");
    if (!v) {
        if (cfg->n_models == 1) return 0;
        return serve_fail(e, 400, "field 'model' is required: the loaded models are %s", names);
    }
    if (!cJSON_IsString(v)) return serve_fail(e, 400, "field 'model' must be a string, not %s", json_type(v));
    for (int i = 0; i < cfg->n_models; i++)
        if (strcmp(cfg->models[i].name, v->valuestring) == 0) return i;
    return serve_fail(e, 400, "unknown model '%.100s': the loaded models are %s", v->valuestring, names);
}

/* The string field `name` of a LibreTranslate request (required). */
static const char *libre_language(const cJSON *root, const char *name, serve_err *e)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, name);
    if (!v) { serve_fail(e, 400, "field '%s' is required", name); return NULL; }
    if (!cJSON_IsString(v)) { serve_fail(e, 400, "field '%s' must be a string, not %s", name, json_type(v)); return NULL; }
    return v->valuestring;
}

/* The first translation model from `source` to `target` (LibreTranslate). */
static int pick_model_by_languages(const serve_config *cfg, const cJSON *root, serve_err *e)
{
    const char *src = libre_language(root, "source", e), *tgt = src ? libre_language(root, "target", e) : NULL;
    if (!tgt) return -1;
    for (int i = 0; i < cfg->n_models; i++) {
        const serve_model *m = &cfg->models[i];
        if (!m->summarization && m->source_language[0] && strcmp(m->source_language, src) == 0 &&
            strcmp(m->target_language, tgt) == 0)
            return i;
    }
    char pairs[256] = "";
    for (int i = 0; i < cfg->n_models; i++) {
        const serve_model *m = &cfg->models[i];
        if (m->summarization || !m->source_language[0]) continue;
        size_t n = strlen(pairs);
        snprintf(pairs + n, sizeof pairs - n, "%s%s->%s", n ? ", " : "", m->source_language, m->target_language);
    }
    if (strcmp(src, "auto") == 0)
        return serve_fail(e, 400, "source 'auto': language detection is not supported; the loaded pairs are %s",
                          pairs[0] ? pairs : "none");
    return serve_fail(e, 400, "no model translates '%.20s' into '%.20s'; the loaded pairs are %s", src, tgt,
                      pairs[0] ? pairs : "none");
}

/* The strings of field `name`: one string (*single = 1) or an array of
 * strings, as a malloc'd array of borrowed pointers in *out. */
static int read_strings(const cJSON *root, const char *name, const char ***out, int *n, int *single, serve_err *e)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, name);
    *out = NULL;
    *n = 0;
    if (!v) return serve_fail(e, 400, "field '%s' is required", name);
    *single = cJSON_IsString(v);
    if (!*single && !cJSON_IsArray(v))
        return serve_fail(e, 400, "field '%s' must be a string or an array of strings, not %s", name, json_type(v));
    int count = *single ? 1 : cJSON_GetArraySize(v);
    *out = calloc((size_t)count + 1, sizeof **out);
    if (!*out) return serve_fail(e, 503, "out of memory");
    const cJSON *item = *single ? v : v->child;
    for (int i = 0; i < count; i++, item = item->next) {
        if (!cJSON_IsString(item))
            return serve_fail(e, 400, "field '%s': item %d must be a string, not %s", name, i, json_type(item));
        (*out)[i] = item->valuestring;
    }
    *n = count;
    return 0;
}

/* Refuses a text the decoder would not take as one line. */
static int check_line(const char *field, int i, const char *s, size_t len, const serve_limits *lim, serve_err *e)
{
    if (len > lim->max_line)
        return serve_fail(e, 413, "field '%s': item %d is %zu bytes long; the limit is %zu", field, i, len,
                          lim->max_line);
    if (memchr(s, '\n', len) || memchr(s, '\r', len))
        return serve_fail(e, 400, "field '%s': item %d holds a line break; give one line per string", field, i);
    return 0;
}

/* Refuses more lines than the limit. */
static int check_count(const char *field, int n, const serve_limits *lim, serve_err *e)
{
    if (n > lim->max_lines)
        return serve_fail(e, 413, "field '%s' holds %d lines; the limit is %d", field, n, lim->max_lines);
    return 0;
}

/* Makes job i of `t` from the bytes a[0..na) (and "\t" b[0..nb) when b). */
static int set_job(serve_task *t, int i, const char *a, size_t na, const char *b, size_t nb, serve_err *e)
{
    cli_job *j = &t->jobs[i];
    size_t len = na + (b ? 1 + nb : 0);
    j->text = malloc(len + 1);
    if (!j->text) return serve_fail(e, 503, "out of memory");
    memcpy(j->text, a, na);
    if (b) {
        j->text[na] = '\t';
        memcpy(j->text + na + 1, b, nb);
    }
    j->text[len] = '\0';
    j->len = len;
    j->id = i;
    return 0;
}

/* Room for n jobs in t. */
static int alloc_jobs(serve_task *t, int n, serve_err *e)
{
    t->jobs = calloc((size_t)n + 1, sizeof *t->jobs);
    if (!t->jobs) return serve_fail(e, 503, "out of memory");
    t->n_jobs = n;
    return 0;
}

/* /v1/translate: "text" is one line or a list of lines. */
static int read_translate_lines(const cJSON *root, const serve_limits *lim, serve_task *t, serve_err *e)
{
    const char **texts;
    int n, rc = read_strings(root, "text", &texts, &n, &t->single, e);
    if (rc == 0) rc = check_count("text", n, lim, e);
    for (int i = 0; rc == 0 && i < n; i++) rc = check_line("text", i, texts[i], strlen(texts[i]), lim, e);
    if (rc == 0) rc = alloc_jobs(t, n, e);
    for (int i = 0; rc == 0 && i < n; i++) rc = set_job(t, i, texts[i], strlen(texts[i]), NULL, 0, e);
    free(texts);
    return rc;
}

/* /v1/score: "source" and "target", both strings or lists of equal length;
 * each pair becomes the command's "source<TAB>target" line. */
static int read_score_pairs(const cJSON *root, const serve_limits *lim, serve_task *t, serve_err *e)
{
    const char **src = NULL, **tgt = NULL;
    int ns = 0, nt = 0, single_t = 0;
    int rc = read_strings(root, "source", &src, &ns, &t->single, e);
    if (rc == 0) rc = read_strings(root, "target", &tgt, &nt, &single_t, e);
    if (rc == 0 && (ns != nt || t->single != single_t))
        rc = serve_fail(e, 400, "fields 'source' and 'target' must both be strings or lists of the same length");
    if (rc == 0) rc = check_count("source", ns, lim, e);
    for (int i = 0; rc == 0 && i < ns; i++) {
        rc = check_line("source", i, src[i], strlen(src[i]), lim, e);
        if (rc == 0) rc = check_line("target", i, tgt[i], strlen(tgt[i]), lim, e);
        if (rc == 0 && strchr(src[i], '\t'))
            rc = serve_fail(e, 400, "field 'source': item %d holds a TAB, which separates source and target", i);
    }
    if (rc == 0) rc = alloc_jobs(t, ns, e);
    for (int i = 0; rc == 0 && i < ns; i++) rc = set_job(t, i, src[i], strlen(src[i]), tgt[i], strlen(tgt[i]), e);
    free(src);
    free(tgt);
    return rc;
}

/* 1 when s[0..n) is only blanks. */
static int is_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!strchr(" \t\f\v", s[i])) return 0;
    return 1;
}

/* Length of the line at s (up to '\n' or the end), without a final '\r'. */
static size_t line_length(const char *s, const char **next)
{
    const char *nl = strchr(s, '\n');
    size_t n = nl ? (size_t)(nl - s) : strlen(s);
    *next = nl ? nl + 1 : NULL;
    return n > 0 && s[n - 1] == '\r' ? n - 1 : n;
}

/* Counts the lines of every item (blank ones included). */
static int count_lines(const char **items, int n_items)
{
    int n = 0;
    for (int i = 0; i < n_items; i++)
        for (const char *s = items[i]; s; n++) line_length(s, &s);
    return n;
}

/* /translate: each "q" item is split into lines; blank lines stay blank
 * and are not decoded. */
static int read_libre_lines(const cJSON *root, const serve_limits *lim, serve_task *t, serve_err *e)
{
    const char **items;
    int n_items, rc = read_strings(root, "q", &items, &n_items, &t->single, e);
    int n_lines = rc == 0 ? count_lines(items, n_items) : 0;
    if (rc == 0) rc = check_count("q", n_lines, lim, e);
    if (rc == 0) {
        t->item_first = calloc((size_t)n_items + 1, sizeof *t->item_first);
        t->line_job = calloc((size_t)n_lines + 1, sizeof *t->line_job);
        rc = t->item_first && t->line_job ? alloc_jobs(t, n_lines, e) : serve_fail(e, 503, "out of memory");
    }
    int l = 0, nj = 0;
    for (int i = 0; rc == 0 && i < n_items; i++) {
        t->item_first[i] = l;
        for (const char *s = items[i], *next; rc == 0 && s; s = next, l++) {
            size_t len = line_length(s, &next);
            rc = check_line("q", i, s, len, lim, e);
            t->line_job[l] = is_blank(s, len) ? -1 : nj;
            if (rc == 0 && t->line_job[l] >= 0) rc = set_job(t, nj++, s, len, NULL, 0, e);
        }
    }
    if (rc == 0) {
        t->item_first[n_items] = l;
        t->n_items = n_items;
        t->n_lines = n_lines;
        t->n_jobs = nj;
    }
    free(items);
    return rc;
}

/* LibreTranslate's "format" (only "text") and "alternatives" (extra
 * hypotheses, from an n-best list). */
static int read_libre_options(const cJSON *root, const serve_limits *lim, serve_task *t, serve_err *e)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(root, "format");
    if (f && !(cJSON_IsString(f) && strcmp(f->valuestring, "text") == 0))
        return serve_fail(e, 400, "field 'format': only \"text\" is supported");
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(root, "alternatives");
    static const field_def ALT = {"alternatives", F_INT, 0, S2S_MAX_BEAM - 1, CAP_NONE, 0, NO_FLAG, NULL, ON_LIBRE};
    if (a && check_number(&ALT, a, lim, e) < 0) return -1;
    t->alternatives = a ? (int)a->valuedouble : 0;
    cli_opts *o = &t->opts;
    if (t->alternatives + 1 > lim->max_beam)
        return serve_fail(e, 400, "field 'alternatives' must be below %d", lim->max_beam);
    if (t->alternatives > 0) {
        o->dp.n_best = t->alternatives + 1;
        o->n_best_set = 1;
        if (o->dp.beam_size < o->dp.n_best) o->dp.beam_size = o->dp.n_best;
    } else {
        o->format = CLI_FMT_TEXT;
    }
    return 0;
}

/* The model's config "decoding" defaults for what the request left unset,
 * as `s2s translate` applies them, the beam kept within the server's limit. */
static void model_defaults(const serve_config *cfg, serve_task *t)
{
    cli_opts *o = &t->opts;
    cli_model_defaults(o, cfg->models[t->model].model, 0);
    if (o->dp.beam_size > cfg->limits.max_beam)
        o->dp.beam_size = o->dp.n_best > cfg->limits.max_beam ? o->dp.n_best : cfg->limits.max_beam;
}

/* Reads the model, options and lines of `root` into `t`. */
static int read_task(const serve_config *cfg, const cJSON *root, serve_task *t, serve_err *e)
{
    if (!cJSON_IsObject(root)) return serve_fail(e, 400, "the request body must be a JSON object, not %s", json_type(root));
    if (check_field_names(root, t->kind, e) < 0) return -1;
    t->model = t->kind == SERVE_LIBRE ? pick_model_by_languages(cfg, root, e) : pick_model_by_name(cfg, root, e);
    if (t->model < 0) return -1;
    if (read_options(root, t->kind, &cfg->limits, &t->opts, e) < 0) return -1;
    switch (t->kind) {
    case SERVE_V1_TRANSLATE:
        model_defaults(cfg, t);
        return read_translate_lines(root, &cfg->limits, t, e);
    case SERVE_V1_SCORE: return read_score_pairs(root, &cfg->limits, t, e);
    case SERVE_LIBRE:
        if (read_libre_options(root, &cfg->limits, t, e) < 0) return -1;
        model_defaults(cfg, t);
        return read_libre_lines(root, &cfg->limits, t, e);
    }
    return serve_fail(e, 500, "unknown endpoint");
}

/* Value of one hexadecimal digit, or -1. */
static int hex_digit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decodes s[0..n) of an HTML form ('+' is a space, %XX a byte) into a
 * malloc'd string; NULL when out of memory. */
static char *form_decode(const char *s, size_t n)
{
    char *out = malloc(n + 1), *o = out;
    for (size_t i = 0; out && i < n; i++) {
        int hi, lo;
        if (s[i] == '+') *o++ = ' ';
        else if (s[i] == '%' && i + 2 < n && (hi = hex_digit(s[i + 1])) >= 0 && (lo = hex_digit(s[i + 2])) >= 0) {
            *o++ = (char)(hi * 16 + lo);
            i += 2;
        } else *o++ = s[i];
    }
    if (out) *o = '\0';
    return out;
}

/* The fields of an HTML form that /translate reads, as a JSON object of
 * strings ("alternatives" as a number when it is one); the first of a
 * repeated field counts, other fields are dropped. */
static cJSON *form_to_json(const char *body, size_t len, serve_err *e)
{
    cJSON *root = cJSON_CreateObject();
    for (size_t i = 0; root && i < len;) {
        const char *amp = memchr(body + i, '&', len - i), *end = amp ? amp : body + len;
        const char *eq = memchr(body + i, '=', (size_t)(end - body - i));
        char *key = form_decode(body + i, (size_t)((eq ? eq : end) - body - i));
        char *val = eq ? form_decode(eq + 1, (size_t)(end - eq - 1)) : strdup("");
        int known = key && (in_list(LIBRE_FIELDS, key) || find_field(key));
        if (known && val && !cJSON_GetObjectItemCaseSensitive(root, key)) {
            char *num_end;
            double x = strtod(val, &num_end);
            if (strcmp(key, "alternatives") == 0 && num_end != val && !*num_end) cJSON_AddNumberToObject(root, key, x);
            else cJSON_AddStringToObject(root, key, val);
        }
        free(key);
        free(val);
        i = (size_t)(end - body) + 1;
    }
    if (!root) serve_fail(e, 503, "out of memory");
    return root;
}

/* 1 when a /translate body is an HTML form rather than JSON. */
static int is_form(enum serve_kind kind, const char *content_type, const char *body, size_t len)
{
    if (kind != SERVE_LIBRE || !content_type) return 0;
    if (strncasecmp(content_type, "application/x-www-form-urlencoded", 33) != 0) return 0;
    size_t i = 0;
    while (i < len && strchr(" \t\r\n", body[i])) i++;
    return i == len || body[i] != '{';
}

serve_task *serve_parse_body(const serve_config *cfg, enum serve_kind kind, const char *content_type,
                             const char *body, size_t len, serve_err *e)
{
    cJSON *root = is_form(kind, content_type, body, len) ? form_to_json(body, len, e) : serve_json_parse(body, len, e);
    if (!root) return NULL;
    serve_task *t = calloc(1, sizeof *t);
    if (!t) serve_fail(e, 503, "out of memory");
    else t->kind = kind;
    if (t && read_task(cfg, root, t, e) < 0) {
        serve_task_free(t);
        t = NULL;
    }
    cJSON_Delete(root);
    return t;
}
