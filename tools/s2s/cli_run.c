/*
 * cli_run.c - the line pipeline shared by translate, summarize, score and
 * tokenize: read a chunk of lines (only what is already available when the
 * input is a pipe or terminal), process it with an OpenMP parallel for (one
 * session per thread), write the results in input order, repeat.
 * Output order and content do not depend on the number of threads.
 */
#include <errno.h>
#include <sys/stat.h>
#include <omp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Appends a formatted line to the malloc'd string *dst; 0, or -1 when out
 * of memory (*dst unchanged). */
static int append_line(char **dst, const char *fmt, va_list ap)
{
    char *add = NULL;
    if (vasprintf(&add, fmt, ap) < 0) return -1;
    size_t old = *dst ? strlen(*dst) : 0, n = strlen(add);
    char *s = realloc(*dst, old + n + 2);
    if (!s) { free(add); return -1; }
    memcpy(s + old, add, n);
    s[old + n] = '\n';
    s[old + n + 1] = '\0';
    *dst = s;
    free(add);
    return 0;
}

/* Appends "<fmt...>" as one line to job->msg; notes a lost message. */
static void job_error_msg(cli_job *job, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (append_line(&job->msg, fmt, ap) < 0) job->msg_lost = 1;
    va_end(ap);
}

void cli_job_warn(cli_job *job, const char *fmt, ...)
{
    char *body = NULL;
    va_list ap;
    va_start(ap, fmt);
    int k = vasprintf(&body, fmt, ap);
    va_end(ap);
    if (k < 0) { job->msg_lost = 1; return; }
    job_error_msg(job, "line %ld: warning: %s", job->id + 1, body);
    free(body);
}

void cli_job_warn_cut(cli_job *job, const s2s_model *m, const char *what)
{
    s2s_model_info in;
    s2s_model_get_info(m, &in);
    cli_job_warn(job, "%s longer than %d tokens (tokenizer max_input_tokens): the rest is ignored", what,
                 in.max_input_tokens);
}

/* The error form of a line: an empty line (text) or {"id", "error"} (jsonl). */
static void write_error_form(FILE *f, const cli_job *job, int format)
{
    if (format == CLI_FMT_JSONL) {
        fprintf(f, "{\"id\": %ld, \"error\": ", job->id);
        cli_json_cstr(f, job->fail_text);
        fputc('}', f);
    }
    fputc('\n', f);
}

void cli_job_fail(cli_job *job, int format, const char *message)
{
    job->failed = 1;
    /* kept in the job itself: written even when nothing can be allocated */
    snprintf(job->fail_text, sizeof job->fail_text, "%s", message);
    job_error_msg(job, "line %ld: %s", job->id + 1, message);
    free(job->out);
    job->out = NULL;
    job->out_len = 0;
    FILE *f = open_memstream(&job->out, &job->out_len);
    if (!f) return; /* write_chunk writes the error form directly */
    write_error_form(f, job, format);
    if (ferror(f) | (fclose(f) != 0)) {
        free(job->out);
        job->out = NULL;
        job->out_len = 0;
    }
}

int cli_job_close_output(cli_job *job, FILE *f, int format)
{
    int bad = !f || ferror(f);
    if (f && fclose(f) != 0) bad = 1;
    if (!bad && job->out) return 0;
    cli_job_fail(job, format, "out of memory while writing the output of this line");
    return -1;
}

/* Reads up to a chunk of lines into jobs[]; only the first read may wait.
 * Returns the number read (0 at end of input) or -1 on a read error. */
static int read_chunk(line_reader *r, int max_lines, long *next_id, cli_job *jobs)
{
    int n = 0;
    size_t bytes = 0;
    while (n < max_lines && bytes < CLI_CHUNK_BYTES) {
        char *line;
        size_t len;
        int k = lr_next(r, n == 0, &line, &len);
        if (k == LR_EOF || k == LR_WOULD_BLOCK) break;
        if (k == LR_ERROR) return -1;
        cli_job *j = &jobs[n++];
        memset(j, 0, sizeof *j);
        j->id = (*next_id)++;
        j->too_long = k == LR_TOO_LONG;
        j->len = j->too_long ? 0 : len;
        bytes += j->len;
        if (!j->too_long && (n >= max_lines || bytes >= CLI_CHUNK_BYTES)) {
            /* the chunk ends with this line, so the reader's buffer stays as
             * it is until the chunk is written: no copy (a long line would
             * otherwise be held twice) */
            j->text = line;
            j->borrowed = 1;
            break;
        }
        j->text = malloc(j->len + 1);
        if (!j->text) { /* the line is lost, not the stream: failed in place */
            j->no_text = 1;
            j->len = 0;
            continue;
        }
        memcpy(j->text, j->too_long ? "" : line, j->len);
        j->text[j->len] = '\0';
    }
    return n;
}

