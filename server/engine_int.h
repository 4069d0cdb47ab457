/* engine_int.h — the engine's private state, shared by its scheduler (engine.c) and its
 * per-token output handling (engine_out.c). Only the engine thread touches slots. */
#ifndef NEMO_SERVER_ENGINE_INT_H
#define NEMO_SERVER_ENGINE_INT_H

#include "server.h"

#include <time.h>

typedef struct slot {
    job *j;       /* NULL: free */
    int32_t *ids; /* [ctx] ids in this sequence's KV cache (kept after the job for reuse) */
    int n_ids;
    int prompt_i; /* next prompt index to prefill */
    int32_t next; /* sampled id not yet in the cache */
    int has_next; /* 1 once generating */
} slot;

struct engine {
    srv_config cfg;
    srv_metrics *met;
    nemo_model *model;
    nemo_tokenizer *tok;
    nemo_session *sess;
    engine_info info;
    int32_t end_ids[4];
    int n_end;
    slot *slots;
    int n_slots, rr;
    job **queue; /* ring of q_cap */
    int q_head, q_len, q_cap;
    int n_active;
    pthread_mutex_t mu; /* queue, n_active, running */
    pthread_cond_t cv;
    pthread_t th;
    int running, started;
    int32_t *b_tok, *b_pos, *b_seq; /* [batch] */
    int8_t *b_want;
};

/* engine_out.c: picks the next id of slot s from its logits row and hands the text on. */
void engine_token(engine *e, slot *s, const float *logits);
/* Ends s's job (why: "stop"/"length"; NULL = cancelled) and frees the slot. */
void engine_finish(engine *e, slot *s, const char *why);
void engine_slot_release(engine *e, slot *s);

#endif
