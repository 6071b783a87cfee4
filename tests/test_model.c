/*
 * test_model.c - loading whole model directories: the valid tiny model, its
 * info, defaults, dtypes and architectures, and concurrent loads.
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

/* ---- the valid model ------------------------------------------------------ */

Test(loader, base_model_info)
{
    fixture fx;
    fx_init(&fx);
    s2s_model *m = fx_load(&fx);
    cr_assert_not_null(m, "load failed: %s", fx.err.message);
    s2s_model_info in;
    s2s_model_get_info(m, &in);
    cr_assert_str_eq(in.dir, fx.dir);
    cr_assert_str_eq(in.task, "translation");
    cr_assert_str_eq(in.source_language, "fr");
    cr_assert_str_eq(in.target_language, "en");
    cr_assert_str_eq(in.weights_file, "model.safetensors");
    cr_assert_str_eq(in.encoder.cell, "gru");
    cr_assert_eq(in.encoder.embedding_size, 4);
    cr_assert_eq(in.encoder.hidden_size, 4);
    cr_assert_eq(in.encoder.num_layers, 1);
    cr_assert_eq(in.encoder.bidirectional, 0);
    cr_assert_str_eq(in.decoder.cell, "gru");
    cr_assert_eq(in.decoder.embedding_size, 4);
    cr_assert_eq(in.decoder.hidden_size, 4);
    cr_assert_eq(in.decoder.num_layers, 1);
    cr_assert_eq(in.decoder.bidirectional, 0);
    cr_assert_eq(in.append_eos, 1);
    cr_assert_str_eq(in.bridge, "final");
    cr_assert_str_eq(in.attention, "bahdanau");
    cr_assert_str_eq(in.attention_position, "before_rnn");
    cr_assert_eq(in.attention_size, 3);
    cr_assert_eq(in.input_feeding, 0);
    cr_assert_eq(in.source_vocab_size, 5);
    cr_assert_eq(in.target_vocab_size, 6);
    cr_assert_str_eq(in.sos, "SOS");
    cr_assert_str_eq(in.eos, "EOS");
    cr_assert_str_eq(in.unk, "<unk>");
    cr_assert_null(in.pad);
    cr_assert_str_eq(in.normalizer, "tutorial");
    cr_assert_str_eq(in.level, "word");
    cr_assert_eq(in.lowercase, 0);
    cr_assert_null(in.merges_file);
    cr_assert_eq(in.max_length, 20);
    cr_assert_eq(in.max_input_tokens, S2S_DEFAULT_MAX_INPUT_TOKENS);
    cr_assert_eq(in.n_tensors, BASE_TENSORS);
    cr_assert_eq(in.n_parameters, BASE_PARAMS);

    /* internal ids */
    cr_assert_eq(m->sos_id, 0);
    cr_assert_eq(m->eos_id, 1);
    cr_assert_eq(m->src_eos_id, 0);
    cr_assert_eq(m->unk_id[S2S_SOURCE], 4);
    cr_assert_eq(m->unk_id[S2S_TARGET], 5);
    cr_assert_eq(m->enc_dirs, 1);
    cr_assert_eq(m->mem_dim, 4);
    cr_assert_eq(m->cfg.attention_size, 3);

    /* weights: tensor index in the file j, element i -> (100 j + i) / 4 */
    cr_assert_float_eq(m->w.enc_embedding.f32[0], 0.0f, 0);
    cr_assert_float_eq(m->w.enc_embedding.f32[19], 19 * 0.25f, 0);
    cr_assert_float_eq(m->w.dec_rnn[0].w_ih[95], (6 * 100 + 95) * 0.25f, 0);
    cr_assert_float_eq(m->w.out_b[5], (17 * 100 + 5) * 0.25f, 0);
    cr_assert_eq(m->w.dec_rnn[0].in, 8);
    cr_assert_eq(m->w.dec_rnn[0].hidden, 4);
    cr_assert_eq(m->w.enc_rnn[0][0].in, 4);
    cr_assert_null(m->w.bridge_w);
    cr_assert_null(m->w.attn_out_w);

    /* tensor table in name order */
    s2s_tensor_info ti;
    cr_assert_eq(s2s_model_tensor(m, 0, &ti), S2S_OK);
    cr_assert_str_eq(ti.name, "decoder.attention.Ua.bias");
    cr_assert_str_eq(ti.dtype, "F32");
    cr_assert_eq(ti.ndim, 1);
    cr_assert_eq(ti.shape[0], 3);
    for (size_t i = 1; i < in.n_tensors; i++) {
        s2s_tensor_info a, b;
        s2s_model_tensor(m, i - 1, &a);
        s2s_model_tensor(m, i, &b);
        cr_assert(strcmp(a.name, b.name) < 0);
    }
    cr_assert_eq(s2s_model_tensor(m, BASE_TENSORS - 1, &ti), S2S_OK);
    cr_assert_str_eq(ti.name, "encoder.rnn.weight_ih_l0");
    cr_assert_eq(ti.ndim, 2);
    cr_assert_eq(ti.shape[0], 12);
    cr_assert_eq(ti.shape[1], 4);
    cr_assert_eq(s2s_model_tensor(m, BASE_TENSORS, &ti), S2S_ERR_INVALID_ARG);

    /* token look-ups */
    cr_assert_str_eq(s2s_model_token(m, S2S_SOURCE, 2), "suis");
    cr_assert_str_eq(s2s_model_token(m, S2S_TARGET, 4), "happy");
    cr_assert_null(s2s_model_token(m, S2S_TARGET, 6));
    cr_assert_null(s2s_model_token(m, S2S_TARGET, -1));
    cr_assert_eq(s2s_model_token_id(m, S2S_SOURCE, "content", 7), 3);
    cr_assert_eq(s2s_model_token_id(m, S2S_TARGET, "happyXX", 5), 4);
    cr_assert_eq(s2s_model_token_id(m, S2S_TARGET, "je", 2), -1);
    cr_assert_eq(s2s_model_token_id(m, (s2s_side)7, "je", 2), -1);

    /* F32 with 8-byte-aligned offsets: views into the mapping, no copies */
    for (size_t i = 0; i < m->n_tensors; i++)
        cr_assert_null(m->tensors[i].owned, "%s was copied", m->tensors[i].name);
    s2s_model_free(m);
    fx_cleanup(&fx);
}

