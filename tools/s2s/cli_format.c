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

/* Hard alignment of hypothesis k of a split line: each sentence's pairs,
 * shifted to the line's source and output token positions. */
static void write_joined_hard_alignment(FILE *f, const cli_line_out *lo, int k)
{
    const int *combo = lo->combo + (size_t)k * lo->n_sentences;
    int col = 0, tok = 0, first = 1;
    for (int u = 0; u < lo->n_sentences; u++) {
        const s2s_result *r = lo->sentences[u].result;
        const s2s_hypothesis *h = &r->hyps[combo[u]];
        for (int i = 0; h->attention && i < h->n_tokens && i < h->n_steps; i++) {
            int j = cli_argmax(h->attention + (size_t)i * r->n_source, r->n_source);
            fprintf(f, "%s%d-%d", first ? "" : " ", col + j, tok + i);
            first = 0;
        }
        col += r->n_source;
        tok += h->n_tokens;
    }
}

/* Writes the alignment of hypothesis k of the line in the style `mode`
 * asks for. */
static void write_alignment(FILE *f, int mode, const cli_line_out *lo, int k)
{
    const s2s_hypothesis *h = &lo->result->hyps[k];
    if (mode == CLI_ALIGN_HARD && lo->sentences) write_joined_hard_alignment(f, lo, k);
    else if (mode == CLI_ALIGN_HARD) cli_write_hard_alignment(f, h, lo->result->n_source);
    else if (mode == CLI_ALIGN_SOFT) cli_write_soft_alignment(f, h, lo->result->n_source);
}

void cli_write_text_hyp(FILE *f, const cli_line_out *lo, int k, int with_id, int with_score)
{
    const s2s_hypothesis *h = &lo->result->hyps[k];
    if (with_id) fprintf(f, "%ld ||| ", lo->id);
    fputs(lo->texts[k] ? lo->texts[k] : "", f);
    if (lo->alignment != CLI_ALIGN_NONE) {
        fputs(" ||| ", f);
        write_alignment(f, lo->alignment, lo, k);
    }
    if (with_score) { /* Moses/Marian: a feature field, then the score the list is ranked by */
        fputs(" ||| score= ", f);
        cli_text_num(f, h->score);
        fputs(" ||| ", f);
        cli_text_num(f, h->ranking_score);
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

/* One hypothesis object of a "hypotheses" array; `combo` (NULL for none)
 * lists the sentence hypotheses it joins. */
static void write_json_hyp(FILE *f, const s2s_model *model, const s2s_result *res, int k, const char *text,
                           int alignment, const int *combo, int n_sentences, const cli_line_out *lo)
{
    const s2s_hypothesis *h = &res->hyps[k];
    fputs("{\"text\": ", f);
    cli_json_cstr(f, text ? text : "");
    fputs(", \"tokens\": ", f);
    write_token_array(f, model, S2S_TARGET, res, h->tokens, h->n_tokens);
    fputs(", \"score\": ", f);
    cli_json_num(f, h->score);
    fputs(", \"ranking_score\": ", f);
    cli_json_num(f, h->ranking_score);
    fprintf(f, ", \"finished\": %s, \"token_logprobs\": ", h->finished ? "true" : "false");
    write_float_array(f, h->token_logprobs, h->token_logprobs ? h->n_steps : 0);
    if (combo) {
        fputs(", \"sentence_hypotheses\": [", f);
        for (int u = 0; u < n_sentences; u++) fprintf(f, "%s%d", u ? ", " : "", combo[u]);
        fputc(']', f);
    }
    if (alignment == CLI_ALIGN_HARD) {
        fputs(", \"alignment\": \"", f);
        if (lo) write_alignment(f, CLI_ALIGN_HARD, lo, k);
        else cli_write_hard_alignment(f, h, res->n_source);
        fputc('"', f);
    }
    fputs(", \"attention\": ", f);
    write_attention(f, h, res->n_source);
    fputc('}', f);
}

/* "source_tokens", "truncated" and "case" of a line or a sentence. */
static void write_json_source(FILE *f, const s2s_model *model, const s2s_token_seq *src, const char *casing)
{
    fputs("\"source_tokens\": ", f);
    write_token_array(f, model, S2S_SOURCE, NULL, src->ids, src->n);
    if (src->truncated) fputs(", \"truncated\": true", f);
    if (casing) fprintf(f, ", \"case\": \"%s\"", casing);
}

/* The "sentences" array of a split line. */
static void write_json_sentences(FILE *f, const cli_line_out *lo)
{
    fputs(", \"sentences\": [", f);
    for (int u = 0; u < lo->n_sentences; u++) {
        const cli_sentence_out *s = &lo->sentences[u];
        fputs(u ? ", {\"source_text\": " : "{\"source_text\": ", f);
        cli_json_str(f, s->text, s->len);
        fputs(", ", f);
        write_json_source(f, lo->model, s->source, s->casing);
        fputs(", \"hypotheses\": [", f);
        for (int k = 0; k < s->result->n_hyps; k++) {
            if (k) fputs(", ", f);
            write_json_hyp(f, lo->model, s->result, k, s->texts[k], lo->alignment, NULL, 0, NULL);
        }
        fputs("]}", f);
    }
    fputc(']', f);
}

void cli_write_json_line(FILE *f, const cli_line_out *lo)
{
    fprintf(f, "{\"id\": %ld, ", lo->id);
    write_json_source(f, lo->model, lo->source, lo->sentences ? NULL : lo->casing);
    fputs(", \"hypotheses\": [", f);
    for (int k = 0; k < lo->result->n_hyps; k++) {
        if (k) fputs(", ", f);
        write_json_hyp(f, lo->model, lo->result, k, lo->texts[k], lo->alignment,
                       lo->sentences ? lo->combo + (size_t)k * lo->n_sentences : NULL, lo->n_sentences, lo);
    }
    fputc(']', f);
    if (lo->sentences) write_json_sentences(f, lo);
    fputs("}\n", f);
}
