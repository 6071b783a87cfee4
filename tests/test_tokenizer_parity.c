/*
 * test_tokenizer_parity.c - the C tokenizer against the goldens that the
 * Python twin (tools/s2s_tokenizer.py) wrote with
 * tools/make_tokenizer_golden.py into tests/fixtures/tokenizer/.
 * Runs without ../shared (the inputs are committed with the goldens).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <utf8proc.h>

#include "tok_internal.h"
#include "support/slurp.h"

#define FIX "tests/fixtures/tokenizer/"

static char *fixture_path(const char *name)
{
    const char *root = getenv("S2S_ROOT");
    if (!root) root = ".";
    size_t n = strlen(root) + strlen(FIX) + strlen(name) + 2;
    char *p = malloc(n);
    snprintf(p, n, "%s/%s%s", root, FIX, name);
    return p;
}

/* The fixture file `name` (see fixture_path) as a malloc'd string; *len its size. */
static char *slurp_fixture(const char *name, size_t *len)
{
    char *path = fixture_path(name);
    char *s = slurp(path, len);
    free(path);
    return s;
}
/* Splits `s` in place into lines (without "\n"); returns the count. */
static size_t lines_of(char *s, size_t len, char ***out)
{
    size_t n = 0, cap = 1024;
    char **v = malloc(cap * sizeof *v);
    size_t i = 0;
    while (i < len) {
        char *e = memchr(s + i, '\n', len - i);
        size_t end = e ? (size_t)(e - s) : len;
        s[end] = 0;
        if (n == cap) v = realloc(v, (cap *= 2) * sizeof *v);
        v[n++] = s + i;
        i = end + 1;
    }
    *out = v;
    return n;
}

static s2s_tokenizer *make_tok(normalizer_kind nk, level_kind lk, int lower, int whole_numbers, int whole_names)
{
    tokenizer_config cfg = {0};
    cfg.normalizer = nk;
    cfg.level = lk;
    cfg.lowercase = lower;
    cfg.whole_numbers = whole_numbers;
    cfg.whole_names = whole_names;
    cfg.max_input_tokens = S2S_DEFAULT_MAX_INPUT_TOKENS;
    size_t len = 0;
    char *merges = lk == LEVEL_BPE ? slurp_fixture("merges-2000.txt", &len) : NULL;
    tok_error err = {0};
    s2s_tokenizer *t = tokenizer_new(&cfg, merges, len, "merges-2000.txt", &err);
    cr_assert(t, "tokenizer_new: %s", err.message);
    free(merges);
    return t;
}

static void check_golden(const char *inputs, const char *golden, normalizer_kind nk, level_kind lk,
                         int lower, int whole_numbers, int whole_names, size_t step)
{
    size_t ilen, glen;
    char *itext = slurp_fixture(inputs, &ilen), *gtext = slurp_fixture(golden, &glen);
    char **in, **gl;
    size_t nin = lines_of(itext, ilen, &in), ngl = lines_of(gtext, glen, &gl);
    cr_assert_eq(ngl, (nin + step - 1) / step, "%s: %zu lines for %zu inputs", golden, ngl, nin);
    s2s_tokenizer *t = make_tok(nk, lk, lower, whole_numbers, whole_names);
    size_t bad = 0, total_tokens = 0;
    for (size_t g = 0; g < ngl; g++) {
        const char *line = in[g * step];
        piece_list pl = {0};
        tok_error err = {0};
        cr_assert_eq(tokenizer_split(t, line, strlen(line), 0, NULL, &pl, &err), TOK_OK, "%s", err.message);
        /* expected: join field, then tokens, TAB separated */
        char *exp = gl[g];
        char *tab = strchr(exp, '\t');
        const char *join_exp = exp;
        if (tab) *tab = 0;
        if (join_exp[0] == 0) join_exp = line;
        else if (join_exp[0] == '=') join_exp++;
        int ntok = 0, ok = 1;
        char *p = tab ? tab + 1 : NULL;
        while (p) {
            char *q = strchr(p, '\t');
            if (q) *q = 0;
            if (ntok >= pl.n || strcmp(pl.pieces[ntok], p) != 0) ok = 0;
            ntok++;
            p = q ? q + 1 : NULL;
        }
        if (ntok != pl.n) ok = 0;
        char *j = tokenizer_join(t, (const char *const *)pl.pieces, pl.n);
        if (strcmp(j, join_exp) != 0) ok = 0;
        if (!ok && bad++ < 5)
            cr_log_error("%s line %zu: input '%s': C gave %d tokens (first '%s'), join '%s'; Python %d tokens, join '%s'",
                         golden, g * step, line, pl.n, pl.n ? pl.pieces[0] : "", j, ntok, join_exp);
        total_tokens += (size_t)pl.n;
        free(j);
        piece_list_free(&pl);
    }
    cr_expect_eq(bad, 0, "%s: %zu of %zu lines differ from the Python twin", golden, bad, ngl);
    cr_expect_gt(total_tokens, ngl, "%s: suspiciously few tokens", golden);
    tokenizer_free(t);
    free(in);
    free(gl);
    free(itext);
    free(gtext);
}