Test(loader, defaults_when_keys_absent)
{
    fixture fx;
    fx_init(&fx);
    cfg_set(fx.cfg, "task", NULL);
    cfg_set(fx.cfg, "source_language", NULL);
    cfg_set(fx.cfg, "target_language", NULL);
    cfg_set(fx.cfg, "special_tokens.unk", NULL);
    cfg_set(fx.cfg, "special_tokens.pad", NULL);
    cfg_set(fx.cfg, "decoder.attention", NULL);
    cfg_set(fx.cfg, "tokenizer", NULL);
    cfg_set(fx.cfg, "decoding", NULL);
    /* attention size defaults to H_d = 4 */
    tl_find(&fx.tl, "decoder.attention.Wa.weight")->shape[0] = 4;
    tl_remove(&fx.tl, "decoder.attention.Wa.bias");
    tl_remove(&fx.tl, "decoder.attention.Ua.weight");
    tl_remove(&fx.tl, "decoder.attention.Ua.bias");
    tl_remove(&fx.tl, "decoder.attention.Va.weight");
    tl_f32(&fx.tl, "decoder.attention.Wa.bias", 4, -1);
    tl_f32(&fx.tl, "decoder.attention.Ua.weight", 4, 4);
    tl_f32(&fx.tl, "decoder.attention.Ua.bias", 4, -1);
    tl_f32(&fx.tl, "decoder.attention.Va.weight", 1, 4);
    /* fix the data size of the reshaped Wa.weight: 4 x 4 floats */
    tspec *wa = tl_find(&fx.tl, "decoder.attention.Wa.weight");
    free(wa->data);
    wa->nbytes = 64;
    wa->data = calloc(64, 1);
    s2s_model *m = fx_load(&fx);
    cr_assert_not_null(m, "load failed: %s", fx.err.message);
    s2s_model_info in;
    s2s_model_get_info(m, &in);
    cr_assert_str_eq(in.task, "");
    cr_assert_str_eq(in.source_language, "");
    cr_assert_null(in.unk);
    cr_assert_eq(m->unk_id[0], -1);
    cr_assert_eq(m->unk_id[1], -1);
    cr_assert_str_eq(in.attention, "bahdanau");
    cr_assert_str_eq(in.attention_position, "before_rnn");
    cr_assert_eq(in.attention_size, 4);
    cr_assert_str_eq(in.normalizer, "none");
    cr_assert_str_eq(in.level, "word");
    cr_assert_eq(in.max_length, 0);
    cr_assert_str_eq(in.bridge, "final");
    s2s_model_free(m);
    fx_cleanup(&fx);
}

