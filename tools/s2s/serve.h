/*
 * serve.h - `s2s serve`: an HTTP front end to the command's own translate
 * and score code.
 *
 *   cmd_serve.c     options, models, listening socket, signals, shutdown
 *   serve_http.c    libmicrohttpd glue: routes, request bodies, responses
 *   serve_request.c a JSON request body -> a task of cli_job lines
 *   serve_pool.c    the bounded queue and the decoding workers (sessions)
 *   serve_reply.c   response bodies: jsonl objects, LibreTranslate, errors
 *
 * A request's text lines become cli_job lines decoded by the same handlers
 * as `s2s translate` and `s2s score` (cli_handlers.h), so the objects of
 * /v1/translate and /v1/score are byte for byte the command's jsonl lines.
 */
#ifndef S2S_SERVE_H
#define S2S_SERVE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "cli.h"

/* Defaults of the limits (each can be changed on the command line). */
#define SERVE_DEFAULT_PORT 8080
#define SERVE_DEFAULT_QUEUE 64
#define SERVE_DEFAULT_TIMEOUT 30.0
#define SERVE_DEFAULT_MAX_BODY (1u << 20)
#define SERVE_DEFAULT_MAX_LINE 4096
#define SERVE_DEFAULT_MAX_LINES 64
#define SERVE_DEFAULT_MAX_BEAM 16
#define SERVE_DEFAULT_MAX_LENGTH 512
#define SERVE_DEFAULT_MAX_CONNECTIONS 256
#define SERVE_DEFAULT_IDLE_TIMEOUT 30
#define SERVE_MAX_MODELS 64
#define SERVE_HTTP_THREADS 2      /* threads polling the sockets (epoll) */
#define SERVE_MSG_MAX 600         /* bytes of an error message */
#define SERVE_DRAIN_SECONDS 5.0   /* most time shutdown waits for answers to go out */
#define SERVE_DISCARD_FACTOR 16   /* an oversize body without Content-Length is read and
                                     dropped up to this many times the limit, then cut */

/* What a request may ask for, and how long it may take. */
typedef struct serve_limits {
    size_t max_body;       /* request body bytes; larger: 413 */
    size_t max_line;       /* bytes of one input text (or line, for /translate) */
    int max_lines;         /* input lines per request */
    int max_beam;          /* largest beam and n_best */
    int max_length;        /* largest max_length and min_length */
    int queue;             /* requests waiting for a worker; beyond: 503 */
    double timeout;        /* seconds from arrival to the end of decoding; beyond: 503 */
    int max_connections;   /* open connections */
    unsigned idle_timeout; /* seconds of silence before a connection is closed */
} serve_limits;

/* One loaded model and how requests name it. */
typedef struct serve_model {
    char name[256];               /* last component of the directory */
    const char *dir;
    s2s_model *model;             /* owned */
    const char *source_language;  /* "" when the config has none */
    const char *target_language;
    int summarization;            /* task "summarization": not offered to /translate */
} serve_model;

/* The loaded models and the limits; read-only once the server runs. */
typedef struct serve_config {
    serve_model models[SERVE_MAX_MODELS];
    int n_models;
    serve_limits limits;
    int threads;                  /* decoding workers */
    int quiet;                    /* no request log */
} serve_config;

/* A request's error: HTTP status and a one-line message. */
typedef struct serve_err {
    int status;
    char msg[SERVE_MSG_MAX];
} serve_err;

