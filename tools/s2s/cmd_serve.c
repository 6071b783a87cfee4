/*
 * cmd_serve.c - `s2s serve`: loads the models, listens, serves until
 * SIGINT or SIGTERM, then stops cleanly: no new connection, decoding in
 * progress aborted, every queued request answered, every thread joined,
 * everything freed.
 *
 * The models are memory-mapped for the server's whole life: a model file
 * must never be modified in place while it is served (write a new
 * directory, rename it over the old one, restart the server).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "serve.h"

#define LISTEN_BACKLOG 128

/* Everything the command line sets. */
typedef struct serve_args {
    const char *dirs[SERVE_MAX_MODELS];
    int n_dirs;
    const char *host;
    int port;
} serve_args;

enum {
    O_HOST = 256, O_PORT, O_THREADS, O_QUEUE, O_TIMEOUT, O_MAX_BODY, O_MAX_LINE, O_MAX_LINES, O_MAX_BEAM,
    O_MAX_LENGTH, O_MAX_CONNECTIONS, O_IDLE_TIMEOUT,
};

static const struct option LONG_OPTIONS[] = {
    {"model", required_argument, NULL, 'm'},
    {"host", required_argument, NULL, O_HOST},
    {"port", required_argument, NULL, O_PORT},
    {"threads", required_argument, NULL, O_THREADS},
    {"queue", required_argument, NULL, O_QUEUE},
    {"timeout", required_argument, NULL, O_TIMEOUT},
    {"max-body", required_argument, NULL, O_MAX_BODY},
    {"max-line", required_argument, NULL, O_MAX_LINE},
    {"max-lines", required_argument, NULL, O_MAX_LINES},
    {"max-beam", required_argument, NULL, O_MAX_BEAM},
    {"max-length", required_argument, NULL, O_MAX_LENGTH},
    {"max-connections", required_argument, NULL, O_MAX_CONNECTIONS},
    {"idle-timeout", required_argument, NULL, O_IDLE_TIMEOUT},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* Parses a whole number in [lo, hi] for option --flag. */
static int parse_long(const char *flag, const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno == ERANGE)
        return cli_usage_error("serve", "option '--%s' wants a whole number, not '%s'", flag, s);
    if (v < lo || v > hi)
        return cli_usage_error("serve", "option '--%s' must be between %ld and %ld, not %ld", flag, lo, hi, v);
    *out = v;
    return 0;
}

/* Parses a number of seconds in (0, 86400] for option --flag. */
static int parse_seconds(const char *flag, const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !(v > 0 && v <= 86400))
        return cli_usage_error("serve", "option '--%s' wants seconds between 0 and 86400, not '%s'", flag, s);
    *out = v;
    return 0;
}

/* The long name of option value `val`. */
static const char *flag_name(int val)
{
    for (const struct option *o = LONG_OPTIONS; o->name; o++)
        if (o->val == val) return o->name;
    return "?";
}

/* Applies a numeric limit option; 0 or CLI_EXIT_USAGE. */
static int apply_limit(int val, const char *arg, serve_config *cfg, serve_args *a)
{
    serve_limits *l = &cfg->limits;
    const char *flag = flag_name(val);
    long v = 0;
    int rc = 0;
    switch (val) {
    case O_PORT: rc = parse_long(flag, arg, 0, 65535, &v); a->port = (int)v; return rc;
    case O_THREADS: rc = parse_long(flag, arg, 1, CLI_MAX_THREADS, &v); cfg->threads = (int)v; return rc;
    case O_QUEUE: rc = parse_long(flag, arg, 1, 100000, &v); l->queue = (int)v; return rc;
    case O_TIMEOUT: return parse_seconds(flag, arg, &l->timeout);
    case O_MAX_BODY: rc = parse_long(flag, arg, 64, 1L << 30, &v); l->max_body = (size_t)v; return rc;
    case O_MAX_LINE: rc = parse_long(flag, arg, 1, CLI_MAX_LINE_BYTES, &v); l->max_line = (size_t)v; return rc;
    case O_MAX_LINES: rc = parse_long(flag, arg, 1, 1000000, &v); l->max_lines = (int)v; return rc;
    case O_MAX_BEAM: rc = parse_long(flag, arg, 1, S2S_MAX_BEAM, &v); l->max_beam = (int)v; return rc;
    case O_MAX_LENGTH: rc = parse_long(flag, arg, 1, S2S_MAX_DECODE_STEPS, &v); l->max_length = (int)v; return rc;
    case O_MAX_CONNECTIONS: rc = parse_long(flag, arg, 1, 100000, &v); l->max_connections = (int)v; return rc;
    case O_IDLE_TIMEOUT: rc = parse_long(flag, arg, 1, 86400, &v); l->idle_timeout = (unsigned)v; return rc;
    }
    return cli_usage_error("serve", "internal: unhandled option '--%s'", flag);
}

