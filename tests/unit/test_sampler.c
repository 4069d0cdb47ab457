/* test_sampler.c — every sampler option changes the choice on crafted logits (so a test fails
 * if the option were ignored), seeded runs repeat exactly, and the stop matcher finds stop
 * strings across piece boundaries. */
#include "nemo.h"
#include "test.h"

#define V 16

static nemo_sampler *make(float temp, int top_k, float top_p, float min_p, uint64_t seed) {
    nemo_sampler_params p;
    nemo_sampler_defaults(&p);
    p.temperature = temp;
    p.top_k = top_k;
    p.top_p = top_p;
    p.min_p = min_p;
    p.seed = seed;
    nemo_sampler *s = NULL;
    nemo_error err = {0};
    CHECK_OK(nemo_sampler_create(&p, V, &s, &err), &err);
    return s;
}

/* logits giving probabilities 0.5, 0.3, 0.2 at temperature 1 (the rest ~0) */
static void three_way(float *l) {
    for (int i = 0; i < V; i++) l[i] = -1e9f;
    l[3] = logf(0.5f);
    l[7] = logf(0.3f);
    l[11] = logf(0.2f);
}

/* histogram of n draws */
static void draws(nemo_sampler *s, const float *l, int n, int *hist) {
    memset(hist, 0, V * sizeof *hist);
    for (int i = 0; i < n; i++) {
        int32_t id = nemo_sampler_sample(s, l);
        CHECK(id >= 0 && id < V);
        if (id >= 0 && id < V) hist[id]++;
    }
}

static void test_greedy(void) {
    float l[V] = {0};
    l[5] = 2;
    l[9] = 2; /* tie: the lower id wins */
    l[2] = 1.5f;
    nemo_sampler *s = make(0, 0, 1, 0, 1);
    for (int i = 0; i < 20; i++) CHECK(nemo_sampler_sample(s, l) == 5);
    nemo_sampler_free(s);
    nemo_sampler_free(NULL);
}

static void test_seed_reproducible(void) {
    float l[V];
    for (int i = 0; i < V; i++) l[i] = (float)(i % 5) * 0.3f;
    int32_t a[300], b[300], c[300];
    nemo_sampler *s1 = make(1.0f, 0, 1, 0, 42), *s2 = make(1.0f, 0, 1, 0, 42),
                 *s3 = make(1.0f, 0, 1, 0, 43);
    for (int i = 0; i < 300; i++) {
        a[i] = nemo_sampler_sample(s1, l);
        b[i] = nemo_sampler_sample(s2, l);
        c[i] = nemo_sampler_sample(s3, l);
    }
    CHECK(!memcmp(a, b, sizeof a));
    CHECK(memcmp(a, c, sizeof a) != 0);
    nemo_sampler_reset(s1); /* reset restarts from the seed */
    for (int i = 0; i < 300; i++) CHECK(nemo_sampler_sample(s1, l) == a[i]);
    int distinct = 0, seen[V] = {0};
    for (int i = 0; i < 300; i++) distinct += !seen[a[i]]++;
    CHECK(distinct >= 10); /* it really samples */
    nemo_sampler_free(s1);
    nemo_sampler_free(s2);
    nemo_sampler_free(s3);
}

static void test_temperature(void) {
    float l[V] = {0};
    l[0] = 1.0f;
    l[1] = 0.9f;
    int h[V];
    nemo_sampler *cold = make(0.005f, 0, 1, 0, 7), *hot = make(5.0f, 0, 1, 0, 7);
    draws(cold, l, 400, h);
    CHECK_MSG(h[0] == 400, "T=0.005 picked id 0 %d/400 times", h[0]);
    draws(hot, l, 400, h);
    CHECK_MSG(h[0] < 100 && h[1] > 0 && h[15] > 0, "T=5: %d %d %d", h[0], h[1], h[15]);
    nemo_sampler_free(cold);
    nemo_sampler_free(hot);
}

