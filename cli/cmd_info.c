/* cmd_info.c — `nemo info MODEL`: architecture, parameter count, dtype and memory needed. */
#include "cli.h"

#include <string.h>

static void print_bytes(const char *label, double b) {
    const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int i = 0;
    double v = b;
    while (v >= 1024 && i < 4) {
        v /= 1024;
        i++;
    }
    printf("%-22s %.2f %s (%.0f bytes)\n", label, v, u[i], b);
}

static void with_commas(char *out, size_t cap, uint64_t v) {
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)v), o = 0;
    for (int i = 0; i < n && (size_t)o + 2 < cap; i++) {
        if (i && (n - i) % 3 == 0) out[o++] = ',';
        out[o++] = tmp[i];
    }
    out[o] = 0;
}

int cmd_info(int argc, char **argv) {
    if (argc != 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fprintf(argc == 2 ? stdout : stderr,
                "usage: nemo info MODEL\n\n"
                "Prints the architecture, parameter count, weight dtype and the memory the model\n"
                "needs. MODEL is a Mistral folder (params.json + consolidated.safetensors) or a\n"
                "Hugging Face folder (config.json + model*.safetensors).\n");
        return argc == 2 ? 0 : 2;
    }
    nemo_error err = {0};
    nemo_model *m;
    if (nemo_model_open(argv[1], &m, &err)) return cli_report("info", &err);
    const nemo_config *c = nemo_model_config(m);
    nemo_model_info in;
    nemo_model_get_info(m, &in);
    char params[48];
    with_commas(params, sizeof params, in.n_params);
    printf("%-22s %s\n", "model", argv[1]);
    printf("%-22s %s\n", "format", in.format);
    printf("%-22s %d\n", "dim", c->dim);
    printf("%-22s %d\n", "layers", c->n_layers);
    printf("%-22s %d\n", "heads", c->n_heads);
    printf("%-22s %d\n", "kv_heads", c->n_kv_heads);
    printf("%-22s %d\n", "head_dim", c->head_dim);
    printf("%-22s %d\n", "hidden_dim", c->hidden_dim);
    printf("%-22s %d\n", "vocab_size", c->vocab_size);
    printf("%-22s %g\n", "norm_eps", (double)c->norm_eps);
    printf("%-22s %g\n", "rope_theta", (double)c->rope_theta);
    if (c->sliding_window)
        printf("%-22s %d\n", "sliding_window", c->sliding_window);
    else
        printf("%-22s none\n", "sliding_window");
    printf("%-22s %d\n", "max_context", c->max_seq_len);
    printf("%-22s %s\n", "tied_embeddings", c->tied_embeddings ? "yes" : "no");
    printf("%-22s %s\n", "parameters", params);
    printf("%-22s %s\n", "dtype", nemo_dtype_name(in.main_dtype));
    print_bytes("weights", (double)in.weight_bytes);
    print_bytes("kv_cache_per_token", (double)in.kv_bytes_per_token);
    print_bytes("memory_at_4096_ctx", (double)in.weight_bytes + 4096.0 * in.kv_bytes_per_token);
    nemo_model_free(m);
    return 0;
}
