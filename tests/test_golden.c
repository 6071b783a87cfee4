/* Golden tests: the engine against the PyTorch reference
 * (tools/python/s2s_tools/reference.py).
 *
 * For every fixture directory tests/fixtures/models/<name>/ (a model plus
 * expected.json, written by tests/fixtures/make_models.py; schema at the top
 * of that script) the model is loaded with s2s_model_load and decoded through
 * the public API only:
 *   - greedy: tokens identical, alignment entries within 1e-4, score and
 *     per-step log-probabilities within 1e-3;
 *   - beam (k=3, n_best=3, length penalty 0 and 0.6): n-best lists equal
 *     token for token (unless the case is marked "ties"; with "order_ties",
 *     equal ranking scores, as sets), same tolerances;
 *   - every n-best hypothesis' score equals s2s_score_ids of its tokens;
 *   - forced scoring of the given target;
 *   - beam width 1 gives the greedy result; batch decoding gives the same
 *     results as one sentence at a time;
 *   - on the 4-token target vocabulary fixture, a beam wide enough to keep
 *     every prefix finds the best sequence of an exhaustive search done
 *     here with s2s_score_ids;
 *   - format version 2 (model-format.md section 9): the model info names the
 *     fixture's features; a copy fixture's cases carry the source pieces,
 *     decoded through s2s_translate_inputs / s2s_score (every call above),
 *     and each extended id must spell the expected source piece
 *     (s2s_result_token, s2s_detokenize_result); the decoding options of
 *     section 9.5 (n-gram blocking, coverage penalty, target prefix) match
 *     the reference's n-best lists.
 * Fixtures are found through $S2S_ROOT (default "."). */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s2s.h"

#define ATT_TOL 1e-4
#define SCORE_TOL 1e-3
#define MAX_FIXTURES 128

typedef struct fixture {
    char name[256];
    char dir[1300];
    cJSON *exp;         /* expected.json */
    s2s_model *model;
    s2s_session *session;
} fixture;

typedef struct fixture_set {
    fixture f[MAX_FIXTURES];
    int n;
} fixture_set;

/* Reads a whole file into a NUL-terminated malloc'd buffer, or NULL. */
static char *read_file(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    char *buf = NULL;
    if (fseek(fp, 0, SEEK_END) == 0) {
        long n = ftell(fp);
        if (n >= 0 && fseek(fp, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1))) {
            if (fread(buf, 1, (size_t)n, fp) != (size_t)n) {
                free(buf);
                buf = NULL;
            } else {
                buf[n] = '\0';
            }
        }
    }
    fclose(fp);
    return buf;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(((const fixture *)a)->name, ((const fixture *)b)->name);
}

/* Loads every fixture under $S2S_ROOT/tests/fixtures/models, sorted by name;
 * fails the test when a model does not load or there are none. */
static void load_fixtures(fixture_set *set)
{
    const char *root = getenv("S2S_ROOT");
    char base[900];
    snprintf(base, sizeof base, "%s/tests/fixtures/models", root && *root ? root : ".");
    DIR *d = opendir(base);
    cr_assert_not_null(d, "cannot open fixture directory %s (set S2S_ROOT)", base);
    set->n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && set->n < MAX_FIXTURES) {
        if (e->d_name[0] == '.') continue;
        fixture *f = &set->f[set->n];
        memset(f, 0, sizeof *f);
        snprintf(f->name, sizeof f->name, "%s", e->d_name);
        snprintf(f->dir, sizeof f->dir, "%s/%s", base, e->d_name);
        char path[1400];
        snprintf(path, sizeof path, "%s/expected.json", f->dir);
        char *text = read_file(path);
        if (!text) continue;
        f->exp = cJSON_Parse(text);
        free(text);
        cr_assert_not_null(f->exp, "%s: expected.json is not valid JSON", f->name);
        set->n++;
    }
    closedir(d);
    cr_assert_gt(set->n, 0, "no fixtures found under %s", base);
    qsort(set->f, (size_t)set->n, sizeof set->f[0], cmp_names);
    for (int i = 0; i < set->n; i++) {
        fixture *f = &set->f[i];
        s2s_error err = {0};
        f->model = s2s_model_load(f->dir, &err);
        cr_assert_not_null(f->model, "%s: s2s_model_load failed: %s", f->name, err.message);
        f->session = s2s_session_new(f->model, &err);
        cr_assert_not_null(f->session, "%s: s2s_session_new failed: %s", f->name, err.message);
    }
}

static void free_fixtures(fixture_set *set)
{
    for (int i = 0; i < set->n; i++) {
        s2s_session_free(set->f[i].session);
        s2s_model_free(set->f[i].model);
        cJSON_Delete(set->f[i].exp);
    }
    set->n = 0;
}

/* ---- JSON helpers ------------------------------------------------------ */

static const cJSON *get(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    cr_assert_not_null(v, "expected.json: missing key \"%s\"", key);
    return v;
}

static double num(const cJSON *obj, const char *key) { return get(obj, key)->valuedouble; }
static int boolean(const cJSON *obj, const char *key) { return cJSON_IsTrue(get(obj, key)); }

