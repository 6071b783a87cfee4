/*
 * cli.h - shared pieces of the s2s command: options, exit codes, input
 * reading, JSON writing, progress display. Everything that prints lives in
 * tools/; the library never prints.
 */
#ifndef S2S_CLI_H
#define S2S_CLI_H

#include <stdio.h>
#include <stddef.h>
#include <sys/types.h>

#include "s2s.h"

/* Exit statuses of every command. */
#define CLI_EXIT_OK 0       /* every line went well */
#define CLI_EXIT_LINES 1    /* some lines failed; the others were written */
#define CLI_EXIT_USAGE 2    /* usage error or a model that cannot be loaded */

/* Limits. The reader's may be set smaller at build time (the line-reader
 * fuzz target does, to reach its edge cases with small inputs). */
#ifndef CLI_MAX_LINE_BYTES
#define CLI_MAX_LINE_BYTES (16u << 20)   /* longer input lines are refused (and skipped) */
#endif
#define CLI_CHUNK_LINES 512              /* lines decoded per parallel chunk */
#define CLI_BATCH_LINES 16               /* lines decoded as one batch by one thread */
#define CLI_CHUNK_BYTES (8u << 20)       /* a chunk stops growing past this many bytes */
#ifndef CLI_READ_BYTES
#define CLI_READ_BYTES 65536             /* free room kept before a read(2) */
#endif
#ifndef CLI_READ_MAX
#define CLI_READ_MAX (1u << 20)          /* most bytes asked of one read(2) */
#endif
#define CLI_MAX_THREADS 256
#define CLI_PROGRESS_MIN_INTERVAL 0.2    /* seconds between progress redraws */

enum cli_format { CLI_FMT_TEXT = 0, CLI_FMT_JSONL, CLI_FMT_JSON };
enum cli_align { CLI_ALIGN_NONE = 0, CLI_ALIGN_HARD, CLI_ALIGN_SOFT };
enum cli_color { CLI_COLOR_AUTO = 0, CLI_COLOR_NEVER, CLI_COLOR_ALWAYS };
enum cli_show { CLI_SHOW_TOKENS = 0, CLI_SHOW_PIECES, CLI_SHOW_IDS };
enum cli_case_mode { CLI_CASE_AUTO = 0, CLI_CASE_OFF };

/* Everything the command line can set; each subcommand reads what it needs. */
typedef struct cli_opts {
    const char *cmd;            /* subcommand name, for messages */
    const char *model_dir;
    int model_from;             /* enum cli_model_from */
    char model_buf[4096];       /* model_dir when cli_pick_model made it */
    const char *input, *output; /* NULL: stdin / stdout */
    s2s_decode_params dp;
    int beam_set, n_best_set, lp_set, max_len_set, min_len_set, no_repeat_set, coverage_penalty_set;
    int keep_numbers_set;
    int threads;
    int format;                 /* enum cli_format */
    int format_set;
    int alignment;              /* enum cli_align */
    int scores, replace_unk, quiet, lenient;
    int verbose;                /* -v: a timing summary on stderr at the end */
    double load_seconds;        /* how long cli_load_model took */
    const char *prefix;         /* --prefix: target prefix of every line, or NULL */
    int prefix_column;          /* --prefix-column: lines are source<TAB>prefix */
    int split_sentences;        /* -1: the command's default (translate on, summarize off) */
    int case_mode;              /* enum cli_case_mode; default auto */
    int allow_nonfinite;        /* load a model with NaN/infinite weights */
    int color;                  /* enum cli_color */
    const char *svg, *html;
    int side;                   /* s2s_side, for tokenize */
    int show;                   /* enum cli_show, for tokenize */
    char **args;                /* positional arguments */
    int n_args;
} cli_opts;

/* ---- cli_opts.c ---- */

/* Parses argv (argv[0] is the subcommand name) for subcommand `cmd` into
 * `o`. Prints help and returns -1 for --help; prints a message naming the
 * bad flag and returns CLI_EXIT_USAGE for a usage error; returns 0 when the
 * command should run. */
int cli_parse(const char *cmd, int argc, char **argv, cli_opts *o);

/* Prints the help text of `cmd` (NULL: the overview) to `f`. */
void cli_print_help(FILE *f, const char *cmd);

/* Prints "s2s CMD: message" and the --help hint on stderr; returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- cli_model.c ---- */

