/*
 * test_config.c - config.json: types, values, ranges, combinations, paths
 * inside the model directory, and the parser's defaults.
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

/* ---- config.json ---------------------------------------------------------- */

Test(config, unknown_value)
{
    expect_config_fail(S2S_ERR_CONFIG,
                       "config.json: key \"decoder.attention.type\": unknown value \"luong\" (expected bahdanau, dot, scaled_dot, general)",
                       "decoder.attention.type", cJSON_CreateString("luong"),
                       NULL);
}

Test(config, unknown_cell)
{
    expect_config_fail(S2S_ERR_CONFIG,
                       "key \"encoder.cell\": unknown value \"rnn\" (expected gru, lstm)",
                       "encoder.cell", cJSON_CreateString("rnn"),
                       NULL);
}

Test(config, unknown_tokenizer_level)
{
    expect_config_fail(S2S_ERR_CONFIG,
                       "config.json: key \"tokenizer.level\": unknown value \"sentencepiece\"",
                       "tokenizer.level", cJSON_CreateString("sentencepiece"),
                       NULL);
}

Test(config, wrong_type)
{
    expect_config_fail(S2S_ERR_CONFIG,
                       "key \"encoder.hidden_size\": expected a positive integer, got a string",
                       "encoder.hidden_size", cJSON_CreateString("4"),
                       NULL);
}

Test(config, wrong_type_bool)
{
    expect_config_fail(S2S_ERR_CONFIG,
                       "key \"encoder.bidirectional\": expected true or false",
                       "encoder.bidirectional", cJSON_CreateNumber(1),
                       NULL);
}

Test(config, missing_required_key)
{
    expect_config_fail(S2S_ERR_CONFIG,
                       "config.json: missing required key \"special_tokens.sos\"",
                       "special_tokens.sos", NULL,
                       NULL);
}

Test(config, missing_decoder_hidden)
{
    expect_config_fail(S2S_ERR_CONFIG,
                       "missing required key \"decoder.hidden_size\"",
                       "decoder.hidden_size", NULL,
                       NULL);
}

Test(config, format_version_3)
{
    fixture fx;
    fx_init(&fx);
    cfg_set(fx.cfg, "format_version", cJSON_CreateNumber(3));
    cfg_set(fx.cfg, "encoder.cell", cJSON_CreateString("transformer")); /* v3 may differ */
    expect_fail(&fx, S2S_ERR_VERSION, "format_version 3 is newer than this engine reads (2)");
}

Test(config, other_format)
{
    expect_config_fail(S2S_ERR_VERSION,
                       "key \"format\": \"onnx\" is not a format this engine reads",
                       "format", cJSON_CreateString("onnx"),
                       NULL);
}

/* Loads the directory as it is on disk (not rewritten from the fixture) and
 * expects failure with `status` and `needle` in the message; cleans up. */
static void expect_dir_fail(fixture *fx, s2s_status status, const char *needle)
{
    s2s_model *m = s2s_model_load(fx->dir, &fx->err);
    cr_assert_null(m);
    cr_assert_eq(fx->err.status, status);
    cr_assert(strstr(fx->err.message, needle), "%s", fx->err.message);
    fx_cleanup(fx);
}

Test(config, not_json)
{
    fixture fx;
    fx_init(&fx);
    fx_write(&fx);
    write_file(fx.dir, "config.json", "{\"format\": ", 11);
    expect_dir_fail(&fx, S2S_ERR_CONFIG, "config.json: invalid JSON");
}

Test(config, missing_config)
{
    fixture fx;
    fx_init(&fx);
    fx_write(&fx);
    char p[128];
    snprintf(p, sizeof p, "%s/config.json", fx.dir);
    unlink(p);
    expect_dir_fail(&fx, S2S_ERR_IO, "config.json: cannot open");
}

Test(config, num_layers_out_of_range)
{
    expect_config_fail(S2S_ERR_CONFIG,
                       "key \"encoder.num_layers\": 17 is out of range (1..16)",
                       "encoder.num_layers", cJSON_CreateNumber(17),
                       NULL);
}

