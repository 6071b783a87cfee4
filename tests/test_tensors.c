/*
 * test_tensors.c - tensors against the config: missing, mis-shaped or
 * mistyped tensors, and vocabulary sizes against the embeddings.
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

/* ---- tensors against the config ----------------------------------------- */

/* Replaces tensor `name` by an F32 tensor of shape (d0, d1) (d1 < 0: 1-D). */
static void reshape(fixture *fx, const char *name, int64_t d0, int64_t d1)
{
    tl_remove(&fx->tl, name);
    tl_f32(&fx->tl, name, d0, d1);
}

/* The base model prepared by `setup` (NULL: left as is), then tensor `name`
 * reshaped to (d0, d1) (d1 < 0: 1-D), or removed when d0 is 0: loading fails
 * with S2S_ERR_TENSOR and `needle` in the message. */
static void expect_edited_fail(void (*setup)(fixture *), const char *name, int64_t d0, int64_t d1,
                               const char *needle)
{
    fixture fx;
    fx_init(&fx);
    if (setup)
        setup(&fx);
    if (d0)
        reshape(&fx, name, d0, d1);
    else
        tl_remove(&fx.tl, name);
    expect_fail(&fx, S2S_ERR_TENSOR, needle);
}

Test(tensors, missing_tensor)
{
    fixture fx;
    fx_init(&fx);
    tl_remove(&fx.tl, "decoder.out.bias");
    expect_fail(&fx, S2S_ERR_TENSOR, "model.safetensors: missing tensor \"decoder.out.bias\"");
}

Test(tensors, wrong_shape)
{
    expect_edited_fail(NULL, "decoder.out.weight", 6, 5,
                        "tensor \"decoder.out.weight\": shape (6, 5) but the config implies (6, 4)");
}

Test(tensors, wrong_rank)
{
    expect_edited_fail(NULL, "decoder.rnn.bias_ih_l0", 12, 1,
                        "\"decoder.rnn.bias_ih_l0\": shape (12, 1) but the config implies (12,)");
}

Test(tensors, i32_where_f32_needed)
{
    fixture fx;
    fx_init(&fx);
    tl_remove(&fx.tl, "encoder.rnn.bias_ih_l0");
    tl_add(&fx.tl, "encoder.rnn.bias_ih_l0", "I32", 1, 12, -1, 4);
    expect_fail(&fx, S2S_ERR_TENSOR, "tensor \"encoder.rnn.bias_ih_l0\": dtype I32");
}

Test(tensors, vocab_size_not_matching_embedding)
{
    fixture fx;
    fx_init(&fx);
    fx.src_vocab = "{\"EOS\": 0, \"je\": 1, \"suis\": 2, \"content\": 3, \"<unk>\": 4, \"tu\": 5,"
                   " \"es\": 6}";
    expect_fail(&fx, S2S_ERR_TENSOR,
                "\"encoder.embedding.weight\": shape (5, 4) but the config implies (7, 4) (7 = "
                "tokens in source.vocab.json)");
}

Test(tensors, target_vocab_not_matching_out)
{
    fixture fx;
    fx_init(&fx);
    reshape(&fx, "decoder.embedding.weight", 7, 4);
    fx.tgt_vocab = "{\"SOS\": 0, \"EOS\": 1, \"i\": 2, \"am\": 3, \"happy\": 4, \"<unk>\": 5,"
                   " \"sad\": 6}";
    expect_fail(&fx, S2S_ERR_TENSOR,
                "\"decoder.out.weight\": shape (6, 4) but the config implies (7, 4)");
}

Test(tensors, missing_weights_file)
{
    expect_config_fail(S2S_ERR_IO,
                       "other.safetensors: cannot open",
                       "weights", cJSON_CreateString("other.safetensors"),
                       NULL);
}

/* ---- version-2 tensors (model-format.md section 9) ------------------------ */

/* The base model (GRU 4/4, bahdanau A=3 before the RNN, emb 4) as version 2
 * with `key` = `value` under decoder.attention (or decoder for "copy"). */
static void v2_with(fixture *fx, const char *key, cJSON *value)
{
    cfg_set(fx->cfg, "format_version", cJSON_CreateNumber(2));
    cfg_set(fx->cfg, key, value);
}

Test(tensors_v2, coverage_tensor_missing)
{
    fixture fx;
    fx_init(&fx);
    v2_with(&fx, "decoder.attention.coverage", cJSON_CreateTrue());
    expect_fail(&fx, S2S_ERR_TENSOR, "model.safetensors: missing tensor \"decoder.attention.Wc.weight\"");
}

