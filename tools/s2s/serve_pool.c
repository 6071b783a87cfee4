/*
 * serve_pool.c - the decoding workers: a bounded FIFO of tasks and a fixed
 * number of threads, each owning one s2s_session per model for its whole
 * life. A task is decoded by the command's own handlers (cli_handlers.h)
 * with an abort callback that stops it at its deadline or at shutdown.
 */
#include <stdlib.h>
#include <string.h>

#include "cli_handlers.h"
#include "serve.h"

typedef struct serve_worker {
    struct serve_pool *pool;
    pthread_t thread;
    s2s_session **sessions;   /* one per model, owned */
    int started;
} serve_worker;

struct serve_pool {
    const serve_config *cfg;
    pthread_mutex_t lock;
    pthread_cond_t wake;      /* a task was queued, or stopping */
    serve_task *head, *tail;  /* waiting tasks */
    int waiting, busy;
    atomic_int stopping;
    serve_worker *workers;
    int n_workers;
};

/* The abort callback of every decoding step: the deadline has passed, or
 * the server is stopping. */
static int task_should_abort(void *user)
{
    serve_task *t = user;
    if (*t->stopping) return 1;
    if (cli_now() <= t->deadline) return 0;
    t->timed_out = 1;
    return 1;
}

/* Decodes every line of a translate task, CLI_BATCH_LINES at a time. */
static void decode_translate(serve_task *t, const s2s_model *m, s2s_session *s)
{
    translate_ctx c;
    cli_translate_init(&c, &t->opts, m);
    for (int i = 0; i < t->n_jobs; i += CLI_BATCH_LINES) {
        int k = t->n_jobs - i < CLI_BATCH_LINES ? t->n_jobs - i : CLI_BATCH_LINES;
        cli_translate_block(&c, s, t->jobs + i, k);
    }
}

/* Scores every pair of a score task (scoring is bounded by the target's
 * length, so the deadline is checked between pairs). */
static void decode_score(serve_task *t, const s2s_model *m, s2s_session *s)
{
    score_ctx c = {&t->opts, m};
    for (int i = 0; i < t->n_jobs && !task_should_abort(t); i++) cli_score_job(&c, s, &t->jobs[i]);
}

/* Decodes task `t` with worker `w`'s session for its model and writes the
 * answer into the task. */
static void run_task(serve_worker *w, serve_task *t)
{
    const serve_config *cfg = w->pool->cfg;
    s2s_session *s = w->sessions[t->model];
    t->stopping = &w->pool->stopping;
    t->opts.dp.abort_callback = task_should_abort;
    t->opts.dp.abort_user_data = t;
    if (!task_should_abort(t)) {
        if (t->kind == SERVE_V1_SCORE) decode_score(t, cfg->models[t->model].model, s);
        else decode_translate(t, cfg->models[t->model].model, s);
    }
    if (t->timed_out || *t->stopping) {
        char msg[SERVE_MSG_MAX];
        if (t->timed_out)
            snprintf(msg, sizeof msg, "the request took longer than the server's limit of %g s", cfg->limits.timeout);
        else
            snprintf(msg, sizeof msg, "the server is shutting down");
        free(t->body);
        t->status = 503;
        t->body = serve_error_json(msg, &t->body_len);
        return;
    }
    serve_reply_task(t);
}

/* Takes the oldest waiting task; NULL once stopping with none left. */
static serve_task *take_task(serve_pool *p)
{
    pthread_mutex_lock(&p->lock);
    while (!p->head && !p->stopping) pthread_cond_wait(&p->wake, &p->lock);
    serve_task *t = p->head;
    if (t) {
        p->head = t->next;
        if (!p->head) p->tail = NULL;
        p->waiting--;
        p->busy++;
    }
    pthread_mutex_unlock(&p->lock);
    return t;
}