/* The defaults of every setting. */
static void set_defaults(serve_config *cfg, serve_args *a)
{
    memset(cfg, 0, sizeof *cfg);
    memset(a, 0, sizeof *a);
    a->host = "127.0.0.1";
    a->port = SERVE_DEFAULT_PORT;
    cfg->threads = 1;
    cfg->limits = (serve_limits){
        .max_body = SERVE_DEFAULT_MAX_BODY, .max_line = SERVE_DEFAULT_MAX_LINE, .max_lines = SERVE_DEFAULT_MAX_LINES,
        .max_beam = SERVE_DEFAULT_MAX_BEAM, .max_length = SERVE_DEFAULT_MAX_LENGTH, .queue = SERVE_DEFAULT_QUEUE,
        .timeout = SERVE_DEFAULT_TIMEOUT, .max_connections = SERVE_DEFAULT_MAX_CONNECTIONS,
        .idle_timeout = SERVE_DEFAULT_IDLE_TIMEOUT,
    };
}

/* Parses argv; -1 after --help, CLI_EXIT_USAGE on a usage error, else 0. */
static int parse_args(int argc, char **argv, serve_config *cfg, serve_args *a)
{
    set_defaults(cfg, a);
    opterr = 0;
    optind = 1;
    int ch;
    while ((ch = getopt_long(argc, argv, ":hqm:", LONG_OPTIONS, NULL)) != -1) {
        if (ch == 'h') { cli_print_help(stdout, "serve"); return -1; }
        if (ch == ':') return cli_usage_error("serve", "option '%s' needs a value", argv[optind - 1]);
        if (ch == '?') return cli_usage_error("serve", "unknown option '%s'", argv[optind - 1]);
        if (ch == 'q') cfg->quiet = 1;
        else if (ch == O_HOST) a->host = optarg;
        else if (ch == 'm') {
            if (a->n_dirs == SERVE_MAX_MODELS) return cli_usage_error("serve", "at most %d models", SERVE_MAX_MODELS);
            a->dirs[a->n_dirs++] = optarg;
        } else if (apply_limit(ch, optarg, cfg, a)) return CLI_EXIT_USAGE;
    }
    if (optind < argc) return cli_usage_error("serve", "unexpected argument '%s'", argv[optind]);
    if (a->n_dirs == 0) return cli_usage_error("serve", "no model given: use '-m MODEL_DIR'");
    return 0;
}

/* The name requests use for the model in `dir`: its last component. */
static void model_name(const char *dir, char *name, size_t size)
{
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/') n--;
    size_t s = n;
    while (s > 0 && dir[s - 1] != '/') s--;
    snprintf(name, size, "%.*s", (int)(n - s), dir + s);
}

/* Frees the loaded models. */
static void free_models(serve_config *cfg)
{
    for (int i = 0; i < cfg->n_models; i++) s2s_model_free(cfg->models[i].model);
    cfg->n_models = 0;
}

/* Loads every model directory; 0, or -1 after printing why. */
static int load_models(serve_config *cfg, const serve_args *a)
{
    for (int i = 0; i < a->n_dirs; i++) {
        serve_model *m = &cfg->models[cfg->n_models];
        model_name(a->dirs[i], m->name, sizeof m->name);
        for (int k = 0; k < cfg->n_models; k++)
            if (strcmp(cfg->models[k].name, m->name) == 0) {
                fprintf(stderr, "s2s serve: two models are named '%s' (%s, %s): names are the last component "
                        "of the directory\n", m->name, cfg->models[k].dir, a->dirs[i]);
                return -1;
            }
        s2s_error err = {0};
        m->dir = a->dirs[i];
        m->model = s2s_model_load(m->dir, &err);
        if (!m->model) {
            fprintf(stderr, "s2s serve: cannot load model '%s': %s\n", m->dir, err.message);
            return -1;
        }
        s2s_model_info in;
        s2s_model_get_info(m->model, &in);
        m->source_language = in.source_language;
        m->target_language = in.target_language;
        m->summarization = strcmp(in.task, "summarization") == 0;
        cfg->n_models++;
    }
    return 0;
}

