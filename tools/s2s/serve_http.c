/*
 * serve_http.c - the HTTP side, on GNU libmicrohttpd: a small pool of
 * threads polls every connection with epoll; a POST body is gathered
 * (within the size limit), parsed into a task and queued, and its
 * connection is suspended until a decoding worker hands the task back. A
 * slow client therefore holds only its own connection, never a thread.
 */
#include <microhttpd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "serve.h"

/* The explorer page, linked into the command from tools/s2s/explorer.html. */
extern const char _binary_explorer_html_start[], _binary_explorer_html_end[];

enum route_id { R_PAGE, R_HEALTH, R_MODELS, R_LANGUAGES, R_LIBRE, R_V1_TRANSLATE, R_V1_SCORE };

typedef struct route {
    const char *path;
    const char *method;      /* GET routes answer HEAD too */
    enum route_id id;
} route;

static const route ROUTES[] = {
    {"/", "GET", R_PAGE},
    {"/health", "GET", R_HEALTH},
    {"/v1/models", "GET", R_MODELS},
    {"/languages", "GET", R_LANGUAGES},
    {"/translate", "POST", R_LIBRE},
    {"/v1/translate", "POST", R_V1_TRANSLATE},
    {"/v1/score", "POST", R_V1_SCORE},
};
#define N_ROUTES (sizeof ROUTES / sizeof ROUTES[0])

struct serve_http {
    const serve_config *cfg;
    serve_pool *pool;
    struct MHD_Daemon *daemon;
    atomic_int in_flight;               /* queued POSTs not yet completed */
    atomic_int refusing;                /* stopping: new connections are closed at once */
    struct MHD_Response *page, *models, *languages; /* made once, sent many times */
};

/* One request, from its headers to the end of its answer. */
typedef struct request {
    serve_http *http;
    const route *route;      /* NULL: no such path */
    char *body;
    size_t len, cap;
    int too_large;           /* the body went past the limit: dropped */
    size_t dropped;          /* bytes dropped since */
    int answered;            /* an answer is queued: ignore the rest */
    int status;
    serve_task *task;        /* queued, decoding or decoded */
    double t0;
    char method[8];
    char path[64];
} request;

static const char JSON_TYPE[] = "application/json; charset=utf-8";
static const char PAGE_POLICY[] =
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; "
    "img-src data: blob:; base-uri 'none'; form-action 'none'";

/* Queues `body` (len bytes, malloc'd: MHD frees it) as a JSON answer. */
static enum MHD_Result send_json(request *r, struct MHD_Connection *c, int status, char *body, size_t len)
{
    enum MHD_ResponseMemoryMode mode = MHD_RESPMEM_MUST_FREE;
    if (!body) {
        static char oom[] = "{\"error\": \"out of memory\"}\n";
        body = oom;
        len = sizeof oom - 1;
        status = 503;
        mode = MHD_RESPMEM_PERSISTENT;
    }
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, mode);
    if (!resp) return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, JSON_TYPE);
    if (status == 503) MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "1");
    enum MHD_Result rc = MHD_queue_response(c, (unsigned)status, resp);
    MHD_destroy_response(resp);
    r->answered = 1;
    r->status = status;
    return rc;
}

/* Queues the 405 answer of route `rt`, with its Allow header. */
static enum MHD_Result send_wrong_method(request *r, struct MHD_Connection *c, const route *rt)
{
    char msg[SERVE_MSG_MAX];
    snprintf(msg, sizeof msg, "%s takes %s, not %s", rt->path, rt->method, r->method);
    size_t len = 0;
    char *body = serve_error_json(msg, &len);
    struct MHD_Response *resp = body ? MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE) : NULL;
    if (!resp) { free(body); return MHD_NO; }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, JSON_TYPE);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, strcmp(rt->method, "GET") == 0 ? "GET, HEAD" : rt->method);
    enum MHD_Result rc = MHD_queue_response(c, MHD_HTTP_METHOD_NOT_ALLOWED, resp);
    MHD_destroy_response(resp);
    r->answered = 1;
    r->status = MHD_HTTP_METHOD_NOT_ALLOWED;
    return rc;
}