static void test_top_k(void) {
    float l[V];
    for (int i = 0; i < V; i++) l[i] = (float)((i * 7) % V) * 0.1f;
    int h[V], best = 0, second = -1;
    for (int i = 1; i < V; i++)
        if (l[i] > l[best]) best = i;
    for (int i = 0; i < V; i++)
        if (i != best && (second < 0 || l[i] > l[second])) second = i;
    nemo_sampler *k1 = make(1.5f, 1, 1, 0, 3), *k2 = make(1.5f, 2, 1, 0, 3);
    draws(k1, l, 300, h);
    CHECK_MSG(h[best] == 300, "top_k=1 must equal greedy: %d/300", h[best]);
    draws(k2, l, 300, h);
    CHECK(h[best] + h[second] == 300 && h[second] > 0);
    nemo_sampler_free(k1);
    nemo_sampler_free(k2);
}

static void test_top_p(void) {
    float l[V];
    three_way(l);
    int h[V];
    nemo_sampler *off = make(1, 0, 1, 0, 5), *p6 = make(1, 0, 0.6f, 0, 5),
                 *p4 = make(1, 0, 0.4f, 0, 5);
    draws(off, l, 600, h);
    CHECK(h[3] > 0 && h[7] > 0 && h[11] > 0);
    draws(p6, l, 600, h);
    CHECK_MSG(h[11] == 0 && h[3] + h[7] == 600 && h[7] > 0, "top_p 0.6: %d %d %d", h[3], h[7],
              h[11]);
    draws(p4, l, 600, h);
    CHECK(h[3] == 600);
    nemo_sampler_free(off);
    nemo_sampler_free(p6);
    nemo_sampler_free(p4);
}

static void test_min_p(void) {
    float l[V];
    three_way(l);
    int h[V];
    /* relative probabilities 1, 0.6, 0.4: min_p 0.5 drops id 11 only */
    nemo_sampler *m = make(1, 0, 1, 0.5f, 9);
    draws(m, l, 600, h);
    CHECK_MSG(h[11] == 0 && h[3] > 0 && h[7] > 0, "min_p 0.5: %d %d %d", h[3], h[7], h[11]);
    nemo_sampler_free(m);
}

static nemo_sampler *greedy_pen(float rep, float freq, float pres, int window) {
    nemo_sampler_params p;
    nemo_sampler_defaults(&p);
    p.temperature = 0;
    p.repeat_penalty = rep;
    p.frequency_penalty = freq;
    p.presence_penalty = pres;
    p.penalty_window = window;
    nemo_sampler *s = NULL;
    nemo_error err = {0};
    CHECK_OK(nemo_sampler_create(&p, V, &s, &err), &err);
    return s;
}

static void test_penalties(void) {
    float l[V], copy[V];
    for (int i = 0; i < V; i++) l[i] = -5;
    l[0] = 1.0f;
    l[1] = 0.9f;
    memcpy(copy, l, sizeof l);
    /* repetition: 1.0 / 1.5 < 0.9 */
    nemo_sampler *s = greedy_pen(1.5f, 0, 0, 0);
    CHECK(nemo_sampler_sample(s, l) == 0); /* also records 0 */
    CHECK(nemo_sampler_sample(s, l) == 1);
    CHECK(!memcmp(l, copy, sizeof l)); /* logits are not modified */
    nemo_sampler_free(s);
    /* repetition on negative logits multiplies */
    float n[V];
    for (int i = 0; i < V; i++) n[i] = -9;
    n[4] = -1.0f;
    n[5] = -1.2f;
    s = greedy_pen(1.5f, 0, 0, 0);
    nemo_sampler_accept(s, 4);
    CHECK(nemo_sampler_sample(s, n) == 5);
    nemo_sampler_free(s);
    /* frequency scales with the count: once 1.0-0.3 > 0.9... use 0.5 gap */
    l[1] = 0.5f;
    s = greedy_pen(1, 0.3f, 0, 0);
    nemo_sampler_accept(s, 0);
    CHECK(nemo_sampler_sample(s, l) == 0); /* 0.7 > 0.5; now counted twice */
    CHECK(nemo_sampler_sample(s, l) == 1); /* 1.0 - 0.6 = 0.4 < 0.5 */
    nemo_sampler_free(s);
    /* presence does not scale with the count */
    s = greedy_pen(1, 0, 0.4f, 0);
    nemo_sampler_accept(s, 0);
    nemo_sampler_accept(s, 0);
    nemo_sampler_accept(s, 0);
    CHECK(nemo_sampler_sample(s, l) == 0); /* 0.6 > 0.5 */
    nemo_sampler_free(s);
    s = greedy_pen(1, 0, 0.6f, 0);
    nemo_sampler_accept(s, 0);
    CHECK(nemo_sampler_sample(s, l) == 1); /* 0.4 < 0.5 */
    nemo_sampler_free(s);
    /* the window forgets: 0 left it after two newer ids */
    s = greedy_pen(1, 0, 0.6f, 2);
    nemo_sampler_accept(s, 0);
    nemo_sampler_accept(s, 8);
    nemo_sampler_accept(s, 9);
    CHECK(nemo_sampler_sample(s, l) == 0);
    nemo_sampler_free(s);
}

