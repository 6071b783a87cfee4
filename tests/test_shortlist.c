/*
 * test_shortlist.c - the lexical shortlist of the fast mode: the file format
 * and its errors (named file and line), loading with a model, and decoding:
 * int8 with the shortlist chooses only listed words, a shortlist of every
 * word changes nothing, and F32, forced scoring and shortlist = 0 ignore it.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s2s.h"
#include "shortlist.h"
#include "support/model_dir.h"
#include "support/slurp.h"

/* ---- the file format ------------------------------------------------------ */

static shortlist *parse_ok(const char *text, int v_src, int v_tgt)
{
    shortlist *sl = NULL;
    s2s_error err = {0};
    s2s_status st = shortlist_parse(text, strlen(text), "shortlist.txt", v_src, v_tgt, &sl, &err);
    cr_assert_eq(st, S2S_OK, "parse failed: %s", err.message);
    return sl;
}

static void parse_fail(const char *text, s2s_status status, const char *needle)
{
    shortlist *sl = NULL;
    s2s_error err = {0};
    s2s_status st = shortlist_parse(text, strlen(text), "shortlist.txt", 5, 6, &sl, &err);
    cr_assert_eq(st, status, "status %d for %s (message: %s)", st, text, err.message);
    cr_assert_null(sl);
    cr_assert(strstr(err.message, needle), "message \"%s\" lacks \"%s\"", err.message, needle);
}

Test(shortlist, parses_lines_in_any_order)
{
    shortlist *sl = parse_ok("s2s-shortlist 1 5 6\n# a comment\n\n  \t\r\nfrequent 2 3\n3 4 5\n  1 2\r\n", 5, 6);
    cr_assert_eq(sl->n_frequent, 2);
    cr_assert(sl->frequent[0] == 2 && sl->frequent[1] == 3);
    /* source 1 -> {2}, source 3 -> {4, 5}, the others nothing */
    int expect_first[] = {0, 0, 1, 1, 3, 3};
    for (int s = 0; s <= 5; s++) cr_assert_eq(sl->first[s], expect_first[s], "first[%d]", s);
    cr_assert(sl->cand[0] == 2 && sl->cand[1] == 4 && sl->cand[2] == 5);
    shortlist_free(sl);
}

Test(shortlist, crlf_files_and_an_empty_frequent_line)
{
    shortlist *sl = parse_ok("s2s-shortlist 1 5 6\r\nfrequent\r\n1 2\r\n", 5, 6);
    cr_assert_eq(sl->n_frequent, 0);
    cr_assert(sl->first[1] == 0 && sl->first[2] == 1 && sl->cand[0] == 2);
    shortlist_free(sl);
    s2s_error err;
    cr_assert_eq(shortlist_check_header("# x\r\n\r\n s2s-shortlist 1 5 6\r\n", 27, "shortlist.txt", 5, 6, &err), S2S_OK,
                 "%s", err.message);
    cr_assert_eq(shortlist_check_header("s2s-shortlist 1 5 6", 19, "shortlist.txt", 5, 7, &err), S2S_ERR_VOCAB);
}

Test(shortlist, selection_is_a_union_without_repeats)
{
    shortlist *sl = parse_ok("s2s-shortlist 1 5 6\nfrequent 2\n1 2 3\n3 3 4\n", 5, 6);
    unsigned char mark[6] = {0};
    int ids[6], k = 0, src[] = {3, 1, 1, 0}, extra[] = {1, 5, 2};
    shortlist_add_targets(sl->frequent, sl->n_frequent, 6, mark, ids, &k);
    shortlist_add_source(sl, src, 4, mark, ids, &k);
    shortlist_add_targets(extra, 3, 6, mark, ids, &k);
    int expect[] = {2, 3, 4, 1, 5};
    cr_assert_eq(k, 5);
    for (int i = 0; i < 5; i++) cr_assert_eq(ids[i], expect[i], "ids[%d]", i);
    shortlist_free(sl);
}