/* Binds and listens on host:port; the socket, or -1 after printing why. */
static int open_listener(const char *host, int port)
{
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    char service[16];
    snprintf(service, sizeof service, "%d", port);
    int rc = getaddrinfo(host, service, &hints, &res), fd = -1, saved = 0;
    if (rc != 0) {
        fprintf(stderr, "s2s serve: cannot listen on %s: %s\n", host, gai_strerror(rc));
        return -1;
    }
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
        int one = 1;
        if (fd >= 0 && (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
                        bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, LISTEN_BACKLOG) < 0)) {
            saved = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0) fprintf(stderr, "s2s serve: cannot listen on %s port %d: %s\n", host, port, strerror(saved));
    return fd;
}

/* The port the socket got (for --port 0). */
static int bound_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) return -1;
    char service[16];
    if (getnameinfo((struct sockaddr *)&ss, len, NULL, 0, service, sizeof service, NI_NUMERICSERV) != 0) return -1;
    return atoi(service);
}

/* 1 when `host` is a loopback address or name. */
static int is_loopback(const char *host)
{
    return strncmp(host, "127.", 4) == 0 || strcmp(host, "::1") == 0 || strcmp(host, "localhost") == 0;
}

/* Prints where the server listens and what it serves. */
static void announce(const serve_config *cfg, const char *host, int port)
{
    int v6 = strchr(host, ':') != NULL;
    fprintf(stderr, "s2s serve: listening on http://%s%s%s:%d/ (models:", v6 ? "[" : "", host, v6 ? "]" : "", port);
    for (int i = 0; i < cfg->n_models; i++) fprintf(stderr, "%s %s", i ? "," : "", cfg->models[i].name);
    fprintf(stderr, "; %d decoding thread%s)\n", cfg->threads, cfg->threads == 1 ? "" : "s");
    if (!is_loopback(host))
        fprintf(stderr, "s2s serve: warning: %s is not a loopback address and the server has no authentication\n",
                host);
}

/* Blocks SIGINT and SIGTERM in this thread and every thread it starts
 * (they are then taken with sigwait); ignores SIGPIPE. */
static void block_stop_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, set, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* Serves until SIGINT or SIGTERM; 0, or CLI_EXIT_USAGE when it cannot start. */
static int run_server(const serve_config *cfg, const serve_args *a)
{
    sigset_t stop;
    block_stop_signals(&stop);
    int fd = open_listener(a->host, a->port);
    if (fd < 0) return CLI_EXIT_USAGE;
    char err[SERVE_MSG_MAX] = "";
    serve_pool *pool = serve_pool_start(cfg, err, sizeof err);
    serve_http *http = pool ? serve_http_start(cfg, pool, fd, err, sizeof err) : NULL;
    if (!http) {
        fprintf(stderr, "s2s serve: %s\n", err);
        close(fd);
        if (pool) { serve_pool_stop(pool); serve_pool_free(pool); }
        return CLI_EXIT_USAGE;
    }
    announce(cfg, a->host, bound_port(fd));
    int sig = 0;
    sigwait(&stop, &sig);
    fprintf(stderr, "s2s serve: %s: stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    serve_http_refuse_connections(http);
    serve_pool_stop(pool);
    serve_http_stop(http, SERVE_DRAIN_SECONDS);
    serve_pool_free(pool);
    fprintf(stderr, "s2s serve: stopped\n");
    return CLI_EXIT_OK;
}

int cmd_serve(int argc, char **argv)
{
    static serve_config cfg; /* large (the model table): not on the stack */
    serve_args a;
    int rc = parse_args(argc, argv, &cfg, &a);
    if (rc) return rc < 0 ? CLI_EXIT_OK : rc;
    if (load_models(&cfg, &a) < 0) {
        free_models(&cfg);
        return CLI_EXIT_USAGE;
    }
    rc = run_server(&cfg, &a);
    free_models(&cfg);
    return rc;
}