/* Queues {"error": msg} with `status`. */
static enum MHD_Result send_error(request *r, struct MHD_Connection *c, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static enum MHD_Result send_error(request *r, struct MHD_Connection *c, int status, const char *fmt, ...)
{
    char msg[SERVE_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size_t len = 0;
    char *body = serve_error_json(msg, &len);
    return send_json(r, c, status, body, len);
}

/* Queues one of the responses made at start. */
static enum MHD_Result send_static(request *r, struct MHD_Connection *c, struct MHD_Response *resp)
{
    r->answered = 1;
    r->status = 200;
    return MHD_queue_response(c, MHD_HTTP_OK, resp);
}

/* The route of `path`, or NULL. */
static const route *find_route(const char *path)
{
    for (size_t i = 0; i < N_ROUTES; i++)
        if (strcmp(ROUTES[i].path, path) == 0) return &ROUTES[i];
    return NULL;
}

/* 1 when `method` is what route `rt` takes (HEAD for a GET route). */
static int method_fits(const route *rt, const char *method)
{
    return strcmp(rt->method, method) == 0 || (strcmp(rt->method, "GET") == 0 && strcmp(method, "HEAD") == 0);
}

/* GET routes: the page, the model list, the language list, health. */
static enum MHD_Result answer_get(request *r, struct MHD_Connection *c)
{
    serve_http *h = r->http;
    size_t len = 0;
    switch (r->route->id) {
    case R_PAGE: return send_static(r, c, h->page);
    case R_MODELS: return send_static(r, c, h->models);
    case R_LANGUAGES: return send_static(r, c, h->languages);
    default: break;
    }
    int waiting, busy, capacity;
    serve_pool_stats(h->pool, &waiting, &busy, &capacity);
    char *body = serve_health_json(h->cfg, waiting, busy, capacity, &len);
    return send_json(r, c, 200, body, len);
}

/* Refuses a request before its body when the path, the method or the
 * announced size is wrong; answers GET routes. MHD_YES to go on. */
static enum MHD_Result answer_headers(request *r, struct MHD_Connection *c)
{
    if (!r->route) return send_error(r, c, 404, "no such path '%s'", r->path);
    if (!method_fits(r->route, r->method)) return send_wrong_method(r, c, r->route);
    if (strcmp(r->route->method, "GET") == 0) return answer_get(r, c);
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    size_t max = r->http->cfg->limits.max_body;
    if (cl && strtoull(cl, NULL, 10) > max)
        return send_error(r, c, 413, "request body of %s bytes; the limit is %zu", cl, max);
    return MHD_YES;
}

/* Appends a piece of the body. Past the size limit (a body sent without
 * Content-Length) the rest is read and dropped, and the answer is a 413 at
 * the end of the body (libmicrohttpd answers only then); a body that goes
 * on past SERVE_DISCARD_FACTOR times the limit has its connection closed. */
static enum MHD_Result take_body(request *r, const char *data, size_t n)
{
    size_t max = r->http->cfg->limits.max_body;
    if (r->too_large || r->len + n > max) {
        r->too_large = 1;
        r->dropped += n;
        return r->dropped > SERVE_DISCARD_FACTOR * max ? MHD_NO : MHD_YES;
    }
    if (r->len + n + 1 > r->cap) {
        size_t cap = r->cap ? r->cap : 4096;
        while (cap < r->len + n + 1) cap *= 2;
        char *b = realloc(r->body, cap);
        if (!b) return MHD_NO;
        r->body = b;
        r->cap = cap;
    }
    memcpy(r->body + r->len, data, n);
    r->len += n;
    r->body[r->len] = '\0';
    return MHD_YES;
}

/* Called by the pool, under its lock, when the task is queued. */
static void on_task_queued(serve_task *t)
{
    MHD_suspend_connection(t->conn);
}

/* Called by the pool, under its lock, when the task is decoded. */
static void on_task_done(serve_task *t)
{
    MHD_resume_connection(t->conn);
}

/* The endpoint of a POST route. */
static enum serve_kind route_kind(const route *rt)
{
    return rt->id == R_LIBRE ? SERVE_LIBRE : rt->id == R_V1_SCORE ? SERVE_V1_SCORE : SERVE_V1_TRANSLATE;
}

/* The whole body is in: parse it into a task and queue it (the
 * connection sleeps until the task is decoded), or answer an error. */
static enum MHD_Result submit_body(request *r, struct MHD_Connection *c)
{
    serve_http *h = r->http;
    serve_err e = {0};
    const char *ctype = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    r->task = serve_parse_body(h->cfg, route_kind(r->route), ctype, r->body ? r->body : "", r->len, &e);
    if (!r->task) return send_error(r, c, e.status, "%s", e.msg);
    r->task->deadline = r->t0 + h->cfg->limits.timeout;
    r->task->conn = c;
    r->task->on_queued = on_task_queued;
    r->task->on_done = on_task_done;
    atomic_fetch_add(&h->in_flight, 1);
    enum serve_submit queued = serve_pool_submit(h->pool, r->task);
    if (queued == SERVE_QUEUED) return MHD_YES;
    atomic_fetch_sub(&h->in_flight, 1);
    serve_task_free(r->task);
    r->task = NULL;
    if (queued == SERVE_STOPPING) return send_error(r, c, 503, "the server is shutting down");
    return send_error(r, c, 503, "the server is busy (%d requests waiting); retry later", h->cfg->limits.queue);
}

/* The worker is done (the connection was resumed): send its answer. */
static enum MHD_Result answer_task(request *r, struct MHD_Connection *c)
{
    serve_task *t = r->task;
    char *body = t->body;
    t->body = NULL;
    return send_json(r, c, t->status, body, t->body_len);
}

/* A new request: what it is, and whether it can be answered at once. */
static enum MHD_Result start_request(serve_http *h, struct MHD_Connection *c, const char *url, const char *method,
                                     void **req_cls)
{
    request *r = calloc(1, sizeof *r);
    if (!r) return MHD_NO;
    r->http = h;
    r->t0 = cli_now();
    r->route = find_route(url);
    snprintf(r->method, sizeof r->method, "%s", method);
    snprintf(r->path, sizeof r->path, "%s", url);
    *req_cls = r;
    return answer_headers(r, c);
}

/* MHD's access handler: called at the headers, for each piece of the
 * body, at the end of the body, and again after a resume. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *data, size_t *size, void **req_cls)
{
    (void)version;
    request *r = *req_cls;
    if (!r) return start_request(cls, c, url, method, req_cls);
    if (r->answered) { *size = 0; return MHD_YES; }
    if (*size) {
        enum MHD_Result rc = take_body(r, data, *size);
        *size = 0;
        return rc;
    }
    if (r->task) return answer_task(r, c);
    if (r->too_large)
        return send_error(r, c, 413, "request body larger than %zu bytes", r->http->cfg->limits.max_body);
    return submit_body(r, c);
}

/* MHD's completion callback: logs and frees the request. */
static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls, enum MHD_RequestTerminationCode code)
{
    (void)c;
    serve_http *h = cls;
    request *r = *req_cls;
    if (!r) return;
    if (!h->cfg->quiet)
        fprintf(stderr, "s2s serve: %s %s %d %.1f ms%s\n", r->method, r->path, r->status,
                (cli_now() - r->t0) * 1e3, code == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (connection lost)");
    if (r->task) atomic_fetch_sub(&h->in_flight, 1);
    serve_task_free(r->task);
    free(r->body);
    free(r);
    *req_cls = NULL;
}

/* MHD's own messages (socket errors and the like). */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    const serve_http *h = cls;
    if (h->cfg->quiet) return;
    fputs("s2s serve: http: ", stderr);
    vfprintf(stderr, fmt, ap);
}

/* A response made once from `len` bytes at `data` (not copied). */
static struct MHD_Response *static_response(const char *data, size_t len, const char *type)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_PERSISTENT);
    if (!r) return NULL;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    return r;
}

