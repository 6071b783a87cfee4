/*
 * cli_opts.c - command-line options of every subcommand, their help texts,
 * and the few helpers that turn a bad option or model into exit status 2.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Option groups; each subcommand accepts a set of them. */
enum {
    G_MODEL = 1u << 0, G_IO = 1u << 1, G_DECODE = 1u << 2, G_THREADS = 1u << 3,
    G_FORMAT = 1u << 4, G_ALIGN = 1u << 5, G_SCORES = 1u << 6, G_UNK = 1u << 7,
    G_QUIET = 1u << 8, G_LENIENT = 1u << 9, G_COLOR = 1u << 10, G_PICTURE = 1u << 11,
    G_SIDE = 1u << 12, G_GENERATE = 1u << 13, G_SPLIT = 1u << 14, G_NBEST = 1u << 15,
};

/* Values of long-only options (above any char). */
enum {
    O_BEAM = 256, O_NBEST, O_LP, O_MINLEN, O_MAXLEN, O_THREADS, O_FORMAT, O_ALIGNMENT,
    O_SCORES, O_REPLACE_UNK, O_LENIENT, O_COLOR, O_SVG, O_HTML, O_SIDE, O_SHOW,
    O_NO_REPEAT, O_COVERAGE_PENALTY, O_PREFIX, O_TSV_PREFIX, O_SAMPLE, O_TEMPERATURE, O_TOP_K,
    O_TOP_P, O_SEED, O_NUM_SAMPLES, O_SPLIT, O_NO_SPLIT, O_CASE, O_COMPUTE, O_NO_SHORTLIST, O_ALLOW_NONFINITE,
    O_KEEP_NUMBERS, O_NO_KEEP_NUMBERS,
};

typedef struct opt_def {
    const char *name;
    int has_arg;
    int val;
    unsigned group;
} opt_def;

static const opt_def OPTIONS[] = {
    {"model", required_argument, 'm', G_MODEL},
    {"allow-nonfinite", no_argument, O_ALLOW_NONFINITE, G_MODEL},
    {"input", required_argument, 'i', G_IO},
    {"output", required_argument, 'o', G_IO},
    {"beam", required_argument, O_BEAM, G_DECODE},
    {"n-best", required_argument, O_NBEST, G_NBEST},
    {"length-penalty", required_argument, O_LP, G_DECODE},
    {"min-length", required_argument, O_MINLEN, G_DECODE},
    {"keep-numbers", no_argument, O_KEEP_NUMBERS, G_DECODE},
    {"no-keep-numbers", no_argument, O_NO_KEEP_NUMBERS, G_DECODE},
    {"max-length", required_argument, O_MAXLEN, G_DECODE},
    {"compute", required_argument, O_COMPUTE, G_DECODE},
    {"no-shortlist", no_argument, O_NO_SHORTLIST, G_DECODE},
    {"no-repeat-ngram", required_argument, O_NO_REPEAT, G_DECODE},
    {"coverage-penalty", required_argument, O_COVERAGE_PENALTY, G_DECODE},
    {"prefix", required_argument, O_PREFIX, G_DECODE},
    {"prefix-column", no_argument, O_TSV_PREFIX, G_GENERATE},
    {"sample", no_argument, O_SAMPLE, G_GENERATE},
    {"temperature", required_argument, O_TEMPERATURE, G_GENERATE},
    {"top-k", required_argument, O_TOP_K, G_GENERATE},
    {"top-p", required_argument, O_TOP_P, G_GENERATE},
    {"seed", required_argument, O_SEED, G_GENERATE},
    {"num-samples", required_argument, O_NUM_SAMPLES, G_GENERATE},
    {"threads", required_argument, O_THREADS, G_THREADS},
    {"format", required_argument, O_FORMAT, G_FORMAT},
    {"alignment", required_argument, O_ALIGNMENT, G_ALIGN},
    {"scores", no_argument, O_SCORES, G_SCORES},
    {"replace-unk", no_argument, O_REPLACE_UNK, G_UNK},
    {"quiet", no_argument, 'q', G_QUIET},
    {"verbose", no_argument, 'v', G_QUIET},
    {"lenient", no_argument, O_LENIENT, G_LENIENT},
    {"color", required_argument, O_COLOR, G_COLOR},
    {"svg", required_argument, O_SVG, G_PICTURE},
    {"html", required_argument, O_HTML, G_PICTURE},
    {"side", required_argument, O_SIDE, G_SIDE},
    {"show", required_argument, O_SHOW, G_SIDE},
    {"split-sentences", no_argument, O_SPLIT, G_SPLIT},
    {"no-split-sentences", no_argument, O_NO_SPLIT, G_SPLIT},
    {"case", required_argument, O_CASE, G_SPLIT},
    {"help", no_argument, 'h', ~0u},
};
#define N_OPTIONS (sizeof OPTIONS / sizeof OPTIONS[0])