/* Copies an int array into `out` (room for `cap`); returns its length. */
static int int_array(const cJSON *arr, int *out, int cap)
{
    int n = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, arr)
    {
        cr_assert_lt(n, cap, "expected.json: array too long");
        out[n++] = v->valueint;
    }
    return n;
}

/* "max_length": null -> 0 (the engine's default rule). */
static int max_length_of(const cJSON *c)
{
    const cJSON *m = get(c, "max_length");
    return cJSON_IsNumber(m) ? m->valueint : 0;
}

static void fmt_ids(char *buf, size_t cap, const int *ids, int n)
{
    size_t used = 0;
    buf[0] = '\0';
    used += (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < n && used + 12 < cap; i++)
        used += (size_t)snprintf(buf + used, cap - used, "%s%d", i ? "," : "", ids[i]);
    snprintf(buf + used, cap - used, "]");
}

/* ---- comparisons ------------------------------------------------------- */

/* Compares one engine hypothesis with an expected one (object with tokens,
 * score, finished, attention, token_logprobs, optional ranking_score).
 * `what` names fixture and case in messages. Returns 1 when all equal. */
static int check_hyp(const char *what, const s2s_hypothesis *h, int n_source, const cJSON *e)
{
    int ok = 1;
    int tok[4096];
    int n = int_array(get(e, "tokens"), tok, 4096);
    char exp_s[512], got_s[512];
    fmt_ids(exp_s, sizeof exp_s, tok, n);
    fmt_ids(got_s, sizeof got_s, h->tokens, h->n_tokens);
    int same = h->n_tokens == n && (n == 0 || memcmp(tok, h->tokens, sizeof(int) * (size_t)n) == 0);
    cr_expect(same, "%s: tokens expected %s, got %s", what, exp_s, got_s);
    if (!same) return 0;
    int fin = boolean(e, "finished");
    cr_expect_eq(h->finished, fin, "%s: finished expected %d, got %d", what, fin, h->finished);
    ok &= h->finished == fin;
    double score = num(e, "score");
    cr_expect(fabs(h->score - score) <= SCORE_TOL, "%s %s: score expected %.7g, got %.7g", what,
              exp_s, score, (double)h->score);
    ok &= fabs(h->score - score) <= SCORE_TOL;
    const cJSON *rs = cJSON_GetObjectItemCaseSensitive(e, "ranking_score");
    if (rs) {
        cr_expect(fabs(h->ranking_score - rs->valuedouble) <= SCORE_TOL,
                  "%s %s: ranking_score expected %.7g, got %.7g", what, exp_s, rs->valuedouble,
                  (double)h->ranking_score);
        ok &= fabs(h->ranking_score - rs->valuedouble) <= SCORE_TOL;
    }
    const cJSON *att = get(e, "attention");
    int steps = cJSON_GetArraySize(att);
    cr_expect_eq(h->n_steps, steps, "%s %s: n_steps expected %d, got %d", what, exp_s, steps, h->n_steps);
    if (h->n_steps != steps) return 0;
    const cJSON *lps = get(e, "token_logprobs");
    for (int t = 0; t < steps; t++) {
        double lp = cJSON_GetArrayItem(lps, t)->valuedouble;
        if (h->token_logprobs && fabs(h->token_logprobs[t] - lp) > SCORE_TOL) {
            cr_expect(0, "%s %s: step %d log-probability expected %.7g, got %.7g", what, exp_s, t, lp,
                      (double)h->token_logprobs[t]);
            ok = 0;
        }
        const cJSON *row = cJSON_GetArrayItem(att, t);
        cr_expect_eq(cJSON_GetArraySize(row), n_source, "%s: attention row %d has %d columns, n_source %d",
                     what, t, cJSON_GetArraySize(row), n_source);
        cr_expect_not_null(h->attention, "%s: no attention returned", what);
        if (!h->attention || cJSON_GetArraySize(row) != n_source) return 0;
        for (int j = 0; j < n_source; j++) {
            double a = cJSON_GetArrayItem(row, j)->valuedouble;
            double g = h->attention[(size_t)t * (size_t)n_source + (size_t)j];
            if (fabs(a - g) > ATT_TOL) {
                cr_expect(0, "%s %s: attention[%d][%d] expected %.7g, got %.7g", what, exp_s, t, j, a, g);
                ok = 0;
            }
        }
    }
    return ok;
}

static s2s_decode_params params_for(int beam, int n_best, double lp, int max_length)
{
    s2s_decode_params p = s2s_decode_default_params();
    p.beam_size = beam;
    p.n_best = n_best;
    p.length_penalty = (float)lp;
    p.max_length = max_length;
    p.want_attention = 1;
    return p;
}

/* ---- version 2: source pieces, extended ids ------------------------------ */

/* 1 when case c is of a copy fixture (it carries the source pieces). */
static int has_pieces(const cJSON *c) { return cJSON_GetObjectItemCaseSensitive(c, "source_pieces") != NULL; }

/* The source of case c as s2s_tokenize would give it: ids, and the pieces of
 * a copy fixture (pointing into the JSON). Free with seq_free(). */
