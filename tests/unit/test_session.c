/* test_session.c — the batch API's semantics on a tiny synthetic model: one prefill equals
 * token-by-token decoding, several sequences in one batch equal separate runs, thread counts
 * do not change results, rewinding works, and bad batches are rejected clearly. */
#include "nemo.h"
#include "test.h"

static nemo_model *model;

static nemo_model *tiny_model(void) {
    static char dir[1100];
    nemo_synth_params p;
    nemo_synth_defaults(&p);
    p.cfg.dim = 64;
    p.cfg.n_layers = 2;
    p.cfg.n_heads = 4;
    p.cfg.n_kv_heads = 2;
    p.cfg.head_dim = 32;
    p.cfg.hidden_dim = 96;
    p.cfg.vocab_size = 128;
    p.cfg.sliding_window = 0;
    p.dtype = NEMO_DTYPE_F32;
    p.seed = 7;
    snprintf(dir, sizeof dir, "%s/tiny", test_tmpdir());
    nemo_error err = {0};
    nemo_model *m = NULL;
    if (nemo_synth_write(&p, dir, NULL, NULL, &err) || nemo_model_open(dir, &m, &err))
        fprintf(stderr, "tiny model: %s\n", err.msg);
    return m;
}

static const int32_t PROMPT[] = {1, 17, 99, 3, 45, 8, 100, 12, 7, 64};
#define NP ((int)(sizeof PROMPT / sizeof PROMPT[0]))

static float max_abs_diff(const float *a, const float *b, int n) {
    float d = 0;
    for (int i = 0; i < n; i++) d = fmaxf(d, fabsf(a[i] - b[i]));
    return d;
}

static nemo_session *session(int n_seq, int threads) {
    nemo_session_params sp = {64, n_seq, 32, threads};
    nemo_session *s = NULL;
    nemo_error err = {0};
    CHECK_OK(nemo_session_create(model, &sp, &s, &err), &err);
    return s;
}

/* Prefill all of PROMPT in sequence seq; copies the last logits into out. */
static void prefill(nemo_session *s, int seq, float *out) {
    int32_t pos[NP], sq[NP];
    for (int i = 0; i < NP; i++) {
        pos[i] = i;
        sq[i] = seq;
    }
    nemo_batch b = {NP, PROMPT, pos, sq, NULL};
    nemo_error err = {0};
    CHECK_OK(nemo_session_decode(s, &b, &err), &err);
    const float *lg = nemo_session_logits(s, NP - 1);
    CHECK(lg != NULL && nemo_session_logits(s, 0) == NULL);
    if (lg) memcpy(out, lg, 128 * sizeof(float));
}

static void test_prefill_equals_stepwise(void) {
    float a[128], b[128];
    nemo_session *s = session(1, 1);
    prefill(s, 0, a);
    CHECK(nemo_session_seq_len(s, 0) == NP);
    nemo_session_free(s);
    s = session(1, 1);
    for (int i = 0; i < NP; i++) {
        int32_t pos = i, seq = 0;
        nemo_batch bt = {1, &PROMPT[i], &pos, &seq, NULL};
        nemo_error err = {0};
        CHECK_OK(nemo_session_decode(s, &bt, &err), &err);
    }
    memcpy(b, nemo_session_logits(s, 0), sizeof b);
    CHECK_MSG(max_abs_diff(a, b, 128) < 1e-5f, "diff %g", max_abs_diff(a, b, 128));
    nemo_session_free(s);
}

static void test_threads_identical(void) {
    float a[128], b[128];
    nemo_session *s1 = session(1, 1), *s3 = session(1, 3);
    prefill(s1, 0, a);
    prefill(s3, 0, b);
    CHECK(memcmp(a, b, sizeof a) == 0); /* rows are split, never reduced across threads */
    nemo_session_free(s1);
    nemo_session_free(s3);
}

/* The last layer's FFN runs only for tokens whose logits are wanted: asking for every row's
 * logits or only the last one's gives that row bit-identical logits, and the next token
 * (which reads the cache the skipped rows wrote) is bit-identical too. */
static void test_unwanted_rows_skip_last_ffn(void) {
    float a[128], b[128], a2[128], b2[128];
    nemo_session *s1 = session(1, 2), *s2 = session(1, 2);
    int32_t pos[NP], sq[NP] = {0};
    int8_t all[NP];
    for (int i = 0; i < NP; i++) pos[i] = i, all[i] = 1;
    nemo_batch ba = {NP, PROMPT, pos, sq, all}, bl = {NP, PROMPT, pos, sq, NULL};
    nemo_error err = {0};
    CHECK_OK(nemo_session_decode(s1, &ba, &err), &err);
    CHECK_OK(nemo_session_decode(s2, &bl, &err), &err);
    memcpy(a, nemo_session_logits(s1, NP - 1), sizeof a);
    memcpy(b, nemo_session_logits(s2, NP - 1), sizeof b);
    CHECK(memcmp(a, b, sizeof a) == 0);
    int32_t tok = 5, p = NP, q = 0;
    nemo_batch nx = {1, &tok, &p, &q, NULL};
    CHECK_OK(nemo_session_decode(s1, &nx, &err), &err);
    CHECK_OK(nemo_session_decode(s2, &nx, &err), &err);
    memcpy(a2, nemo_session_logits(s1, 0), sizeof a2);
    memcpy(b2, nemo_session_logits(s2, 0), sizeof b2);
    CHECK(memcmp(a2, b2, sizeof a2) == 0);
    nemo_session_free(s1);
    nemo_session_free(s2);
}