typedef struct command_def {
    const char *name;
    unsigned groups;
    const char *help;
} command_def;

#define NBEST_HELP \
    "  --n-best N            N hypotheses per input, best first (text lines:\n" \
    "                        'ID ||| text ||| score= SCORE ||| RANKING_SCORE')\n"

#define DECODE_HELP \
    "  --beam K              beam width, 1 = greedy (default: the model's config,\n" \
    "                        else 1; summarize: 4)\n" \
    "  --length-penalty A    GNMT length penalty alpha (default: the model's config,\n" \
    "                        else 0; summarize: 1)\n" \
    "  --min-length N        no eos before N tokens (default: the config's, else 0)\n" \
    "  --keep-numbers        no eos while a number of the source is missing from the\n" \
    "                        output (default: the model's config, else off)\n" \
    "  --no-keep-numbers     turn that off\n" \
    "  --max-length N        at most N decoding steps, eos included\n" \
    "                        (default: config decoding.max_length, else 2 x source + 10)\n" \
    "  --compute f32|int8    f32: exact, outputs identical to PyTorch (default); int8:\n" \
    "                        faster, int8 weights in the RNNs and the output layer,\n" \
    "                        close to f32, and the model's lexical shortlist when\n" \
    "                        it has one\n" \
    "  --no-shortlist        int8: compute every target word, not the shortlist's\n" \
    "  --no-repeat-ngram N   never emit a token that repeats an N-gram of the output\n" \
    "  --coverage-penalty B  GNMT coverage penalty beta: rank finished hypotheses by\n" \
    "                        score / lp + B * sum_j log(min(1, attention on j))\n" \
    "  --prefix TEXT         force the output to start with TEXT (kept and scored)\n"

#define GENERATE_HELP \
    "  --prefix-column       input lines are 'source<TAB>target prefix'\n" \
    "  --sample              draw each token instead of searching (beam 1)\n" \
    "  --num-samples N       N samples per input, in sample order (default 1)\n" \
    "  --temperature T       sampling temperature (default 1)\n" \
    "  --top-k K             draw among the K most likely tokens (default 0: all)\n" \
    "  --top-p P             then among the fewest tokens reaching probability P\n" \
    "                        (default 1)\n" \
    "  --seed S              generator seed; sample k of line N depends only on\n" \
    "                        (S, N, k), whatever --threads (default 0)\n"

#define IO_HELP \
    "  -i, --input FILE      read FILE instead of standard input\n" \
    "  -o, --output FILE     write FILE instead of standard output\n" \
    "  --threads N           decode with N threads (output identical for any N; default 1)\n" \
    "  -q, --quiet           no progress bar\n" \
    "  -v, --verbose         at the end, lines, tokens, seconds and speed on stderr\n" \
    "  --lenient             replace invalid UTF-8 by U+FFFD instead of failing the line\n"

#define CASE_HELP \
    "  --case auto|off       auto (default): an ALL-CAPS or Title Case sentence is\n" \
    "                        decoded in ordinary case and its output given the\n" \
    "                        input's case back (not for models that lowercase)\n"

