/*
 * test_vocab.c - vocabularies: ids exactly 0..V-1, tokens, escapes, a large
 * vocabulary, and the special tokens looked up in them.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "model.h"
#include "s2s.h"
#include "safetensors.h"
#include "tokenizer.h"
#include "support/model_dir.h"

/* ---- vocabularies --------------------------------------------------------- */

enum which_vocab { SRC, TGT };

/* The base model with the source or target vocabulary file replaced by
 * `json`: loading fails with `status` and `needle` in the message. */
static void expect_vocab_fail(enum which_vocab which, const char *json, s2s_status status,
                              const char *needle)
{
    fixture fx;
    fx_init(&fx);
    if (which == SRC)
        fx.src_vocab = json;
    else
        fx.tgt_vocab = json;
    expect_fail(&fx, status, needle);
}

Test(vocab, hole)
{
    expect_vocab_fail(SRC, "{\"EOS\": 0, \"je\": 1, \"suis\": 3, \"content\": 4, \"<unk>\": 5}",
                      S2S_ERR_VOCAB,
                      "ids must be exactly 0..4: id 2 is missing");
}

Test(vocab, repeated_id)
{
    expect_vocab_fail(TGT, "{\"SOS\": 0, \"EOS\": 1, \"i\": 2, \"am\": 1, \"happy\": 4, \"<unk>\": 5}",
                      S2S_ERR_VOCAB,
                      "id 1 is used twice (tokens \"EOS\" and \"am\")");
}

Test(vocab, non_integer_id)
{
    expect_vocab_fail(SRC, "{\"EOS\": 0, \"je\": 1.5, \"suis\": 2, \"content\": 3, \"<unk>\": 4}",
                      S2S_ERR_VOCAB,
                      "token \"je\": id is not an integer");
}

Test(vocab, string_id)
{
    expect_vocab_fail(SRC, "{\"EOS\": 0, \"je\": \"1\", \"suis\": 2, \"content\": 3, \"<unk>\": 4}",
                      S2S_ERR_VOCAB,
                      "token \"je\": id is not an integer");
}

Test(vocab, negative_id)
{
    expect_vocab_fail(SRC, "{\"EOS\": 0, \"je\": -1, \"suis\": 2, \"content\": 3, \"<unk>\": 4}",
                      S2S_ERR_VOCAB,
                      "token \"je\": negative id -1");
}

Test(vocab, duplicate_token)
{
    expect_vocab_fail(SRC, "{\"EOS\": 0, \"je\": 1, \"suis\": 2, \"je\": 3, \"<unk>\": 4}",
                      S2S_ERR_VOCAB,
                      "token \"je\" appears twice");
}

Test(vocab, bad_utf8)
{
    /* byte 12 is the lone continuation byte */
    expect_vocab_fail(SRC, "{\"EOS\": 0, \"\x80\": 1, \"suis\": 2, \"content\": 3, \"<unk>\": 4}",
                      S2S_ERR_VOCAB,
                      "source.vocab.json: invalid UTF-8 at byte offset 12");
}

Test(vocab, not_an_object)
{
    expect_vocab_fail(TGT, "[\"SOS\", \"EOS\"]",
                      S2S_ERR_VOCAB,
                      "target.vocab.json: expected a JSON object");
}

Test(vocab, unicode_tokens_and_escapes)
{
    const char *j = "{\"\\u00e9t\\u00e9\": 0, \"日本\": 1, \" \": 2, \"a\\\"b\": 3, \"\": 4}";
    tok_error err = {0};
    s2s_vocab *v = vocab_parse(j, strlen(j), "v.json", &err);
    cr_assert_not_null(v, "%s", err.message);
    cr_assert_eq(vocab_size(v), 5);
    cr_assert_eq(vocab_id(v, "\xc3\xa9t\xc3\xa9", 5), 0);
    cr_assert_eq(vocab_id(v, "\xe6\x97\xa5\xe6\x9c\xac", 6), 1);
    cr_assert_eq(vocab_id(v, " ", 1), 2);
    cr_assert_eq(vocab_id(v, "a\"b", 3), 3);
    cr_assert_eq(vocab_id(v, "", 0), 4);
    cr_assert_eq(vocab_id(v, "a\"", 2), -1);
    cr_assert_str_eq(vocab_token(v, 1), "\xe6\x97\xa5\xe6\x9c\xac");
    cr_assert_null(vocab_token(v, 5));
    vocab_free(v);
    /* a NUL escape inside a token is refused */
    j = "{\"a\\u0000b\": 0}";
    cr_assert_null(vocab_parse(j, strlen(j), "v.json", &err));
    cr_assert(strstr(err.message, "\\u0000"), "%s", err.message);
    j = "{}";
    cr_assert_null(vocab_parse(j, strlen(j), "v.json", &err));
    cr_assert(strstr(err.message, "empty"), "%s", err.message);
}

Test(vocab, many_tokens_hash)
{
    /* 5000 tokens: every id round-trips through the hash table */
    size_t cap = 200000, used = 0;
    char *j = malloc(cap);
    used += (size_t)snprintf(j, cap, "{");
    for (int i = 0; i < 5000; i++)
        used += (size_t)snprintf(j + used, cap - used, "%s\"t%d\": %d", i ? ", " : "",
                                 (i * 7919) % 5000, i);
    used += (size_t)snprintf(j + used, cap - used, "}");
    tok_error err = {0};
    s2s_vocab *v = vocab_parse(j, used, "big.json", &err);
    cr_assert_not_null(v, "%s", err.message);
    char tok[32];
    for (int i = 0; i < 5000; i++) {
        int n = snprintf(tok, sizeof tok, "t%d", (i * 7919) % 5000);
        cr_assert_eq(vocab_id(v, tok, (size_t)n), i);
    }
    vocab_free(v);
    free(j);
}

Test(vocab, eos_missing_from_target)
{
    expect_vocab_fail(TGT, "{\"SOS\": 0, \"</s>\": 1, \"i\": 2, \"am\": 3, \"happy\": 4, \"<unk>\": 5}",
                      S2S_ERR_VOCAB,
                      "target.vocab.json: special token eos \"EOS\" is not in the target vocabulary");
}

Test(vocab, sos_missing_from_target)
{
    expect_config_fail(S2S_ERR_VOCAB,
                       "special token sos \"<s>\" is not in the target vocabulary",
                       "special_tokens.sos", cJSON_CreateString("<s>"),
                       NULL);
}

Test(vocab, eos_missing_from_source_with_append_eos)
{
    expect_vocab_fail(SRC, "{\"<unk>\": 0, \"je\": 1, \"suis\": 2, \"content\": 3, \"moi\": 4}",
                      S2S_ERR_VOCAB,
                      "not in the source vocabulary (needed because encoder.append_eos is true)");
}

Test(vocab, unk_in_neither)
{
    expect_config_fail(S2S_ERR_VOCAB,
                       "special token unk \"UNK\" is in neither vocabulary",
                       "special_tokens.unk", cJSON_CreateString("UNK"),
                       NULL);
}