/* Fails the jobs whose line was too long to be read, or could not be
 * copied. */
static void fail_unread(cli_job *jobs, int n, int format)
{
    for (int i = 0; i < n; i++) {
        if (jobs[i].no_text) {
            cli_job_fail(&jobs[i], format, "out of memory reading this line");
        } else if (jobs[i].too_long) {
            char msg[128];
            snprintf(msg, sizeof msg, "line longer than %u bytes, skipped", CLI_MAX_LINE_BYTES);
            cli_job_fail(&jobs[i], format, msg);
        }
    }
}

/* Fails the jobs that the handler left without output (it could not
 * allocate it): no line comes out empty without a message. */
static void fail_without_output(cli_job *jobs, int n, int format)
{
    for (int i = 0; i < n; i++)
        if (!jobs[i].failed && !jobs[i].out)
            cli_job_fail(&jobs[i], format, "out of memory: no output for this line");
}

/* The lines per block when n lines go to nt threads: at most
 * CLI_BATCH_LINES, in blocks of nearly equal size whose count is rounded up to
 * a multiple of nt, so that threads seldom wait at the end of the chunk
 * while another decodes one more block (72 lines on 2 threads: 6 blocks of
 * 12, not 16+16+16+16+8). */
static int block_lines(int n, int nt)
{
    int n_blocks = (n + CLI_BATCH_LINES - 1) / CLI_BATCH_LINES;
    n_blocks = (n_blocks + nt - 1) / nt * nt;
    if (n_blocks > n) n_blocks = n;
    return n_blocks > 0 ? (n + n_blocks - 1) / n_blocks : 1;
}

/* order[0 .. n_blocks) := the blocks of `size` jobs, longest text first
 * (ties in input order), so that threads handing out blocks in this order
 * finish the chunk with short ones and wait little for each other. */
static void blocks_longest_first(const cli_job *jobs, int n, int size, int n_blocks, int *order, size_t *bytes)
{
    for (int b = 0; b < n_blocks; b++) {
        bytes[b] = 0;
        for (int i = b * size; i < n && i < (b + 1) * size; i++) bytes[b] += jobs[i].len;
        int j = b;
        for (; j > 0 && bytes[order[j - 1]] < bytes[b]; j--) order[j] = order[j - 1];
        order[j] = b;
    }
}

/* Runs the handler over jobs[0..n) with `nt` threads, session t for thread
 * t: `block` on runs of up to CLI_BATCH_LINES jobs (block_lines) when given,
 * longest first, else `fn` on each job. Jobs already failed are left alone
 * (the block handler skips them). Output order is the caller's business:
 * each job keeps its own. */
static void process_chunk(cli_job *jobs, int n, int nt, s2s_session **sessions, int format,
                          const cli_handler *h)
{
    fail_unread(jobs, n, format);
    if (h->block) {
        int size = block_lines(n, nt), n_blocks = (n + size - 1) / size;
        int order[CLI_CHUNK_LINES];
        size_t bytes[CLI_CHUNK_LINES];
        blocks_longest_first(jobs, n, size, n_blocks, order, bytes);
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
        for (int i = 0; i < n_blocks; i++) {
            int first = order[i] * size, k = n - first < size ? n - first : size;
            h->block(h->ctx, sessions[omp_get_thread_num()], jobs + first, k);
        }
    } else {
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
        for (int i = 0; i < n; i++)
            if (!jobs[i].failed) h->job(h->ctx, sessions[omp_get_thread_num()], &jobs[i]);
    }
    fail_without_output(jobs, n, format);
}