#define TRANSLATE_TAIL \
    "  --format text|jsonl   output format (default text; jsonl: one JSON object per line)\n" \
    "  --alignment hard|soft text: append ' ||| ' and the alignment: hard = Pharaoh\n" \
    "                        'src-tgt' pairs, soft = one row per step, comma-separated\n" \
    "  --scores              text: append ' ||| score= SCORE ||| RANKING_SCORE': the\n" \
    "                        sum of log-probabilities, then the score hypotheses are\n" \
    "                        ranked by (with the length penalty)\n" \
    "  --replace-unk         an emitted unk becomes the source word it attends to most\n" \
    "  -h, --help            this help\n" \
    "\nText lines are: [ID ||| ] text [||| alignment] [||| score= SCORE ||| RANKING_SCORE].\n" \
    "Exit status: 0 all lines done, 1 some lines failed (empty line or error object\n" \
    "in their place, message on stderr), 2 usage or model error.\n"

static const command_def COMMANDS[] = {
    {"translate",
     G_MODEL | G_IO | G_DECODE | G_NBEST | G_GENERATE | G_THREADS | G_FORMAT | G_ALIGN | G_SCORES | G_UNK | G_QUIET |
         G_LENIENT | G_SPLIT,
     "usage: s2s translate -m MODEL_DIR [OPTIONS] [TEXT...]\n"
     "Translates TEXT (the arguments joined by spaces), or else every line of the\n"
     "input, writing one line per input line, in order, as soon as it is done.\n\n"
     "  -m, --model DIR       model directory (config.json, weights, vocabularies)\n"
     "  --allow-nonfinite     load weights that hold NaN or infinities (debugging only)\n"
     IO_HELP DECODE_HELP NBEST_HELP GENERATE_HELP
     "  --split-sentences     translate each sentence of a line on its own and join the\n"
     "                        outputs with spaces on one line (the default)\n"
     "  --no-split-sentences  translate each line whole\n"
     CASE_HELP
     TRANSLATE_TAIL},
    {"summarize",
     G_MODEL | G_IO | G_DECODE | G_NBEST | G_GENERATE | G_THREADS | G_FORMAT | G_ALIGN | G_SCORES | G_UNK | G_QUIET |
         G_LENIENT | G_SPLIT,
     "usage: s2s summarize -m MODEL_DIR [OPTIONS] [TEXT...]\n"
     "Like translate, with the defaults a summarization model wants: beam size,\n"
     "length penalty, min/max length, n-gram blocking, coverage penalty and keep\n"
     "numbers from config.json \"decoding\" (beam_size, length_penalty, min_length,\n"
     "max_length, no_repeat_ngram, coverage_penalty, keep_numbers) as translate,\n"
     "but else beam 4 and length penalty 1, and each line read whole.\n\n"
     "  -m, --model DIR       model directory\n"
     "  --allow-nonfinite     load weights that hold NaN or infinities (debugging only)\n"
     IO_HELP DECODE_HELP NBEST_HELP GENERATE_HELP
     "  --split-sentences     summarize each sentence on its own (off by default:\n"
     "                        a summary reads the whole text)\n"
     "  --no-split-sentences  summarize each line whole (the default)\n"
     CASE_HELP
     TRANSLATE_TAIL},
    {"score",
     G_MODEL | G_IO | G_THREADS | G_FORMAT | G_ALIGN | G_QUIET | G_LENIENT,
     "usage: s2s score -m MODEL_DIR [OPTIONS] < pairs.tsv\n"
     "Forced decoding of 'source<TAB>target' lines: the target followed by eos is\n"
     "scored. Text lines are: score ||| per-step log-probabilities (eos step last)\n"
     "[||| alignment]; jsonl is the translate object with one hypothesis.\n\n"
     "  -m, --model DIR       model directory\n"
     "  --allow-nonfinite     load weights that hold NaN or infinities (debugging only)\n"
     IO_HELP
     "  --format text|jsonl   output format (default text)\n"
     "  --alignment hard|soft append the alignment (see s2s translate --help)\n"
     "  -h, --help            this help\n"
     "\nExit status: 0 all lines scored, 1 some lines failed, 2 usage or model error.\n"},
    {"align",
     G_MODEL | G_DECODE | G_COLOR | G_PICTURE | G_LENIENT,
     "usage: s2s align -m MODEL_DIR [OPTIONS] [TEXT...]\n"
     "Translates TEXT (or the first input line) and shows the attention matrix as a\n"
     "heatmap: source tokens as columns, output tokens as rows.\n\n"
     "  -m, --model DIR       model directory\n"
     "  --allow-nonfinite     load weights that hold NaN or infinities (debugging only)\n"
     DECODE_HELP
     "  --color never|always|auto  colour in the terminal (auto: stdout is a terminal,\n"
     "                        TERM is not 'dumb' and NO_COLOR is unset)\n"
     "  --svg FILE            also write a self-contained SVG heatmap\n"
     "  --html FILE           also write a self-contained HTML heatmap\n"
     "  --lenient             replace invalid UTF-8 by U+FFFD\n"
     "  -h, --help            this help\n"},
    {"info",
     G_MODEL | G_FORMAT,
     "usage: s2s info [-m MODEL_DIR] [--format text|json]\n"
     "Prints which model is used and why, the architecture, every tensor with its\n"
     "shape and dtype, the parameter count, the vocabulary sizes, the special\n"
     "tokens, the tokenizer settings, and the license, attribution and scores that\n"
     "config.json records.\n\n"
     "  -m, --model DIR       model directory (or give it as the argument)\n"
     "  --allow-nonfinite     load weights that hold NaN or infinities (debugging only)\n"
     "  --format text|json    output format (default text)\n"
     "  -h, --help            this help\n"},
    {"tokenize",
     G_MODEL | G_IO | G_SIDE | G_LENIENT | G_QUIET,
     "usage: s2s tokenize -m MODEL_DIR [OPTIONS] [TEXT...]\n"
     "Prints the tokens of TEXT or of each input line, space-separated, one line per\n"
     "input line (the source side includes the appended eos; a space inside a\n"
     "token is shown as U+2423).\n\n"
     "  -m, --model DIR       model directory\n"
     "  --allow-nonfinite     load weights that hold NaN or infinities (debugging only)\n"
     "  -i, --input FILE, -o, --output FILE\n"
     "  -q, --quiet, -v, --verbose  no progress bar; a summary at the end\n"
     "  --side source|target  which vocabulary and rules (default source)\n"
     "  --show tokens|pieces|ids  vocabulary tokens (default), the strings split\n"
     "                        from the text before vocabulary look-up, or ids\n"
     "  --lenient             replace invalid UTF-8 by U+FFFD\n"
     "  -h, --help            this help\n"},
    {"serve",
     0, /* parsed by cmd_serve.c */
     "usage: s2s serve -m MODEL_DIR [-m MODEL_DIR2 ...] [OPTIONS]\n"
     "Serves the models over HTTP: POST /translate (LibreTranslate's API),\n"
     "POST /v1/translate and /v1/score (the jsonl objects of translate and score),\n"
     "GET /v1/models, GET /health, GET /languages, and GET / (the attention\n"
     "explorer page). A model is named by its directory's last component.\n\n"
     "  -m, --model DIR       a model directory (repeat for more models)\n"
     "  --host ADDR           address to listen on (default 127.0.0.1; 0.0.0.0 or ::\n"
     "                        for every interface: there is no authentication)\n"
     "  --port N              TCP port (default 8080; 0: any free port)\n"
     "  --threads N           decoding workers, each with its own sessions (default 1)\n"
     "  --queue N             requests waiting for a worker before 503 (default 64)\n"
     "  --timeout SEC         most seconds a request may wait and decode (default 30)\n"
     "  --max-body BYTES      largest request body (default 1048576)\n"
     "  --max-line BYTES      largest input text or line (default 4096)\n"
     "  --max-lines N         most input lines per request (default 64)\n"
     "  --max-beam K          largest beam and n_best (default 16)\n"
     "  --max-length N        largest max_length and min_length (default 512)\n"
     "  --max-connections N   open connections (default 256)\n"
     "  --idle-timeout SEC    close a connection idle this long (default 30)\n"
     "  -q, --quiet           no line per request on standard error\n"
     "  -h, --help            this help\n"
     "\nStops cleanly on SIGINT or SIGTERM. Never modify a served model's files in\n"
     "place: write a new directory, rename it over the old one, restart the server.\n"},
};
#define N_COMMANDS (sizeof COMMANDS / sizeof COMMANDS[0])

