/*
 * cli_model.c - which model a command uses: -m DIR, else $S2S_MODEL, else
 * the default model `make install` put under DATADIR, else the one in the
 * source tree the command was built from.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

#ifndef S2S_DATADIR
#define S2S_DATADIR "/usr/local/share/s2s"
#endif
#define DEFAULT_MODEL "fra-eng"

const char *cli_model_from_text(int from)
{
    switch (from) {
    case CLI_MODEL_ENV: return "from $S2S_MODEL";
    case CLI_MODEL_INSTALLED: return "the installed default model";
    case CLI_MODEL_SOURCE_TREE: return "the default model of the source tree";
    default: return "given on the command line";
    }
}

/* 1 when dir/config.json is a regular file. */
static int is_model_dir(const char *dir)
{
    char path[PATH_MAX];
    struct stat st;
    if (snprintf(path, sizeof path, "%s/config.json", dir) >= (int)sizeof path) return 0;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Writes the source tree's default model path (the directory above the
 * executable's, then models/fra-eng) into buf; 0, or -1 when the
 * executable cannot be found. */
static int source_tree_model(char *buf, size_t cap)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return -1;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash) return -1;
    *slash = '\0';
    slash = strrchr(exe, '/');
    if (!slash) return -1;
    *slash = '\0';
    return snprintf(buf, cap, "%s/models/" DEFAULT_MODEL, exe[0] ? exe : "") < (int)cap ? 0 : -1;
}

int cli_pick_model(cli_opts *o)
{
    if (o->model_dir) return 0;
    const char *env = getenv("S2S_MODEL");
    if (env && env[0]) {
        o->model_dir = env;
        o->model_from = CLI_MODEL_ENV;
        return 0;
    }
    snprintf(o->model_buf, sizeof o->model_buf, "%s/models/" DEFAULT_MODEL, S2S_DATADIR);
    if (is_model_dir(o->model_buf)) {
        o->model_dir = o->model_buf;
        o->model_from = CLI_MODEL_INSTALLED;
        return 0;
    }
    char tree[sizeof o->model_buf];
    if (source_tree_model(tree, sizeof tree) == 0 && is_model_dir(tree)) {
        memcpy(o->model_buf, tree, sizeof tree);
        o->model_dir = o->model_buf;
        o->model_from = CLI_MODEL_SOURCE_TREE;
        return 0;
    }
    cli_usage_error(o->cmd, "no model given: use '-m MODEL_DIR' or set S2S_MODEL (no default model in %s/models/"
                    DEFAULT_MODEL " nor beside the command's source tree)", S2S_DATADIR);
    return -1;
}

/* Summarization defaults when config.json has no "decoding" value. */
#define SUMMARIZE_BEAM 4
#define SUMMARIZE_LENGTH_PENALTY 1.0f

void cli_model_defaults(cli_opts *o, const s2s_model *m, int summarize)
{
    s2s_model_info info;
    s2s_model_get_info(m, &info);
    if (!o->beam_set && !o->dp.sampling) {
        int beam = info.beam_size > 0 ? info.beam_size : summarize ? SUMMARIZE_BEAM : o->dp.beam_size;
        o->dp.beam_size = beam > o->dp.n_best ? beam : o->dp.n_best;
    }
    if (!o->lp_set) {
        if (info.length_penalty >= 0.0f) o->dp.length_penalty = info.length_penalty;
        else if (summarize) o->dp.length_penalty = SUMMARIZE_LENGTH_PENALTY;
    }
    if (!o->min_len_set) {
        int min = info.min_length;
        if (o->max_len_set && min >= o->dp.max_length) min = o->dp.max_length - 1;
        o->dp.min_length = min;
    }
    if (!o->no_repeat_set) o->dp.no_repeat_ngram = info.no_repeat_ngram;
    if (!o->coverage_penalty_set && info.coverage_penalty >= 0.0f) o->dp.coverage_penalty = info.coverage_penalty;
    if (!o->keep_numbers_set) o->dp.keep_numbers = info.keep_numbers;
}

s2s_model *cli_load_model(cli_opts *o)
{
    if (cli_pick_model(o) < 0) return NULL;
    s2s_error err = {0};
    double t0 = cli_now();
    s2s_model_load_params lp = s2s_model_load_default_params();
    lp.allow_nonfinite = o->allow_nonfinite;
    s2s_model *m = s2s_model_load_with(o->model_dir, &lp, &err);
    o->load_seconds = cli_now() - t0;
    if (!m)
        fprintf(stderr, "s2s %s: cannot load model '%s' (%s): %s\n", o->cmd, o->model_dir,
                cli_model_from_text(o->model_from), err.message[0] ? err.message : s2s_strerror(err.status));
    return m;
}
