/* pool.h — a persistent worker pool: the caller and n-1 workers run the same function, each
 * with its index, and split the work themselves (deterministic, no per-call thread spawn). */
#ifndef NEMO_POOL_H
#define NEMO_POOL_H

typedef struct nemo_pool nemo_pool;
typedef void (*nemo_pool_fn)(void *ctx, int ith, int nth);

/* n_threads counts the caller; <= 0 means the number of online CPUs. NULL on failure. */
nemo_pool *nemo_pool_create(int n_threads);
void nemo_pool_free(nemo_pool *p);
int nemo_pool_size(const nemo_pool *p);
/* Runs fn(ctx, i, n) for i in 0..n-1 (i = 0 on the calling thread); returns when all are done.
 * Not reentrant: one run at a time per pool. */
void nemo_pool_run(nemo_pool *p, nemo_pool_fn fn, void *ctx);
/* The contiguous share [*lo, *hi) of n items for thread ith of nth. */
void nemo_pool_split(long n, int ith, int nth, long *lo, long *hi);
int nemo_cpu_count(void);

#endif