static const char OVERVIEW[] =
    "usage: s2s COMMAND [OPTIONS]\n"
    "A small sequence-to-sequence inference engine (RNN encoder, attention decoder).\n\n"
    "commands:\n"
    "  translate   translate text or lines of input\n"
    "  summarize   the same with a summarization model's defaults\n"
    "  score       forced decoding of source<TAB>target lines\n"
    "  align       show the attention matrix as a heatmap (terminal, SVG, HTML)\n"
    "  info        describe a model: architecture, tensors, vocabularies, tokenizer\n"
    "  tokenize    show how a model tokenizes text\n"
    "  serve       HTTP server: translation API and attention explorer page\n"
    "  help CMD    help for one command (also: s2s CMD --help)\n\n"
    "  --version   print the version\n";

/* The definition of command `name`, or NULL. */
static const command_def *find_command(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(COMMANDS[i].name, name) == 0) return &COMMANDS[i];
    return NULL;
}

void cli_print_help(FILE *f, const char *cmd)
{
    const command_def *c = cmd ? find_command(cmd) : NULL;
    fputs(c ? c->help : OVERVIEW, f);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "s2s %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see 's2s %s --help')\n", cmd);
    return CLI_EXIT_USAGE;
}

/* Parses a whole decimal integer in [lo, hi] for option `flag`. */
static int parse_int(const char *cmd, const char *flag, const char *s, long lo, long hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || errno == ERANGE)
        return cli_usage_error(cmd, "option '--%s' wants a whole number, not '%s'", flag, s);
    if (v < lo || v > hi)
        return cli_usage_error(cmd, "option '--%s' must be between %ld and %ld, not %ld", flag, lo, hi, v);
    *out = (int)v;
    return 0;
}

