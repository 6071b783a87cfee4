/*
 * serve_reply.c - response bodies: the command's jsonl objects for the v1
 * endpoints, LibreTranslate's objects for /translate, the model list, the
 * language list, health, and {"error": ...}.
 */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "serve.h"

char *serve_error_json(const char *msg, size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    if (!f) return NULL;
    fputs("{\"error\": ", f);
    cli_json_cstr(f, msg);
    fputs("}\n", f);
    if (fclose(f) != 0) { free(buf); return NULL; }
    return buf;
}

/* Prints `root` (then frees it) as compact JSON and a newline, malloc'd. */
static char *print_and_free(cJSON *root, size_t *len)
{
    char *s = root ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (!s) return NULL;
    size_t n = strlen(s);
    char *out = realloc(s, n + 2);
    if (!out) { free(s); return NULL; }
    out[n] = '\n';
    out[n + 1] = '\0';
    *len = n + 1;
    return out;
}

/* Sets the task's answer to `status` with an error body. */
static void reply_error(serve_task *t, int status, const char *msg)
{
    free(t->body);
    t->status = status;
    t->body = serve_error_json(msg, &t->body_len);
}

/* v1: the jsonl object of each line, exactly as the command writes it;
 * one object for one string, else a JSON array of them. */
static void reply_v1(serve_task *t)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) { reply_error(t, 503, "out of memory"); return; }
    if (!t->single) fputc('[', f);
    for (int i = 0; i < t->n_jobs; i++) {
        const cli_job *j = &t->jobs[i];
        size_t n = j->out_len;
        if (n > 0 && j->out[n - 1] == '\n') n--;
        if (i) fputs(",\n", f);
        fwrite(j->out ? j->out : "null", 1, j->out ? n : 4, f);
    }
    fputs(t->single ? "\n" : "]\n", f);
    if (fclose(f) != 0) { free(buf); reply_error(t, 503, "out of memory"); return; }
    t->status = 200;
    t->body = buf;
    t->body_len = len;
}

/* The message a failed job left ("line N: message"), without its prefix
 * and without the warnings before it. */
static void job_message(const cli_job *j, char *out, size_t size)
{
    snprintf(out, size, "cannot be translated");
    for (const char *s = j->msg; s && *s;) {
        const char *e = strchr(s, '\n'), *colon = strstr(s, ": ");
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (colon && colon < s + n && strncmp(colon + 2, "warning:", 8) != 0) {
            snprintf(out, size, "%.*s", (int)(n - (size_t)(colon + 2 - s)), colon + 2);
            return;
        }
        s = e ? e + 1 : s + n;
    }
}

/* Hypothesis texts of a jsonl line (LibreTranslate alternatives): adds
 * the first to `best` (a string builder) and the others to `alts`. */
static int add_jsonl_texts(const cli_job *j, FILE *best, cJSON *alts)
{
    serve_err e;
    cJSON *root = serve_json_parse(j->out, j->out_len, &e);
    const cJSON *hyps = cJSON_GetObjectItemCaseSensitive(root, "hypotheses");
    int k = 0;
    for (const cJSON *h = hyps ? hyps->child : NULL; h; h = h->next, k++) {
        const cJSON *text = cJSON_GetObjectItemCaseSensitive(h, "text");
        const char *s = cJSON_IsString(text) ? text->valuestring : "";
        if (k == 0) fputs(s, best);
        else if (alts) cJSON_AddItemToArray(alts, cJSON_CreateString(s));
    }
    cJSON_Delete(root);
    return root ? 0 : -1;
}

/* The translation of one line: the text output without its newline, or
 * the best hypothesis of the jsonl output. */
static void add_line_text(const serve_task *t, const cli_job *j, FILE *best, cJSON *alts)
{
    if (t->alternatives > 0) {
        add_jsonl_texts(j, best, alts);
        return;
    }
    size_t n = j->out_len;
    if (n > 0 && j->out[n - 1] == '\n') n--;
    fwrite(j->out, 1, n, best);
}

/* LibreTranslate alternatives of item i are whole texts: alternative k of
 * each line joined by newlines. Here each line's alternatives are kept in
 * `line_alts` and joined per rank. */
static cJSON *join_alternatives(const serve_task *t, int first, int last, cJSON **line_alts)
{
    cJSON *out = cJSON_CreateArray();
    for (int k = 0; out && k < t->alternatives; k++) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f) break;
        int any = 0;
        for (int l = first; l < last; l++) {
            if (l > first) fputc('\n', f);
            const cJSON *a = line_alts[l - first] ? cJSON_GetArrayItem(line_alts[l - first], k) : NULL;
            if (a) { fputs(a->valuestring, f); any = 1; }
        }
        fclose(f);
        if (any) cJSON_AddItemToArray(out, cJSON_CreateString(buf));
        free(buf);
    }
    return out;
}

/* translatedText (and alternatives) of item i; 0, or -1 with e set when
 * one of its lines failed. */