/* What a run did, for -v. */
typedef struct run_totals {
    long lines, failed, tokens_in, tokens_out;
} run_totals;

/* Writes every job's messages (stderr) and output, in order, adds them to
 * `t`, then frees them. */
static void write_chunk(const char *cmd, cli_job *jobs, int n, FILE *out, int format, cli_progress *p,
                        run_totals *t)
{
    for (int i = 0; i < n; i++) {
        cli_job *j = &jobs[i];
        if (j->msg || j->msg_lost) cli_progress_end(p);
        for (char *s = j->msg, *e; s && *s; s = e + 1) {
            e = strchr(s, '\n');
            fprintf(stderr, "s2s %s: %.*s\n", cmd, (int)(e - s), s);
        }
        /* a message that could not be stored: the failure is kept in the job */
        if (j->msg_lost && j->failed)
            fprintf(stderr, "s2s %s: line %ld: %s\n", cmd, j->id + 1, j->fail_text);
        else if (j->msg_lost)
            fprintf(stderr, "s2s %s: line %ld: warning: a warning was lost (out of memory)\n", cmd, j->id + 1);
        if (j->out) fwrite(j->out, 1, j->out_len, out);
        else write_error_form(out, j, format); /* only failed jobs have no output here */
        t->lines++;
        t->failed += j->failed;
        t->tokens_in += j->tokens_in;
        t->tokens_out += j->tokens_out;
        if (!j->borrowed) free(j->text);
        free(j->out);
        free(j->msg);
    }
    fflush(out);
}

/* Writes a count with thousands separators. */
static void put_count(FILE *f, long n)
{
    char d[32];
    int len = snprintf(d, sizeof d, "%ld", n);
    for (int i = 0; i < len; i++) {
        if (i > 0 && d[i - 1] != '-' && (len - i) % 3 == 0) fputc(',', f);
        fputc(d[i], f);
    }
}

/* The -v summary: "s2s CMD: N lines (F failed), T1 source tokens, T2 output
 * tokens, S s (model load L s): R lines/s, R1 source tokens/s, R2 output tokens/s". */
static void print_summary(const cli_opts *o, const cli_handler *h, const run_totals *t, double seconds)
{
    double per = seconds > 0 ? 1.0 / seconds : 0;
    fprintf(stderr, "s2s %s: ", o->cmd);
    put_count(stderr, t->lines);
    fputs(t->lines == 1 ? " line" : " lines", stderr);
    if (t->failed) fprintf(stderr, " (%ld failed)", t->failed);
    const char *names[2] = {h->tokens_in, h->tokens_out};
    long counts[2] = {t->tokens_in, t->tokens_out};
    for (int k = 0; k < 2; k++) {
        if (!names[k]) continue;
        fputs(", ", stderr);
        put_count(stderr, counts[k]);
        fprintf(stderr, " %s", names[k]);
    }
    fprintf(stderr, ", %.3f s (model load %.3f s): %.1f lines/s", seconds, o->load_seconds, t->lines * per);
    for (int k = 0; k < 2; k++)
        if (names[k]) fprintf(stderr, ", %.0f %s/s", counts[k] * per, names[k]);
    fputc('\n', stderr);
}

/* ---- starting threads ------------------------------------------------------
 * The OpenMP runtime ends the process when it cannot start a thread (too
 * little address space, a thread limit), after input may have been read and
 * with no line written. So before any input is read, the threads are tried
 * with plain pthreads, as many as asked, all alive at once; the run uses as
 * many as could be started, and the OpenMP pool is then started with that
 * number (later parallel regions reuse its threads). */

typedef struct probe_gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int open;
} probe_gate;

/* A probe thread: waits until every probe thread has been started. */
static void *probe_wait(void *arg)
{
    probe_gate *g = arg;
    pthread_mutex_lock(&g->mu);
    while (!g->open) pthread_cond_wait(&g->cv, &g->mu);
    pthread_mutex_unlock(&g->mu);
    return NULL;
}

