/*
 * cli_format.c - writing one decoded (or scored) line: the text layout
 * "[ID ||| ] text [||| alignment] [||| score]" and the jsonl object of model-format.md
 * section 8.
 */
#include <stdlib.h>
#include <string.h>

#include "cli_format.h"

int cli_argmax(const float *row, int n)
{
    int best = n > 0 ? 0 : -1;
    for (int j = 1; j < n; j++)
        if (row[j] > row[best]) best = j;
    return best;
}

void cli_write_hard_alignment(FILE *f, const s2s_hypothesis *h, int n_source)
{
    if (!h->attention) return;
    for (int i = 0; i < h->n_tokens && i < h->n_steps; i++) {
        int j = cli_argmax(h->attention + (size_t)i * n_source, n_source);
        fprintf(f, "%s%d-%d", i ? " " : "", j, i);
    }
}

void cli_write_soft_alignment(FILE *f, const s2s_hypothesis *h, int n_source)
{
    if (!h->attention) return;
    for (int i = 0; i < h->n_steps; i++) {
        const float *row = h->attention + (size_t)i * n_source;
        for (int j = 0; j < n_source; j++) fprintf(f, "%s%.6g", j ? "," : (i ? " " : ""), row[j]);
    }
}

/* Writes the alignment of `h` in the style `mode` asks for. */
static void write_alignment(FILE *f, int mode, const s2s_hypothesis *h, int n_source)
{
    if (mode == CLI_ALIGN_HARD) cli_write_hard_alignment(f, h, n_source);
    else if (mode == CLI_ALIGN_SOFT) cli_write_soft_alignment(f, h, n_source);
}

void cli_write_text_hyp(FILE *f, const cli_line_out *lo, int k, int with_id, int with_score)
{
    const s2s_hypothesis *h = &lo->result->hyps[k];
    if (with_id) fprintf(f, "%ld ||| ", lo->id);
    fputs(lo->texts[k] ? lo->texts[k] : "", f);
    if (lo->alignment != CLI_ALIGN_NONE) {
        fputs(" ||| ", f);
        write_alignment(f, lo->alignment, h, lo->result->n_source);
    }
    if (with_score) {
        fputs(" ||| ", f);
        cli_text_num(f, h->score);
    }
    fputc('\n', f);
}

/* ["tok", ...] for ids on `side` (target: with res's extended ids spelled);
 * unknown ids as null. */
static void write_token_array(FILE *f, const s2s_model *m, s2s_side side, const s2s_result *res, const int *ids,
                              int n)
{
    fputc('[', f);
    for (int i = 0; i < n; i++) {
        if (i) fputs(", ", f);
        cli_json_cstr(f, side == S2S_TARGET ? s2s_result_token(m, res, ids[i]) : s2s_model_token(m, side, ids[i]));
    }
    fputc(']', f);
}

/* [x, ...] of n floats. */
static void write_float_array(FILE *f, const float *v, int n)
{
    fputc('[', f);
    for (int i = 0; i < n; i++) {
        if (i) fputs(", ", f);
        cli_json_num(f, v[i]);
    }
    fputc(']', f);
}

/* The attention matrix as rows of numbers; [] when absent. */
static void write_attention(FILE *f, const s2s_hypothesis *h, int n_source)
{
    fputc('[', f);
    for (int i = 0; h->attention && i < h->n_steps; i++) {
        if (i) fputs(", ", f);
        write_float_array(f, h->attention + (size_t)i * n_source, n_source);
    }
    fputc(']', f);
}

/* One hypothesis object of the "hypotheses" array. */
static void write_json_hyp(FILE *f, const cli_line_out *lo, int k)
{
    const s2s_hypothesis *h = &lo->result->hyps[k];
    fputs("{\"text\": ", f);
    cli_json_cstr(f, lo->texts[k] ? lo->texts[k] : "");
    fputs(", \"tokens\": ", f);
    write_token_array(f, lo->model, S2S_TARGET, lo->result, h->tokens, h->n_tokens);
    fputs(", \"score\": ", f);
    cli_json_num(f, h->score);
    fputs(", \"ranking_score\": ", f);
    cli_json_num(f, h->ranking_score);
    fprintf(f, ", \"finished\": %s, \"token_logprobs\": ", h->finished ? "true" : "false");
    write_float_array(f, h->token_logprobs, h->token_logprobs ? h->n_steps : 0);
    if (lo->alignment == CLI_ALIGN_HARD) {
        fputs(", \"alignment\": \"", f);
        cli_write_hard_alignment(f, h, lo->result->n_source);
        fputc('"', f);
    }
    fputs(", \"attention\": ", f);
    write_attention(f, h, lo->result->n_source);
    fputc('}', f);
}

void cli_write_json_line(FILE *f, const cli_line_out *lo)
{
    fprintf(f, "{\"id\": %ld, \"source_tokens\": ", lo->id);
    write_token_array(f, lo->model, S2S_SOURCE, NULL, lo->source->ids, lo->source->n);
    if (lo->source->truncated) fputs(", \"truncated\": true", f);
    fputs(", \"hypotheses\": [", f);
    for (int k = 0; k < lo->result->n_hyps; k++) {
        if (k) fputs(", ", f);
        write_json_hyp(f, lo, k);
    }
    fputs("]}\n", f);
}