/* Parses a whole decimal number in 0..2^64-1 for option `flag`. */
static int parse_seed(const char *cmd, const char *flag, const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || *end != '\0' || errno == ERANGE || s[0] == '-')
        return cli_usage_error(cmd, "option '--%s' wants a whole number from 0 to 2^64-1, not '%s'", flag, s);
    *out = (uint64_t)v;
    return 0;
}

/* Parses a finite decimal number in [lo, hi] for option `flag`. */
static int parse_float(const char *cmd, const char *flag, const char *s, double lo, double hi, float *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || errno == ERANGE || !isfinite(v))
        return cli_usage_error(cmd, "option '--%s' wants a number, not '%s'", flag, s);
    if (v < lo || v > hi)
        return cli_usage_error(cmd, "option '--%s' must be between %g and %g, not %g", flag, lo, hi, v);
    *out = (float)v;
    return 0;
}

/* Maps `s` to the index of an equal string in the NULL-terminated `names`,
 * or reports a usage error naming `flag` and the choices. */
static int parse_choice(const char *cmd, const char *flag, const char *s, const char *const *names, int *out)
{
    char choices[256] = "";
    for (int i = 0; names[i]; i++) {
        if (strcmp(s, names[i]) == 0) { *out = i; return 0; }
        if (i) strncat(choices, ", ", sizeof choices - strlen(choices) - 1);
        strncat(choices, names[i], sizeof choices - strlen(choices) - 1);
    }
    return cli_usage_error(cmd, "option '--%s' must be one of %s, not '%s'", flag, choices, s);
}