Test(config, zero_size)
{
    expect_config_fail(S2S_ERR_CONFIG,
                       "key \"decoder.embedding_size\": 0 is out of range",
                       "decoder.embedding_size", cJSON_CreateNumber(0),
                       NULL);
}

Test(config, bridge_final_layer_mismatch)
{
    expect_config_fail(S2S_ERR_CONFIG,
                       "\"final\" needs equal layer counts (encoder.num_layers 1, decoder.num_layers 2)",
                       "decoder.num_layers", cJSON_CreateNumber(2),
                       NULL);
}

Test(config, bridge_final_cell_mismatch)
{
    expect_config_fail(S2S_ERR_CONFIG,
                       "\"final\" needs equal cells",
                       "decoder.cell", cJSON_CreateString("lstm"),
                       NULL);
}

Test(config, bridge_final_hidden_mismatch)
{
    expect_config_fail(S2S_ERR_CONFIG,
                       "needs decoder.hidden_size (4) == encoder output size D (8)",
                       "encoder.bidirectional", cJSON_CreateTrue(),
                       NULL);
}

Test(config, dot_needs_equal_sizes)
{
    expect_config_fail(S2S_ERR_CONFIG,
                       "key \"decoder.attention.type\": \"scaled_dot\" needs decoder.hidden_size (4) == encoder output size D (5)",
                       "bridge", cJSON_CreateString("zeros"),
                       "encoder.hidden_size", cJSON_CreateNumber(5),
                       "decoder.attention.type", cJSON_CreateString("scaled_dot"),
                       NULL);
}

Test(config, input_feeding_needs_after_rnn)
{
    expect_config_fail(S2S_ERR_CONFIG,
                       "key \"decoder.input_feeding\": true needs",
                       "decoder.input_feeding", cJSON_CreateTrue(),
                       NULL);
}

Test(config, bidirectional_decoder)
{
    expect_config_fail(S2S_ERR_CONFIG,
                       "the decoder cannot be bidirectional",
                       "decoder.bidirectional", cJSON_CreateTrue(),
                       NULL);
}

Test(config, max_length_not_positive)
{
    expect_config_fail(S2S_ERR_CONFIG,
                       "key \"decoding.max_length\": -3 is out of range",
                       "decoding.max_length", cJSON_CreateNumber(-3),
                       NULL);
}

Test(config, decoding_defaults_checked)
{
    expect_config_fail(S2S_ERR_CONFIG, "key \"decoding.no_repeat_ngram\": -1 is out of range",
                       "decoding.no_repeat_ngram", cJSON_CreateNumber(-1), NULL);
    expect_config_fail(S2S_ERR_CONFIG, "key \"decoding.coverage_penalty\"",
                       "decoding.coverage_penalty", cJSON_CreateNumber(-0.5), NULL);
    expect_config_fail(S2S_ERR_CONFIG, "key \"decoding.coverage_penalty\"",
                       "decoding.coverage_penalty", cJSON_CreateString("high"), NULL);
    expect_config_fail(S2S_ERR_CONFIG,
                       "key \"decoding.coverage_penalty\": a coverage penalty does not apply to local attention",
                       CFG_V2, "decoder.attention.window", cJSON_CreateNumber(2),
                       "decoder.attention.local", cJSON_CreateString("monotonic"),
                       "decoding.coverage_penalty", cJSON_CreateNumber(0.2), NULL);
}

Test(config, bpe_needs_merges)
{
    expect_config_fail(S2S_ERR_CONFIG,
                       "missing required key \"tokenizer.merges\"",
                       "tokenizer.level", cJSON_CreateString("bpe"),
                       NULL);
}

Test(config, path_with_dotdot)
{
    expect_config_fail(S2S_ERR_CONFIG,
                       "key \"source_vocab\": path \"sub/../../etc/passwd\" has a \"..\" component",
                       "source_vocab", cJSON_CreateString("sub/../../etc/passwd"),
                       NULL);
}

Test(config, absolute_path)
{
    expect_config_fail(S2S_ERR_CONFIG,
                       "key \"weights\": absolute path \"/etc/passwd\"",
                       "weights", cJSON_CreateString("/etc/passwd"),
                       NULL);
}