static void case_source(const cJSON *c, s2s_token_seq *seq)
{
    memset(seq, 0, sizeof *seq);
    const cJSON *ids = get(c, "source");
    int n = cJSON_GetArraySize(ids);
    seq->ids = malloc(sizeof(int) * (size_t)(n ? n : 1));
    cr_assert_not_null(seq->ids);
    seq->n = int_array(ids, seq->ids, n);
    if (has_pieces(c)) {
        const cJSON *pc = get(c, "source_pieces");
        cr_assert_eq(cJSON_GetArraySize(pc), n, "source_pieces: %d for %d ids", cJSON_GetArraySize(pc), n);
        seq->pieces = malloc(sizeof(char *) * (size_t)(n ? n : 1));
        cr_assert_not_null(seq->pieces);
        for (int i = 0; i < n; i++) seq->pieces[i] = cJSON_GetArrayItem(pc, i)->valuestring;
    }
}

/* Target ids `ids` (n) as a target token sequence: a copy fixture's extended
 * ids become id -1 with their source piece, as s2s_tokenize leaves them. */
static void target_seq(const fixture *f, const cJSON *c, const int *ids, int n, s2s_token_seq *seq)
{
    memset(seq, 0, sizeof *seq);
    int V = (int)num(f->exp, "target_vocab_size");
    const cJSON *ext = cJSON_GetObjectItemCaseSensitive(c, "extended");
    seq->n = n;
    seq->ids = malloc(sizeof(int) * (size_t)(n ? n : 1));
    seq->pieces = malloc(sizeof(char *) * (size_t)(n ? n : 1));
    cr_assert(seq->ids && seq->pieces);
    for (int i = 0; i < n; i++) {
        seq->ids[i] = ids[i] < V ? ids[i] : -1;
        if (ids[i] < V) {
            seq->pieces[i] = (char *)s2s_model_token(f->model, S2S_TARGET, ids[i]);
        } else {
            const cJSON *e = ext ? cJSON_GetArrayItem(ext, ids[i] - V) : NULL;
            cr_assert_not_null(e, "%s: extended id %d without a piece in expected.json", f->name, ids[i]);
            seq->pieces[i] = e->valuestring;
        }
    }
}

/* Frees what case_source / target_seq allocated (not the strings). */
static void seq_free(s2s_token_seq *seq)
{
    free(seq->ids);
    free(seq->pieces);
    memset(seq, 0, sizeof *seq);
}

/* Checks the extended vocabulary of result r for case c: n_extended and
 * each piece as expected; every extended id of every hypothesis spells its
 * piece through s2s_result_token, and s2s_detokenize_result joins them.
 * Returns the number of extended ids met in the hypotheses. */
static int check_extended(const fixture *f, const char *what, const cJSON *c, const s2s_result *r)
{
    const cJSON *ext = cJSON_GetObjectItemCaseSensitive(c, "extended");
    int n_ext = ext ? cJSON_GetArraySize(ext) : 0, V = (int)num(f->exp, "target_vocab_size"), met = 0;
    cr_expect_eq(r->n_extended, n_ext, "%s: %d extended ids, expected %d", what, r->n_extended, n_ext);
    for (int e = 0; e < n_ext && e < r->n_extended; e++) {
        const char *want = cJSON_GetArrayItem(ext, e)->valuestring;
        cr_expect_str_eq(r->extended[e], want, "%s: extended id %d is '%s', expected '%s'", what, V + e,
                         r->extended[e], want);
    }
    for (int h = 0; h < r->n_hyps; h++) {
        const s2s_hypothesis *x = &r->hyps[h];
        char expect_text[4096] = "";
        size_t used = 0;
        for (int t = 0; t < x->n_tokens; t++) {
            int id = x->tokens[t];
            const char *tok = s2s_result_token(f->model, r, id);
            if (id >= V) {
                met++;
                const cJSON *e = ext ? cJSON_GetArrayItem(ext, id - V) : NULL;
                cr_expect(tok && e && strcmp(tok, e->valuestring) == 0, "%s hyp %d: extended id %d spells '%s'",
                          what, h, id, tok ? tok : "(null)");
            }
            if (tok && used + strlen(tok) + 2 < sizeof expect_text)
                used += (size_t)snprintf(expect_text + used, sizeof expect_text - used, "%s%s", t ? " " : "", tok);
        }
        char *text = s2s_detokenize_result(f->model, r, x->tokens, x->n_tokens);
        cr_expect(text && strcmp(text, expect_text) == 0, "%s hyp %d: text '%s', expected '%s'", what, h,
                  text ? text : "(null)", expect_text);
        free(text);
    }
    return met;
}

/* Decodes case `c` of fixture `f` with `p` into `r` (a copy fixture through
 * s2s_translate_inputs with its source pieces; `prefix` ids, or NULL, forced
 * first); fails the test on error. */
