/*
 * model.h - internal layout of a loaded model: config, weights (views into
 * one mmap, or owned widened copies), vocabularies and tokenizer.
 * Filled by the loader (engine/model.c), read-only afterwards.
 */
#ifndef S2S_MODEL_H
#define S2S_MODEL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "s2s.h"
#include "kernels.h"
#include "tokenizer.h"

typedef enum { CELL_GRU = 0, CELL_LSTM } cell_kind;
typedef enum { BRIDGE_FINAL = 0, BRIDGE_ZEROS, BRIDGE_MEAN_TANH } bridge_kind;
typedef enum { ATTN_BAHDANAU = 0, ATTN_DOT, ATTN_SCALED_DOT, ATTN_GENERAL, ATTN_MULTIHEAD } attn_kind;
typedef enum { LOCAL_NONE = 0, LOCAL_MONOTONIC, LOCAL_PREDICTIVE } local_kind;
typedef enum { POS_BEFORE_RNN = 0, POS_AFTER_RNN } attn_position;

/* Gates per cell: GRU r,z,n = 3; LSTM i,f,g,o = 4 (PyTorch order). */
static inline int cell_gates(cell_kind c) { return c == CELL_GRU ? 3 : 4; }

typedef struct rnn_config {
    cell_kind cell;
    int emb;            /* embedding_size */
    int hidden;         /* hidden_size */
    int layers;         /* num_layers, 1..S2S_MAX_LAYERS */
    int bidirectional;  /* always 0 for the decoder */
} rnn_config;

typedef struct model_config {
    /* all strings owned, NUL-terminated; optional ones are "" when absent */
    char *task, *source_language, *target_language;
    char *weights, *source_vocab, *target_vocab; /* relative to the model dir */
    char *sos, *eos;                             /* required */
    char *unk, *pad;                             /* NULL when null/absent */
    rnn_config enc;
    int append_eos;
    bridge_kind bridge;
    rnn_config dec;
    attn_kind attention;
    attn_position position;
    int attention_size;   /* A (bahdanau only) */
    int input_feeding;    /* after_rnn only */
    int has_attn_out_bias;/* after_rnn: decoder.attention_out.bias present */
    /* format version 2 (model-format.md section 9); all 0 for version 1 */
    int format_version;   /* 1 or 2 */
    int coverage;         /* decoder.attention.coverage (bahdanau only) */
    local_kind local;     /* decoder.attention.local; LOCAL_NONE without a window */
    int window;           /* decoder.attention.window W, 0 = global attention */
    int predictor_size;   /* decoder.attention.predictor_size P (predictive) */
    int heads;            /* decoder.attention.heads (multihead) */
    int copy;             /* decoder.copy: pointer-generator */
    tokenizer_config tokenizer;
    int max_length;       /* decoding.max_length, 0 when absent */
    int beam_size;        /* decoding.beam_size, 0 when absent */
    int min_length;       /* decoding.min_length, 0 when absent */
    float length_penalty; /* decoding.length_penalty, -1 when absent */
    int no_repeat_ngram;  /* decoding.no_repeat_ngram, 0 when absent */
    float coverage_penalty; /* decoding.coverage_penalty, -1 when absent */
    int keep_numbers;     /* decoding.keep_numbers, 0 when absent */
    char *license, *attribution; /* NULL when absent or not strings */
    char *scores_json;    /* "scores" as compact JSON (cJSON_free), NULL when absent */
} model_config;

/* One direction of one RNN layer, PyTorch layout:
 * w_ih (G*H, in), w_hh (G*H, H), b_ih (G*H,), b_hh (G*H,). */
typedef struct rnn_layer {
    const float *w_ih, *w_hh, *b_ih, *b_hh;
    wpack p_ih, p_hh;  /* w_ih, w_hh packed for matmul_wp */
    int in;      /* input size of this layer */
    int hidden;  /* H */
} rnn_layer;