Test(config, symlink_escape)
{
    fixture fx;
    fx_init(&fx);
    char outside[64] = "/tmp/s2s-outside-XXXXXX";
    cr_assert(mkdtemp(outside));
    write_file(outside, "v.json", SRC_VOCAB, strlen(SRC_VOCAB));
    fx.src_vocab = NULL; /* not written: the symlink takes its place */
    char target[128], link[128];
    snprintf(target, sizeof target, "%s/v.json", outside);
    snprintf(link, sizeof link, "%s/source.vocab.json", fx.dir);
    cr_assert_eq(symlink(target, link), 0);
    s2s_model *m = fx_load(&fx);
    cr_assert_null(m);
    cr_assert_eq(fx.err.status, S2S_ERR_CONFIG);
    cr_assert(strstr(fx.err.message, "key \"source_vocab\": \"source.vocab.json\" resolves outside "
                                     "the model directory"),
              "%s", fx.err.message);
    unlink(target);
    rmdir(outside);
    fx_cleanup(&fx);
}

Test(config, symlink_inside_is_fine)
{
    fixture fx;
    fx_init(&fx);
    char sub[128], link[128];
    snprintf(sub, sizeof sub, "%s/vocabs", fx.dir);
    cr_assert_eq(mkdir(sub, 0700), 0);
    write_file(sub, "src.json", SRC_VOCAB, strlen(SRC_VOCAB));
    fx.src_vocab = NULL;
    snprintf(link, sizeof link, "%s/source.vocab.json", fx.dir);
    cr_assert_eq(symlink("vocabs/src.json", link), 0);
    s2s_model *m = fx_load(&fx);
    cr_assert_not_null(m, "%s", fx.err.message);
    s2s_model_free(m);
    fx_cleanup(&fx);
}

/* tokenizer_config_parse of the JSON text `json` fails with S2S_ERR_CONFIG
 * and a message holding `want`. */
static void expect_tokenizer_error(const char *json, const char *want)
{
    cJSON *t = cJSON_Parse(json);
    cr_assert_not_null(t, "%s", json);
    tokenizer_config tc;
    s2s_error err;
    cr_assert_eq(tokenizer_config_parse(t, &tc, &err), S2S_ERR_CONFIG, "%s", json);
    cr_assert(strstr(err.message, want), "%s: %s", json, err.message);
    cJSON_Delete(t);
}