Test(tensors_v2, coverage_tensor_wrong_shape)
{
    fixture fx;
    fx_init(&fx);
    v2_with(&fx, "decoder.attention.coverage", cJSON_CreateTrue());
    tl_f32(&fx.tl, "decoder.attention.Wc.weight", 1, 3); /* transposed: (1, A) instead of (A, 1) */
    expect_fail(&fx, S2S_ERR_TENSOR, "tensor \"decoder.attention.Wc.weight\": shape (1, 3) but the config implies (3, 1)");
}

Test(tensors_v2, local_p_predictor_wrong_shapes)
{
    /* P defaults to H_d = 4: Wp (4, 4), vp (1, 4) */
    fixture fx;
    fx_init(&fx);
    v2_with(&fx, "decoder.attention.window", cJSON_CreateNumber(2));
    tl_f32(&fx.tl, "decoder.attention.Wp.weight", 5, 4);
    tl_f32(&fx.tl, "decoder.attention.vp.weight", 1, 4);
    expect_fail(&fx, S2S_ERR_TENSOR, "tensor \"decoder.attention.Wp.weight\": shape (5, 4) but the config implies (4, 4)");

    fx_init(&fx);
    v2_with(&fx, "decoder.attention.window", cJSON_CreateNumber(2));
    cfg_set(fx.cfg, "decoder.attention.predictor_size", cJSON_CreateNumber(2));
    tl_f32(&fx.tl, "decoder.attention.Wp.weight", 2, 4);
    tl_f32(&fx.tl, "decoder.attention.vp.weight", 1, 4);
    expect_fail(&fx, S2S_ERR_TENSOR, "tensor \"decoder.attention.vp.weight\": shape (1, 4) but the config implies (1, 2)");

    fx_init(&fx);
    v2_with(&fx, "decoder.attention.window", cJSON_CreateNumber(2));
    tl_f32(&fx.tl, "decoder.attention.Wp.weight", 4, 4);
    expect_fail(&fx, S2S_ERR_TENSOR, "missing tensor \"decoder.attention.vp.weight\"");
}

/* local-m has no tensors of its own: stray Wp/vp are ignored (section 2). */
Test(tensors_v2, local_m_needs_no_predictor)
{
    fixture fx;
    fx_init(&fx);
    v2_with(&fx, "decoder.attention.window", cJSON_CreateNumber(2));
    cfg_set(fx.cfg, "decoder.attention.local", cJSON_CreateString("monotonic"));
    tl_f32(&fx.tl, "decoder.attention.Wp.weight", 7, 7);
    s2s_model *m = fx_load(&fx);
    cr_assert_not_null(m, "%s", fx.err.message);
    s2s_model_free(m);
    fx_cleanup(&fx);
}

/* An F32 tensor to add: name and shape (d1 < 0: 1-D). */
typedef struct f32_shape {
    const char *name;
    int64_t d0, d1;
} f32_shape;

/* Adds the `n` F32 tensors of `shapes` to the fixture, in order. */
static void add_f32(fixture *fx, const f32_shape *shapes, size_t n)
{
    for (size_t i = 0; i < n; i++)
        tl_f32(&fx->tl, shapes[i].name, shapes[i].d0, shapes[i].d1);
}

/* The packed multihead tensors for D == H_d = 4. */
static const f32_shape packed_mha[] = {
    {"decoder.attention.mha.in_proj_weight", 12, 4},
    {"decoder.attention.mha.in_proj_bias", 12, -1},
    {"decoder.attention.mha.out_proj.weight", 4, 4},
    {"decoder.attention.mha.out_proj.bias", 4, -1},
};

/* The decoder tensors of the separate-projection multihead model below. */
static const f32_shape separate_shapes[] = {
    {"decoder.rnn.weight_ih_l0", 18, 10},
    {"decoder.rnn.weight_hh_l0", 18, 6},
    {"decoder.rnn.bias_ih_l0", 18, -1},
    {"decoder.rnn.bias_hh_l0", 18, -1},
    {"decoder.out.weight", 6, 6},
    {"decoder.attention.mha.q_proj_weight", 6, 6},
    {"decoder.attention.mha.k_proj_weight", 6, 4},
    {"decoder.attention.mha.v_proj_weight", 6, 4},
    {"decoder.attention.mha.in_proj_bias", 18, -1},
    {"decoder.attention.mha.out_proj.weight", 6, 6},
    {"decoder.attention.mha.out_proj.bias", 6, -1},
};