/* The page, model list and language list responses. */
static int make_static_responses(serve_http *h)
{
    size_t n_models = 0, n_langs = 0;
    char *models = serve_models_json(h->cfg, &n_models), *langs = serve_languages_json(h->cfg, &n_langs);
    h->page = static_response(_binary_explorer_html_start,
                              (size_t)(_binary_explorer_html_end - _binary_explorer_html_start), "text/html; charset=utf-8");
    if (h->page) MHD_add_response_header(h->page, "Content-Security-Policy", PAGE_POLICY);
    if (models) h->models = MHD_create_response_from_buffer(n_models, models, MHD_RESPMEM_MUST_FREE);
    else free(models);
    if (langs) h->languages = MHD_create_response_from_buffer(n_langs, langs, MHD_RESPMEM_MUST_FREE);
    else free(langs);
    if (h->models) MHD_add_response_header(h->models, MHD_HTTP_HEADER_CONTENT_TYPE, JSON_TYPE);
    if (h->languages) MHD_add_response_header(h->languages, MHD_HTTP_HEADER_CONTENT_TYPE, JSON_TYPE);
    return h->page && h->models && h->languages ? 0 : -1;
}

/* Frees the responses made at start. */
static void free_static_responses(serve_http *h)
{
    if (h->page) MHD_destroy_response(h->page);
    if (h->models) MHD_destroy_response(h->models);
    if (h->languages) MHD_destroy_response(h->languages);
}