Test(config, direct_parse_defaults_and_messages)
{
    const char *j = "{\"format\":\"s2s-rnn\",\"format_version\":1,"
                    "\"special_tokens\":{\"sos\":\"S\",\"eos\":\"E\"},"
                    "\"encoder\":{\"cell\":\"lstm\",\"embedding_size\":2,\"hidden_size\":3},"
                    "\"decoder\":{\"cell\":\"lstm\",\"embedding_size\":2,\"hidden_size\":3},"
                    "\"unknown_key\":[1,2,{}]}";
    model_config c;
    s2s_error err = {0};
    cr_assert_eq(model_config_parse(j, strlen(j), "cfg.json", &c, &err), S2S_OK, "%s",
                 err.message);
    cr_assert_str_eq(c.weights, "model.safetensors");
    cr_assert_str_eq(c.source_vocab, "source.vocab.json");
    cr_assert_str_eq(c.target_vocab, "target.vocab.json");
    cr_assert_null(c.unk);
    cr_assert_null(c.pad);
    cr_assert_eq(c.enc.layers, 1);
    cr_assert_eq(c.dec.layers, 1);
    cr_assert_eq(c.append_eos, 1);
    cr_assert_eq(c.bridge, BRIDGE_FINAL);
    cr_assert_eq(c.attention, ATTN_BAHDANAU);
    cr_assert_eq(c.position, POS_BEFORE_RNN);
    cr_assert_eq(c.attention_size, 3);
    cr_assert_eq(c.input_feeding, 0);
    cr_assert_eq(c.tokenizer.normalizer, NORM_NONE);
    cr_assert_eq(c.tokenizer.level, LEVEL_WORD);
    cr_assert_eq(c.tokenizer.max_input_tokens, S2S_DEFAULT_MAX_INPUT_TOKENS);
    cr_assert_null(c.tokenizer.merges);
    cr_assert_eq(c.max_length, 0);
    model_config_free(&c);

    /* tokenizer_config_parse on its own: key names without a file prefix */
    cJSON *t = cJSON_Parse("{\"level\": \"bpe\", \"merges\": \"m.txt\", \"lowercase\": true,"
                           " \"max_input_tokens\": 99, \"normalizer\": \"text\"}");
    tokenizer_config tc;
    cr_assert_eq(tokenizer_config_parse(t, &tc, &err), S2S_OK, "%s", err.message);
    cr_assert_eq(tc.level, LEVEL_BPE);
    cr_assert_str_eq(tc.merges, "m.txt");
    cr_assert_eq(tc.lowercase, 1);
    cr_assert_eq(tc.max_input_tokens, 99);
    cr_assert_eq(tc.normalizer, NORM_TEXT);
    cr_assert_str_eq(normalizer_name(tc.normalizer), "text");
    cr_assert_str_eq(level_name(tc.level), "bpe");
    cr_assert_eq(tc.whole_numbers, 0);
    cr_assert_eq(tc.whole_names, 0);
    tokenizer_config_free(&tc);
    cJSON_Delete(t);
    t = cJSON_Parse("{\"level\": \"bpe\", \"merges\": \"m.txt\", \"whole_numbers\": true}");
    cr_assert_eq(tokenizer_config_parse(t, &tc, &err), S2S_OK, "%s", err.message);
    cr_assert_eq(tc.whole_numbers, 1);
    tokenizer_config_free(&tc);
    cJSON_Delete(t);
    expect_tokenizer_error("{\"level\": \"word\", \"whole_numbers\": true}",
                           "key \"tokenizer.whole_numbers\": only for level \"bpe\" (it is \"word\")");
    expect_tokenizer_error("{\"level\": \"bpe\", \"merges\": \"m.txt\", \"whole_numbers\": 1}",
                           "key \"tokenizer.whole_numbers\": expected true or false, got");
    t = cJSON_Parse("{\"level\": \"bpe\", \"merges\": \"m.txt\", \"whole_names\": true}");
    cr_assert_eq(tokenizer_config_parse(t, &tc, &err), S2S_OK, "%s", err.message);
    cr_assert_eq(tc.whole_names, 1);
    cr_assert_eq(tc.whole_numbers, 0);
    tokenizer_config_free(&tc);
    cJSON_Delete(t);
    expect_tokenizer_error("{\"level\": \"char\", \"whole_names\": true}",
                           "key \"tokenizer.whole_names\": only for level \"bpe\" (it is \"char\")");
    expect_tokenizer_error("{\"level\": \"bpe\", \"merges\": \"m.txt\", \"whole_names\": \"yes\"}",
                           "key \"tokenizer.whole_names\": expected true or false, got");
    expect_tokenizer_error("{\"max_input_tokens\": 0}", "key \"tokenizer.max_input_tokens\": 0 is out of range");
    cr_assert_eq(tokenizer_config_parse(NULL, &tc, &err), S2S_OK);
    cr_assert_eq(tc.level, LEVEL_WORD);
    tokenizer_config_free(&tc);

    /* invalid UTF-8 and trailing garbage */
    const char *bad = "{\"format\":\"s2s-rnn\xc3\"}";
    cr_assert_eq(model_config_parse(bad, strlen(bad), "cfg.json", &c, &err), S2S_ERR_CONFIG);
    cr_assert(strstr(err.message, "cfg.json: invalid UTF-8 at byte offset 18"), "%s",
              err.message);
    bad = "{} {}";
    cr_assert_eq(model_config_parse(bad, strlen(bad), "cfg.json", &c, &err), S2S_ERR_CONFIG);
    cr_assert(strstr(err.message, "trailing data"), "%s", err.message);
}