/* How many threads of `want` (the caller's included) can run at once. */
static int probe_threads(int want)
{
    probe_gate g = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
    pthread_t tid[CLI_MAX_THREADS];
    int started = 0;
    while (started < want - 1 && pthread_create(&tid[started], NULL, probe_wait, &g) == 0) started++;
    pthread_mutex_lock(&g.mu);
    g.open = 1;
    pthread_cond_broadcast(&g.cv);
    pthread_mutex_unlock(&g.mu);
    for (int i = 0; i < started; i++) pthread_join(tid[i], NULL);
    return started + 1;
}

/* Starts the threads of the run: returns how many there are (1..want),
 * after a warning on stderr when fewer than `want` could be started. */
static int start_threads(const char *cmd, int want)
{
    if (want <= 1) return 1;
    int nt = probe_threads(want);
    if (nt < want)
        fprintf(stderr, "s2s %s: warning: only %d of the %d threads asked for could be started; using %d\n", cmd,
                nt, want, nt);
    int seen = 0;
#pragma omp parallel num_threads(nt)
    {
#pragma omp atomic
        seen++;
    }
    (void)seen;
    return nt;
}

/* Creates `nt` sessions; 0, or -1 after printing why. */
static int make_sessions(const char *cmd, const s2s_model *m, int nt, s2s_session **s)
{
    for (int t = 0; t < nt; t++) {
        s2s_error err = {0};
        s[t] = s2s_session_new(m, &err);
        if (!s[t]) {
            fprintf(stderr, "s2s %s: cannot create a decoding session: %s\n", cmd, err.message);
            while (t-- > 0) s2s_session_free(s[t]);
            return -1;
        }
    }
    return 0;
}

int cli_run_lines(const cli_opts *o, const s2s_model *m, line_reader *r, FILE *out, const cli_handler *h)
{
    int nt = start_threads(o->cmd, o->threads > 0 ? o->threads : 1);
    s2s_session *sessions[CLI_MAX_THREADS];
    if (make_sessions(o->cmd, m, nt, sessions) < 0) return CLI_EXIT_USAGE;
    cli_job *jobs = calloc(CLI_CHUNK_LINES, sizeof *jobs);
    long next_id = 0;
    run_totals totals = {0, 0, 0, 0};
    double t0 = cli_now();
    int status = CLI_EXIT_OK;
    cli_progress p;
    cli_progress_start(&p, r, o->quiet);
    for (;;) {
        int n = jobs ? read_chunk(r, CLI_CHUNK_LINES, &next_id, jobs) : -1;
        if (n < 0) {
            fprintf(stderr, "s2s %s: cannot read the input: %s\n", o->cmd, strerror(errno));
            status = CLI_EXIT_USAGE;
            break;
        }
        if (n == 0) break;
        process_chunk(jobs, n, nt, sessions, o->format, h);
        write_chunk(o->cmd, jobs, n, out, o->format, &p, &totals);
        cli_progress_add(&p, n);
        if (ferror(out)) { /* a full disk or a closed pipe: stop now, not after the whole input */
            fprintf(stderr, "s2s %s: cannot write the output: %s\n", o->cmd, strerror(errno));
            status = CLI_EXIT_USAGE;
            break;
        }
    }
    cli_progress_end(&p);
    if (o->verbose) print_summary(o, h, &totals, cli_now() - t0);
    free(jobs);
    for (int t = 0; t < nt; t++) s2s_session_free(sessions[t]);
    if (status == CLI_EXIT_OK && totals.failed) status = CLI_EXIT_LINES;
    return status;
}

/* 1 when -i and -o name the same existing file (opening the output would
 * empty the input before it is read). */
static int same_file(const char *in, const char *out)
{
    struct stat a, b;
    return in && out && stat(in, &a) == 0 && stat(out, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

int cli_run_stream(const cli_opts *o, const s2s_model *m, const cli_handler *h)
{
    line_reader r;
    int rc = CLI_EXIT_USAGE;
    if (same_file(o->input, o->output)) {
        fprintf(stderr, "s2s: input '%s' and output '%s' are the same file; refusing to overwrite it\n", o->input,
                o->output);
        return rc;
    }
    if (cli_open_input(o, &r) != 0) return rc;
    FILE *out = cli_open_output(o);
    if (out) {
        rc = cli_run_lines(o, m, &r, out, h);
        if (cli_close_output(o, out) < 0) rc = CLI_EXIT_USAGE;
    }
    lr_close(&r);
    return rc;
}
