/* http.c — libmicrohttpd glue: the daemon (a thread per connection, so a streaming response may
 * block waiting for tokens), request bodies gathered up to the size limit, the route table,
 * Bearer authentication, and the JSON / error response helpers every route answers with. */
#define _GNU_SOURCE /* POLLRDHUP */
#include "http.h"

#include <arpa/inet.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct route {
    const char *path, *method;
    route_fn fn;
    int auth;   /* needs the API key when one is set */
    int prefix; /* path is a prefix (/v1/models/ID) */
} route;

static const route ROUTES[] = {
    {"/v1/chat/completions", "POST", route_chat, 1, 0},
    {"/v1/completions", "POST", route_completions, 1, 0},
    {"/v1/models", "GET", route_models, 1, 0},
    {"/v1/models/", "GET", route_models, 1, 1},
    {"/tokenize", "POST", route_tokenize, 1, 0},
    {"/detokenize", "POST", route_detokenize, 1, 0},
    {"/health", "GET", route_health, 0, 0},
    {"/metrics", "GET", route_metrics, 1, 0},
    {"/", "GET", route_index, 0, 0},
};

static const route *find_route(const char *url, int *method_ok, const char *method) {
    const route *hit = NULL;
    *method_ok = 0;
    for (size_t i = 0; i < sizeof ROUTES / sizeof *ROUTES; i++) {
        const route *rt = &ROUTES[i];
        int match = rt->prefix ? !strncmp(url, rt->path, strlen(rt->path)) && url[strlen(rt->path)]
                               : !strcmp(url, rt->path);
        if (!match) continue;
        hit = rt;
        if (!strcmp(method, rt->method) ||
            (!strcmp(method, "HEAD") && !strcmp(rt->method, "GET"))) {
            *method_ok = 1;
            return rt;
        }
    }
    return hit;
}

json_t *jstr(const char *s, size_t n) {
    json_t *v = json_stringn(s, n);
    if (v) return v;
    /* not valid UTF-8: replace each bad byte by U+FFFD */
    sbuf b = {0};
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        size_t k = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        json_t *t = k && i + k <= n ? json_stringn(s + i, k) : NULL;
        if (t) {
            sb_put(&b, s + i, k);
            json_decref(t);
            i += k;
        } else {
            sb_puts(&b, "\xEF\xBF\xBD");
            i++;
        }
    }
    v = json_stringn(b.p ? b.p : "", b.len);
    sb_free(&b);
    return v;
}

enum MHD_Result http_send(req *r, int status, const char *type, const char *body, size_t len) {
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!resp) return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", type);
    if (status == 401) MHD_add_response_header(resp, "WWW-Authenticate", "Bearer");
    enum MHD_Result ok = MHD_queue_response(r->c, (unsigned)status, resp);
    MHD_destroy_response(resp);
    metrics_request(r->s->met, r->route, status);
    return ok;
}

enum MHD_Result http_json(req *r, int status, json_t *v) {
    char *txt = v ? json_dumps(v, JSON_COMPACT) : NULL;
    json_decref(v);
    if (!txt) {
        static const char oom[] = "{\"error\":{\"message\":\"out of memory\",\"type\":"
                                  "\"server_error\",\"param\":null,\"code\":null}}";
        return http_send(r, 500, "application/json", oom, sizeof oom - 1);
    }
    enum MHD_Result ok = http_send(r, status, "application/json", txt, strlen(txt));
    free(txt);
    return ok;
}

json_t *error_body(int status, const char *param, const char *code, const char *msg) {
    const char *type = status == 401   ? "authentication_error"
                       : status == 404 ? "not_found_error"
                       : status == 429 ? "rate_limit_error"
                       : status >= 500 ? "server_error"
                                       : "invalid_request_error";
    json_t *e = json_object();
    json_object_set_new(e, "message", jstr(msg, strlen(msg)));
    json_object_set_new(e, "type", json_string(type));
    json_object_set_new(e, "param", param ? json_string(param) : json_null());
    json_object_set_new(e, "code", code ? json_string(code) : json_null());
    json_t *o = json_object();
    json_object_set_new(o, "error", e);
    return o;
}

enum MHD_Result http_error(req *r, int status, const char *param, const char *code, const char *fmt,
                           ...) {
    char msg[1280];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return http_json(r, status, error_body(status, param, code, msg));
}

int http_peer_closed(struct MHD_Connection *c) {
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!ci) return 0;
    struct pollfd p = {ci->connect_fd, POLLRDHUP, 0};
    return poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

/* Compares without an early exit so the key's length of agreement does not leak by timing. */
static int key_ok(const char *given, const char *want) {
    size_t gl = strlen(given), wl = strlen(want);
    unsigned char d = gl != wl;
    for (size_t i = 0; i < wl; i++) d |= (unsigned char)(want[i] ^ (i < gl ? given[i] : 0));
    return !d;
}