Test(shortlist, malformed_files_name_the_line)
{
    parse_fail("", S2S_ERR_VOCAB, "shortlist.txt: empty");
    parse_fail("frequent 1\n", S2S_ERR_VOCAB, "line 1: expected the header 's2s-shortlist 1 V_SRC V_TGT'");
    parse_fail("s2s-shortlist 1 5\n", S2S_ERR_VOCAB, "line 1: expected the header");
    parse_fail("s2s-shortlist 2 5 6\n", S2S_ERR_VERSION, "line 1: shortlist version 2 (this library reads 1)");
    parse_fail("s2s-shortlist 1 5 7\n", S2S_ERR_VOCAB,
               "line 1: made for vocabularies of 5 and 7 tokens, the model has 5 and 6");
    parse_fail("s2s-shortlist 1 5 6\n1 2\n7 1\n", S2S_ERR_VOCAB,
               "shortlist.txt line 3: source id 7 outside the source vocabulary (0..4)");
    parse_fail("s2s-shortlist 1 5 6\n1 2 6\n", S2S_ERR_VOCAB,
               "shortlist.txt line 2: target id 6 outside the target vocabulary (0..5)");
    parse_fail("s2s-shortlist 1 5 6\n1 2\n1 3\n", S2S_ERR_VOCAB, "line 3: source id 1 repeated");
    parse_fail("s2s-shortlist 1 5 6\nfrequent 1\nfrequent 2\n", S2S_ERR_VOCAB, "line 3: a second 'frequent' line");
    parse_fail("s2s-shortlist 1 5 6\n1 2 x\n", S2S_ERR_VOCAB, "line 2: expected target ids");
    parse_fail("s2s-shortlist 1 5 6\n1 -2\n", S2S_ERR_VOCAB, "line 2: expected target ids");
    parse_fail("s2s-shortlist 1 5 6\nhello 2\n", S2S_ERR_VOCAB, "line 2: expected a source id or 'frequent'");
    parse_fail("s2s-shortlist 1 5 6\n1 99999999999\n", S2S_ERR_VOCAB, "line 2: expected target ids");
}

/* ---- with a model ----------------------------------------------------------- */

/* The base loader fixture: a wrong header refuses the model at load; a bad
 * line further on fails every fast-mode decoding with the same named error
 * (the body is parsed on first use), while F32 decodes. */
Test(shortlist, a_bad_file_is_refused_naming_the_line)
{
    fixture fx;
    fx_init(&fx);
    fx_write(&fx);
    const char *other = "# made for another model\ns2s-shortlist 1 5 7\n";
    write_file(fx.dir, "shortlist.txt", other, strlen(other));
    s2s_error err = {0};
    s2s_model *m = s2s_model_load(fx.dir, &err);
    cr_assert_null(m);
    cr_assert_eq(err.status, S2S_ERR_VOCAB);
    cr_assert(strstr(err.message, "shortlist.txt line 2: made for vocabularies of 5 and 7 tokens"), "%s", err.message);

    const char *bad = "s2s-shortlist 1 5 6\nfrequent 2\n4 9\n";
    write_file(fx.dir, "shortlist.txt", bad, strlen(bad));
    m = s2s_model_load(fx.dir, &err);
    cr_assert_not_null(m, "%s", err.message);
    s2s_model_info info;
    s2s_model_get_info(m, &info);
    cr_assert_eq(info.shortlist, 1);
    s2s_session *s = s2s_session_new(m, NULL);
    s2s_decode_params p = s2s_decode_default_params();
    p.max_length = 4;
    int src[] = {1, 2, 0};
    s2s_result r;
    cr_assert_eq(s2s_translate_ids(s, src, 3, &p, &r, &err), S2S_OK, "F32: %s", err.message);
    s2s_result_free(&r);
    p.compute = S2S_COMPUTE_INT8;
    for (int i = 0; i < 2; i++) {
        memset(&err, 0, sizeof err);
        cr_assert_eq(s2s_translate_ids(s, src, 3, &p, &r, &err), S2S_ERR_VOCAB, "int8 call %d", i);
        cr_assert(strstr(err.message, "shortlist.txt line 3: target id 9 outside the target vocabulary (0..5)"),
                  "call %d: %s", i, err.message);
    }
    p.shortlist = 0;
    cr_assert_eq(s2s_translate_ids(s, src, 3, &p, &r, &err), S2S_OK, "int8 without the shortlist: %s", err.message);
    s2s_result_free(&r);
    s2s_session_free(s);
    s2s_model_free(m);

    const char *good = "s2s-shortlist 1 5 6\nfrequent 2\n4 3\n";
    write_file(fx.dir, "shortlist.txt", good, strlen(good));
    m = s2s_model_load(fx.dir, &err);
    cr_assert_not_null(m, "%s", err.message);
    s2s_model_free(m);
    fx_cleanup(&fx);
}