/* Multihead with 2 heads and D == H_d = 4: torch's packed in_proj_weight (12, 4). */
static void multihead_packed(fixture *fx)
{
    v2_with(fx, "decoder.attention.type", cJSON_CreateString("multihead"));
    cfg_set(fx->cfg, "decoder.attention.heads", cJSON_CreateNumber(2));
    add_f32(fx, packed_mha, sizeof packed_mha / sizeof packed_mha[0]);
}

Test(tensors_v2, multihead_packed_wrong_shapes)
{
    expect_edited_fail(multihead_packed, "decoder.attention.mha.in_proj_weight", 12, 3,
                       "tensor \"decoder.attention.mha.in_proj_weight\": shape (12, 3) but the config implies (12, 4)");

    expect_edited_fail(multihead_packed, "decoder.attention.mha.in_proj_bias", 4, -1,
                       "tensor \"decoder.attention.mha.in_proj_bias\": shape (4,) but the config implies (12,)");

    expect_edited_fail(multihead_packed, "decoder.attention.mha.out_proj.weight", 4, 12,
                       "tensor \"decoder.attention.mha.out_proj.weight\": shape (4, 12) but the config implies (4, 4)");

    expect_edited_fail(multihead_packed, "decoder.attention.mha.out_proj.bias", 0, 0,
                       "missing tensor \"decoder.attention.mha.out_proj.bias\"");
}

/* Multihead with D = 4 != H_d = 6 (zeros bridge): q/k/v_proj_weight; the
 * context is H_d wide, so the RNN input is emb 4 + 6. */
static void multihead_separate(fixture *fx)
{
    v2_with(fx, "decoder.attention.type", cJSON_CreateString("multihead"));
    cfg_set(fx->cfg, "decoder.attention.heads", cJSON_CreateNumber(3));
    cfg_set(fx->cfg, "decoder.hidden_size", cJSON_CreateNumber(6));
    cfg_set(fx->cfg, "bridge", cJSON_CreateString("zeros"));
    const char *drop[] = {"decoder.rnn.weight_ih_l0", "decoder.rnn.weight_hh_l0", "decoder.rnn.bias_ih_l0",
                          "decoder.rnn.bias_hh_l0", "decoder.out.weight"};
    for (size_t i = 0; i < sizeof drop / sizeof drop[0]; i++) tl_remove(&fx->tl, drop[i]);
    add_f32(fx, separate_shapes, sizeof separate_shapes / sizeof separate_shapes[0]);
}

Test(tensors_v2, multihead_separate_projections)
{
    fixture fx;
    fx_init(&fx);
    multihead_separate(&fx);
    s2s_model *m = fx_load(&fx);
    cr_assert_not_null(m, "the separate-projection multihead model does not load: %s", fx.err.message);
    s2s_model_free(m);
    fx_cleanup(&fx);

    expect_edited_fail(multihead_separate, "decoder.attention.mha.k_proj_weight", 6, 6,
                       "tensor \"decoder.attention.mha.k_proj_weight\": shape (6, 6) but the config implies (6, 4)");

    expect_edited_fail(multihead_separate, "decoder.attention.mha.q_proj_weight", 6, 4,
                       "tensor \"decoder.attention.mha.q_proj_weight\": shape (6, 4) but the config implies (6, 6)");

    /* a packed in_proj_weight does not stand for the separate ones when D != H_d */
    fx_init(&fx);
    multihead_separate(&fx);
    tl_remove(&fx.tl, "decoder.attention.mha.q_proj_weight");
    tl_f32(&fx.tl, "decoder.attention.mha.in_proj_weight", 18, 6);
    expect_fail(&fx, S2S_ERR_TENSOR, "missing tensor \"decoder.attention.mha.q_proj_weight\"");

    /* the RNN input is emb + H_d (the module's output), not emb + D */
    expect_edited_fail(multihead_separate, "decoder.rnn.weight_ih_l0", 18, 8,
                       "tensor \"decoder.rnn.weight_ih_l0\": shape (18, 8) but the config implies (18, 10)");
}