static void test_multi_sequence_batch(void) {
    float ref[128], other[128];
    nemo_session *s = session(1, 2);
    prefill(s, 0, ref);
    nemo_session_free(s);
    /* Sequence 1 gets a different prompt; sequence 2 gets PROMPT; interleaved in one batch. */
    s = session(3, 2);
    int32_t tok[2 * NP], pos[2 * NP], seq[2 * NP];
    int8_t want[2 * NP] = {0};
    for (int i = 0; i < NP; i++) {
        tok[2 * i] = PROMPT[NP - 1 - i];
        pos[2 * i] = i;
        seq[2 * i] = 1;
        tok[2 * i + 1] = PROMPT[i];
        pos[2 * i + 1] = i;
        seq[2 * i + 1] = 2;
    }
    want[2 * NP - 1] = 1;
    want[2 * NP - 2] = 1;
    nemo_batch b = {2 * NP, tok, pos, seq, want};
    nemo_error err = {0};
    CHECK_OK(nemo_session_decode(s, &b, &err), &err);
    const float *lg = nemo_session_logits(s, 2 * NP - 1);
    CHECK(lg && max_abs_diff(lg, ref, 128) < 1e-5f);
    memcpy(other, nemo_session_logits(s, 2 * NP - 2), sizeof other);
    CHECK(max_abs_diff(other, ref, 128) > 1e-3f); /* a different prompt gives other logits */
    CHECK(nemo_session_seq_len(s, 0) == 0 && nemo_session_seq_len(s, 1) == NP);
    /* Rewind sequence 2 to position 5 and replay: same logits as before. */
    CHECK_OK(nemo_session_seq_truncate(s, 2, 5, &err), &err);
    CHECK(nemo_session_seq_len(s, 2) == 5);
    int32_t p2[NP], s2[NP];
    for (int i = 5; i < NP; i++) {
        p2[i - 5] = i;
        s2[i - 5] = 2;
    }
    nemo_batch r = {NP - 5, PROMPT + 5, p2, s2, NULL};
    CHECK_OK(nemo_session_decode(s, &r, &err), &err);
    lg = nemo_session_logits(s, NP - 6);
    CHECK(lg && max_abs_diff(lg, ref, 128) < 1e-5f);
    nemo_session_free(s);
}

static void expect_bad(nemo_session *s, int n, const int32_t *tok, const int32_t *pos,
                       const int32_t *seq, nemo_status want, const char *needle) {
    nemo_batch b = {n, tok, pos, seq, NULL};
    nemo_error err = {0};
    nemo_status st = nemo_session_decode(s, &b, &err);
    CHECK_MSG(st == want, "status %d (%s), wanted %d", st, err.msg, want);
    CHECK_MSG(strstr(err.msg, needle) != NULL, "'%s' lacks '%s'", err.msg, needle);
}

static void test_bad_batches(void) {
    nemo_session *s = session(2, 1);
    int32_t t1 = 5, p0 = 0, p3 = 3, s0 = 0, s9 = 9, big = 128, neg = -1, p99 = 99;
    expect_bad(s, 1, &t1, &p3, &s0, NEMO_ERR_ARG, "gap");
    expect_bad(s, 1, &big, &p0, &s0, NEMO_ERR_ARG, "vocabulary");
    expect_bad(s, 1, &neg, &p0, &s0, NEMO_ERR_ARG, "vocabulary");
    expect_bad(s, 1, &t1, &p0, &s9, NEMO_ERR_ARG, "sequence 9");
    expect_bad(s, 1, &t1, &p99, &s0, NEMO_ERR_FULL, "context");
    expect_bad(s, 0, &t1, &p0, &s0, NEMO_ERR_ARG, "empty");
    int32_t many[40] = {0}, mp[40], ms[40] = {0};
    for (int i = 0; i < 40; i++) mp[i] = i;
    expect_bad(s, 40, many, mp, ms, NEMO_ERR_FULL, "exceeds");
    CHECK(nemo_session_seq_len(s, 0) == 0); /* rejected batches leave the cache alone */
    nemo_session_params sp = {1 << 30, 1, 1, 1};
    nemo_session *huge = NULL;
    nemo_error err = {0};
    CHECK(nemo_session_create(model, &sp, &huge, &err) != NEMO_OK && huge == NULL);
    nemo_session_free(s);
    nemo_session_free(NULL);
}

int main(void) {
    model = tiny_model();
    if (!model) {
        CHECK(model != NULL);
        return test_finish();
    }
    RUN(test_prefill_equals_stepwise);
    RUN(test_threads_identical);
    RUN(test_multi_sequence_batch);
    RUN(test_unwanted_rows_skip_last_ffn);
    RUN(test_bad_batches);
    nemo_model_free(model);
    return test_finish();
}