static int libre_item(const serve_task *t, int i, cJSON **text, cJSON **alts, serve_err *e)
{
    int first = t->item_first[i], last = t->item_first[i + 1];
    cJSON **line_alts = calloc((size_t)(last - first) + 1, sizeof *line_alts);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    int rc = f && line_alts ? 0 : serve_fail(e, 503, "out of memory");
    for (int l = first; rc == 0 && l < last; l++) {
        if (l > first) fputc('\n', f);
        int jx = t->line_job[l];
        if (jx < 0) continue;
        const cli_job *j = &t->jobs[jx];
        if (j->failed) {
            char msg[SERVE_MSG_MAX - 64];
            job_message(j, msg, sizeof msg);
            rc = serve_fail(e, 400, "field 'q': item %d, line %d: %s", i, l - first + 1, msg);
            break;
        }
        if (t->alternatives > 0) line_alts[l - first] = cJSON_CreateArray();
        add_line_text(t, j, f, line_alts[l - first]);
    }
    if (f) fclose(f);
    if (rc == 0) {
        *text = cJSON_CreateString(buf ? buf : "");
        *alts = t->alternatives > 0 ? join_alternatives(t, first, last, line_alts) : NULL;
    }
    for (int l = first; line_alts && l < last; l++) cJSON_Delete(line_alts[l - first]);
    free(line_alts);
    free(buf);
    return rc;
}

/* /translate: {"translatedText": text or [texts], "alternatives": ...}. */
static void reply_libre(serve_task *t)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *texts = t->single ? NULL : cJSON_CreateArray(), *alts = t->single ? NULL : cJSON_CreateArray();
    serve_err e = {0};
    for (int i = 0; i < t->n_items; i++) {
        cJSON *text = NULL, *alt = NULL;
        if (libre_item(t, i, &text, &alt, &e) < 0) break;
        if (t->single) { texts = text; alts = alt; }
        else { cJSON_AddItemToArray(texts, text); if (alt) cJSON_AddItemToArray(alts, alt); }
    }
    if (e.status) {
        cJSON_Delete(root);
        if (!t->single) { cJSON_Delete(texts); cJSON_Delete(alts); }
        reply_error(t, e.status, e.msg);
        return;
    }
    cJSON_AddItemToObject(root, "translatedText", texts);
    if (t->alternatives > 0) cJSON_AddItemToObject(root, "alternatives", alts);
    else cJSON_Delete(alts);
    t->status = 200;
    t->body = print_and_free(root, &t->body_len);
    if (!t->body) reply_error(t, 503, "out of memory");
}

void serve_reply_task(serve_task *t)
{
    if (t->kind == SERVE_LIBRE) reply_libre(t);
    else reply_v1(t);
}

char *serve_models_json(const serve_config *cfg, size_t *len)
{
    cJSON *root = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(root, "models");
    for (int i = 0; arr && i < cfg->n_models; i++) {
        cJSON *m = cJSON_CreateObject();
        cJSON_AddStringToObject(m, "name", cfg->models[i].name);
        cJSON_AddItemToObject(m, "info", cli_model_info_json(cfg->models[i].model));
        cJSON_AddItemToArray(arr, m);
    }
    return print_and_free(root, len);
}

/* English names of a few language codes, for /languages; others show the code. */
static const char *language_name(const char *code)
{
    static const char *const NAMES[][2] = {
        {"ar", "Arabic"}, {"de", "German"}, {"en", "English"}, {"es", "Spanish"}, {"fr", "French"},
        {"it", "Italian"}, {"ja", "Japanese"}, {"nl", "Dutch"}, {"pt", "Portuguese"}, {"ru", "Russian"},
        {"zh", "Chinese"},
    };
    for (size_t i = 0; i < sizeof NAMES / sizeof NAMES[0]; i++)
        if (strcmp(NAMES[i][0], code) == 0) return NAMES[i][1];
    return code;
}

/* The /languages entry of source language `code`, made on first sight. */
static cJSON *language_entry(cJSON *arr, const char *code)
{
    for (cJSON *e = arr->child; e; e = e->next)
        if (strcmp(cJSON_GetObjectItemCaseSensitive(e, "code")->valuestring, code) == 0) return e;
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "code", code);
    cJSON_AddStringToObject(e, "name", language_name(code));
    cJSON_AddArrayToObject(e, "targets");
    cJSON_AddItemToArray(arr, e);
    return e;
}

char *serve_languages_json(const serve_config *cfg, size_t *len)
{
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; arr && i < cfg->n_models; i++) {
        const serve_model *m = &cfg->models[i];
        if (m->summarization || !m->source_language[0] || !m->target_language[0]) continue;
        cJSON *targets = cJSON_GetObjectItemCaseSensitive(language_entry(arr, m->source_language), "targets");
        int seen = 0;
        for (cJSON *x = targets->child; x; x = x->next) seen |= strcmp(x->valuestring, m->target_language) == 0;
        if (!seen) cJSON_AddItemToArray(targets, cJSON_CreateString(m->target_language));
    }
    return print_and_free(arr, len);
}

char *serve_health_json(const serve_config *cfg, int waiting, int busy, int capacity, size_t *len)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "status", "ok");
    cJSON *names = cJSON_AddArrayToObject(root, "models");
    for (int i = 0; names && i < cfg->n_models; i++) cJSON_AddItemToArray(names, cJSON_CreateString(cfg->models[i].name));
    cJSON_AddNumberToObject(root, "workers", cfg->threads);
    cJSON_AddNumberToObject(root, "decoding", busy);
    cJSON_AddNumberToObject(root, "waiting", waiting);
    cJSON_AddNumberToObject(root, "queue_capacity", capacity);
    return print_and_free(root, len);
}
