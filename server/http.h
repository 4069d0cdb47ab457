/* http.h — the HTTP side of `nemo serve`: one request as the route handlers see it, and the
 * helpers they answer with (JSON bodies, OpenAI-shaped errors, SSE streams). */
#ifndef NEMO_SERVER_HTTP_H
#define NEMO_SERVER_HTTP_H

#include "server.h"

#include <microhttpd.h>

typedef struct srv {
    srv_config cfg;
    engine *eng;
    srv_metrics *met;
    struct MHD_Daemon *d;
    char model_id[128];
    long started;
} srv;

typedef struct req {
    srv *s;
    struct MHD_Connection *c;
    const char *url;
    const char *route; /* metrics label */
    char *body;        /* NUL-terminated */
    size_t len, cap;
    int too_big;
    int answered; /* a response was queued before the body arrived */
} req;

typedef enum MHD_Result (*route_fn)(req *r);

/* Starts listening (threads of its own); http_stop closes every connection. */
int http_start(srv *s, nemo_error *err);
void http_stop(srv *s);
unsigned http_port(srv *s);

/* Sends body (len bytes, copied) with status and content type, and counts it in /metrics. */
enum MHD_Result http_send(req *r, int status, const char *type, const char *body, size_t len);
/* Sends a JSON value (stolen) with status. */
enum MHD_Result http_json(req *r, int status, json_t *v);
/* OpenAI's error shape: {"error": {"message", "type", "param", "code"}}; param/code may be
 * NULL. type is chosen from the status (invalid_request_error, authentication_error,
 * not_found_error, server_error...). */
enum MHD_Result http_error(req *r, int status, const char *param, const char *code, const char *fmt,
                           ...) __attribute__((format(printf, 5, 6)));
json_t *error_body(int status, const char *param, const char *code, const char *msg);
/* 1 once the client has closed its side of the connection. */
int http_peer_closed(struct MHD_Connection *c);
/* A JSON string of n bytes of UTF-8 (invalid bytes become U+FFFD). */
json_t *jstr(const char *s, size_t n);

/* sse.c: answers with a text/event-stream fed from j as the engine produces it. */
enum MHD_Result sse_start(req *r, job *j);
/* respond.c: waits for j and answers with the whole completion. */
enum MHD_Result respond_whole(req *r, job *j);
/* respond.c: the chunk / response objects shared by both. */
json_t *resp_tool_calls(const nemo_tool_calls *tc, int with_index);
json_t *resp_usage(const job *j);

/* routes */
enum MHD_Result route_chat(req *r);
enum MHD_Result route_completions(req *r);
enum MHD_Result route_models(req *r);
enum MHD_Result route_tokenize(req *r);
enum MHD_Result route_detokenize(req *r);
enum MHD_Result route_health(req *r);
enum MHD_Result route_metrics(req *r);
enum MHD_Result route_index(req *r);

/* routes_run.c: the api_ctx of this server; submits j and answers (503 on a full queue). */
struct api_ctx;
void http_api_ctx(req *r, struct api_ctx *c);
enum MHD_Result params_run(req *r, job *j);

#endif