Test(parity, eng_fra_tutorial_word)
{
    check_golden("inputs-eng-fra.txt", "golden-eng-fra-tutorial-word.tsv", NORM_TUTORIAL, LEVEL_WORD, 0, 0, 0, 1);
}
Test(parity, test_text_word)
{
    check_golden("inputs-test.txt", "golden-test-text-word.tsv", NORM_TEXT, LEVEL_WORD, 0, 0, 0, 1);
}
Test(parity, test_text_bpe)
{
    check_golden("inputs-test.txt", "golden-test-text-bpe.tsv", NORM_TEXT, LEVEL_BPE, 0, 0, 0, 1);
}
Test(parity, test_text_word_lower)
{
    check_golden("inputs-test.txt", "golden-test-text-word-lower.tsv", NORM_TEXT, LEVEL_WORD, 1, 0, 0, 5);
}
Test(parity, test_text_char_lower)
{
    check_golden("inputs-test.txt", "golden-test-text-char-lower.tsv", NORM_TEXT, LEVEL_CHAR, 1, 0, 0, 5);
}
Test(parity, test_tutorial_word)
{
    check_golden("inputs-test.txt", "golden-test-tutorial-word.tsv", NORM_TUTORIAL, LEVEL_WORD, 0, 0, 0, 3);
}
Test(parity, test_tutorial_bpe)
{
    check_golden("inputs-test.txt", "golden-test-tutorial-bpe.tsv", NORM_TUTORIAL, LEVEL_BPE, 0, 0, 0, 3);
}
Test(parity, test_text_bpe_whole_numbers)
{
    check_golden("inputs-test-numbers.txt", "golden-test-numbers-text-bpe-whole.tsv", NORM_TEXT, LEVEL_BPE, 0, 1, 0, 1);
}
Test(parity, test_text_bpe_whole_names)
{
    check_golden("inputs-test.txt", "golden-test-text-bpe-whole-names.tsv", NORM_TEXT, LEVEL_BPE, 0, 1, 1, 2);
}
Test(parity, test_none_bpe)
{
    check_golden("inputs-test.txt", "golden-test-none-bpe.tsv", NORM_NONE, LEVEL_BPE, 0, 0, 0, 3);
}

static int kind_of(const char *s, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (strcmp(s, names[i]) == 0) return i;
    cr_assert_fail("unknown name %s", s);
    return -1;
}

Test(parity, tricky_inputs_every_config)
{
    static const char *const norms[] = {"none", "tutorial", "text"};
    static const char *const levels[] = {"word", "char", "bpe"};
    size_t len;
    char *text = slurp_fixture("tricky.json", &len);
    cJSON *root = cJSON_ParseWithLength(text, len);
    cr_assert(root, "tricky.json does not parse");
    cJSON *inputs = cJSON_GetObjectItem(root, "inputs");
    cJSON *cfgs = cJSON_GetObjectItem(root, "configs");
    int ncfg = 0, bad = 0;
    cJSON *c;
    cJSON_ArrayForEach(c, cfgs) {
        cJSON *cfg = cJSON_GetObjectItem(c, "cfg");
        int nk = kind_of(cJSON_GetObjectItem(cfg, "normalizer")->valuestring, norms, 3);
        int lk = kind_of(cJSON_GetObjectItem(cfg, "level")->valuestring, levels, 3);
        int lower = cJSON_IsTrue(cJSON_GetObjectItem(cfg, "lowercase"));
        int whole = cJSON_IsTrue(cJSON_GetObjectItem(cfg, "whole_numbers"));
        int names = cJSON_IsTrue(cJSON_GetObjectItem(cfg, "whole_names"));
        s2s_tokenizer *t = make_tok((normalizer_kind)nk, (level_kind)lk, lower, whole, names);
        cJSON *toks = cJSON_GetObjectItem(c, "tokens"), *joined = cJSON_GetObjectItem(c, "joined");
        int i = 0;
        cJSON *in;
        cJSON_ArrayForEach(in, inputs) {
            const char *s = in->valuestring;
            cJSON *exp = cJSON_GetArrayItem(toks, i);
            piece_list pl = {0};
            tok_error err = {0};
            cr_assert_eq(tokenizer_split(t, s, strlen(s), 0, NULL, &pl, &err), TOK_OK, "%s", err.message);
            int ok = cJSON_GetArraySize(exp) == pl.n;
            for (int k = 0; ok && k < pl.n; k++) ok = strcmp(cJSON_GetArrayItem(exp, k)->valuestring, pl.pieces[k]) == 0;
            char *j = tokenizer_join(t, (const char *const *)pl.pieces, pl.n);
            const char *jexp = cJSON_GetArrayItem(joined, i)->valuestring;
            if (strcmp(j, jexp) != 0) ok = 0;
            if (!ok) {
                bad++;
                char *e = cJSON_PrintUnformatted(exp);
                cr_log_error("%s/%s/lower=%d/whole_numbers=%d/whole_names=%d input %d: C gave %d tokens, join '%s'; "
                             "Python %s, join '%s'", norms[nk], levels[lk], lower, whole, names, i, pl.n, j, e, jexp);
                free(e);
            }
            free(j);
            piece_list_free(&pl);
            i++;
        }
        tokenizer_free(t);
        ncfg++;
    }
    cr_expect_eq(ncfg, 20, "expected 20 configurations, got %d", ncfg);
    cr_expect_eq(bad, 0, "%d tricky cases differ from Python", bad);
    cJSON_Delete(root);
    free(text);
}