static const char *const ALIGN_NAMES[] = {"none", "hard", "soft", NULL};
static const char *const COLOR_NAMES[] = {"auto", "never", "always", NULL};
static const char *const SIDE_NAMES[] = {"source", "target", NULL};
static const char *const SHOW_NAMES[] = {"tokens", "pieces", "ids", NULL};
static const char *const CASE_NAMES[] = {"auto", "off", NULL};
static const char *const COMPUTE_NAMES[] = {"f32", "int8", NULL}; /* in s2s_compute order */
static const char *const FORMAT_TEXT_JSONL[] = {"text", "jsonl", NULL};
static const char *const FORMAT_TEXT_JSON[] = {"text", "json", NULL};

/* --format: text|jsonl, or text|json for info. */
static int parse_format(const char *cmd, const char *name, const char *arg, int *out)
{
    if (strcmp(cmd, "info") != 0) return parse_choice(cmd, name, arg, FORMAT_TEXT_JSONL, out);
    int v;
    if (parse_choice(cmd, name, arg, FORMAT_TEXT_JSON, &v)) return CLI_EXIT_USAGE;
    *out = v ? CLI_FMT_JSON : CLI_FMT_TEXT;
    return 0;
}

/* Applies option `val` with argument `arg` to `o`; 0 or CLI_EXIT_USAGE. */
static int apply_option(const char *cmd, int val, const char *name, const char *arg, cli_opts *o)
{
    switch (val) {
    case 'm': o->model_dir = arg; return 0;
    case 'i': o->input = arg; return 0;
    case 'o': o->output = arg; return 0;
    case 'q': o->quiet = 1; return 0;
    case 'v': o->verbose = 1; return 0;
    case O_BEAM: o->beam_set = 1; return parse_int(cmd, name, arg, 1, S2S_MAX_BEAM, &o->dp.beam_size);
    case O_NBEST: o->n_best_set = 1; return parse_int(cmd, name, arg, 1, S2S_MAX_BEAM, &o->dp.n_best);
    case O_LP: o->lp_set = 1; return parse_float(cmd, name, arg, 0.0, S2S_MAX_LENGTH_PENALTY, &o->dp.length_penalty);
    case O_MINLEN: o->min_len_set = 1; return parse_int(cmd, name, arg, 0, S2S_MAX_DECODE_STEPS, &o->dp.min_length);
    case O_MAXLEN: o->max_len_set = 1; return parse_int(cmd, name, arg, 1, S2S_MAX_DECODE_STEPS, &o->dp.max_length);
    case O_THREADS: return parse_int(cmd, name, arg, 1, CLI_MAX_THREADS, &o->threads);
    case O_COMPUTE: {
        int v;
        if (parse_choice(cmd, name, arg, COMPUTE_NAMES, &v)) return CLI_EXIT_USAGE;
        o->dp.compute = v == 1 ? S2S_COMPUTE_INT8 : S2S_COMPUTE_F32;
        return 0;
    }
    case O_NO_SHORTLIST: o->dp.shortlist = 0; return 0;
    case O_KEEP_NUMBERS: o->keep_numbers_set = 1; o->dp.keep_numbers = 1; return 0;
    case O_NO_KEEP_NUMBERS: o->keep_numbers_set = 1; o->dp.keep_numbers = 0; return 0;
    case O_FORMAT:
        o->format_set = 1;
        return parse_format(cmd, name, arg, &o->format);
    case O_ALIGNMENT: return parse_choice(cmd, name, arg, ALIGN_NAMES, &o->alignment);
    case O_SCORES: o->scores = 1; return 0;
    case O_REPLACE_UNK: o->replace_unk = 1; return 0;
    case O_LENIENT: o->lenient = 1; return 0;
    case O_ALLOW_NONFINITE: o->allow_nonfinite = 1; return 0;
    case O_COLOR: return parse_choice(cmd, name, arg, COLOR_NAMES, &o->color);
    case O_SVG: o->svg = arg; return 0;
    case O_HTML: o->html = arg; return 0;
    case O_SIDE: return parse_choice(cmd, name, arg, SIDE_NAMES, &o->side);
    case O_SHOW: return parse_choice(cmd, name, arg, SHOW_NAMES, &o->show);
    case O_NO_REPEAT:
        o->no_repeat_set = 1;
        return parse_int(cmd, name, arg, 0, S2S_MAX_DECODE_STEPS, &o->dp.no_repeat_ngram);
    case O_COVERAGE_PENALTY:
        o->coverage_penalty_set = 1;
        return parse_float(cmd, name, arg, 0.0, 1000.0, &o->dp.coverage_penalty);
    case O_PREFIX: o->prefix = arg; return 0;
    case O_TSV_PREFIX: o->prefix_column = 1; return 0;
    case O_SAMPLE: o->dp.sampling = 1; return 0;
    case O_TEMPERATURE: return parse_float(cmd, name, arg, 1e-6, 1e6, &o->dp.temperature);
    case O_TOP_K: return parse_int(cmd, name, arg, 0, 1 << 30, &o->dp.top_k);
    case O_TOP_P: return parse_float(cmd, name, arg, 1e-9, 1.0, &o->dp.top_p);
    case O_SEED: return parse_seed(cmd, name, arg, &o->dp.seed);
    case O_NUM_SAMPLES: return parse_int(cmd, name, arg, 1, S2S_MAX_BEAM, &o->dp.num_samples);
    case O_SPLIT: o->split_sentences = 1; return 0;
    case O_NO_SPLIT: o->split_sentences = 0; return 0;
    case O_CASE: return parse_choice(cmd, name, arg, CASE_NAMES, &o->case_mode);
    }
    return cli_usage_error(cmd, "internal: unhandled option '--%s'", name);
}