/* Loads the fixture, asserting success, and fills `in`; the caller frees the model. */
static s2s_model *load_info(fixture *fx, s2s_model_info *in)
{
    s2s_model *m = fx_load(fx);
    cr_assert_not_null(m, "load failed: %s", fx->err.message);
    s2s_model_get_info(m, in);
    return m;
}

Test(config, bpe_merges_resolved_in_dir)
{
    fixture fx;
    fx_init(&fx);
    cfg_set(fx.cfg, "tokenizer.level", cJSON_CreateString("bpe"));
    cfg_set(fx.cfg, "tokenizer.merges", cJSON_CreateString("bpe/merges.txt"));
    char sub[128];
    snprintf(sub, sizeof sub, "%s/bpe", fx.dir);
    cr_assert_eq(mkdir(sub, 0700), 0);
    write_file(sub, "merges.txt", "#version: 0.2\nj e\n", 18);
    s2s_model_info in;
    s2s_model *m = load_info(&fx, &in);
    cr_assert_str_eq(in.level, "bpe");
    cr_assert_str_eq(in.merges_file, "bpe/merges.txt");
    cr_assert_eq(in.whole_numbers, 0);
    cr_assert_eq(in.whole_names, 0);
    s2s_model_free(m);
    fx_cleanup(&fx);
}

Test(config, bpe_whole_numbers_in_info)
{
    fixture fx;
    fx_init(&fx);
    cfg_set(fx.cfg, "tokenizer.level", cJSON_CreateString("bpe"));
    cfg_set(fx.cfg, "tokenizer.merges", cJSON_CreateString("merges.txt"));
    cfg_set(fx.cfg, "tokenizer.whole_numbers", cJSON_CreateBool(1));
    write_file(fx.dir, "merges.txt", "#version: 0.2\n1 2\n", 18);
    s2s_model_info in;
    s2s_model *m = load_info(&fx, &in);
    cr_assert_eq(in.whole_numbers, 1);
    cr_assert_eq(in.whole_names, 0);
    s2s_model_free(m);
    fx_cleanup(&fx);
}

Test(config, bpe_merges_missing)
{
    expect_config_fail(S2S_ERR_IO,
                       "merges.txt: cannot open (config key \"tokenizer.merges\")",
                       "tokenizer.level", cJSON_CreateString("bpe"),
                       "tokenizer.merges", cJSON_CreateString("merges.txt"),
                       NULL);
}

Test(config, bpe_merges_escaping)
{
    expect_config_fail(S2S_ERR_CONFIG,
                       "config.json: key \"tokenizer.merges\": path \"../merges.txt\" has a \"..\" component",
                       "tokenizer.level", cJSON_CreateString("bpe"),
                       "tokenizer.merges", cJSON_CreateString("../merges.txt"),
                       NULL);
}

/* Direct parser checks of the remaining header rules. */

/* ---- descriptive keys: license, attribution, scores ----------------------- */

Test(config, license_attribution_scores_in_info)
{
    fixture fx;
    fx_init(&fx);
    cfg_set(fx.cfg, "license", cJSON_CreateString("CC-BY 4.0"));
    cfg_set(fx.cfg, "attribution", cJSON_CreateString("Some data, somewhere"));
    cJSON *scores = cJSON_CreateObject();
    cJSON_AddNumberToObject(scores, "test_bleu", 21.5);
    cJSON_AddStringToObject(scores, "test_data", "a \"quoted\" set");
    cfg_set(fx.cfg, "scores", scores);
    s2s_model_info in;
    s2s_model *m = load_info(&fx, &in);
    cr_expect_str_eq(in.license, "CC-BY 4.0");
    cr_expect_str_eq(in.attribution, "Some data, somewhere");
    cr_assert_not_null(in.scores_json);
    cr_expect_str_eq(in.scores_json, "{\"test_bleu\":21.5,\"test_data\":\"a \\\"quoted\\\" set\"}");
    s2s_model_free(m);
    fx_cleanup(&fx);
}

