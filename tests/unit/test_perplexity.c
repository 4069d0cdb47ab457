/* test_perplexity.c — nemo_perplexity on the committed NeMo-shaped synthetic GGUF
 * (tests/golden/gguf/synth_nemo_bf16.gguf): the value equals a direct computation from the
 * session API (chunk from an empty cache, second half scored, NLL in double), batching options
 * (pieces below the context, several chunks as sequences, threads) do not change it, BOS
 * replaces each chunk's first token, the chunk limit and the error cases. */
#include "nemo.h"
#include "test.h"

#define NCTX 16
#define NTOK 75 /* 4 whole chunks of 16 and a partial one that must be ignored */

static nemo_model *model;
static int32_t ids[NTOK];

/* Perplexity by hand: each chunk decoded alone, logits for every position. */
static double by_hand(int n_chunks, int bos) {
    const nemo_config *c = nemo_model_config(model);
    nemo_session_params sp = {NCTX, 1, NCTX, 1};
    nemo_session *s = NULL;
    nemo_error err = {0};
    CHECK_OK(nemo_session_create(model, &sp, &s, &err), &err);
    if (!s) return 0;
    double nll = 0;
    int count = 0;
    int8_t want[NCTX];
    int32_t pos[NCTX], seq[NCTX] = {0}, tok[NCTX];
    for (int i = 0; i < NCTX; i++) want[i] = 1, pos[i] = i;
    for (int k = 0; k < n_chunks; k++) {
        memcpy(tok, ids + k * NCTX, sizeof tok);
        if (bos) tok[0] = c->bos_id;
        nemo_session_seq_truncate(s, 0, 0, &err);
        nemo_batch b = {NCTX, tok, pos, seq, want};
        CHECK_OK(nemo_session_decode(s, &b, &err), &err);
        for (int p = NCTX / 2; p < NCTX - 1; p++) {
            const float *lg = nemo_session_logits(s, p);
            double mx = lg[0], sum = 0;
            for (int v = 1; v < c->vocab_size; v++) mx = lg[v] > mx ? lg[v] : mx;
            for (int v = 0; v < c->vocab_size; v++) sum += exp((double)lg[v] - mx);
            nll += -((double)lg[ids[k * NCTX + p + 1]] - mx - log(sum));
            count++;
        }
    }
    nemo_session_free(s);
    return exp(nll / count);
}

static int n_calls, last_chunk;
static void on_chunk(int chunk, int n_chunks, double ppl, void *user) {
    (void)ppl;
    (void)user;
    CHECK(chunk == last_chunk + 1 && n_chunks == 4);
    last_chunk = chunk;
    n_calls++;
}

static void test_matches_hand_computation(void) {
    nemo_ppl_params p = {NCTX, 0, 0, 1, 0, on_chunk, NULL};
    nemo_ppl_result r;
    nemo_error err = {0};
    CHECK_OK(nemo_perplexity(model, ids, NTOK, &p, &r, &err), &err);
    double want = by_hand(4, 0);
    CHECK_MSG(fabs(r.ppl / want - 1) < 1e-6, "ppl %.8f, by hand %.8f", r.ppl, want);
    CHECK(r.n_chunks == 4 && r.n_scored == 4 * (NCTX - NCTX / 2 - 1));
    CHECK(n_calls == 4 && r.ppl_err > 0 && r.ppl > 1);
    CHECK(fabs(exp(r.nll) - r.ppl) < 1e-9 * r.ppl);
}

static void test_batching_does_not_change_it(void) {
    nemo_error err = {0};
    nemo_ppl_result a, b;
    nemo_ppl_params p = {NCTX, 0, 0, 1, 0, NULL, NULL};
    CHECK_OK(nemo_perplexity(model, ids, NTOK, &p, &a, &err), &err);
    int batches[] = {5, 8, 2 * NCTX, 4 * NCTX, 8 * NCTX};
    for (size_t i = 0; i < sizeof batches / sizeof batches[0]; i++) {
        p.n_batch = batches[i];
        p.n_threads = (int)i % 2 + 1;
        CHECK_OK(nemo_perplexity(model, ids, NTOK, &p, &b, &err), &err);
        CHECK_MSG(fabs(b.ppl / a.ppl - 1) < 1e-6 && b.n_chunks == 4, "batch %d: %.8f vs %.8f",
                  batches[i], b.ppl, a.ppl);
    }
}

static void test_bos_and_chunk_limit(void) {
    nemo_error err = {0};
    nemo_ppl_result r;
    nemo_ppl_params p = {NCTX, 2, 0, 1, 1, NULL, NULL};
    CHECK_OK(nemo_perplexity(model, ids, NTOK, &p, &r, &err), &err);
    double want = by_hand(2, 1);
    CHECK_MSG(fabs(r.ppl / want - 1) < 1e-6, "bos: %.8f vs %.8f", r.ppl, want);
    CHECK(r.n_chunks == 2);
    /* the stand-in vocabulary says add_bos_token = true; -1 means "as the model says" */
    CHECK(nemo_model_add_bos(model) == 1);
    p.add_bos = -1;
    nemo_ppl_result r2;
    CHECK_OK(nemo_perplexity(model, ids, NTOK, &p, &r2, &err), &err);
    CHECK(r2.ppl == r.ppl);
}

static void test_errors(void) {
    nemo_error err = {0};
    nemo_ppl_result r;
    nemo_ppl_params p = {NCTX, 0, 0, 1, 0, NULL, NULL};
    CHECK(nemo_perplexity(model, ids, 2 * NCTX - 1, &p, &r, &err) == NEMO_ERR_ARG);
    CHECK(strstr(err.msg, "at least 32") != NULL);
    p.n_batch = NCTX + 1;
    CHECK(nemo_perplexity(model, ids, NTOK, &p, &r, &err) == NEMO_ERR_ARG);
    CHECK(strstr(err.msg, "multiple") != NULL);
    p.n_batch = 0;
    p.n_ctx = 2;
    CHECK(nemo_perplexity(model, ids, NTOK, &p, &r, &err) == NEMO_ERR_ARG);
    int32_t bad[2 * NCTX];
    memcpy(bad, ids, sizeof bad);
    bad[7] = 100000;
    p.n_ctx = NCTX;
    CHECK(nemo_perplexity(model, bad, 2 * NCTX, &p, &r, &err) == NEMO_ERR_ARG);
    CHECK(strstr(err.msg, "token 7") != NULL);
    CHECK(nemo_perplexity(NULL, ids, NTOK, &p, &r, &err) == NEMO_ERR_ARG);
}

int main(void) {
    nemo_error err = {0};
    if (nemo_model_open(test_repo_path("tests/golden/gguf/synth_nemo_bf16.gguf"), &model, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        CHECK(0);
        return test_finish();
    }
    uint64_t x = 12345;
    for (int i = 0; i < NTOK; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        ids[i] = (int32_t)((x >> 33) % 320);
    }
    RUN(test_matches_hand_computation);
    RUN(test_batching_does_not_change_it);
    RUN(test_bos_and_chunk_limit);
    RUN(test_errors);
    nemo_model_free(model);
    return test_finish();
}