static int authorized(req *r) {
    const char *key = r->s->cfg.api_key;
    if (!key || !*key) return 1;
    const char *h = MHD_lookup_connection_value(r->c, MHD_HEADER_KIND, "Authorization");
    if (!h || strncasecmp(h, "Bearer ", 7)) return 0;
    h += 7;
    while (*h == ' ') h++;
    return key_ok(h, key);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls) {
    (void)version;
    srv *s = cls;
    req *r = *con_cls;
    if (!r) {
        if (!(r = calloc(1, sizeof *r))) return MHD_NO;
        r->s = s;
        r->c = c;
        r->url = url;
        r->route = "other";
        *con_cls = r;
        int method_ok;
        const route *rt = find_route(url, &method_ok, method);
        if (rt) r->route = rt->path;
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        const char *expect = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Expect");
        if (cl && strtoull(cl, NULL, 10) > s->cfg.max_body) r->too_big = 1;
        if (r->too_big && expect && !strcasecmp(expect, "100-continue")) {
            /* the client waits for "100 Continue" before sending the body, so the 413 goes out
             * at once (and the connection closes). Other clients are already sending: their
             * body is read and dropped, so they are not cut off before reading the answer. */
            r->answered = 1;
            return http_error(r, 413, NULL, "body_too_large",
                              "request body exceeds the server's limit of %zu bytes",
                              s->cfg.max_body);
        }
        return MHD_YES;
    }
    if (r->answered) { /* the early 413: drop whatever still arrives */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (r->too_big || r->len + n > s->cfg.max_body) {
            r->too_big = 1;
            return MHD_YES;
        }
        if (r->len + n + 1 > r->cap) {
            size_t cap = r->cap ? r->cap : 4096;
            while (cap < r->len + n + 1) cap *= 2;
            char *b = realloc(r->body, cap);
            if (!b) return MHD_NO;
            r->body = b;
            r->cap = cap;
        }
        memcpy(r->body + r->len, upload_data, n);
        r->len += n;
        r->body[r->len] = 0;
        return MHD_YES;
    }
    if (!r->body && !(r->body = calloc(1, 1))) return MHD_NO;
    int method_ok;
    const route *rt = find_route(url, &method_ok, method);
    if (!rt) return http_error(r, 404, NULL, "not_found", "no route %s %s", method, url);
    r->route = rt->path;
    if (!method_ok) {
        char msg[160];
        snprintf(msg, sizeof msg, "%s is not allowed on %s (use %s)", method, rt->path, rt->method);
        json_t *v = error_body(405, NULL, "method_not_allowed", msg);
        char *txt = json_dumps(v, JSON_COMPACT);
        json_decref(v);
        struct MHD_Response *resp = MHD_create_response_from_buffer(
            txt ? strlen(txt) : 0, txt ? txt : (void *)"", MHD_RESPMEM_MUST_COPY);
        free(txt);
        if (!resp) return MHD_NO;
        MHD_add_response_header(resp, "Content-Type", "application/json");
        MHD_add_response_header(resp, "Allow", rt->method);
        enum MHD_Result ok = MHD_queue_response(c, 405, resp);
        MHD_destroy_response(resp);
        metrics_request(s->met, r->route, 405);
        return ok;
    }
    if (rt->auth && !authorized(r))
        return http_error(r, 401, NULL, "invalid_api_key",
                          "missing or wrong API key (send Authorization: Bearer KEY)");
    if (r->too_big)
        return http_error(r, 413, NULL, "body_too_large",
                          "request body exceeds the server's limit of %zu bytes", s->cfg.max_body);
    return rt->fn(r);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
    (void)cls;
    (void)c;
    (void)toe; /* a stream's job is cancelled by its response's free callback (sse.c) */
    req *r = *con_cls;
    if (!r) return;
    free(r->body);
    free(r);
    *con_cls = NULL;
}

int http_start(srv *s, nemo_error *err) {
    struct sockaddr_in a4;
    struct sockaddr_in6 a6;
    struct sockaddr *addr;
    unsigned flags =
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG;
    memset(&a4, 0, sizeof a4);
    memset(&a6, 0, sizeof a6);
    if (inet_pton(AF_INET, s->cfg.host, &a4.sin_addr) == 1) {
        a4.sin_family = AF_INET;
        a4.sin_port = htons((uint16_t)s->cfg.port);
        addr = (struct sockaddr *)&a4;
    } else if (inet_pton(AF_INET6, s->cfg.host, &a6.sin6_addr) == 1) {
        a6.sin6_family = AF_INET6;
        a6.sin6_port = htons((uint16_t)s->cfg.port);
        addr = (struct sockaddr *)&a6;
        flags |= MHD_USE_IPv6;
    } else {
        return srv_fail(err, NEMO_ERR_ARG,
                        "--host expects a numeric IPv4 or IPv6 address, got '%s'", s->cfg.host);
    }
    unsigned limit = (unsigned)(s->cfg.parallel + s->cfg.queue + 32);
    s->d = MHD_start_daemon(flags, (uint16_t)s->cfg.port, NULL, NULL, on_request, s,
                            MHD_OPTION_SOCK_ADDR, addr, MHD_OPTION_CONNECTION_LIMIT, limit,
                            /* idle keep-alive connections hold a thread: let them go after a
                               minute (a connection waiting on the engine is not idle to MHD) */
                            MHD_OPTION_CONNECTION_TIMEOUT, 60u, MHD_OPTION_NOTIFY_COMPLETED,
                            on_completed, s, MHD_OPTION_END);
    if (!s->d)
        return srv_fail(err, NEMO_ERR_IO, "cannot listen on %s:%d (in use, or not permitted)",
                        s->cfg.host, s->cfg.port);
    return 0;
}

void http_stop(srv *s) {
    if (s->d) MHD_stop_daemon(s->d);
    s->d = NULL;
}

unsigned http_port(srv *s) {
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    return di ? di->port : (unsigned)s->cfg.port;
}