/* A copy of tests/fixtures/models/NAME in a temporary directory, with
 * `text` as shortlist.txt (NULL: none). */
static s2s_model *fixture_with_shortlist(const char *name, const char *text, char *dir, size_t dir_size)
{
    const char *root = getenv("S2S_ROOT") ? getenv("S2S_ROOT") : ".";
    char src[512], path[1024];
    snprintf(src, sizeof src, "%s/tests/fixtures/models/%s", root, name);
    snprintf(dir, dir_size, "/tmp/s2s-shortlist-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    DIR *d = opendir(src);
    cr_assert_not_null(d, "%s", src);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        snprintf(path, sizeof path, "%s/%s", src, e->d_name);
        size_t len;
        char *data = slurp(path, &len);
        cr_assert_not_null(data, "%s", path);
        write_file(dir, e->d_name, data, len);
        free(data);
    }
    closedir(d);
    if (text) write_file(dir, "shortlist.txt", text, strlen(text));
    s2s_error err = {0};
    s2s_model *m = s2s_model_load(dir, &err);
    cr_assert_not_null(m, "%s", err.message);
    return m;
}

static void remove_dir(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

static int same_tokens(const s2s_hypothesis *a, const s2s_hypothesis *b)
{
    if (a->n_tokens != b->n_tokens || a->n_steps != b->n_steps) return 0;
    for (int i = 0; i < a->n_tokens; i++)
        if (a->tokens[i] != b->tokens[i]) return 0;
    for (int i = 0; i < a->n_steps; i++)
        if (a->token_logprobs[i] != b->token_logprobs[i]) return 0;
    return 1;
}

static const char *const NAMES[] = {"gru3_general_after_nobias", "gru_bi_bahdanau_before",
                                    "lstm_meantanh_general_after_feed_nobias"};

/* int8 + a shortlist of every target word, in id order, gives exactly the
 * int8 result without one; F32 and shortlist = 0 ignore the file. */
Test(shortlist, a_full_shortlist_changes_nothing)
{
    for (size_t f = 0; f < sizeof NAMES / sizeof NAMES[0]; f++) {
        char dir_plain[64], dir_full[64], text[8192];
        s2s_model *plain = fixture_with_shortlist(NAMES[f], NULL, dir_plain, sizeof dir_plain);
        s2s_model_info info;
        s2s_model_get_info(plain, &info);
        int n = snprintf(text, sizeof text, "s2s-shortlist 1 %d %d\nfrequent", info.source_vocab_size,
                         info.target_vocab_size);
        for (int t = 0; t < info.target_vocab_size; t++) n += snprintf(text + n, sizeof text - (size_t)n, " %d", t);
        snprintf(text + n, sizeof text - (size_t)n, "\n");
        s2s_model *full = fixture_with_shortlist(NAMES[f], text, dir_full, sizeof dir_full);
        int src[] = {1, 2, 3, 2, 0};
        src[4] = s2s_model_token_id(plain, S2S_SOURCE, info.eos, strlen(info.eos));
        for (int i = 0; i < 4; i++) src[i] %= info.source_vocab_size;
        s2s_session *sp = s2s_session_new(plain, NULL), *sf = s2s_session_new(full, NULL);
        for (int mode = 0; mode < 3; mode++) {
            s2s_decode_params p = s2s_decode_default_params();
            p.max_length = 10;
            p.beam_size = 3;
            p.n_best = 3;
            p.compute = mode == 0 ? S2S_COMPUTE_F32 : S2S_COMPUTE_INT8;
            p.shortlist = mode != 2;
            s2s_result a, b;
            cr_assert_eq(s2s_translate_ids(sp, src, 5, &p, &a, NULL), S2S_OK);
            cr_assert_eq(s2s_translate_ids(sf, src, 5, &p, &b, NULL), S2S_OK);
            cr_assert_eq(a.n_hyps, b.n_hyps);
            for (int h = 0; h < a.n_hyps; h++)
                cr_assert(same_tokens(&a.hyps[h], &b.hyps[h]), "%s mode %d hyp %d differs", NAMES[f], mode, h);
            s2s_result_free(&a);
            s2s_result_free(&b);
        }
        s2s_session_free(sp);
        s2s_session_free(sf);
        s2s_model_free(plain);
        s2s_model_free(full);
        remove_dir(dir_plain);
        remove_dir(dir_full);
    }
}

/* A shortlist without the word int8 picks first: int8 then never emits an
 * unlisted word, while F32 and forced scoring still see every word. */
Test(shortlist, int8_emits_only_listed_words)
{
    int tested = 0;
    for (size_t f = 0; f < sizeof NAMES / sizeof NAMES[0]; f++) {
        char dir_plain[64], dir_short[64], text[8192];
        s2s_model *plain = fixture_with_shortlist(NAMES[f], NULL, dir_plain, sizeof dir_plain);
        s2s_model_info info;
        s2s_model_get_info(plain, &info);
        int eos = s2s_model_token_id(plain, S2S_TARGET, info.eos, strlen(info.eos));
        int src[] = {1, 2, 3, 0};
        src[3] = s2s_model_token_id(plain, S2S_SOURCE, info.eos, strlen(info.eos));
        for (int i = 0; i < 3; i++) src[i] %= info.source_vocab_size;
        s2s_session *sp = s2s_session_new(plain, NULL);
        s2s_decode_params p = s2s_decode_default_params();
        p.max_length = 8;
        p.compute = S2S_COMPUTE_INT8;
        s2s_result a;
        cr_assert_eq(s2s_translate_ids(sp, src, 4, &p, &a, NULL), S2S_OK);
        int first = a.hyps[0].n_tokens > 0 ? a.hyps[0].tokens[0] : eos;
        if (first == eos) { /* nothing to leave out: this fixture says nothing here */
            s2s_result_free(&a);
            s2s_session_free(sp);
            s2s_model_free(plain);
            remove_dir(dir_plain);
            continue;
        }
        /* every target word but `first` and the unk (which the engine adds back) */
        int unk = info.unk ? s2s_model_token_id(plain, S2S_TARGET, info.unk, strlen(info.unk)) : -1;
        int n = snprintf(text, sizeof text, "s2s-shortlist 1 %d %d\nfrequent", info.source_vocab_size,
                         info.target_vocab_size);
        unsigned char allowed[4096] = {0};
        for (int t = 0; t < info.target_vocab_size && t < 4096; t++) {
            if (t == first || t == unk) continue;
            allowed[t] = 1;
            n += snprintf(text + n, sizeof text - (size_t)n, " %d", t);
        }
        snprintf(text + n, sizeof text - (size_t)n, "\n");
        if (unk >= 0 && unk != first) allowed[unk] = 1;
        s2s_model *listed = fixture_with_shortlist(NAMES[f], text, dir_short, sizeof dir_short);
        tested++;
        s2s_session *sl = s2s_session_new(listed, NULL);
        s2s_result b, exact, forced;
        cr_assert_eq(s2s_translate_ids(sl, src, 4, &p, &b, NULL), S2S_OK);
        for (int i = 0; i < b.hyps[0].n_tokens; i++)
            cr_assert(allowed[b.hyps[0].tokens[i]], "%s: token %d (%d) is not in the shortlist", NAMES[f], i,
                      b.hyps[0].tokens[i]);
        p.compute = S2S_COMPUTE_F32;
        cr_assert_eq(s2s_translate_ids(sl, src, 4, &p, &exact, NULL), S2S_OK);
        s2s_result exact_plain;
        cr_assert_eq(s2s_translate_ids(sp, src, 4, &p, &exact_plain, NULL), S2S_OK);
        cr_assert(same_tokens(&exact.hyps[0], &exact_plain.hyps[0]), "%s: F32 depends on the shortlist", NAMES[f]);
        /* forced scoring of int8's unrestricted output: exact, whatever the file */
        cr_assert_eq(s2s_score_ids(sl, src, 4, a.hyps[0].tokens, a.hyps[0].n_tokens, 0, &forced, NULL), S2S_OK);
        cr_assert(isfinite(forced.hyps[0].score), "%s: forced score of an unlisted word is %g", NAMES[f],
                  forced.hyps[0].score);
        s2s_result_free(&a);
        s2s_result_free(&b);
        s2s_result_free(&exact);
        s2s_result_free(&exact_plain);
        s2s_result_free(&forced);
        s2s_session_free(sp);
        s2s_session_free(sl);
        s2s_model_free(plain);
        s2s_model_free(listed);
        remove_dir(dir_plain);
        remove_dir(dir_short);
    }
    cr_assert(tested > 0, "every fixture chose eos first: the test proved nothing");
}

/* A shortlist that keeps few words: the frequent id 2, and two candidates
 * per source id. */
static void small_shortlist(int v_src, int v_tgt, char *text, size_t size)
{
    int n = snprintf(text, size, "s2s-shortlist 1 %d %d\nfrequent %d\n", v_src, v_tgt, 2 % v_tgt);
    for (int s = 0; s < v_src; s++)
        n += snprintf(text + n, size - (size_t)n, "%d %d %d\n", s, (s * 7 + 3) % v_tgt, (s * 5 + 1) % v_tgt);
}

/* With a shortlist each input keeps its own list: a line decoded in a batch
 * gets exactly what it gets alone (tokens and every log-probability), though
 * the batch computes the union of the lists, for greedy and beam, with and
 * without copy. */
Test(shortlist, batch_equals_single)
{
    const char *names[] = {"gru3_general_after_nobias", "gru_bi_bahdanau_before", "v2_copy_gru_bahdanau_before",
                           "v2_copy_cov_lstm_after_feed"};
    for (size_t f = 0; f < sizeof names / sizeof names[0]; f++) {
        char dir[64], text[16384];
        s2s_model *plain = fixture_with_shortlist(names[f], NULL, dir, sizeof dir);
        s2s_model_info info;
        s2s_model_get_info(plain, &info);
        s2s_model_free(plain);
        remove_dir(dir);
        small_shortlist(info.source_vocab_size, info.target_vocab_size, text, sizeof text);
        s2s_model *m = fixture_with_shortlist(names[f], text, dir, sizeof dir);
        s2s_model_get_info(m, &info); /* the first model's strings went with it */
        int eos = s2s_model_token_id(m, S2S_SOURCE, info.eos, strlen(info.eos));
        int data[3][5] = {{1, 2, 3, 0, 0}, {4, 5, 0, 0, 0}, {6, 7, 8, 9, 0}}, lens[3] = {4, 3, 5};
        const int *srcs[3];
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < lens[i] - 1; j++) data[i][j] %= info.source_vocab_size;
            data[i][lens[i] - 1] = eos >= 0 ? eos : 1 % info.source_vocab_size; /* no source eos: any id */
            srcs[i] = data[i];
        }
        s2s_session *s = s2s_session_new(m, NULL);
        for (int beam = 1; beam <= 3; beam += 2) {
            s2s_decode_params p = s2s_decode_default_params();
            p.compute = S2S_COMPUTE_INT8;
            p.max_length = 8;
            p.beam_size = beam;
            p.n_best = beam;
            s2s_result batch[3], single;
            s2s_error err = {0};
            cr_assert_eq(s2s_translate_batch(s, srcs, lens, 3, &p, batch, &err), S2S_OK, "%s: %s", names[f],
                         err.message);
            for (int i = 0; i < 3; i++) {
                cr_assert_eq(s2s_translate_ids(s, srcs[i], lens[i], &p, &single, &err), S2S_OK);
                cr_assert_eq(single.n_hyps, batch[i].n_hyps);
                for (int h = 0; h < single.n_hyps; h++)
                    cr_assert(same_tokens(&single.hyps[h], &batch[i].hyps[h]),
                              "%s beam %d input %d hyp %d: batch differs from single", names[f], beam, i, h);
                s2s_result_free(&single);
                s2s_result_free(&batch[i]);
            }
        }
        s2s_session_free(s);
        s2s_model_free(m);
        remove_dir(dir);
    }
}

Test(shortlist, parameter_is_checked)
{
    char dir[64];
    s2s_model *m = fixture_with_shortlist("gru_bi_bahdanau_before", NULL, dir, sizeof dir);
    s2s_session *s = s2s_session_new(m, NULL);
    s2s_decode_params p = s2s_decode_default_params();
    cr_assert_eq(p.shortlist, 1);
    p.shortlist = 2;
    int src[] = {1, 0};
    s2s_result r;
    s2s_error err = {0};
    cr_assert_eq(s2s_translate_ids(s, src, 2, &p, &r, &err), S2S_ERR_INVALID_ARG);
    cr_assert(strstr(err.message, "shortlist 2 is neither 0 nor 1"), "%s", err.message);
    s2s_session_free(s);
    s2s_model_free(m);
    remove_dir(dir);
}