typedef struct model_weights {
    /* The embeddings stay half/bfloat16 when stored so (see kernels.h
     * "weights"): only the rows in use are widened, so loading skips most of
     * the copy. The other tensors are float32 views (widened copies for
     * F16/BF16 files); the matrices of the products are also packed (the
     * wpack fields below). */
    weights enc_embedding;                      /* (V_src, enc.emb) */
    rnn_layer enc_rnn[S2S_MAX_LAYERS][2];       /* [layer][direction] */
    const float *bridge_w, *bridge_b;           /* mean_tanh: (H_d, D), (H_d,) */
    weights dec_embedding;                      /* (V_tgt, dec.emb) */
    rnn_layer dec_rnn[S2S_MAX_LAYERS];
    /* bahdanau: Wa (A,H_d)+(A,), Ua (A,D)+(A,), Va (1,A)+(1,)
     * general:  Wa (H_d, D), no bias */
    const float *attn_wa_w, *attn_wa_b, *attn_ua_w, *attn_ua_b, *attn_va_w, *attn_va_b;
    const float *attn_wc_w;                     /* coverage: Wc (A, 1) */
    const float *attn_wp_w, *attn_vp_w;         /* local-p: Wp (P, H_d), vp (1, P) */
    /* multihead (H = H_d): query (H, H_d), key and value (H, D) projections
     * (views into in_proj_weight when D == H_d), in_proj_bias (3H,),
     * out_proj (H, H) + (H,) */
    const float *mha_q_w, *mha_k_w, *mha_v_w, *mha_in_b, *mha_out_w, *mha_out_b;
    const float *attn_out_w, *attn_out_b;       /* after_rnn: (H_d, C+H_d), bias or NULL */
    const float *copy_w, *copy_b;               /* copy gate: (1, C+H_d+emb_d), (1,) */
    const float *out_w, *out_b;                 /* (V_tgt, O), (V_tgt,) */
    /* The matrices above packed for matmul_wp (the float32 views stay for
     * the int8 copies and `s2s info`); empty when the model has none.
     * decoder.out.weight stays half when the file has it as F16 and the CPU
     * widens halves in vectors: the output projection, read whole at every
     * step, then reads half the bytes for the same results. */
    wpack bridge, attn_wa, attn_ua, attn_wp, mha_q, mha_k, mha_v, mha_out, attn_out, out;
} model_weights;

/* A tensor the model uses, for `s2s info`. */
typedef struct model_tensor {
    char *name;          /* owned */
    const char *dtype;   /* static string "F32", "F16", "BF16" */
    int ndim;
    int64_t shape[4];
    const float *data;   /* float32 view (mmap) or owned widened copy; NULL when
                            kept as half/bfloat16 (a weights view) */
    float *owned;        /* non-NULL when widened: freed with the model */
} model_tensor;

struct s2s_model {
    char *dir;                    /* owned copy of the directory path */
    model_config cfg;
    model_weights w;
    void *map;                    /* mmap of the weights file */
    size_t map_size;
    model_tensor *tensors;        /* used tensors, sorted by name */
    size_t n_tensors;
    size_t n_parameters;
    s2s_vocab *vocab[2];          /* [S2S_SOURCE], [S2S_TARGET] */
    unsigned char *target_glue;   /* [V] piece_glue of each target piece (numbers.h) */
    s2s_tokenizer *tokenizer;     /* shared by both sides */
    int sos_id, eos_id;           /* target ids */
    int src_eos_id;               /* source eos id, -1 when absent */
    int unk_id[2];                /* per side, -1 when unk is null or absent from that vocab */
    int enc_dirs;                 /* 1 or 2 */
    int mem_dim;                  /* D = enc.hidden * enc_dirs */
    int ctx_dim;                  /* C: size of the context vector (D; H_d for multihead) */
    struct model_q8 *_Atomic q8;  /* int8 weights of the fast mode, made on first use
                                     (model_q8_get); NULL until then */
    pthread_mutex_t q8_lock;      /* guards making them and the parsed shortlist */
    char *shortlist_text;         /* shortlist.txt as read at load (header checked), or NULL;
                                     parsed on first use (model_shortlist_get) */
    size_t shortlist_len;
    struct shortlist *_Atomic shortlist; /* the parsed shortlist, NULL until then */
    s2s_error shortlist_err;      /* its parse failure, reported again to every later call */
};

/* The RNN matrices, attention_out and the output projection with int8
 * weights (S2S_COMPUTE_INT8). */
typedef struct model_q8 {
    qmat enc_ih[S2S_MAX_LAYERS][2], enc_hh[S2S_MAX_LAYERS][2]; /* encoder RNN [layer][direction] */
    qmat dec_ih[S2S_MAX_LAYERS], dec_hh[S2S_MAX_LAYERS]; /* decoder RNN W_ih, W_hh */
    qmat attn_out;                                       /* after_rnn: W_out_att, else empty */
    qmat out;                                            /* output projection */
} model_q8;

/* The model's int8 weights, quantized once (the first caller does it, under
 * the model's lock; any thread may call). NULL when out of memory. */
const model_q8 *model_q8_get(const s2s_model *m);
/* Frees what model_q8_get made (with the model). */
void model_q8_free(s2s_model *m);

/* The model's lexical shortlist, parsed from shortlist_text the first time
 * (under the model's lock; any thread may call). NULL with *err set when the
 * file is malformed (the same error every time) or memory runs out; NULL
 * with S2S_OK in *err when the model has none. */
const struct shortlist *model_shortlist_get(const s2s_model *m, s2s_error *err);

#endif