/* ---- per-code-point tables ----------------------------------------------- */

static unsigned char *unassigned_map(char **lines, size_t n)
{
    unsigned char *u = calloc(0x110000, 1);
    for (size_t i = 0; i < n; i++)
        if (lines[i][0] == 'U') {
            unsigned a, b;
            cr_assert(sscanf(lines[i] + 2, "%x\t%x", &a, &b) == 2);
            for (unsigned c = a; c <= b; c++) u[c] = 1;
        }
    return u;
}

static void seq_of(const char *s, int32_t *v, int *n)
{
    *n = 0;
    while (*s) {
        char *end;
        v[(*n)++] = (int32_t)strtol(s, &end, 16);
        s = end;
        while (*s == ' ') s++;
    }
}

Test(parity, unicode_tables)
{
    size_t len;
    char *text = slurp_fixture("unicode-tables.tsv", &len);
    char **lines;
    size_t n = lines_of(text, len, &lines);
    unsigned char *unassigned = unassigned_map(lines, n);
    char **tut = calloc(0x110000, sizeof *tut);
    char **lower = calloc(0x110000, sizeof *lower), **kc = calloc(0x110000, sizeof *kc);
    char *cls = calloc(0x110000, 1);
    for (size_t i = 0; i < n; i++) {
        char *l = lines[i];
        unsigned a, b;
        char *rest;
        switch (l[0]) {
        case 'T': a = (unsigned)strtoul(l + 2, &rest, 16); tut[a] = rest + 1; break;
        case 'L': a = (unsigned)strtoul(l + 2, &rest, 16); lower[a] = rest + 1; break;
        case 'K': a = (unsigned)strtoul(l + 2, &rest, 16); kc[a] = rest + 1; break;
        case 'C': {
            char k;
            cr_assert(sscanf(l + 2, "%x\t%x\t%c", &a, &b, &k) == 3);
            for (unsigned c = a; c <= b; c++) cls[c] = k;
            break;
        }
        default: break;
        }
    }
    s2s_tokenizer *tt = make_tok(NORM_TUTORIAL, LEVEL_WORD, 0, 0, 0);
    long skipped = 0, bad_t = 0, bad_l = 0, bad_k = 0, bad_c = 0, checked = 0;
    for (int32_t c = 0; c < 0x110000; c++) {
        if (c >= 0xD800 && c <= 0xDFFF) continue;
        if (unassigned[c]) { /* unassigned in Python's Unicode version */
            if (utf8proc_category(c) != UTF8PROC_CATEGORY_CN) skipped++;
            continue;
        }
        checked++;
        /* tutorial: "a" c "b" */
        char in[8] = "a";
        size_t k = 1 + utf8_encode(c, in + 1);
        in[k++] = 'b';
        piece_list pl = {0};
        cr_assert_eq(tokenizer_split(tt, in, k, 0, NULL, &pl, NULL), TOK_OK);
        char *j = tokenizer_join(tt, (const char *const *)pl.pieces, pl.n);
        const char *exp = tut[c] ? tut[c] : "a b";
        if (strcmp(j, exp) != 0 && bad_t++ < 5) cr_log_error("tutorial U+%04X: C '%s', Python '%s'", c, j, exp);
        free(j);
        piece_list_free(&pl);
        /* lowercase of one code point */
        int32_t lo[2], e[8];
        int nl = tok_lower(c, lo), ne;
        if (lower[c]) seq_of(lower[c], e, &ne);
        else { e[0] = c; ne = 1; }
        if ((nl != ne || lo[0] != e[0] || (nl == 2 && lo[1] != e[1])) && bad_l++ < 5)
            cr_log_error("lower U+%04X: C U+%04X (%d cps), Python U+%04X (%d cps)", c, lo[0], nl, e[0], ne);
        /* NFKC of one code point */
        cp_buf one = {0}, out = {0};
        cp_push(&one, c);
        cr_assert_eq(nfkc(&one, &out, NULL), TOK_OK);
        int32_t ek[32];
        int nk;
        if (kc[c]) seq_of(kc[c], ek, &nk);
        else { ek[0] = c; nk = 1; }
        int same = (int)out.n == nk;
        for (int i = 0; same && i < nk; i++) same = out.cp[i] == ek[i];
        if (!same && bad_k++ < 5) cr_log_error("NFKC U+%04X: C gives %zu cps (U+%04X...), Python %d", c, out.n, out.n ? out.cp[0] : 0, nk);
        cp_buf_free(&one);
        cp_buf_free(&out);
        /* class in the "text" normalizer */
        char mine;
        int cat = utf8proc_category(c);
        if (tok_isspace(c)) mine = 's';
        else if (cat == UTF8PROC_CATEGORY_CC || cat == UTF8PROC_CATEGORY_CF) mine = 'x';
        else if (cat >= UTF8PROC_CATEGORY_PC && cat <= UTF8PROC_CATEGORY_SO) mine = 'p';
        else if (cat >= UTF8PROC_CATEGORY_MN && cat <= UTF8PROC_CATEGORY_ME) mine = 'm';
        else if (cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LT) mine = 'u'; /* whole_names */
        else if (cat == UTF8PROC_CATEGORY_LL) mine = 'l';
        else mine = 'w';
        if (mine != cls[c] && bad_c++ < 5) cr_log_error("class U+%04X: C '%c', Python '%c'", c, mine, cls[c]);
    }
    cr_log_info("checked %ld code points; skipped %ld assigned in utf8proc %s but not in Python's Unicode",
                checked, skipped, utf8proc_unicode_version());
    cr_expect_gt(checked, 200000);
    cr_expect_eq(bad_t, 0, "tutorial differs for %ld code points", bad_t);
    cr_expect_eq(bad_l, 0, "lowercase differs for %ld code points", bad_l);
    cr_expect_eq(bad_k, 0, "NFKC differs for %ld code points", bad_k);
    cr_expect_eq(bad_c, 0, "text classes differ for %ld code points", bad_c);
    tokenizer_free(tt);
    free(unassigned);
    free(tut);
    free(lower);
    free(kc);
    free(cls);
    free(lines);
    free(text);
}

