/* synth.c — the public entry points of the synthetic checkpoint generator: the NeMo 12B
 * defaults and nemo_synth_write, which lays out a native or HF folder from the tensor plan. */
#include "synth/synth.h"

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>

void nemo_synth_defaults(nemo_synth_params *p) {
    memset(p, 0, sizeof *p);
    nemo_config *c = &p->cfg;
    c->dim = 5120;
    c->n_layers = 40;
    c->n_heads = 32;
    c->n_kv_heads = 8;
    c->head_dim = 128;
    c->hidden_dim = 14336;
    c->vocab_size = 131072;
    c->norm_eps = 1e-5f;
    c->rope_theta = 1e6f;
    c->sliding_window = 0;
    c->max_seq_len = 131072;
    c->tied_embeddings = 0;
    c->bos_id = 1;
    c->eos_id = 2;
    c->layout = NEMO_LAYOUT_NATIVE;
    p->dtype = NEMO_DTYPE_BF16;
    p->seed = 0;
    p->n_shards = 0;
}

void nemo_synth_shard_name(int k, int n, char *out, size_t cap) {
    if (n <= 1)
        snprintf(out, cap, "model.safetensors");
    else
        snprintf(out, cap, "model-%05d-of-%05d.safetensors", k + 1, n);
}

/* mkdir -p: the folder and any missing parents. */
static nemo_status make_dirs(const char *dir, nemo_error *err) {
    char buf[4096];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof buf) return nemo_fail(err, NEMO_ERR_ARG, "synth: bad folder path");
    memcpy(buf, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != 0) continue;
        char c = buf[i];
        buf[i] = 0;
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return nemo_fail(err, NEMO_ERR_IO, "%s: cannot create folder: %s", buf,
                             strerror(errno));
        buf[i] = c;
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return nemo_fail(err, NEMO_ERR_IO, "%s: not a folder", dir);
    return NEMO_OK;
}

static nemo_status join(char *out, size_t cap, const char *dir, const char *name, nemo_error *err) {
    if (nemo_path_join(out, cap, dir, name) != 0)
        return nemo_fail(err, NEMO_ERR_ARG, "synth: path too long: %s/%s", dir, name);
    return NEMO_OK;
}

nemo_status nemo_synth_write(const nemo_synth_params *p, const char *dir,
                             void (*progress)(uint64_t done, uint64_t total, void *user),
                             void *user, nemo_error *err) {
    if (!p || !dir) return nemo_fail(err, NEMO_ERR_ARG, "synth: NULL argument");
    nemo_synth_plan pl;
    nemo_status st = nemo_synth_plan_make(p, &pl, err);
    if (st) return st;
    if ((st = make_dirs(dir, err))) goto done;

    char path[4096], name[64];
    nemo_synth_progress prog = {0, pl.data_bytes, progress, user};
    if (p->cfg.layout == NEMO_LAYOUT_NATIVE) {
        if ((st = join(path, sizeof path, dir, "params.json", err)) ||
            (st = nemo_synth_write_params_json(path, p, err)) ||
            (st = join(path, sizeof path, dir, "consolidated.safetensors", err)) ||
            (st = nemo_synth_write_safetensors(path, &pl, 0, p->dtype, p->seed, &prog, err)))
            goto done;
    } else {
        if ((st = join(path, sizeof path, dir, "config.json", err)) ||
            (st = nemo_synth_write_config_json(path, p, err)))
            goto done;
        for (int k = 0; k < pl.n_shards; k++) {
            nemo_synth_shard_name(k, pl.n_shards, name, sizeof name);
            if ((st = join(path, sizeof path, dir, name, err)) ||
                (st = nemo_synth_write_safetensors(path, &pl, k, p->dtype, p->seed, &prog, err)))
                goto done;
        }
        if (pl.n_shards > 1 &&
            ((st = join(path, sizeof path, dir, "model.safetensors.index.json", err)) ||
             (st = nemo_synth_write_index_json(path, &pl, err))))
            goto done;
    }
done:
    nemo_synth_plan_free(&pl);
    return st;
}
