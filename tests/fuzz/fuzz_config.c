/*
 * fuzz_config.c - libFuzzer target: config.json and vocabulary parsing on
 * arbitrary bytes. The same input goes to model_config_parse and to
 * vocab_parse; on success the results' invariants are checked, the
 * combinations of format version 2 (model-format.md section 9) included.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "tokenizer.h"

/* Section 9 on a parsed config: version 1 carries no version-2 feature;
 * version 2 only the combinations the format allows. */
static int version2_ok(const model_config *c)
{
    if (c->format_version != 1 && c->format_version != 2) return 0;
    if (c->format_version == 1)
        return !c->coverage && !c->window && c->local == LOCAL_NONE && !c->predictor_size && !c->heads &&
               !c->copy && c->attention != ATTN_MULTIHEAD;
    if (c->window < 0 || c->window > 1024 || (c->window == 0) != (c->local == LOCAL_NONE)) return 0;
    if ((c->local == LOCAL_PREDICTIVE) != (c->predictor_size > 0)) return 0;
    if (c->coverage && (c->attention != ATTN_BAHDANAU || c->window)) return 0;
    if (c->window && c->attention == ATTN_MULTIHEAD) return 0;
    if ((c->attention == ATTN_MULTIHEAD) != (c->heads > 0)) return 0;
    if (c->heads && c->dec.hidden % c->heads) return 0;
    if (c->copy && !c->unk) return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    model_config cfg;
    s2s_error err;
    if (model_config_parse(text, size, "config.json", &cfg, &err) == S2S_OK) {
        if (!cfg.sos || !cfg.eos || !cfg.weights || !cfg.source_vocab || !cfg.target_vocab)
            abort();
        if (cfg.enc.layers < 1 || cfg.enc.layers > S2S_MAX_LAYERS || cfg.dec.layers < 1 ||
            cfg.dec.layers > S2S_MAX_LAYERS || cfg.enc.hidden < 1 || cfg.dec.hidden < 1 ||
            cfg.enc.emb < 1 || cfg.dec.emb < 1 || cfg.dec.bidirectional)
            abort();
        if (cfg.bridge == BRIDGE_FINAL &&
            cfg.dec.hidden != cfg.enc.hidden * (cfg.enc.bidirectional ? 2 : 1))
            abort();
        if ((cfg.tokenizer.level == LEVEL_BPE) != (cfg.tokenizer.merges != NULL))
            abort();
        if (!version2_ok(&cfg))
            abort();
        model_config_free(&cfg);
    } else if (err.message[0] == '\0') {
        abort();
    }
    tok_error terr;
    s2s_vocab *v = vocab_parse(text, size, "vocab.json", &terr);
    if (v) {
        int n = vocab_size(v);
        if (n < 1)
            abort();
        for (int id = 0; id < n; id++) {
            const char *tok = vocab_token(v, id);
            if (!tok || vocab_id(v, tok, strlen(tok)) != id)
                abort();
        }
        vocab_free(v);
    }
    return 0;
}