Test(tensors_v2, copy_gate_wrong_shapes)
{
    fixture fx;
    fx_init(&fx);
    v2_with(&fx, "decoder.copy", cJSON_CreateTrue());
    tl_f32(&fx.tl, "decoder.copy_gate.weight", 1, 8); /* C 4 + size(o) 4, emb forgotten */
    tl_f32(&fx.tl, "decoder.copy_gate.bias", 1, -1);
    expect_fail(&fx, S2S_ERR_TENSOR, "tensor \"decoder.copy_gate.weight\": shape (1, 8) but the config implies (1, 12)");

    fx_init(&fx);
    v2_with(&fx, "decoder.copy", cJSON_CreateTrue());
    tl_f32(&fx.tl, "decoder.copy_gate.weight", 1, 12);
    tl_f32(&fx.tl, "decoder.copy_gate.bias", 2, -1);
    expect_fail(&fx, S2S_ERR_TENSOR, "tensor \"decoder.copy_gate.bias\": shape (2,) but the config implies (1,)");

    fx_init(&fx);
    v2_with(&fx, "decoder.copy", cJSON_CreateTrue());
    tl_f32(&fx.tl, "decoder.copy_gate.weight", 1, 12);
    expect_fail(&fx, S2S_ERR_TENSOR, "missing tensor \"decoder.copy_gate.bias\"");

    /* with multihead (D 4 != H_d 6) the gate reads C = H_d 6 + o 6 + emb 4 */
    fx_init(&fx);
    multihead_separate(&fx);
    cfg_set(fx.cfg, "decoder.copy", cJSON_CreateTrue());
    tl_f32(&fx.tl, "decoder.copy_gate.weight", 1, 14);
    tl_f32(&fx.tl, "decoder.copy_gate.bias", 1, -1);
    expect_fail(&fx, S2S_ERR_TENSOR, "tensor \"decoder.copy_gate.weight\": shape (1, 14) but the config implies (1, 16)");
}

/* ---- non-finite weights -------------------------------------------------- */

/* Writes the little-endian bits `v` (2 or 4 bytes) as element `i` of `t`. */
static void put_bits(tspec *t, size_t i, uint32_t v, int bytes)
{
    for (int k = 0; k < bytes; k++) t->data[(size_t)bytes * i + k] = (uint8_t)(v >> (8 * k));
}

/* Loads the fixture with allow_nonfinite and expects success. */
static void expect_loads_when_allowed(fixture *fx)
{
    s2s_model_load_params p = s2s_model_load_default_params();
    cr_assert_eq(p.allow_nonfinite, 0, "non-finite weights must be refused by default");
    p.allow_nonfinite = 1;
    fx_write(fx);
    s2s_error err = {0};
    s2s_model *m = s2s_model_load_with(fx->dir, &p, &err);
    cr_assert_not_null(m, "allow_nonfinite: %s", err.message);
    s2s_model_free(m);
}

Test(tensors, nan_in_f32_output_projection_is_refused_naming_the_element)
{
    fixture fx;
    fx_init(&fx);
    /* decoder.out.weight is (6, 4): element 13 is row 3, column 1 */
    put_bits(tl_find(&fx.tl, "decoder.out.weight"), 13, 0x7fc00000u, 4);
    expect_loads_when_allowed(&fx);
    expect_fail(&fx, S2S_ERR_TENSOR, "tensor \"decoder.out.weight\": element 13 (row 3, column 1) is NaN");
}

Test(tensors, infinity_in_f32_bias_is_refused)
{
    fixture fx;
    fx_init(&fx);
    put_bits(tl_find(&fx.tl, "decoder.out.bias"), 5, 0xff800000u, 4); /* -inf, last element */
    expect_fail(&fx, S2S_ERR_TENSOR, "tensor \"decoder.out.bias\": element 5 is -inf");
}

Test(tensors, infinity_in_f16_embedding_is_refused)
{
    fixture fx;
    fx_init(&fx);
    /* the embeddings stay half precision in memory: checked on the half bits */
    tl_remove(&fx.tl, "encoder.embedding.weight");
    tspec *t = tl_add(&fx.tl, "encoder.embedding.weight", "F16", 2, 5, 4, 2);
    memset(t->data, 0, t->nbytes);
    put_bits(t, 7, 0x7c00u, 2); /* +inf at row 1, column 3 */
    put_bits(t, 9, 0x7bffu, 2); /* 65504, the largest finite half: fine */
    expect_loads_when_allowed(&fx);
    expect_fail(&fx, S2S_ERR_TENSOR, "tensor \"encoder.embedding.weight\": element 7 (row 1, column 3) is +inf");
}

Test(tensors, nan_in_bf16_weight_is_refused)
{
    fixture fx;
    fx_init(&fx);
    tl_remove(&fx.tl, "decoder.rnn.weight_hh_l0");
    tspec *t = tl_add(&fx.tl, "decoder.rnn.weight_hh_l0", "BF16", 2, 12, 4, 2);
    memset(t->data, 0, t->nbytes);
    put_bits(t, 47, 0xffc1u, 2); /* a negative NaN, the last element */
    put_bits(t, 3, 0x7f7fu, 2);  /* the largest finite bfloat16: fine */
    expect_fail(&fx, S2S_ERR_TENSOR, "tensor \"decoder.rnn.weight_hh_l0\": element 47 (row 11, column 3) is NaN");
}