/* Hands a finished task back to the HTTP side. */
static void finish_task(serve_pool *p, serve_task *t)
{
    pthread_mutex_lock(&p->lock);
    p->busy--;
    t->on_done(t);
    pthread_mutex_unlock(&p->lock);
}

/* A worker thread: decode tasks until the pool stops (waiting tasks are
 * still taken then, and answered 503 at once by run_task). */
static void *worker_main(void *arg)
{
    serve_worker *w = arg;
    serve_task *t;
    while ((t = take_task(w->pool)) != NULL) {
        run_task(w, t);
        finish_task(w->pool, t);
    }
    return NULL;
}

/* Frees worker w's sessions. */
static void free_sessions(serve_worker *w, int n_models)
{
    for (int m = 0; w->sessions && m < n_models; m++) s2s_session_free(w->sessions[m]);
    free(w->sessions);
    w->sessions = NULL;
}

/* Makes worker w's sessions; 0, or -1 with err set. */
static int make_sessions(serve_worker *w, const serve_config *cfg, char *err, size_t err_size)
{
    w->sessions = calloc((size_t)cfg->n_models, sizeof *w->sessions);
    if (!w->sessions) { snprintf(err, err_size, "out of memory"); return -1; }
    for (int m = 0; m < cfg->n_models; m++) {
        s2s_error e = {0};
        w->sessions[m] = s2s_session_new(cfg->models[m].model, &e);
        if (!w->sessions[m]) {
            snprintf(err, err_size, "cannot create a decoding session for %s: %s", cfg->models[m].name, e.message);
            return -1;
        }
    }
    return 0;
}

serve_pool *serve_pool_start(const serve_config *cfg, char *err, size_t err_size)
{
    serve_pool *p = calloc(1, sizeof *p);
    if (!p || !(p->workers = calloc((size_t)cfg->threads, sizeof *p->workers))) {
        free(p);
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    p->cfg = cfg;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    for (int i = 0; i < cfg->threads; i++, p->n_workers++) {
        serve_worker *w = &p->workers[i];
        w->pool = p;
        if (make_sessions(w, cfg, err, err_size) < 0) break;
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
            snprintf(err, err_size, "cannot start a decoding thread");
            break;
        }
        w->started = 1;
    }
    if (p->n_workers == cfg->threads) return p;
    p->n_workers++; /* the worker that failed has sessions to free */
    serve_pool_stop(p);
    serve_pool_free(p);
    return NULL;
}

enum serve_submit serve_pool_submit(serve_pool *p, serve_task *t)
{
    enum serve_submit rc = SERVE_QUEUE_FULL;
    pthread_mutex_lock(&p->lock);
    if (p->stopping) {
        rc = SERVE_STOPPING;
    } else if (p->waiting < p->cfg->limits.queue) {
        t->next = NULL;
        if (p->tail) p->tail->next = t;
        else p->head = t;
        p->tail = t;
        p->waiting++;
        t->on_queued(t);
        pthread_cond_signal(&p->wake);
        rc = SERVE_QUEUED;
    }
    pthread_mutex_unlock(&p->lock);
    return rc;
}

void serve_pool_stats(serve_pool *p, int *waiting, int *busy, int *capacity)
{
    pthread_mutex_lock(&p->lock);
    *waiting = p->waiting;
    *busy = p->busy;
    *capacity = p->cfg->limits.queue;
    pthread_mutex_unlock(&p->lock);
}

void serve_pool_stop(serve_pool *p)
{
    pthread_mutex_lock(&p->lock);
    p->stopping = 1;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < p->n_workers; i++) {
        if (p->workers[i].started) pthread_join(p->workers[i].thread, NULL);
        p->workers[i].started = 0;
    }
}

void serve_pool_free(serve_pool *p)
{
    if (!p) return;
    for (int i = 0; i < p->n_workers; i++) free_sessions(&p->workers[i], p->cfg->n_models);
    free(p->workers);
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->lock);
    free(p);
}
