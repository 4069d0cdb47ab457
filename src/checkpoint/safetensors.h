/* safetensors.h — reader of the safetensors format (spec 2d): one file → entries appended to a
 * tensor directory, zero-copy. Sharded HF folders go through model.safetensors.index.json. */
#ifndef NEMO_SAFETENSORS_H
#define NEMO_SAFETENSORS_H

#include "checkpoint/tensor_dir.h"

/* Largest header the format allows (the reference implementation's limit). */
#define NEMO_ST_MAX_HEADER (100u * 1000u * 1000u)

/* Maps path and appends its tensors to d. Every header field is validated against the file. */
nemo_status nemo_st_load(nemo_tensor_dir *d, const char *path, nemo_error *err);
/* Validates and indexes the safetensors bytes data[0..size) of file index `file` in d (the
 * bytes must stay valid while d is used). `name` is used in error messages. */
nemo_status nemo_st_parse(nemo_tensor_dir *d, int file, const uint8_t *data, uint64_t size,
                          const char *name, nemo_error *err);
/* Loads every shard named in an index file (model.safetensors.index.json) and checks that
 * each tensor of its weight_map is in the shard it names. */
nemo_status nemo_st_load_index(nemo_tensor_dir *d, const char *index_path, nemo_error *err);

#endif
