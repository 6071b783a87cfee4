/*
 * cmd_info.c - `s2s info`: what a model is made of, as text or JSON.
 */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Writes "[d0, d1, ...]" for a tensor shape. */
static void print_shape(FILE *f, const s2s_tensor_info *t)
{
    fputc('[', f);
    for (int d = 0; d < t->ndim; d++) fprintf(f, "%s%" PRId64, d ? ", " : "", t->shape[d]);
    fputc(']', f);
}

/* Writes a count with thousands separators (1,234,567). */
static void print_count(FILE *f, size_t n)
{
    char digits[32];
    int len = snprintf(digits, sizeof digits, "%zu", n);
    for (int i = 0; i < len; i++) {
        if (i > 0 && (len - i) % 3 == 0) fputc(',', f);
        fputc(digits[i], f);
    }
}

/* One RNN side as "gru, embedding 128, hidden 256, 2 layers, bidirectional". */
static void print_rnn(FILE *f, const s2s_rnn_info *r, int is_encoder)
{
    fprintf(f, "%s, embedding %d, hidden %d, %d layer%s", r->cell, r->embedding_size,
            r->hidden_size, r->num_layers, r->num_layers == 1 ? "" : "s");
    if (is_encoder) fputs(r->bidirectional ? ", bidirectional" : ", unidirectional", f);
}

/* The architecture part of the text report. */
static void print_architecture(FILE *f, const s2s_model_info *in, int from)
{
    fprintf(f, "model:        %s (%s)\n", in->dir, cli_model_from_text(from));
    fprintf(f, "task:         %s", in->task[0] ? in->task : "(not given)");
    if (in->source_language[0] || in->target_language[0])
        fprintf(f, " (%s -> %s)", in->source_language[0] ? in->source_language : "?",
                in->target_language[0] ? in->target_language : "?");
    fputs("\nencoder:      ", f);
    print_rnn(f, &in->encoder, 1);
    fprintf(f, ", append eos %s\n", in->append_eos ? "yes" : "no");
    fprintf(f, "bridge:       %s\n", in->bridge);
    fputs("decoder:      ", f);
    print_rnn(f, &in->decoder, 0);
    fprintf(f, "\nattention:    %s", in->attention);
    if (in->attention_size) fprintf(f, " (size %d)", in->attention_size);
    if (in->heads) fprintf(f, " (%d heads)", in->heads);
    if (in->coverage) fputs(", coverage", f);
    if (in->local) {
        fprintf(f, ", local %s window %d", in->local, in->window);
        if (in->predictor_size) fprintf(f, " (predictor size %d)", in->predictor_size);
    }
    fprintf(f, ", %s, input feeding %s\n", in->attention_position, in->input_feeding ? "yes" : "no");
    fprintf(f, "copy:         %s\n", in->copy ? "yes (pointer-generator: source words the target vocabulary lacks are copied)" : "no");
    fprintf(f, "format:       version %d\n", in->format_version);
    if (in->shortlist) fputs("shortlist:    shortlist.txt (the lexical shortlist of --compute int8)\n", f);
}

/* Vocabulary, special tokens, tokenizer and decoding lines of the report. */
static void print_vocab_and_tokenizer(FILE *f, const s2s_model_info *in)
{
    fprintf(f, "vocabulary:   source %d tokens, target %d tokens\n", in->source_vocab_size,
            in->target_vocab_size);
    const char *names[4] = {"sos", "eos", "unk", "pad"};
    const char *vals[4] = {in->sos, in->eos, in->unk, in->pad};
    fputs("special:      ", f);
    for (int i = 0; i < 4; i++) {
        fprintf(f, "%s%s ", i ? ", " : "", names[i]);
        if (vals[i]) cli_json_cstr(f, vals[i]);
        else fputs("none", f);
    }
    fprintf(f, "\ntokenizer:    normalizer %s, level %s, lowercase %s, max input tokens %d",
            in->normalizer, in->level, in->lowercase ? "yes" : "no", in->max_input_tokens);
    if (in->merges_file) fprintf(f, ", merges %s", in->merges_file);
    if (in->whole_numbers) fputs(", whole numbers", f);
    if (in->whole_names) fputs(", whole names", f);
    fputs("\ndecoding:     max_length ", f);
    if (in->max_length) fprintf(f, "%d (config)", in->max_length);
    else fputs("2 x source tokens + 10 (default)", f);
    if (in->beam_size) fprintf(f, ", beam_size %d", in->beam_size);
    if (in->min_length) fprintf(f, ", min_length %d", in->min_length);
    if (in->length_penalty >= 0.0f) fprintf(f, ", length_penalty %g", (double)in->length_penalty);
    if (in->no_repeat_ngram) fprintf(f, ", no_repeat_ngram %d", in->no_repeat_ngram);
    if (in->coverage_penalty >= 0.0f) fprintf(f, ", coverage_penalty %g", (double)in->coverage_penalty);
    if (in->keep_numbers) fputs(", keep_numbers", f);
    fputc('\n', f);
}

/* Writes a JSON value of the "scores" object for people: a string bare,
 * a number as written, anything else as compact JSON. */