Test(config, descriptive_keys_absent_or_of_another_type)
{
    fixture fx;
    fx_init(&fx);
    cfg_set(fx.cfg, "license", cJSON_CreateNumber(3)); /* ignored like an unknown key */
    s2s_model_info in;
    s2s_model *m = load_info(&fx, &in);
    cr_expect_null(in.license);
    cr_expect_null(in.attribution);
    cr_expect_null(in.scores_json);
    s2s_model_free(m);
    fx_cleanup(&fx);
}

/* ---- format version 2 (model-format.md section 9) -------------------------- */

/* The base model as a version-2 config. */
static void v2(fixture *fx)
{
    cfg_set(fx->cfg, "format_version", cJSON_CreateNumber(2));
}

Test(config_v2, window_zero)
{
    expect_config_fail(S2S_ERR_CONFIG,
                       "key \"decoder.attention.window\": 0 is out of range (1..1024)",
                       CFG_V2,
                       "decoder.attention.window", cJSON_CreateNumber(0),
                       NULL);
}

Test(config_v2, window_1025)
{
    expect_config_fail(S2S_ERR_CONFIG,
                       "key \"decoder.attention.window\": 1025 is out of range (1..1024)",
                       CFG_V2,
                       "decoder.attention.window", cJSON_CreateNumber(1025),
                       NULL);
}

Test(config_v2, window_not_an_integer)
{
    expect_config_fail(S2S_ERR_CONFIG,
                       "key \"decoder.attention.window\": 2.5 is not an integer",
                       CFG_V2,
                       "decoder.attention.window", cJSON_CreateNumber(2.5),
                       NULL);
}

Test(config_v2, local_without_window)
{
    expect_config_fail(S2S_ERR_CONFIG,
                       "key \"decoder.attention.local\" needs \"decoder.attention.window\"",
                       CFG_V2,
                       "decoder.attention.local", cJSON_CreateString("monotonic"),
                       NULL);
}

Test(config_v2, local_unknown_value)
{
    expect_config_fail(S2S_ERR_CONFIG,
                       "key \"decoder.attention.local\": unknown value \"none\" (expected monotonic, predictive)",
                       CFG_V2,
                       "decoder.attention.window", cJSON_CreateNumber(2),
                       "decoder.attention.local", cJSON_CreateString("none"),
                       NULL);
}

Test(config_v2, heads_not_dividing_hidden_size)
{
    expect_config_fail(S2S_ERR_CONFIG,
                       "key \"decoder.attention.heads\": 3 heads do not divide decoder.hidden_size 4",
                       CFG_V2,
                       "decoder.attention.type", cJSON_CreateString("multihead"),
                       "decoder.attention.heads", cJSON_CreateNumber(3),
                       NULL);
}

Test(config_v2, heads_zero)
{
    expect_config_fail(S2S_ERR_CONFIG,
                       "key \"decoder.attention.heads\": 0 is out of range",
                       CFG_V2,
                       "decoder.attention.type", cJSON_CreateString("multihead"),
                       "decoder.attention.heads", cJSON_CreateNumber(0),
                       NULL);
}

Test(config_v2, heads_without_multihead)
{
    expect_config_fail(S2S_ERR_CONFIG,
                       "key \"decoder.attention.heads\" needs type \"multihead\" (it is \"bahdanau\")",
                       CFG_V2,
                       "decoder.attention.heads", cJSON_CreateNumber(2),
                       NULL);
}

Test(config_v2, multihead_without_heads)
{
    expect_config_fail(S2S_ERR_CONFIG,
                       "key \"decoder.attention.type\": \"multihead\" needs \"decoder.attention.heads\"",
                       CFG_V2,
                       "decoder.attention.type", cJSON_CreateString("multihead"),
                       NULL);
}