static void translate_prefix(fixture *f, const cJSON *c, const s2s_decode_params *p, const int *prefix,
                             int n_prefix, s2s_result *r, int *n_src_out)
{
    s2s_token_seq src, pre;
    case_source(c, &src);
    s2s_error err = {0};
    memset(r, 0, sizeof *r);
    s2s_status st;
    if (src.pieces || prefix) {
        target_seq(f, c, prefix, prefix ? n_prefix : 0, &pre);
        s2s_input in = {&src, prefix ? &pre : NULL, 0};
        st = s2s_translate_inputs(f->session, &in, 1, p, r, &err);
        seq_free(&pre);
    } else {
        st = s2s_translate_ids(f->session, src.ids, src.n, p, r, &err);
    }
    int n_src = src.n;
    seq_free(&src);
    cr_assert_eq(st, S2S_OK, "%s: decoding failed: %s", f->name, err.message);
    cr_assert_eq(r->n_source, n_src, "%s: n_source %d, expected %d", f->name, r->n_source, n_src);
    if (n_src_out) *n_src_out = n_src;
}

static void translate(fixture *f, const cJSON *c, const s2s_decode_params *p, s2s_result *r, int *n_src_out)
{
    translate_prefix(f, c, p, NULL, 0, r, n_src_out);
}

/* Forced decoding of tgt (n) for case c: s2s_score with the source pieces
 * and extended ids of a copy fixture, else s2s_score_ids. */
static s2s_status score_case(fixture *f, const cJSON *c, const int *tgt, int n, int want_attention, s2s_result *r,
                             s2s_error *err)
{
    s2s_token_seq src;
    case_source(c, &src);
    s2s_status st;
    if (src.pieces) {
        s2s_token_seq t;
        target_seq(f, c, tgt, n, &t);
        st = s2s_score(f->session, &src, &t, want_attention, r, err);
        seq_free(&t);
    } else {
        st = s2s_score_ids(f->session, src.ids, src.n, tgt, n, want_attention, r, err);
    }
    seq_free(&src);
    return st;
}

/* ---- tests ------------------------------------------------------------- */

Test(golden, fixtures_present_and_load)
{
    fixture_set *set = calloc(1, sizeof *set);
    load_fixtures(set);
    cr_expect_geq(set->n, 25, "only %d fixtures; run tests/fixtures/make_models.py", set->n);
    int v2 = 0;
    for (int i = 0; i < set->n; i++) v2 += cJSON_GetObjectItemCaseSensitive(set->f[i].exp, "features") != NULL;
    cr_expect_geq(v2, 25, "only %d version-2 fixtures; run tests/fixtures/make_models.py --v2", v2);
    for (int i = 0; i < set->n; i++) {
        fixture *f = &set->f[i];
        s2s_model_info info;
        s2s_model_get_info(f->model, &info);
        cr_expect_eq(info.source_vocab_size, (int)num(f->exp, "source_vocab_size"), "%s: source vocab", f->name);
        cr_expect_eq(info.target_vocab_size, (int)num(f->exp, "target_vocab_size"), "%s: target vocab", f->name);
        cr_expect_eq(s2s_model_token_id(f->model, S2S_TARGET, info.eos, strlen(info.eos)),
                     (int)num(f->exp, "eos_id"), "%s: eos id", f->name);
        const cJSON *feat = cJSON_GetObjectItemCaseSensitive(f->exp, "features");
        if (!feat) {
            cr_expect_eq(info.format_version, 1, "%s: format_version %d", f->name, info.format_version);
            continue;
        }
        cr_expect_eq(info.format_version, (int)num(f->exp, "format_version"), "%s: format_version", f->name);
        cr_expect_eq(info.coverage, boolean(feat, "coverage"), "%s: coverage %d", f->name, info.coverage);
        cr_expect_eq(info.copy, boolean(feat, "copy"), "%s: copy %d", f->name, info.copy);
        const cJSON *w = get(feat, "window"), *loc = get(feat, "local"), *hd = get(feat, "heads");
        cr_expect_eq(info.window, cJSON_IsNumber(w) ? w->valueint : 0, "%s: window %d", f->name, info.window);
        cr_expect(cJSON_IsString(loc) ? info.local && strcmp(info.local, loc->valuestring) == 0 : info.local == NULL,
                  "%s: local %s", f->name, info.local ? info.local : "(none)");
        cr_expect_eq(info.heads, cJSON_IsNumber(hd) ? hd->valueint : 0, "%s: heads %d", f->name, info.heads);
        if (cJSON_IsString(loc) && strcmp(loc->valuestring, "predictive") == 0)
            cr_expect_eq(info.predictor_size, (int)num(feat, "predictor_size"), "%s: predictor_size", f->name);
    }
    free_fixtures(set);
    free(set);
}

