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

Test(tensors, missing_tensor)
{
    fixture fx;
    fx_init(&fx);
    tl_remove(&fx.tl, "decoder.out.bias");
    expect_fail(&fx, S2S_ERR_TENSOR, "model.safetensors: missing tensor \"decoder.out.bias\"");
}

Test(tensors, wrong_shape)
{
    fixture fx;
    fx_init(&fx);
    tl_remove(&fx.tl, "decoder.out.weight");
    tl_f32(&fx.tl, "decoder.out.weight", 6, 5);
    expect_fail(&fx, S2S_ERR_TENSOR,
                "tensor \"decoder.out.weight\": shape (6, 5) but the config implies (6, 4)");
}

Test(tensors, wrong_rank)
{
    fixture fx;
    fx_init(&fx);
    tl_remove(&fx.tl, "decoder.rnn.bias_ih_l0");
    tl_f32(&fx.tl, "decoder.rnn.bias_ih_l0", 12, 1);
    expect_fail(&fx, S2S_ERR_TENSOR,
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
    tl_remove(&fx.tl, "decoder.embedding.weight");
    tl_f32(&fx.tl, "decoder.embedding.weight", 7, 4);
    fx.tgt_vocab = "{\"SOS\": 0, \"EOS\": 1, \"i\": 2, \"am\": 3, \"happy\": 4, \"<unk>\": 5,"
                   " \"sad\": 6}";
    expect_fail(&fx, S2S_ERR_TENSOR,
                "\"decoder.out.weight\": shape (6, 4) but the config implies (7, 4)");
}

Test(tensors, missing_weights_file)
{
    fixture fx;
    fx_init(&fx);
    cfg_set(fx.cfg, "weights", cJSON_CreateString("other.safetensors"));
    expect_fail(&fx, S2S_ERR_IO, "other.safetensors: cannot open");
}
