/*
 * cli_format.h - output of one input line (translate, summarize, score).
 */
#ifndef S2S_CLI_FORMAT_H
#define S2S_CLI_FORMAT_H

#include "cli.h"

/* One sentence of a line that was split into several. */
typedef struct cli_sentence_out {
    const char *text;              /* the sentence as it stands in the line */
    size_t len;
    const s2s_token_seq *source;   /* its ids fed to the encoder */
    const s2s_result *result;      /* its hypotheses */
    char **texts;                  /* result->n_hyps readable texts */
    const char *casing;            /* NULL, or the case handling applied: "upper", "title" */
} cli_sentence_out;

/* What one input line produced, ready to be written. */
typedef struct cli_line_out {
    long id;                       /* 0-based line number */
    const s2s_model *model;
    const s2s_token_seq *source;   /* ids fed to the encoder (all sentences' in turn) */
    const s2s_result *result;      /* the line's hypotheses (joined from its sentences') */
    char **texts;                  /* result->n_hyps readable texts */
    int alignment;                 /* enum cli_align, for text and jsonl */
    const char *casing;            /* unsplit line: NULL, "upper" or "title" */
    const cli_sentence_out *sentences; /* NULL unless the line was split into 2 or more */
    int n_sentences;
    const int *combo;              /* hypothesis k takes hypothesis combo[k * n_sentences + u]
                                      of sentence u */
} cli_line_out;

/* Writes hypothesis k as a text line:
 * "[ID ||| ]text[ ||| alignment][ ||| score= SCORE ||| RANKING_SCORE]" where SCORE
 * is the sum of log-probabilities and RANKING_SCORE the score the n-best
 * list is ordered by (with the length penalty and any other ranking term). */
void cli_write_text_hyp(FILE *f, const cli_line_out *lo, int k, int with_id, int with_score);

/* Writes the jsonl object of model-format.md section 8 (and a newline). */
void cli_write_json_line(FILE *f, const cli_line_out *lo);

/* Pharaoh "src-tgt" pairs: for each emitted token (eos step excluded) the
 * source position it attends to most. Nothing without attention. */
void cli_write_hard_alignment(FILE *f, const s2s_hypothesis *h, int n_source);

/* Every step's attention row (eos step included), rows separated by spaces,
 * weights by commas. */
void cli_write_soft_alignment(FILE *f, const s2s_hypothesis *h, int n_source);

#endif