Test(loader, unused_extra_tensors_ignored)
{
    fixture fx;
    fx_init(&fx);
    tl_f32(&fx.tl, "encoder.something_else", 3, 3);
    tl_add(&fx.tl, "extra.int_table", "I32", 1, 5, -1, 4);
    tl_add(&fx.tl, "extra.empty", "U8", 1, 0, -1, 1);
    s2s_model *m = fx_load(&fx);
    cr_assert_not_null(m, "load failed: %s", fx.err.message);
    cr_assert_eq(m->n_tensors, BASE_TENSORS);
    cr_assert_eq(m->n_parameters, BASE_PARAMS);
    s2s_model_free(m);
    fx_cleanup(&fx);
}

Test(loader, misaligned_f32_is_copied)
{
    fixture fx;
    fx_init(&fx);
    fx.extra_pad = 1; /* data buffer starts at an odd offset */
    s2s_model *m = fx_load(&fx);
    cr_assert_not_null(m, "load failed: %s", fx.err.message);
    for (size_t i = 0; i < m->n_tensors; i++) {
        cr_assert_not_null(m->tensors[i].owned);
        cr_assert_eq((uintptr_t)m->tensors[i].data % 4, 0);
    }
    cr_assert_float_eq(m->w.enc_embedding.f32[19], 19 * 0.25f, 0);
    cr_assert_float_eq(m->w.out_w[23], (16 * 100 + 23) * 0.25f, 0);
    s2s_model_free(m);
    fx_cleanup(&fx);
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

Test(loader, f16_and_bf16_widened)
{
    fixture fx;
    fx_init(&fx);
    /* decoder.out.bias (6,) as F16 */
    tl_remove(&fx.tl, "decoder.out.bias");
    tspec *t = tl_add(&fx.tl, "decoder.out.bias", "F16", 1, 6, -1, 2);
    const uint16_t h[6] = {0x3C00, 0xC000, 0x0001, 0x7C00, 0x7E00, 0x3555};
    for (int i = 0; i < 6; i++)
        put16(t->data + 2 * i, h[i]);
    /* decoder.attention.Wa.bias (3,) as BF16 */
    tl_remove(&fx.tl, "decoder.attention.Wa.bias");
    t = tl_add(&fx.tl, "decoder.attention.Wa.bias", "BF16", 1, 3, -1, 2);
    const uint16_t b[3] = {0x3F80, 0xC0A0, 0xFF80};
    for (int i = 0; i < 3; i++)
        put16(t->data + 2 * i, b[i]);
    /* encoder.rnn.bias_hh_l0 (12,) as F16 with subnormals and the largest half */
    tl_remove(&fx.tl, "encoder.rnn.bias_hh_l0");
    t = tl_add(&fx.tl, "encoder.rnn.bias_hh_l0", "F16", 1, 12, -1, 2);
    const uint16_t s[4] = {0x03FF, 0x8200, 0x7BFF, 0x0400};
    for (int i = 0; i < 4; i++)
        put16(t->data + 2 * i, s[i]);
    /* the infinities and the NaN above are refused by default; widening is
     * checked with them allowed */
    s2s_model *m = fx_load(&fx);
    cr_assert_null(m, "non-finite weights loaded by default");
    cr_assert(strstr(fx.err.message, "tensor \"decoder.attention.Wa.bias\": element 2 is -inf"), "%s", fx.err.message);
    s2s_model_load_params lp = s2s_model_load_default_params();
    lp.allow_nonfinite = 1;
    m = s2s_model_load_with(fx.dir, &lp, &fx.err);
    cr_assert_not_null(m, "load failed: %s", fx.err.message);
    const float *ob = m->w.out_b;
    cr_assert_eq(ob[0], 1.0f);
    cr_assert_eq(ob[1], -2.0f);
    cr_assert_eq(ob[2], ldexpf(1.0f, -24)); /* smallest subnormal half */
    cr_assert(isinf(ob[3]) && ob[3] > 0);
    cr_assert(isnan(ob[4]));
    cr_assert_eq(ob[5], 0.25f * (1.0f + 341.0f / 1024.0f)); /* exp 13: 2^-2 x (1 + 0x155/1024) */
    const float *wb = m->w.attn_wa_b;
    cr_assert_eq(wb[0], 1.0f);
    cr_assert_eq(wb[1], -5.0f);
    cr_assert(isinf(wb[2]) && wb[2] < 0);
    const float *bh = m->w.enc_rnn[0][0].b_hh;
    cr_assert_eq(bh[0], 1023.0f * ldexpf(1.0f, -24)); /* largest subnormal */
    cr_assert_eq(bh[1], -512.0f * ldexpf(1.0f, -24));
    cr_assert_eq(bh[2], 65504.0f);
    cr_assert_eq(bh[3], ldexpf(1.0f, -14)); /* smallest normal */
    cr_assert_eq(bh[4], 0.0f);
    s2s_tensor_info ti;
    int found = 0;
    for (size_t i = 0; i < m->n_tensors; i++) {
        s2s_model_tensor(m, i, &ti);
        if (!strcmp(ti.name, "decoder.out.bias")) {
            cr_assert_str_eq(ti.dtype, "F16");
            found++;
        }
        if (!strcmp(ti.name, "decoder.attention.Wa.bias")) {
            cr_assert_str_eq(ti.dtype, "BF16");
            found++;
        }
    }
    cr_assert_eq(found, 2);
    s2s_model_free(m);
    fx_cleanup(&fx);
}

/* A bigger architecture: 2-layer bidirectional LSTM encoder, mean_tanh
 * bridge, 1-layer LSTM decoder, general attention after the RNN with input
 * feeding and an attention_out bias. E_e 3, H_e 5 (D 10), E_d 2, H_d 6. */
Test(loader, lstm_bidir_general_after_rnn)
{
    fixture fx;
    fx_init(&fx);
    tl_free(&fx.tl);
    tlist *l = &fx.tl;
    tl_f32(l, "encoder.embedding.weight", 5, 3);
    const char *sfx[2] = {"", "_reverse"};
    char name[96];
    for (int k = 0; k < 2; k++)
        for (int d = 0; d < 2; d++) {
            snprintf(name, sizeof name, "encoder.rnn.weight_ih_l%d%s", k, sfx[d]);
            tl_f32(l, name, 20, k == 0 ? 3 : 10);
            snprintf(name, sizeof name, "encoder.rnn.weight_hh_l%d%s", k, sfx[d]);
            tl_f32(l, name, 20, 5);
            snprintf(name, sizeof name, "encoder.rnn.bias_ih_l%d%s", k, sfx[d]);
            tl_f32(l, name, 20, -1);
            snprintf(name, sizeof name, "encoder.rnn.bias_hh_l%d%s", k, sfx[d]);
            tl_f32(l, name, 20, -1);
        }
    tl_f32(l, "bridge.weight", 6, 10);
    tl_f32(l, "bridge.bias", 6, -1);
    tl_f32(l, "decoder.embedding.weight", 6, 2);
    tl_f32(l, "decoder.rnn.weight_ih_l0", 24, 8); /* emb 2 + htilde 6 */
    tl_f32(l, "decoder.rnn.weight_hh_l0", 24, 6);
    tl_f32(l, "decoder.rnn.bias_ih_l0", 24, -1);
    tl_f32(l, "decoder.rnn.bias_hh_l0", 24, -1);
    tl_f32(l, "decoder.attention.Wa.weight", 6, 10);
    tl_f32(l, "decoder.attention_out.weight", 6, 16);
    tl_f32(l, "decoder.attention_out.bias", 6, -1);
    tl_f32(l, "decoder.out.weight", 6, 6);
    tl_f32(l, "decoder.out.bias", 6, -1);
    cJSON_Delete(fx.cfg);
    fx.cfg = cJSON_Parse(
        "{\"format\": \"s2s-rnn\", \"format_version\": 1,"
        " \"special_tokens\": {\"sos\": \"SOS\", \"eos\": \"EOS\"},"
        " \"encoder\": {\"cell\": \"lstm\", \"embedding_size\": 3, \"hidden_size\": 5,"
        "   \"num_layers\": 2, \"bidirectional\": true},"
        " \"bridge\": \"mean_tanh\","
        " \"decoder\": {\"cell\": \"lstm\", \"embedding_size\": 2, \"hidden_size\": 6,"
        "   \"attention\": {\"type\": \"general\", \"position\": \"after_rnn\"},"
        "   \"input_feeding\": true}}");
    s2s_model *m = fx_load(&fx);
    cr_assert_not_null(m, "load failed: %s", fx.err.message);
    cr_assert_eq(m->enc_dirs, 2);
    cr_assert_eq(m->mem_dim, 10);
    cr_assert_eq(m->cfg.has_attn_out_bias, 1);
    cr_assert_not_null(m->w.attn_out_b);
    cr_assert_not_null(m->w.bridge_w);
    cr_assert_not_null(m->w.enc_rnn[1][1].w_ih);
    cr_assert_eq(m->w.enc_rnn[1][1].in, 10);
    cr_assert_eq(m->w.enc_rnn[0][1].in, 3);
    cr_assert_eq(m->w.dec_rnn[0].in, 8);
    cr_assert_null(m->w.attn_ua_w);
    s2s_model_info in;
    s2s_model_get_info(m, &in);
    cr_assert_eq(in.attention_size, 0);
    cr_assert_str_eq(in.attention, "general");
    cr_assert_str_eq(in.attention_position, "after_rnn");
    cr_assert_str_eq(in.bridge, "mean_tanh");
    cr_assert_str_eq(in.encoder.cell, "lstm");
    cr_assert_eq(in.encoder.bidirectional, 1);
    cr_assert_eq(in.input_feeding, 1);
    /* per tensor: emb 15; l0 dirs: 2 x (20*3 + 20*5 + 20 + 20) = 2 x 200 = 400;
     * l1 dirs: 2 x (20*10 + 100 + 40) = 680; bridge 60 + 6; dec emb 12; dec rnn
     * 24*8 + 24*6 + 48 = 384; Wa 60; attention_out 96 + 6; out 36 + 6. */
    cr_assert_eq(in.n_parameters, 15 + 400 + 680 + 66 + 12 + 384 + 60 + 102 + 42);
    cr_assert_eq(in.n_tensors, 1 + 16 + 2 + 1 + 4 + 1 + 2 + 2);
    s2s_model_free(m);
    fx_cleanup(&fx);
}

Test(loader, eos_absent_from_source_without_append_eos)
{
    fixture fx;
    fx_init(&fx);
    fx.src_vocab = "{\"<unk>\": 0, \"je\": 1, \"suis\": 2, \"content\": 3, \"moi\": 4}";
    cfg_set(fx.cfg, "encoder.append_eos", cJSON_CreateFalse());
    s2s_model *m = fx_load(&fx);
    cr_assert_not_null(m, "load failed: %s", fx.err.message);
    cr_assert_eq(m->src_eos_id, -1);
    cr_assert_eq(m->unk_id[S2S_SOURCE], 0);
    s2s_model_free(m);
    fx_cleanup(&fx);
}

Test(loader, strerror_every_status)
{
    for (int s = 0; s < S2S_STATUS_COUNT; s++) {
        const char *m = s2s_strerror((s2s_status)s);
        cr_assert(m && m[0]);
        cr_assert_str_neq(m, "unknown status");
        for (int t = 0; t < s; t++)
            cr_assert_str_neq(m, s2s_strerror((s2s_status)t));
    }
    cr_assert_str_eq(s2s_strerror(S2S_STATUS_COUNT), "unknown status");
    cr_assert_str_eq(s2s_strerror((s2s_status)-1), "unknown status");
}

Test(loader, null_and_missing_dir)
{
    s2s_error err = {0};
    cr_assert_null(s2s_model_load(NULL, &err));
    cr_assert_eq(err.status, S2S_ERR_INVALID_ARG);
    cr_assert_null(s2s_model_load("/nonexistent/s2s/model", &err));
    cr_assert_eq(err.status, S2S_ERR_IO);
    cr_assert(strstr(err.message, "/nonexistent/s2s/model: cannot open model directory"), "%s",
              err.message);
    cr_assert_null(s2s_model_load("/nonexistent/s2s/model", NULL)); /* err may be NULL */
    s2s_model_free(NULL);
}

#include <pthread.h>

typedef struct load_job {
    const char *dir;
    int expect_ok;
    int ok; /* 1 when the outcome was the expected one every time */
} load_job;

static void *load_many(void *arg)
{
    load_job *j = arg;
    j->ok = 1;
    for (int i = 0; i < 20; i++) {
        s2s_error err = {0};
        s2s_model *m = s2s_model_load(j->dir, &err);
        if ((m != NULL) != j->expect_ok)
            j->ok = 0;
        if (!j->expect_ok && !strstr(err.message, "unknown value \"luong\""))
            j->ok = 0;
        if (m && s2s_model_token_id(m, S2S_TARGET, "happy", 5) != 4)
            j->ok = 0;
        s2s_model_free(m);
    }
    return NULL;
}

/* Loads run concurrently in several threads, good and bad models mixed: no
 * shared state between loads. */
Test(loader, concurrent_loads)
{
    fixture good, bad;
    fx_init(&good);
    fx_init(&bad);
    fx_write(&good);
    cfg_set(bad.cfg, "decoder.attention.type", cJSON_CreateString("luong"));
    fx_write(&bad);
    pthread_t th[4];
    load_job jobs[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (load_job){i % 2 ? bad.dir : good.dir, !(i % 2), 0};
        cr_assert_eq(pthread_create(&th[i], NULL, load_many, &jobs[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        cr_assert(jobs[i].ok, "thread %d saw an unexpected outcome", i);
    }
    fx_cleanup(&good);
    fx_cleanup(&bad);
}