/* Where the model directory came from. */
enum cli_model_from {
    CLI_MODEL_OPTION = 0,  /* -m DIR (or the argument of info) */
    CLI_MODEL_ENV,         /* $S2S_MODEL */
    CLI_MODEL_INSTALLED,   /* DATADIR/models/fra-eng, installed by make install */
    CLI_MODEL_SOURCE_TREE, /* models/fra-eng beside the command's source tree */
};

/* Picks the model when -m was not given (o->model_dir NULL): $S2S_MODEL
 * when set and not empty, else the installed default model
 * (S2S_DATADIR/models/fra-eng, S2S_DATADIR set at build time), else
 * models/fra-eng of the source tree the command was built in (the
 * directory above the executable's, found through /proc/self/exe). Sets
 * o->model_dir (owned by o, in o->model_buf) and o->model_from. Returns 0,
 * or -1 after printing where it looked. */
int cli_pick_model(cli_opts *o);

/* Picks the model (cli_pick_model) and loads it, printing a message on
 * failure (then NULL; exit 2). */
s2s_model *cli_load_model(cli_opts *o);

/* Sets the decoding options the command line (or request) left unset from
 * the model's config "decoding" (beam_size, length_penalty, min_length,
 * no_repeat_ngram, coverage_penalty, keep_numbers), never contradicting an
 * option that was set: the beam stays at least n_best, min_length below a
 * given max_length, and sampling keeps beam 1. Where the config is silent,
 * `summarize` uses beam 4 and length penalty 1; translate keeps its own
 * defaults (greedy, no length penalty). */
void cli_model_defaults(cli_opts *o, const s2s_model *m, int summarize);

/* A phrase saying where the model came from ("given with -m", ...). */
const char *cli_model_from_text(int from);

/* Opens the input: the TEXT arguments joined by spaces as one text, else
 * o->input or standard input. 0, or -1 after printing why. */
struct line_reader;
int cli_open_input(const cli_opts *o, struct line_reader *r);

/* Opens o->output (or returns stdout); NULL with a message on failure. */
FILE *cli_open_output(const cli_opts *o);

/* Closes what cli_open_output opened; returns 0, or -1 after printing a
 * message when the output could not be written completely. */
int cli_close_output(const cli_opts *o, FILE *f);

/* ---- cli_io.c: line reading ---- */

enum lr_result { LR_LINE, LR_EOF, LR_WOULD_BLOCK, LR_TOO_LONG, LR_ERROR };

/* Reads lines from a file descriptor, or from a fixed memory text. */
typedef struct line_reader {
    int fd;              /* -1 for a memory text */
    char *buf;
    size_t cap, start, end;
    size_t scanned;      /* bytes after start known to hold no newline */
    int eof;
    int skipping;        /* inside a line longer than CLI_MAX_LINE_BYTES */
    int regular;         /* a regular file or memory text: reading never blocks long */
    off_t size;          /* total bytes when known, else -1 */
    off_t consumed;      /* bytes handed out so far */
} line_reader;

/* Opens `path` (NULL or "-": standard input). Returns 0, or -1 with errno. */
int lr_open(line_reader *r, const char *path);
/* Makes a reader over a copy of `text` (the positional arguments). */
int lr_open_text(line_reader *r, const char *text);
/* Next line (without its newline and a trailing CR) into *line and *len, valid
 * until the next call. With may_block 0 it returns LR_WOULD_BLOCK instead of
 * waiting for a pipe or terminal. LR_TOO_LONG: a line over the limit was
 * skipped whole. */
int lr_next(line_reader *r, int may_block, char **line, size_t *len);
void lr_close(line_reader *r);

/* ---- cli_json.c: JSON writing ---- */

/* Writes `s` (`len` bytes) as a JSON string: quotes, escapes for " \ and
 * control characters, invalid UTF-8 bytes as \ufffd. */
void cli_json_str(FILE *f, const char *s, size_t len);
/* Same for a NUL-terminated string (NULL writes null). */
void cli_json_cstr(FILE *f, const char *s);
/* Writes a number with 9 significant digits; NaN and infinities as null. */
void cli_json_num(FILE *f, double v);
/* Writes a number for text output ("%.9g"; nan/inf/-inf spelled out). */
void cli_text_num(FILE *f, double v);

/* ---- cli_progress.c ---- */

typedef struct cli_progress {
    int enabled;
    double t0, last;
    long done;
    const line_reader *reader; /* for the fraction of input consumed */
} cli_progress;