static void print_score_value(FILE *f, const cJSON *v)
{
    if (cJSON_IsString(v)) {
        fputs(v->valuestring, f);
        return;
    }
    char *t = cJSON_PrintUnformatted(v);
    fputs(t ? t : "?", f);
    cJSON_free(t);
}

/* License, attribution and the scores config.json records, when it does. */
static void print_provenance(FILE *f, const s2s_model_info *in)
{
    if (in->license) fprintf(f, "license:      %s\n", in->license);
    if (in->attribution) fprintf(f, "attribution:  %s\n", in->attribution);
    cJSON *scores = in->scores_json ? cJSON_Parse(in->scores_json) : NULL;
    if (cJSON_IsObject(scores)) {
        const char *lead = "scores:       ";
        for (const cJSON *v = scores->child; v; v = v->next) {
            fprintf(f, "%s%s ", lead, v->string);
            print_score_value(f, v);
            fputc('\n', f);
            lead = "              ";
        }
    } else if (scores) {
        fputs("scores:       ", f);
        print_score_value(f, scores);
        fputc('\n', f);
    }
    cJSON_Delete(scores);
}

/* The whole text report: architecture, counts, provenance, then every tensor. */
static void print_text(FILE *f, const s2s_model *m, const s2s_model_info *in, int from)
{
    print_architecture(f, in, from);
    print_vocab_and_tokenizer(f, in);
    fprintf(f, "weights:      %s, %zu tensors, ", in->weights_file, in->n_tensors);
    print_count(f, in->n_parameters);
    fputs(" parameters\n", f);
    print_provenance(f, in);
    fputs("\ntensors:\n", f);
    for (size_t i = 0; i < in->n_tensors; i++) {
        s2s_tensor_info t;
        if (s2s_model_tensor(m, i, &t) != S2S_OK) continue;
        fprintf(f, "  %-40s %-5s ", t.name, t.dtype);
        print_shape(f, &t);
        fputc('\n', f);
    }
}

/* Adds `s` to `obj` under `key`, as JSON null when s is NULL. */
static void add_str(cJSON *obj, const char *key, const char *s)
{
    if (s) cJSON_AddStringToObject(obj, key, s);
    else cJSON_AddNullToObject(obj, key);
}

/* {"cell", "embedding_size", "hidden_size", "num_layers", ["bidirectional"]} */
static cJSON *rnn_json(const s2s_rnn_info *r, int is_encoder)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "cell", r->cell);
    cJSON_AddNumberToObject(o, "embedding_size", r->embedding_size);
    cJSON_AddNumberToObject(o, "hidden_size", r->hidden_size);
    cJSON_AddNumberToObject(o, "num_layers", r->num_layers);
    if (is_encoder) cJSON_AddBoolToObject(o, "bidirectional", r->bidirectional);
    return o;
}

/* The architecture keys, shaped like config.json. */
static void add_architecture_json(cJSON *root, const s2s_model_info *in)
{
    cJSON *enc = rnn_json(&in->encoder, 1);
    cJSON_AddBoolToObject(enc, "append_eos", in->append_eos);
    cJSON_AddItemToObject(root, "encoder", enc);
    cJSON_AddStringToObject(root, "bridge", in->bridge);
    cJSON *dec = rnn_json(&in->decoder, 0);
    cJSON *att = cJSON_AddObjectToObject(dec, "attention");
    cJSON_AddStringToObject(att, "type", in->attention);
    cJSON_AddStringToObject(att, "position", in->attention_position);
    if (in->attention_size) cJSON_AddNumberToObject(att, "size", in->attention_size);
    if (in->format_version >= 2) {
        cJSON_AddBoolToObject(att, "coverage", in->coverage);
        if (in->heads) cJSON_AddNumberToObject(att, "heads", in->heads);
        if (in->local) {
            cJSON_AddStringToObject(att, "local", in->local);
            cJSON_AddNumberToObject(att, "window", in->window);
            if (in->predictor_size) cJSON_AddNumberToObject(att, "predictor_size", in->predictor_size);
        }
        cJSON_AddBoolToObject(dec, "copy", in->copy);
    }
    cJSON_AddBoolToObject(dec, "input_feeding", in->input_feeding);
    cJSON_AddItemToObject(root, "decoder", dec);
    cJSON_AddBoolToObject(root, "shortlist", in->shortlist);
}

/* A float setting as a person wrote it (0.6, not 0.600000023841858). */
static double as_written(float v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%g", (double)v);
    return strtod(buf, NULL);
}