Test(golden, greedy)
{
    fixture_set *set = calloc(1, sizeof *set);
    load_fixtures(set);
    int checked = 0, copies = 0;
    for (int i = 0; i < set->n; i++) {
        fixture *f = &set->f[i];
        const cJSON *c;
        int ci = 0;
        cJSON_ArrayForEach(c, get(f->exp, "cases"))
        {
            s2s_decode_params p = s2s_decode_default_params();
            p.max_length = max_length_of(c);
            p.want_attention = 1;
            s2s_result r;
            int n_src;
            translate(f, c, &p, &r, &n_src);
            char what[400];
            snprintf(what, sizeof what, "%s case %d greedy", f->name, ci);
            cr_expect_eq(r.n_hyps, 1, "%s: %d hypotheses", what, r.n_hyps);
            if (r.n_hyps >= 1) check_hyp(what, &r.hyps[0], n_src, get(c, "greedy"));
            if (has_pieces(c)) copies += check_extended(f, what, c, &r);
            s2s_result_free(&r);
            ci++;
            checked++;
        }
    }
    cr_expect_gt(checked, 0);
    cr_expect_gt(copies, 20, "greedy decoding emitted only %d extended ids over the copy fixtures", copies);
    free_fixtures(set);
    free(set);
}

Test(golden, beam)
{
    fixture_set *set = calloc(1, sizeof *set);
    load_fixtures(set);
    for (int i = 0; i < set->n; i++) {
        fixture *f = &set->f[i];
        const cJSON *c;
        int ci = 0;
        cJSON_ArrayForEach(c, get(f->exp, "cases"))
        {
            const cJSON *b;
            cJSON_ArrayForEach(b, get(c, "beam"))
            {
                double lp = num(b, "length_penalty");
                s2s_decode_params p = params_for((int)num(b, "beam_size"), (int)num(b, "n_best"), lp,
                                                 max_length_of(c));
                s2s_result r;
                int n_src;
                translate(f, c, &p, &r, &n_src);
                const cJSON *hyps = get(b, "hyps");
                int ties = boolean(b, "ties");
                const cJSON *ot = cJSON_GetObjectItemCaseSensitive(b, "order_ties");
                int order_ties = ot && cJSON_IsTrue(ot);
                char what[400];
                if (!ties && order_ties) {
                    /* equal ranking scores: the list order among them is open,
                     * so every expected hypothesis must be somewhere in the list */
                    int nh = cJSON_GetArraySize(hyps);
                    cr_expect_eq(r.n_hyps, nh, "%s case %d beam lp %g: %d hypotheses, expected %d", f->name, ci,
                                 lp, r.n_hyps, nh);
                    for (int h = 0; h < nh; h++) {
                        const cJSON *e = cJSON_GetArrayItem(hyps, h);
                        int tok[4096];
                        int n = int_array(get(e, "tokens"), tok, 4096);
                        int at = -1;
                        for (int g = 0; g < r.n_hyps && at < 0; g++)
                            if (r.hyps[g].n_tokens == n &&
                                (n == 0 || memcmp(r.hyps[g].tokens, tok, sizeof(int) * (size_t)n) == 0))
                                at = g;
                        char ids[512];
                        fmt_ids(ids, sizeof ids, tok, n);
                        cr_expect_geq(at, 0, "%s case %d beam lp %g: expected hypothesis %s missing", f->name, ci,
                                      lp, ids);
                        if (at < 0) continue;
                        snprintf(what, sizeof what, "%s case %d beam lp %g hyp %d (order open)", f->name, ci, lp, h);
                        check_hyp(what, &r.hyps[at], n_src, e);
                    }
                } else if (!ties) {
                    cr_expect_eq(r.n_hyps, cJSON_GetArraySize(hyps), "%s case %d beam lp %g: %d hypotheses, expected %d",
                                 f->name, ci, lp, r.n_hyps, cJSON_GetArraySize(hyps));
                    for (int h = 0; h < r.n_hyps && h < cJSON_GetArraySize(hyps); h++) {
                        snprintf(what, sizeof what, "%s case %d beam lp %g hyp %d", f->name, ci, lp, h);
                        check_hyp(what, &r.hyps[h], n_src, cJSON_GetArrayItem(hyps, h));
                    }
                } else {
                    /* near ties: the best hypothesis' score must still agree */
                    const cJSON *best = cJSON_GetArrayItem(hyps, 0);
                    cr_expect(r.n_hyps >= 1 && fabs(r.hyps[0].ranking_score - num(best, "ranking_score")) <= SCORE_TOL,
                              "%s case %d beam lp %g (ties): best ranking score differs", f->name, ci, lp);
                }
                if (has_pieces(c)) {
                    snprintf(what, sizeof what, "%s case %d beam lp %g", f->name, ci, lp);
                    check_extended(f, what, c, &r);
                }
                /* ordering: finished first, each group by ranking score */
                for (int h = 1; h < r.n_hyps; h++) {
                    const s2s_hypothesis *x = &r.hyps[h - 1], *y = &r.hyps[h];
                    cr_expect(x->finished > y->finished ||
                                  (x->finished == y->finished && x->ranking_score >= y->ranking_score),
                              "%s case %d beam lp %g: hypotheses %d and %d out of order", f->name, ci, lp, h - 1, h);
                }
                s2s_result_free(&r);
            }
            ci++;
        }
    }
    free_fixtures(set);
    free(set);
}

/* Every n-best hypothesis' score equals the forced score of its tokens:
 * with the eos step for finished ones, without it for unfinished ones. */