/* Builds the getopt_long table of the options of `groups`. */
static void build_long_options(unsigned groups, struct option *lo)
{
    size_t n = 0;
    for (size_t i = 0; i < N_OPTIONS; i++) {
        if (!(OPTIONS[i].group & groups)) continue;
        lo[n].name = OPTIONS[i].name;
        lo[n].has_arg = OPTIONS[i].has_arg;
        lo[n].flag = NULL;
        lo[n].val = OPTIONS[i].val;
        n++;
    }
    memset(&lo[n], 0, sizeof lo[n]);
}

/* Long name of option value `val`. */
static const char *option_name(int val)
{
    for (size_t i = 0; i < N_OPTIONS; i++)
        if (OPTIONS[i].val == val) return OPTIONS[i].name;
    return "?";
}

/* The group of option value `val`. */
static unsigned option_group(int val)
{
    for (size_t i = 0; i < N_OPTIONS; i++)
        if (OPTIONS[i].val == val) return OPTIONS[i].group;
    return 0;
}

/* Refuses option `val` (given in its long form when `is_long`), known but
 * not one `cmd` uses (it would be ignored). */
static int report_foreign_option(const char *cmd, int val, int is_long)
{
    if (!is_long)
        return cli_usage_error(cmd, "option '-%c' (--%s) does not apply to 's2s %s'", val, option_name(val), cmd);
    return cli_usage_error(cmd, "option '--%s' does not apply to 's2s %s'", option_name(val), cmd);
}

/* Reports the option getopt stopped at (`c` is '?' or ':'). */
static int report_bad_option(const char *cmd, int c, char **argv)
{
    const char *word = argv[optind - 1];
    if (c == ':')
        return cli_usage_error(cmd, "option '%s' needs a value", word);
    if (optopt && optopt < 256 && strncmp(word, "--", 2) != 0)
        return cli_usage_error(cmd, "unknown option '-%c'", optopt);
    return cli_usage_error(cmd, "unknown option '%s'", word);
}

/* Sets the defaults every subcommand starts from. */
static void set_defaults(const char *cmd, cli_opts *o)
{
    memset(o, 0, sizeof *o);
    o->cmd = cmd;
    o->dp = s2s_decode_default_params();
    o->threads = 1;
    o->side = S2S_SOURCE;
    o->split_sentences = -1;
}