/* Special tokens, vocabulary sizes, tokenizer and decoding keys. */
static void add_vocab_json(cJSON *root, const s2s_model_info *in)
{
    cJSON *sp = cJSON_AddObjectToObject(root, "special_tokens");
    const char *names[] = {"sos", "eos", "unk", "pad"}, *tokens[] = {in->sos, in->eos, in->unk, in->pad};
    for (int i = 0; i < 4; i++)
        add_str(sp, names[i], tokens[i]);
    cJSON_AddNumberToObject(root, "source_vocab_size", in->source_vocab_size);
    cJSON_AddNumberToObject(root, "target_vocab_size", in->target_vocab_size);
    cJSON *tok = cJSON_AddObjectToObject(root, "tokenizer");
    cJSON_AddStringToObject(tok, "normalizer", in->normalizer);
    cJSON_AddStringToObject(tok, "level", in->level);
    cJSON_AddBoolToObject(tok, "lowercase", in->lowercase);
    add_str(tok, "merges", in->merges_file);
    cJSON_AddNumberToObject(tok, "max_input_tokens", in->max_input_tokens);
    cJSON_AddBoolToObject(tok, "whole_numbers", in->whole_numbers);
    cJSON_AddBoolToObject(tok, "whole_names", in->whole_names);
    cJSON *dec = cJSON_AddObjectToObject(root, "decoding");
    if (in->max_length) cJSON_AddNumberToObject(dec, "max_length", in->max_length);
    else cJSON_AddNullToObject(dec, "max_length");
    if (in->beam_size) cJSON_AddNumberToObject(dec, "beam_size", in->beam_size);
    if (in->min_length) cJSON_AddNumberToObject(dec, "min_length", in->min_length);
    if (in->length_penalty >= 0.0f) cJSON_AddNumberToObject(dec, "length_penalty", as_written(in->length_penalty));
    if (in->no_repeat_ngram) cJSON_AddNumberToObject(dec, "no_repeat_ngram", in->no_repeat_ngram);
    if (in->coverage_penalty >= 0.0f) cJSON_AddNumberToObject(dec, "coverage_penalty", as_written(in->coverage_penalty));
    if (in->keep_numbers) cJSON_AddTrueToObject(dec, "keep_numbers");
}

/* "tensors": [{"name", "dtype", "shape"}] in name order. */
static void add_tensors_json(cJSON *root, const s2s_model *m, size_t n)
{
    cJSON *arr = cJSON_AddArrayToObject(root, "tensors");
    for (size_t i = 0; i < n; i++) {
        s2s_tensor_info t;
        if (s2s_model_tensor(m, i, &t) != S2S_OK) continue;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", t.name);
        cJSON_AddStringToObject(o, "dtype", t.dtype);
        cJSON *shape = cJSON_AddArrayToObject(o, "shape");
        for (int d = 0; d < t.ndim; d++) cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)t.shape[d]));
        cJSON_AddItemToArray(arr, o);
    }
}

cJSON *cli_model_info_json(const s2s_model *m)
{
    s2s_model_info info, *in = &info;
    s2s_model_get_info(m, in);
    cJSON *root = cJSON_CreateObject();
    if (!root) return NULL;
    add_str(root, "dir", in->dir);
    cJSON_AddNumberToObject(root, "format_version", in->format_version);
    add_str(root, "task", in->task);
    add_str(root, "source_language", in->source_language);
    add_str(root, "target_language", in->target_language);
    add_str(root, "weights", in->weights_file);
    add_architecture_json(root, in);
    add_vocab_json(root, in);
    cJSON_AddNumberToObject(root, "n_tensors", (double)in->n_tensors);
    cJSON_AddNumberToObject(root, "n_parameters", (double)in->n_parameters);
    add_str(root, "license", in->license);
    add_str(root, "attribution", in->attribution);
    cJSON *scores = in->scores_json ? cJSON_Parse(in->scores_json) : NULL;
    cJSON_AddItemToObject(root, "scores", scores ? scores : cJSON_CreateNull());
    add_tensors_json(root, m, in->n_tensors);
    return root;
}

/* The JSON report, with where the model came from (enum cli_model_from);
 * 0, or -1 when out of memory. */
static int print_json(FILE *f, const s2s_model *m, int from)
{
    static const char *const FROM[] = {"option", "S2S_MODEL", "installed", "source tree"};
    cJSON *root = cli_model_info_json(m);
    if (root) cJSON_AddStringToObject(root, "dir_from", FROM[from >= 0 && from < 4 ? from : 0]);
    char *s = root ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    if (!s) return -1;
    fprintf(f, "%s\n", s);
    free(s);
    return 0;
}

int cmd_info(int argc, char **argv)
{
    cli_opts o;
    int rc = cli_parse("info", argc, argv, &o);
    if (rc) return rc < 0 ? CLI_EXIT_OK : rc;
    if (!o.model_dir && o.n_args == 1) o.model_dir = o.args[0];
    else if (o.n_args > 0) return cli_usage_error("info", "unexpected argument '%s'", o.args[o.model_dir ? 0 : 1]);
    s2s_model *m = cli_load_model(&o);
    if (!m) return CLI_EXIT_USAGE;
    s2s_model_info in;
    s2s_model_get_info(m, &in);
    rc = CLI_EXIT_OK;
    if (o.format == CLI_FMT_JSON) {
        if (print_json(stdout, m, o.model_from) < 0) {
            fprintf(stderr, "s2s info: out of memory\n");
            rc = CLI_EXIT_USAGE;
        }
    } else {
        print_text(stdout, m, &in, o.model_from);
    }
    if (cli_close_output(&o, stdout) < 0) rc = CLI_EXIT_USAGE;
    s2s_model_free(m);
    return rc;
}
