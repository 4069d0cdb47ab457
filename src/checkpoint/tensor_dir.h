/* tensor_dir.h — the tensor directory: what every checkpoint reader (safetensors, sharded
 * folders, GGUF) produces, and all the model loader consumes. Tensor data stays in the
 * memory-mapped files; entries point into them. */
#ifndef NEMO_TENSOR_DIR_H
#define NEMO_TENSOR_DIR_H

#include "core/core.h"

#define NEMO_MAX_DIMS 8

typedef struct nemo_tensor_entry {
    char *name; /* owned by the directory */
    nemo_dtype dtype;
    int ndim;                      /* 0 for a scalar */
    uint64_t shape[NEMO_MAX_DIMS]; /* outermost first (PyTorch order): a weight is [out, in] */
    uint64_t n_elems;
    const void *data; /* borrowed from the file mapping */
    uint64_t nbytes;
    int file;             /* index into the directory's files */
    uint64_t file_offset; /* absolute byte offset of data in that file (for errors) */
} nemo_tensor_entry;

typedef struct nemo_tensor_dir {
    nemo_tensor_entry *entries;
    int n_entries, cap_entries;
    nemo_map *maps; /* one mapping per file */
    char **paths;   /* file paths, for error messages */
    int n_files;
} nemo_tensor_dir;

/* Adds a file mapping (takes ownership of *m) and returns its index, or -1 on NOMEM. */
int nemo_tdir_add_file(nemo_tensor_dir *d, const char *path, nemo_map *m);
/* Appends an entry (name is copied). Returns NULL on NOMEM. */
nemo_tensor_entry *nemo_tdir_add(nemo_tensor_dir *d, const char *name);
/* Finds a tensor by exact name; NULL if absent. */
const nemo_tensor_entry *nemo_tdir_find(const nemo_tensor_dir *d, const char *name);
/* Releases entries and unmaps the files. Safe on a zeroed struct. */
void nemo_tdir_free(nemo_tensor_dir *d);

#endif