Test(golden, beam_scores_equal_forced_scores)
{
    fixture_set *set = calloc(1, sizeof *set);
    load_fixtures(set);
    for (int i = 0; i < set->n; i++) {
        fixture *f = &set->f[i];
        const cJSON *c;
        int ci = 0;
        cJSON_ArrayForEach(c, get(f->exp, "cases"))
        {
            for (int lpi = 0; lpi < 2; lpi++) {
                double lp = lpi ? 0.6 : 0.0;
                s2s_decode_params p = params_for(3, 3, lp, max_length_of(c));
                s2s_result r;
                int n_src;
                translate(f, c, &p, &r, &n_src);
                for (int h = 0; h < r.n_hyps; h++) {
                    const s2s_hypothesis *x = &r.hyps[h];
                    s2s_result fr = {0};
                    s2s_error err = {0};
                    s2s_status st = score_case(f, c, x->tokens, x->n_tokens, 1, &fr, &err);
                    cr_expect_eq(st, S2S_OK, "%s case %d: forced scoring failed: %s", f->name, ci, err.message);
                    if (st != S2S_OK || fr.n_hyps != 1) continue;
                    double forced = 0;
                    for (int t = 0; t < x->n_tokens; t++) forced += fr.hyps[0].token_logprobs[t];
                    if (x->finished) forced = fr.hyps[0].score;
                    char ids[512];
                    fmt_ids(ids, sizeof ids, x->tokens, x->n_tokens);
                    cr_expect(fabs(forced - x->score) <= SCORE_TOL,
                              "%s case %d beam lp %g hyp %d %s (finished %d): score %.7g, forced score %.7g",
                              f->name, ci, lp, h, ids, x->finished, (double)x->score, forced);
                    double want_rank = x->score / pow((5.0 + x->n_steps) / 6.0, lp);
                    cr_expect(fabs(want_rank - x->ranking_score) <= SCORE_TOL,
                              "%s case %d beam lp %g hyp %d: ranking score %.7g, expected %.7g", f->name, ci, lp,
                              h, (double)x->ranking_score, want_rank);
                    s2s_result_free(&fr);
                }
                s2s_result_free(&r);
            }
            ci++;
        }
    }
    free_fixtures(set);
    free(set);
}

Test(golden, forced_scoring)
{
    fixture_set *set = calloc(1, sizeof *set);
    load_fixtures(set);
    for (int i = 0; i < set->n; i++) {
        fixture *f = &set->f[i];
        const cJSON *c;
        int ci = 0;
        cJSON_ArrayForEach(c, get(f->exp, "cases"))
        {
            const cJSON *fe = get(c, "force");
            int tgt[4096];
            int n_src = cJSON_GetArraySize(get(c, "source"));
            int n_tgt = int_array(get(fe, "target"), tgt, 4096);
            s2s_result r = {0};
            s2s_error err = {0};
            s2s_status st = score_case(f, c, tgt, n_tgt, 1, &r, &err);
            cr_expect_eq(st, S2S_OK, "%s case %d: forced scoring failed: %s", f->name, ci, err.message);
            if (st == S2S_OK) {
                cr_expect_eq(r.n_hyps, 1, "%s case %d: forced result has %d hypotheses", f->name, ci, r.n_hyps);
                cJSON *e = cJSON_Duplicate(fe, 1);
                cJSON_AddItemToObject(e, "tokens", cJSON_Duplicate(get(fe, "target"), 1));
                cJSON_AddBoolToObject(e, "finished", 1);
                char what[400];
                snprintf(what, sizeof what, "%s case %d forced", f->name, ci);
                if (r.n_hyps == 1) check_hyp(what, &r.hyps[0], n_src, e);
                if (has_pieces(c)) check_extended(f, what, c, &r);
                cJSON_Delete(e);
                s2s_result_free(&r);
            }
            ci++;
        }
    }
    free_fixtures(set);
    free(set);
}

/* Beam width 1 (length penalty 0) is greedy decoding, and decoding every
 * case of a fixture as one batch gives the per-sentence results. */