/* Coverage is for "bahdanau" only: each other type is refused by name. */
Test(config_v2, coverage_with_a_non_bahdanau_type)
{
    const char *types[] = {"dot", "scaled_dot", "general", "multihead"};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        fixture fx;
        fx_init(&fx);
        v2(&fx);
        cfg_set(fx.cfg, "decoder.attention.type", cJSON_CreateString(types[i]));
        cfg_set(fx.cfg, "decoder.attention.heads", strcmp(types[i], "multihead") ? NULL : cJSON_CreateNumber(2));
        cfg_set(fx.cfg, "decoder.attention.coverage", cJSON_CreateTrue());
        char needle[160];
        snprintf(needle, sizeof needle,
                 "key \"decoder.attention.coverage\": coverage needs type \"bahdanau\" (it is \"%s\")", types[i]);
        expect_fail(&fx, S2S_ERR_CONFIG, needle); /* also cleans up */
    }
}

Test(config_v2, coverage_with_local)
{
    expect_config_fail(S2S_ERR_CONFIG,
                       "key \"decoder.attention.window\": local attention does not combine with coverage",
                       CFG_V2,
                       "decoder.attention.coverage", cJSON_CreateTrue(),
                       "decoder.attention.window", cJSON_CreateNumber(2),
                       NULL);
}

Test(config_v2, local_with_multihead)
{
    expect_config_fail(S2S_ERR_CONFIG,
                       "local attention does not combine with type \"multihead\"",
                       CFG_V2,
                       "decoder.attention.type", cJSON_CreateString("multihead"),
                       "decoder.attention.heads", cJSON_CreateNumber(2),
                       "decoder.attention.window", cJSON_CreateNumber(2),
                       NULL);
}

Test(config_v2, coverage_not_a_boolean)
{
    expect_config_fail(S2S_ERR_CONFIG,
                       "key \"decoder.attention.coverage\": expected true or false",
                       CFG_V2,
                       "decoder.attention.coverage", cJSON_CreateString("yes"),
                       NULL);
}

Test(config_v2, copy_not_a_boolean)
{
    expect_config_fail(S2S_ERR_CONFIG,
                       "key \"decoder.copy\": expected true or false",
                       CFG_V2,
                       "decoder.copy", cJSON_CreateNumber(1),
                       NULL);
}

Test(config_v2, copy_without_unk)
{
    expect_config_fail(S2S_ERR_CONFIG,
                       "key \"decoder.copy\": copy needs a non-null special_tokens.unk",
                       CFG_V2,
                       "special_tokens.unk", cJSON_CreateNull(),
                       "decoder.copy", cJSON_CreateTrue(),
                       NULL);
}

/* unk is in the source vocabulary only: enough for version 1, not for copy. */
Test(config_v2, copy_with_unk_missing_from_the_target_vocabulary)
{
    fixture fx;
    fx_init(&fx);
    v2(&fx);
    fx.tgt_vocab = "{\"SOS\": 0, \"EOS\": 1, \"i\": 2, \"am\": 3, \"happy\": 4, \"sad\": 5}";
    cfg_set(fx.cfg, "decoder.copy", cJSON_CreateTrue());
    tl_f32(&fx.tl, "decoder.copy_gate.weight", 1, 12); /* C 4 + H 4 + emb 4 */
    tl_f32(&fx.tl, "decoder.copy_gate.bias", 1, -1);
    expect_fail(&fx, S2S_ERR_VOCAB,
                "target.vocab.json: special token unk \"<unk>\" is not in the target vocabulary (needed because "
                "decoder.copy is true)");
}

/* Section 9: a version-1 config that carries the version-2 keys ignores
 * them, even with values version 2 would refuse. */
Test(config_v2, version1_ignores_the_version2_keys)
{
    fixture fx;
    fx_init(&fx);
    cfg_set(fx.cfg, "decoder.attention.coverage", cJSON_CreateTrue());
    cfg_set(fx.cfg, "decoder.attention.window", cJSON_CreateNumber(0));
    cfg_set(fx.cfg, "decoder.attention.local", cJSON_CreateString("sideways"));
    cfg_set(fx.cfg, "decoder.attention.predictor_size", cJSON_CreateNumber(-1));
    cfg_set(fx.cfg, "decoder.attention.heads", cJSON_CreateNumber(3));
    cfg_set(fx.cfg, "decoder.copy", cJSON_CreateString("yes"));
    s2s_model *m = fx_load(&fx);
    cr_assert_not_null(m, "a version-1 model with version-2 keys does not load: %s", fx.err.message);
    s2s_model_info info;
    s2s_model_get_info(m, &info);
    cr_expect_eq(info.format_version, 1);
    cr_expect(!info.coverage && !info.window && !info.local && !info.heads && !info.copy && !info.predictor_size,
              "a version-1 model took version-2 keys: coverage %d window %d heads %d copy %d", info.coverage,
              info.window, info.heads, info.copy);
    s2s_model_free(m);
    fx_cleanup(&fx);
}