static void test_bad_params(void) {
    nemo_sampler_params p;
    nemo_sampler_defaults(&p);
    CHECK(p.temperature > 0.29f && p.temperature < 0.31f);
    nemo_sampler *s = NULL;
    nemo_error err = {0};
    p.top_p = 0;
    CHECK(nemo_sampler_create(&p, V, &s, &err) == NEMO_ERR_ARG && !s);
    nemo_sampler_defaults(&p);
    CHECK(nemo_sampler_create(&p, 0, &s, &err) == NEMO_ERR_ARG);
}

/* feeds pieces, returns the concatenated visible text and whether it stopped */
static int run_stop(const char *const *stops, int ns, const char *const *pieces, int np,
                    char *out) {
    nemo_stop *st = NULL;
    nemo_error err = {0};
    CHECK_OK(nemo_stop_create(stops, ns, &st, &err), &err);
    out[0] = 0;
    int stopped = 0;
    for (int i = 0; i < np && !stopped; i++) {
        const char *e;
        size_t n;
        stopped = nemo_stop_feed(st, pieces[i], strlen(pieces[i]), &e, &n);
        strncat(out, e, n);
    }
    if (!stopped) {
        const char *e;
        size_t n;
        nemo_stop_flush(st, &e, &n);
        strncat(out, e, n);
    }
    nemo_stop_free(st);
    return stopped;
}

static void test_stop_strings(void) {
    char out[256];
    const char *stops[] = {"</s>", "\nUser:"};
    const char *p1[] = {"Hello <", "/s", "> more"};
    CHECK(run_stop(stops, 2, p1, 3, out) == 1 && !strcmp(out, "Hello "));
    const char *p2[] = {"a <", "b> c\nUs", "es"};
    CHECK(run_stop(stops, 2, p2, 3, out) == 0 && !strcmp(out, "a <b> c\nUses"));
    const char *p3[] = {"x\nUser: y"};
    CHECK(run_stop(stops, 2, p3, 1, out) == 1 && !strcmp(out, "x"));
    const char *p4[] = {"<<", "/s>"};
    CHECK(run_stop(stops, 2, p4, 2, out) == 1 && !strcmp(out, "<"));
    /* held back text is released as soon as it cannot start a stop string */
    nemo_stop *st = NULL;
    nemo_error err = {0};
    CHECK_OK(nemo_stop_create(stops, 2, &st, &err), &err);
    const char *e;
    size_t n;
    CHECK(nemo_stop_feed(st, "ab</", 4, &e, &n) == 0 && n == 2 && !memcmp(e, "ab", 2));
    CHECK(nemo_stop_feed(st, "x", 1, &e, &n) == 0 && n == 3 && !memcmp(e, "</x", 3));
    nemo_stop_free(st);
    nemo_stop_free(NULL);
}

int main(void) {
    RUN(test_greedy);
    RUN(test_seed_reproducible);
    RUN(test_temperature);
    RUN(test_top_k);
    RUN(test_top_p);
    RUN(test_min_p);
    RUN(test_penalties);
    RUN(test_bad_params);
    RUN(test_stop_strings);
    return test_finish();
}