Test(golden, beam1_is_greedy_and_batch_is_single)
{
    fixture_set *set = calloc(1, sizeof *set);
    load_fixtures(set);
    for (int i = 0; i < set->n; i++) {
        fixture *f = &set->f[i];
        const cJSON *cases = get(f->exp, "cases");
        int nc = cJSON_GetArraySize(cases);
        const cJSON *c;
        int ci = 0;
        char what[400];
        cJSON_ArrayForEach(c, cases)
        {
            s2s_decode_params p = params_for(1, 1, 0.0, max_length_of(c));
            s2s_result r;
            int n_src;
            translate(f, c, &p, &r, &n_src);
            snprintf(what, sizeof what, "%s case %d beam width 1", f->name, ci);
            if (r.n_hyps >= 1) check_hyp(what, &r.hyps[0], n_src, get(c, "greedy"));
            s2s_result_free(&r);
            ci++;
        }
        /* batch: cases sharing a max_length are decoded together (a copy
         * fixture's through s2s_translate_inputs, each with its own pieces) */
        for (int beam = 1; beam <= 3; beam += 2) {
            s2s_token_seq seqs[64];
            s2s_input inputs[64];
            const int *srcs[64];
            int n_srcs[64], idx[64], nb = 0, pieces = 0;
            int ml = -1;
            for (int k = 0; k < nc && nb < 64; k++) {
                const cJSON *ck = cJSON_GetArrayItem(cases, k);
                int m = max_length_of(ck);
                if (ml < 0) ml = m;
                if (m != ml) continue;
                case_source(ck, &seqs[nb]);
                pieces |= seqs[nb].pieces != NULL;
                srcs[nb] = seqs[nb].ids;
                n_srcs[nb] = seqs[nb].n;
                inputs[nb] = (s2s_input){&seqs[nb], NULL, (uint64_t)nb};
                idx[nb++] = k;
            }
            s2s_result *res = calloc((size_t)nb, sizeof *res);
            s2s_decode_params p = params_for(beam, beam, 0.0, ml);
            s2s_error err = {0};
            s2s_status st = pieces ? s2s_translate_inputs(f->session, inputs, nb, &p, res, &err)
                                   : s2s_translate_batch(f->session, srcs, n_srcs, nb, &p, res, &err);
            cr_expect_eq(st, S2S_OK, "%s: batch decoding failed: %s", f->name, err.message);
            for (int k = 0; st == S2S_OK && k < nb; k++) {
                const cJSON *ck = cJSON_GetArrayItem(cases, idx[k]);
                const cJSON *b = cJSON_GetArrayItem(get(ck, "beam"), 0);
                const cJSON *ot = cJSON_GetObjectItemCaseSensitive(b, "order_ties");
                if (beam == 3 && (boolean(b, "ties") || (ot && cJSON_IsTrue(ot)))) continue;
                const cJSON *hyps = beam == 1 ? NULL : get(b, "hyps");
                int want = beam == 1 ? 1 : cJSON_GetArraySize(hyps);
                cr_expect_eq(res[k].n_hyps, want, "%s case %d batch beam %d: %d hypotheses, expected %d", f->name,
                             idx[k], beam, res[k].n_hyps, want);
                for (int h = 0; h < res[k].n_hyps && h < want; h++) {
                    snprintf(what, sizeof what, "%s case %d batch beam %d hyp %d", f->name, idx[k], beam, h);
                    check_hyp(what, &res[k].hyps[h], n_srcs[k],
                              beam == 1 ? get(ck, "greedy") : cJSON_GetArrayItem(hyps, h));
                }
                if (pieces) {
                    snprintf(what, sizeof what, "%s case %d batch beam %d", f->name, idx[k], beam);
                    check_extended(f, what, ck, &res[k]);
                }
            }
            for (int k = 0; k < nb; k++) {
                if (st == S2S_OK) s2s_result_free(&res[k]);
                seq_free(&seqs[k]);
            }
            free(res);
        }
    }
    free_fixtures(set);
    free(set);
}

/* The decoding options of model-format.md section 9.5 (version-2 fixtures:
 * "options" of each case): n-gram blocking, the GNMT coverage penalty and a
 * target prefix, greedy and beam, against the reference's n-best lists. */
Test(golden, decoding_options)
{
    fixture_set *set = calloc(1, sizeof *set);
    load_fixtures(set);
    int checked = 0, kinds[3] = {0, 0, 0};
    for (int i = 0; i < set->n; i++) {
        fixture *f = &set->f[i];
        const cJSON *c;
        int ci = 0;
        cJSON_ArrayForEach(c, get(f->exp, "cases"))
        {
            const cJSON *o;
            cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(c, "options"))
            {
                s2s_decode_params p = params_for((int)num(o, "beam_size"), (int)num(o, "n_best"),
                                                 num(o, "length_penalty"), max_length_of(c));
                p.no_repeat_ngram = (int)num(o, "no_repeat_ngram");
                p.coverage_penalty = (float)num(o, "coverage_penalty");
                int prefix[256];
                int n_prefix = int_array(get(o, "prefix"), prefix, 256);
                kinds[0] += p.no_repeat_ngram > 0;
                kinds[1] += p.coverage_penalty > 0;
                kinds[2] += n_prefix > 0;
                s2s_result r;
                int n_src;
                translate_prefix(f, c, &p, n_prefix ? prefix : NULL, n_prefix, &r, &n_src);
                char what[400];
                snprintf(what, sizeof what, "%s case %d option %s", f->name, ci, get(o, "name")->valuestring);
                const cJSON *hyps = get(o, "hyps");
                int nh = cJSON_GetArraySize(hyps);
                if (boolean(o, "ties")) {
                    const cJSON *best = cJSON_GetArrayItem(hyps, 0);
                    cr_expect(r.n_hyps >= 1 && fabs(r.hyps[0].ranking_score - num(best, "ranking_score")) <= SCORE_TOL,
                              "%s (ties): best ranking score differs", what);
                } else {
                    cr_expect_eq(r.n_hyps, nh, "%s: %d hypotheses, expected %d", what, r.n_hyps, nh);
                    for (int h = 0; h < r.n_hyps && h < nh; h++) {
                        char w2[480];
                        snprintf(w2, sizeof w2, "%s hyp %d", what, h);
                        check_hyp(w2, &r.hyps[h], n_src, cJSON_GetArrayItem(hyps, h));
                        cr_expect(r.hyps[h].n_tokens >= n_prefix &&
                                      memcmp(r.hyps[h].tokens, prefix, sizeof(int) * (size_t)n_prefix) == 0,
                                  "%s: the prefix is not kept", w2);
                    }
                }
                if (has_pieces(c)) check_extended(f, what, c, &r);
                s2s_result_free(&r);
                checked++;
            }
            ci++;
        }
    }
    cr_expect_gt(checked, 300, "only %d option expectations checked", checked);
    cr_expect(kinds[0] > 0 && kinds[1] > 0 && kinds[2] > 0, "options checked: no-repeat %d, coverage penalty %d, "
              "prefix %d", kinds[0], kinds[1], kinds[2]);
    free_fixtures(set);
    free(set);
}