/* Enables the bar when stderr is a terminal and not `quiet`. */
void cli_progress_start(cli_progress *p, const line_reader *r, int quiet);
/* Records `lines` more finished lines and redraws at most every
 * CLI_PROGRESS_MIN_INTERVAL seconds. */
void cli_progress_add(cli_progress *p, long lines);
/* Erases the bar. */
void cli_progress_end(cli_progress *p);
/* Seconds on a monotonic clock. */
double cli_now(void);

/* ---- cli_run.c: the parallel line pipeline ---- */

/* One input line and what became of it. */
typedef struct cli_job {
    char *text;          /* the line: an owned copy, or (borrowed) the
                            reader's buffer, valid until its next read */
    int borrowed;
    size_t len;
    long id;             /* 0-based line number */
    int too_long;        /* the line was over CLI_MAX_LINE_BYTES */
    char *out;           /* formatted output, newline included (owned) */
    size_t out_len;
    char *msg;           /* message for stderr, or NULL (owned) */
    int failed;
    long tokens_in;      /* tokens read (source, or source and target), for -v */
    long tokens_out;     /* tokens produced (best hypothesis), for -v */
    int msg_lost;        /* a message could not be stored (out of memory) */
    int no_text;         /* the line could not be copied (out of memory) */
    char fail_text[256]; /* the failure message, kept without allocating */
} cli_job;

/* Turns one job into output with `session`; thread-safe given distinct
 * sessions. `ctx` is the subcommand's own context. */
typedef void (*cli_job_fn)(void *ctx, s2s_session *session, cli_job *job);
/* The same for jobs[0..n) at once (e.g. decoded as one batch); jobs that
 * are already failed must be skipped. */
typedef void (*cli_block_fn)(void *ctx, s2s_session *session, cli_job *jobs, int n);

/* What a subcommand does with its lines: `block` when not NULL, else `job`. */
typedef struct cli_handler {
    cli_job_fn job;
    cli_block_fn block;
    void *ctx;
    const char *tokens_in;  /* -v: what tokens_in counts ("source tokens"), NULL: nothing */
    const char *tokens_out; /* -v: what tokens_out counts, NULL: nothing */
} cli_handler;

/* Reads every line of `r`, runs the handler on each with o->threads
 * threads, and writes outputs in input order to `out` and messages to
 * stderr; with o->verbose, ends with a summary line on stderr: lines (and
 * failed ones), the handler's token counts, seconds, lines/s, tokens/s. Returns CLI_EXIT_OK, CLI_EXIT_LINES when some job failed, or
 * CLI_EXIT_USAGE for a read error or when sessions cannot be made. */
int cli_run_lines(const cli_opts *o, const s2s_model *m, line_reader *r, FILE *out, const cli_handler *h);
/* Opens o's input and output, runs cli_run_lines, closes both; returns its
 * exit status, or CLI_EXIT_USAGE when a file cannot be opened or written. */
int cli_run_stream(const cli_opts *o, const s2s_model *m, const cli_handler *h);

/* Sets job->failed and job->msg = "line N: <message>", and job->out to the
 * error form of the format: an empty line (text) or {"id","error"} (jsonl). */
void cli_job_fail(cli_job *job, int format, const char *message);
/* Closes the memory stream `f` that wrote job->out (f may be NULL when
 * open_memstream failed) and fails the job when any write to it failed,
 * so that an output line is never silently empty or cut. Returns 0, or -1
 * when the job was failed. */
int cli_job_close_output(cli_job *job, FILE *f, int format);
/* Warns that `what` ("input", "source", "target") was cut at the model's
 * tokenizer max_input_tokens. */
void cli_job_warn_cut(cli_job *job, const s2s_model *m, const char *what);
/* Appends a warning "line N: <message>" to job->msg. */
void cli_job_warn(cli_job *job, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- cli_format.c ---- */

/* Index of the largest entry of row[0..n) (the first on ties); -1 if n <= 0. */
int cli_argmax(const float *row, int n);

/* ---- cmd_info.c ---- */

/* What `s2s info --format json` prints for `m`, as a cJSON object the
 * caller frees with cJSON_Delete(); NULL when out of memory. */
struct cJSON;
struct cJSON *cli_model_info_json(const s2s_model *m);

/* ---- commands ---- */
int cmd_translate(int argc, char **argv);   /* also "summarize" via argv[0] */
int cmd_score(int argc, char **argv);
int cmd_align(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_serve(int argc, char **argv);

#endif