/* Sets `e` and returns -1. */
int serve_fail(serve_err *e, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Which endpoint a task answers. */
enum serve_kind { SERVE_V1_TRANSLATE, SERVE_V1_SCORE, SERVE_LIBRE };

/* One POST request on its way through the queue. The HTTP side makes it
 * (serve_request.c), a worker decodes it and writes status and body
 * (serve_pool.c), the HTTP side sends the answer and frees it. */
typedef struct serve_task {
    enum serve_kind kind;
    int model;                 /* index into serve_config.models */
    cli_opts opts;             /* the command's options, from the JSON fields */
    cli_job *jobs;             /* the lines to decode (owned) */
    int n_jobs;
    int single;                /* the request gave one string, not a list */
    /* /translate only: item i is lines [item_first[i], item_first[i+1]);
     * line_job[l] is the job of line l, or -1 for a blank line. */
    int n_items, n_lines;
    int *item_first, *line_job;
    int alternatives;          /* /translate: extra hypotheses per item */
    double deadline;           /* cli_now() after which decoding is aborted */
    int timed_out;             /* the abort callback fired on the deadline */
    const atomic_int *stopping; /* the pool's shutdown flag */
    /* the answer */
    int status;
    char *body;                /* malloc'd */
    size_t body_len;
    /* set by the HTTP side, called by the pool under its lock */
    void (*on_queued)(struct serve_task *t);
    void (*on_done)(struct serve_task *t);
    void *conn;
    struct serve_task *next;   /* queue link */
} serve_task;

/* Frees a task and everything it owns; NULL is a no-op. */
void serve_task_free(serve_task *t);

/* ---- serve_request.c ---- */

/* Turns the body of a POST to endpoint `kind` into a task, or returns NULL
 * with `e` naming the problem (400 for malformed JSON, wrong types,
 * unknown fields or models; 413 for too many or too long lines). The body
 * is JSON; for /translate it may also be an HTML form (content type
 * application/x-www-form-urlencoded, and not starting with '{'), as some
 * LibreTranslate clients send. `content_type` may be NULL. */
serve_task *serve_parse_body(const serve_config *cfg, enum serve_kind kind, const char *content_type,
                             const char *body, size_t len, serve_err *e);

/* Parses the JSON text s[0..len) (one value, nothing after it but white
 * space); NULL with `e` set (400, naming the byte) otherwise. The caller
 * frees the result with cJSON_Delete(). Thread-safe. */
struct cJSON;
struct cJSON *serve_json_parse(const char *s, size_t len, serve_err *e);

/* ---- serve_reply.c ---- */

/* {"error": "<msg>"} and a newline, malloc'd (NULL when out of memory). */
char *serve_error_json(const char *msg, size_t *len);

/* Writes the answer of a decoded task into t->status and t->body. */
void serve_reply_task(serve_task *t);

/* GET /v1/models: {"models": [{"name", "info"}]}, malloc'd. */
char *serve_models_json(const serve_config *cfg, size_t *len);

/* GET /languages (LibreTranslate): [{"code", "name", "targets"}], malloc'd. */
char *serve_languages_json(const serve_config *cfg, size_t *len);

/* GET /health: {"status", "models", "workers", "decoding", "waiting",
 * "queue_capacity"}, malloc'd. */
char *serve_health_json(const serve_config *cfg, int waiting, int busy, int capacity, size_t *len);

/* ---- serve_pool.c ---- */

typedef struct serve_pool serve_pool;

/* Starts cfg->threads workers, each with one session per model. NULL with
 * `err` set when a session or thread cannot be made. */
serve_pool *serve_pool_start(const serve_config *cfg, char *err, size_t err_size);

/* What serve_pool_submit answers. */
enum serve_submit {
    SERVE_QUEUED = 0,      /* queued; on_queued was called */
    SERVE_QUEUE_FULL = -1, /* `queue` tasks are already waiting */
    SERVE_STOPPING = -2,   /* serve_pool_stop has begun */
};

/* Queues `t` and calls t->on_queued(t), both under the pool's lock; when a
 * worker is done it calls t->on_done(t) under the same lock. Returns
 * SERVE_QUEUED, or (nothing called, `t` still the caller's)
 * SERVE_QUEUE_FULL or SERVE_STOPPING. */
enum serve_submit serve_pool_submit(serve_pool *p, serve_task *t);

/* Counts for /health. */
void serve_pool_stats(serve_pool *p, int *waiting, int *busy, int *capacity);

/* Makes every worker stop: decoding in progress is aborted, waiting tasks
 * are answered 503 (and handed back); returns when every worker has ended.
 * Later submissions are refused. */
void serve_pool_stop(serve_pool *p);

/* Frees a stopped pool and its sessions; NULL is a no-op. */
void serve_pool_free(serve_pool *p);

/* ---- serve_http.c ---- */

typedef struct serve_http serve_http;

/* Serves on the listening socket `fd` (which it then owns). NULL with
 * `err` set on failure. */
serve_http *serve_http_start(const serve_config *cfg, serve_pool *pool, int fd, char *err, size_t err_size);

/* From now on every new connection is closed as soon as it is accepted;
 * the listening socket itself is closed by serve_http_stop. Connections
 * already open go on being served. */
void serve_http_refuse_connections(serve_http *h);

/* Waits up to `seconds` for the answers of decoded requests to be sent,
 * then closes every connection and the listening socket, and frees `h`. */
void serve_http_stop(serve_http *h, double seconds);

#endif
