/* sampler.c — next-id selection from a logits row: repetition / frequency / presence penalties
 * over a window of previous ids, greedy, top-k, temperature softmax, min-p, top-p, and a draw
 * from an owned splitmix64 PRNG. Everything is sized at create from the vocabulary so the token
 * loop never allocates; sorting is an in-place heap sort for the same reason (glibc's qsort may
 * call malloc). Data in: logits[V]; out: an id. */
#include "core/core.h"

#include <math.h>
#include <stdlib.h>

typedef struct cand {
    float v; /* logit, then probability */
    int32_t id;
} cand;

struct nemo_sampler {
    nemo_sampler_params p;
    int V;
    float *work;   /* [V] penalised logits */
    cand *c;       /* [V] candidates */
    int32_t *hist; /* [window] ring of previous ids */
    int hist_n, hist_pos, window;
    int32_t *count;  /* [V] occurrences of each id in the window */
    uint32_t *stamp; /* [V] last step an id was penalised (so repeats count once) */
    uint32_t step;
    uint64_t rng;
};

void nemo_sampler_defaults(nemo_sampler_params *p) {
    memset(p, 0, sizeof *p);
    p->temperature = 0.3f; /* Mistral's recommendation for NeMo */
    p->top_p = 1.0f;
    p->repeat_penalty = 1.0f;
    p->penalty_window = 64;
}

nemo_status nemo_sampler_create(const nemo_sampler_params *p, int vocab_size, nemo_sampler **out,
                                nemo_error *err) {
    *out = NULL;
    if (vocab_size <= 0) return nemo_fail(err, NEMO_ERR_ARG, "sampler: vocab_size %d", vocab_size);
    if (!(p->top_p > 0 && p->top_p <= 1) || !(p->min_p >= 0 && p->min_p <= 1) || p->top_k < 0 ||
        !(p->repeat_penalty > 0) || p->penalty_window < 0 || isnan(p->temperature) ||
        isnan(p->frequency_penalty) || isnan(p->presence_penalty))
        return nemo_fail(err, NEMO_ERR_ARG,
                         "sampler: need 0 < top_p <= 1, 0 <= min_p <= 1, top_k >= 0, "
                         "repeat_penalty > 0, penalty_window >= 0 (got top_p %g, min_p %g, top_k "
                         "%d, repeat_penalty %g, window %d)",
                         p->top_p, p->min_p, p->top_k, p->repeat_penalty, p->penalty_window);
    nemo_sampler *s = calloc(1, sizeof *s);
    if (!s) return nemo_fail(err, NEMO_ERR_NOMEM, "sampler: out of memory");
    s->p = *p;
    s->V = vocab_size;
    s->window = p->penalty_window ? p->penalty_window : 64;
    s->work = malloc((size_t)vocab_size * sizeof *s->work);
    s->c = malloc((size_t)vocab_size * sizeof *s->c);
    s->hist = malloc((size_t)s->window * sizeof *s->hist);
    s->count = calloc((size_t)vocab_size, sizeof *s->count);
    s->stamp = calloc((size_t)vocab_size, sizeof *s->stamp);
    if (!s->work || !s->c || !s->hist || !s->count || !s->stamp) {
        nemo_sampler_free(s);
        return nemo_fail(err, NEMO_ERR_NOMEM, "sampler: out of memory for vocab %d", vocab_size);
    }
    nemo_sampler_reset(s);
    *out = s;
    return NEMO_OK;
}

void nemo_sampler_free(nemo_sampler *s) {
    if (!s) return;
    free(s->work);
    free(s->c);
    free(s->hist);
    free(s->count);
    free(s->stamp);
    free(s);
}

void nemo_sampler_reset(nemo_sampler *s) {
    for (int i = 0; i < s->hist_n; i++) s->count[s->hist[i]] = 0;
    s->hist_n = s->hist_pos = 0;
    s->rng = s->p.seed;
}

uint64_t *nemo_sampler_rng(nemo_sampler *s) {
    return &s->rng;
}

void nemo_sampler_accept(nemo_sampler *s, int32_t id) {
    if (id < 0 || id >= s->V) return;
    if (s->hist_n == s->window)
        s->count[s->hist[s->hist_pos]]--;
    else
        s->hist_n++;
    s->hist[s->hist_pos] = id;
    s->count[id]++;
    s->hist_pos = (s->hist_pos + 1) % s->window;
}

