/* fuzz_safetensors.c — libFuzzer target: arbitrary bytes through the safetensors validator. Any
 * input must give NEMO_OK or a clean error, and accepted entries must lie inside the input. */
#include "checkpoint/safetensors.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    nemo_tensor_dir d = {0};
    nemo_error err;
    if (nemo_st_parse(&d, 0, data, size, "fuzz", &err) == NEMO_OK) {
        for (int i = 0; i < d.n_entries; i++) {
            const nemo_tensor_entry *e = &d.entries[i];
            const uint8_t *p = e->data;
            if (p < data || p + e->nbytes > data + size) abort();
        }
    }
    nemo_tdir_free(&d);
    return 0;
}