Test(parity, utf8_strict_and_lenient)
{
    size_t len;
    char *text = slurp_fixture("utf8-lenient.tsv", &len);
    char **lines;
    size_t n = lines_of(text, len, &lines);
    cr_assert_gt(n, 100);
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        char *hex = lines[i], *t1 = strchr(hex, '\t');
        cr_assert(t1);
        *t1 = 0;
        long off = strtol(t1 + 1, NULL, 10);
        char *cps = strchr(t1 + 1, '\t');
        cr_assert(cps);
        cps++;
        size_t nb = strlen(hex) / 2;
        char bytes[64];
        for (size_t k = 0; k < nb; k++) {
            unsigned v;
            sscanf(hex + 2 * k, "%2x", &v);
            bytes[k] = (char)v;
        }
        cp_buf out = {0};
        tok_error err = {0};
        tok_status st = utf8_decode(bytes, nb, 0, &out, &err);
        if (off < 0) {
            if (st != TOK_OK) { bad++; cr_log_error("%s: C rejects valid UTF-8: %s", hex, err.message); }
        } else {
            char msg[64];
            snprintf(msg, sizeof msg, "invalid UTF-8 at byte %ld", off);
            if (st != TOK_ERR_UTF8 || strcmp(err.message, msg) != 0) {
                bad++;
                cr_log_error("%s: expected '%s', got status %d '%s'", hex, msg, st, err.message);
            }
        }
        cp_buf_free(&out);
        cr_assert_eq(utf8_decode(bytes, nb, 1, &out, NULL), TOK_OK);
        int32_t exp[64];
        int ne;
        seq_of(cps, exp, &ne);
        int same = (int)out.n == ne;
        for (int k = 0; same && k < ne; k++) same = out.cp[k] == exp[k];
        if (!same) { bad++; cr_log_error("%s: lenient decoding differs from Python's errors=\"replace\"", hex); }
        cp_buf_free(&out);
    }
    cr_expect_eq(bad, 0);
    free(lines);
    free(text);
}