/* splitmix64: tiny, good enough for sampling, and fully determined by the seed */
static uint64_t next_u64(uint64_t *st) {
    uint64_t z = (*st += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static double next_unit(uint64_t *st) {
    return (double)(next_u64(st) >> 11) * 0x1.0p-53;
}

/* "a ranks below b": smaller value, or equal value and larger id (ties go to the lower id) */
static int below(cand a, cand b) {
    return a.v < b.v || (a.v == b.v && a.id > b.id);
}

/* min-heap on `below`: the lowest-ranked candidate at the root */
static void sift_down(cand *h, int n, int i) {
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && below(h[l], h[m])) m = l;
        if (r < n && below(h[r], h[m])) m = r;
        if (m == i) return;
        cand t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

/* Sorts c[0..n) best first, in place. */
static void sort_desc(cand *c, int n) {
    for (int i = n / 2 - 1; i >= 0; i--) sift_down(c, n, i);
    for (int end = n - 1; end > 0; end--) {
        cand t = c[0];
        c[0] = c[end];
        c[end] = t;
        sift_down(c, end, 0);
    }
}

static void apply_penalties(nemo_sampler *s) {
    const nemo_sampler_params *p = &s->p;
    if (p->repeat_penalty == 1.0f && p->frequency_penalty == 0 && p->presence_penalty == 0) return;
    if (++s->step == 0) { /* wrapped: clear stamps so none looks current */
        memset(s->stamp, 0, (size_t)s->V * sizeof *s->stamp);
        s->step = 1;
    }
    for (int i = 0; i < s->hist_n; i++) {
        int32_t id = s->hist[i];
        if (s->stamp[id] == s->step) continue;
        s->stamp[id] = s->step;
        float v = s->work[id];
        v = v > 0 ? v / p->repeat_penalty : v * p->repeat_penalty;
        v -= p->frequency_penalty * (float)s->count[id] + p->presence_penalty;
        s->work[id] = v;
    }
}

int32_t nemo_sampler_sample(nemo_sampler *s, const float *logits) {
    const nemo_sampler_params *p = &s->p;
    int V = s->V;
    memcpy(s->work, logits, (size_t)V * sizeof *s->work);
    apply_penalties(s);
    int32_t pick = 0;
    if (p->temperature <= 0) {
        for (int i = 1; i < V; i++)
            if (s->work[i] > s->work[pick]) pick = i;
        nemo_sampler_accept(s, pick);
        return pick;
    }
    cand *c = s->c;
    int n = 0;
    if (p->top_k > 0 && p->top_k < V) {
        for (int i = 0; i < V; i++) {
            cand x = {s->work[i], i};
            if (n < p->top_k) {
                c[n++] = x;
                if (n == p->top_k)
                    for (int j = n / 2 - 1; j >= 0; j--) sift_down(c, n, j);
            } else if (below(c[0], x)) {
                c[0] = x;
                sift_down(c, n, 0);
            }
        }
    } else {
        for (int i = 0; i < V; i++) c[n++] = (cand){s->work[i], i};
    }
    /* softmax at temperature */
    float mx = -INFINITY;
    for (int i = 0; i < n; i++)
        if (c[i].v > mx) mx = c[i].v;
    double sum = 0;
    for (int i = 0; i < n; i++) {
        float e = isinf(mx) ? 1.0f : expf((c[i].v - mx) / p->temperature);
        c[i].v = e;
        sum += e;
    }
    /* min-p: relative to the most likely id (whose unnormalised weight is 1) */
    if (p->min_p > 0) {
        float thr = p->min_p;
        int k = 0;
        sum = 0;
        for (int i = 0; i < n; i++)
            if (c[i].v >= thr) {
                c[k++] = c[i];
                sum += c[i].v;
            }
        n = k;
    }
    /* top-p: the smallest best-first prefix holding top_p of the mass */
    if (p->top_p < 1.0f) {
        sort_desc(c, n);
        double target = p->top_p * sum, acc = 0;
        int k = 0;
        while (k < n) {
            acc += c[k++].v;
            if (acc >= target) break;
        }
        n = k;
        sum = acc;
    }
    double r = next_unit(&s->rng) * sum, acc = 0;
    pick = c[n - 1].id;
    for (int i = 0; i < n; i++) {
        acc += c[i].v;
        if (r < acc) {
            pick = c[i].id;
            break;
        }
    }
    nemo_sampler_accept(s, pick);
    return pick;
}