/* Checks combinations that single options cannot. */
static int check_combinations(cli_opts *o)
{
    if (o->n_best_set && !o->beam_set && o->dp.n_best > o->dp.beam_size)
        o->dp.beam_size = o->dp.n_best;
    if (o->dp.n_best > o->dp.beam_size)
        return cli_usage_error(o->cmd, "option '--n-best' (%d) cannot exceed '--beam' (%d)",
                               o->dp.n_best, o->dp.beam_size);
    if (o->min_len_set && o->max_len_set && o->dp.min_length >= o->dp.max_length)
        return cli_usage_error(o->cmd, "option '--min-length' (%d) must be below '--max-length' (%d)",
                               o->dp.min_length, o->dp.max_length);
    if (o->input && o->n_args > 0)
        return cli_usage_error(o->cmd, "give either TEXT arguments or '--input', not both");
    if (o->dp.sampling && o->beam_set && o->dp.beam_size != 1)
        return cli_usage_error(o->cmd, "option '--sample' draws tokens one row at a time: it does not combine with "
                                       "'--beam' %d", o->dp.beam_size);
    if (o->dp.sampling && o->n_best_set)
        return cli_usage_error(o->cmd, "option '--sample' gives '--num-samples' hypotheses, not '--n-best'");
    if (o->prefix && o->prefix_column)
        return cli_usage_error(o->cmd, "give either '--prefix' or '--prefix-column', not both");
    return 0;
}

int cli_parse(const char *cmd, int argc, char **argv, cli_opts *o)
{
    const command_def *c = find_command(cmd);
    struct option lo[N_OPTIONS + 1];
    set_defaults(cmd, o);
    build_long_options(~0u, lo); /* every option is known, so that one of */
    const char *shortopts = ":hm:i:o:qv"; /* another command is named as such */
    opterr = 0;
    optind = 1;
    int ch, idx;
    while ((idx = -1, ch = getopt_long(argc, argv, shortopts, lo, &idx)) != -1) {
        if (ch == 'h') { cli_print_help(stdout, cmd); return -1; }
        if (ch == '?' || ch == ':') return report_bad_option(cmd, ch, argv);
        if (!(option_group(ch) & c->groups)) return report_foreign_option(cmd, ch, idx >= 0);
        if (apply_option(cmd, ch, option_name(ch), optarg, o)) return CLI_EXIT_USAGE;
    }
    o->args = argv + optind;
    o->n_args = argc - optind;
    return check_combinations(o);
}

FILE *cli_open_output(const cli_opts *o)
{
    if (!o->output || strcmp(o->output, "-") == 0) return stdout;
    FILE *f = fopen(o->output, "w");
    if (!f)
        fprintf(stderr, "s2s %s: cannot write '%s': %s\n", o->cmd, o->output, strerror(errno));
    return f;
}

int cli_close_output(const cli_opts *o, FILE *f)
{
    int bad = fflush(f) != 0 || ferror(f);
    if (f != stdout && fclose(f) != 0) bad = 1;
    if (bad)
        fprintf(stderr, "s2s %s: error writing '%s': %s\n", o->cmd,
                f == stdout ? "standard output" : o->output, strerror(errno));
    return bad ? -1 : 0;
}

/* The TEXT arguments joined by single spaces, malloc'd; NULL when out of memory. */
static char *join_args(char **args, int n)
{
    size_t len = 1;
    for (int i = 0; i < n; i++) len += strlen(args[i]) + 1;
    char *text = calloc(1, len);
    for (int i = 0; text && i < n; i++) {
        if (i) strcat(text, " ");
        strcat(text, args[i]);
    }
    return text;
}

int cli_open_input(const cli_opts *o, line_reader *r)
{
    if (o->n_args > 0) {
        char *text = join_args(o->args, o->n_args);
        int rc = text ? lr_open_text(r, text) : -1;
        free(text);
        if (rc < 0) fprintf(stderr, "s2s %s: out of memory\n", o->cmd);
        return rc;
    }
    if (lr_open(r, o->input) == 0) return 0;
    fprintf(stderr, "s2s %s: cannot read '%s': %s\n", o->cmd, o->input ? o->input : "-", strerror(errno));
    return -1;
}