Test(config_v2, version1_refuses_multihead)
{
    expect_config_fail(S2S_ERR_CONFIG,
                       "key \"decoder.attention.type\": unknown value \"multihead\" (expected bahdanau, dot, scaled_dot, general)",
                       "decoder.attention.type", cJSON_CreateString("multihead"),
                       "decoder.attention.heads", cJSON_CreateNumber(2),
                       NULL);
}

/* The positive control of the tests above: each feature, with its tensors,
 * loads and is reported. */
Test(config_v2, each_feature_loads)
{
    for (int k = 0; k < 5; k++) {
        fixture fx;
        fx_init(&fx);
        v2(&fx);
        switch (k) {
        case 0: /* coverage */
            cfg_set(fx.cfg, "decoder.attention.coverage", cJSON_CreateTrue());
            tl_f32(&fx.tl, "decoder.attention.Wc.weight", 3, 1);
            break;
        case 1: /* local-m */
            cfg_set(fx.cfg, "decoder.attention.window", cJSON_CreateNumber(1024));
            cfg_set(fx.cfg, "decoder.attention.local", cJSON_CreateString("monotonic"));
            break;
        case 2: /* local-p (the default kind), P = 2 */
            cfg_set(fx.cfg, "decoder.attention.window", cJSON_CreateNumber(1));
            cfg_set(fx.cfg, "decoder.attention.predictor_size", cJSON_CreateNumber(2));
            tl_f32(&fx.tl, "decoder.attention.Wp.weight", 2, 4);
            tl_f32(&fx.tl, "decoder.attention.vp.weight", 1, 2);
            break;
        case 3: /* multihead, D == H_d: packed projections */
            cfg_set(fx.cfg, "decoder.attention.type", cJSON_CreateString("multihead"));
            cfg_set(fx.cfg, "decoder.attention.heads", cJSON_CreateNumber(4));
            tl_f32(&fx.tl, "decoder.attention.mha.in_proj_weight", 12, 4);
            tl_f32(&fx.tl, "decoder.attention.mha.in_proj_bias", 12, -1);
            tl_f32(&fx.tl, "decoder.attention.mha.out_proj.weight", 4, 4);
            tl_f32(&fx.tl, "decoder.attention.mha.out_proj.bias", 4, -1);
            break;
        case 4: /* copy */
            cfg_set(fx.cfg, "decoder.copy", cJSON_CreateTrue());
            tl_f32(&fx.tl, "decoder.copy_gate.weight", 1, 12);
            tl_f32(&fx.tl, "decoder.copy_gate.bias", 1, -1);
            break;
        }
        s2s_model *m = fx_load(&fx);
        cr_assert_not_null(m, "feature %d does not load: %s", k, fx.err.message);
        s2s_model_info info;
        s2s_model_get_info(m, &info);
        cr_expect_eq(info.format_version, 2);
        cr_expect_eq(info.coverage, k == 0);
        cr_expect_eq(info.window, k == 1 ? 1024 : k == 2 ? 1 : 0);
        cr_expect(k == 1 ? info.local && !strcmp(info.local, "monotonic")
                         : k == 2 ? info.local && !strcmp(info.local, "predictive") : info.local == NULL,
                  "feature %d: local %s", k, info.local ? info.local : "(null)");
        cr_expect_eq(info.predictor_size, k == 2 ? 2 : 0);
        cr_expect_eq(info.heads, k == 3 ? 4 : 0);
        cr_expect_eq(info.copy, k == 4);
        s2s_model_free(m);
        fx_cleanup(&fx);
    }
}