/* The accept policy: every connection until the server starts stopping.
 * (MHD_quiesce_daemon would close the door more politely, but with epoll
 * and a thread pool it races with the polling threads, and libmicrohttpd
 * 0.9.75 aborts the process when it loses that race.) */
static enum MHD_Result accept_unless_stopping(void *user, const struct sockaddr *addr, socklen_t addr_len)
{
    serve_http *h = user;
    return atomic_load(&h->refusing) ? MHD_NO : MHD_YES;
}

serve_http *serve_http_start(const serve_config *cfg, serve_pool *pool, int fd, char *err, size_t err_size)
{
    serve_http *h = calloc(1, sizeof *h);
    if (!h || (h->cfg = cfg, h->pool = pool, make_static_responses(h) < 0)) {
        if (h) free_static_responses(h);
        free(h);
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    h->daemon = MHD_start_daemon(flags, 0, accept_unless_stopping, h, on_request, h,
                                 MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, h,
                                 MHD_OPTION_LISTEN_SOCKET, fd,
                                 MHD_OPTION_THREAD_POOL_SIZE, (unsigned)SERVE_HTTP_THREADS,
                                 MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->limits.max_connections,
                                 MHD_OPTION_CONNECTION_TIMEOUT, cfg->limits.idle_timeout,
                                 MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
                                 MHD_OPTION_END);
    if (!h->daemon) {
        free_static_responses(h);
        free(h);
        snprintf(err, err_size, "libmicrohttpd could not start");
        return NULL;
    }
    return h;
}

void serve_http_refuse_connections(serve_http *h)
{
    atomic_store(&h->refusing, 1);
}

void serve_http_stop(serve_http *h, double seconds)
{
    double until = cli_now() + seconds;
    while (atomic_load(&h->in_flight) > 0 && cli_now() < until) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    MHD_stop_daemon(h->daemon);
    free_static_responses(h);
    free(h);
}