/* Exhaustive search over every target sequence of fewer than max_length
 * tokens (followed by eos) with s2s_score_ids; a beam that keeps every
 * prefix must find the same best sequence. */
Test(golden, wide_beam_matches_exhaustive_search)
{
    fixture_set *set = calloc(1, sizeof *set);
    load_fixtures(set);
    int found = 0;
    for (int i = 0; i < set->n; i++) {
        fixture *f = &set->f[i];
        const cJSON *ex = cJSON_GetObjectItemCaseSensitive(f->exp, "exhaustive");
        if (!ex) continue;
        found++;
        int src[256];
        int n_src = int_array(get(ex, "source"), src, 256);
        int max_length = (int)num(ex, "max_length");
        int beam = (int)num(ex, "beam_size");
        int V = (int)num(f->exp, "target_vocab_size"), eos = (int)num(f->exp, "eos_id");
        int words[64], nw = 0;
        for (int v = 0; v < V; v++)
            if (v != eos) words[nw++] = v;
        cr_assert_geq(beam, V * (int)pow(nw, max_length - 1), "%s: beam %d cannot keep every prefix", f->name, beam);
        /* enumerate sequences of length 0..max_length-1 as base-nw numbers */
        int best[64], best_n = -1, seq[64];
        double best_score = -INFINITY;
        int total = 0;
        for (int len = 0; len < max_length; len++) {
            long count = 1;
            for (int k = 0; k < len; k++) count *= nw;
            for (long code = 0; code < count; code++) {
                long x = code;
                for (int k = len - 1; k >= 0; k--) {
                    seq[k] = words[x % nw];
                    x /= nw;
                }
                s2s_result r = {0};
                s2s_error err = {0};
                s2s_status st = s2s_score_ids(f->session, src, n_src, seq, len, 0, &r, &err);
                cr_assert_eq(st, S2S_OK, "%s: s2s_score_ids failed: %s", f->name, err.message);
                if (r.hyps[0].score > best_score) {
                    best_score = r.hyps[0].score;
                    best_n = len;
                    memcpy(best, seq, sizeof(int) * (size_t)len);
                }
                s2s_result_free(&r);
                total++;
            }
        }
        /* the reference's own exhaustive search */
        int ref[64];
        int ref_n = int_array(get(ex, "best_tokens"), ref, 64);
        char a[256], b[256];
        fmt_ids(a, sizeof a, best, best_n);
        fmt_ids(b, sizeof b, ref, ref_n);
        cr_expect(best_n == ref_n && memcmp(best, ref, sizeof(int) * (size_t)ref_n) == 0,
                  "%s: exhaustive search over %d sequences found %s, the reference %s", f->name, total, a, b);
        cr_expect(fabs(best_score - num(ex, "best_score")) <= SCORE_TOL, "%s: exhaustive best score %.7g, reference %.7g",
                  f->name, best_score, num(ex, "best_score"));
        s2s_decode_params p = params_for(beam, 1, 0.0, max_length);
        s2s_result r = {0};
        s2s_error err = {0};
        s2s_status st = s2s_translate_ids(f->session, src, n_src, &p, &r, &err);
        cr_assert_eq(st, S2S_OK, "%s: wide beam failed: %s", f->name, err.message);
        cr_assert_geq(r.n_hyps, 1);
        fmt_ids(b, sizeof b, r.hyps[0].tokens, r.hyps[0].n_tokens);
        cr_expect(r.hyps[0].finished && r.hyps[0].n_tokens == best_n &&
                      memcmp(r.hyps[0].tokens, best, sizeof(int) * (size_t)best_n) == 0,
                  "%s: beam %d found %s (finished %d), exhaustive search %s", f->name, beam, b, r.hyps[0].finished, a);
        cr_expect(fabs(r.hyps[0].score - best_score) <= SCORE_TOL, "%s: beam score %.7g, exhaustive %.7g", f->name,
                  (double)r.hyps[0].score, best_score);
        s2s_result_free(&r);
    }
    cr_expect_eq(found, 1, "expected exactly one fixture with an \"exhaustive\" section, found %d", found);
    free_fixtures(set);
    free(set);
}
