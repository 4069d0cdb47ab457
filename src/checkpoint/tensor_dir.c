/* tensor_dir.c — storage of the tensor directory shared by all checkpoint readers. Lookups are
 * linear: a model has a few hundred tensors and each is looked up once at load. */
#include "checkpoint/tensor_dir.h"

#include <stdlib.h>

int nemo_tdir_add_file(nemo_tensor_dir *d, const char *path, nemo_map *m) {
    nemo_map *nm = realloc(d->maps, (size_t)(d->n_files + 1) * sizeof *nm);
    if (!nm) return -1;
    d->maps = nm;
    char **np = realloc(d->paths, (size_t)(d->n_files + 1) * sizeof *np);
    if (!np) return -1;
    d->paths = np;
    char *p = strdup(path);
    if (!p) return -1;
    d->maps[d->n_files] = *m;
    d->paths[d->n_files] = p;
    m->data = NULL;
    m->size = 0;
    return d->n_files++;
}

nemo_tensor_entry *nemo_tdir_add(nemo_tensor_dir *d, const char *name) {
    if (d->n_entries == d->cap_entries) {
        int cap = d->cap_entries ? d->cap_entries * 2 : 64;
        nemo_tensor_entry *ne = realloc(d->entries, (size_t)cap * sizeof *ne);
        if (!ne) return NULL;
        d->entries = ne;
        d->cap_entries = cap;
    }
    nemo_tensor_entry *e = &d->entries[d->n_entries];
    memset(e, 0, sizeof *e);
    e->name = strdup(name);
    if (!e->name) return NULL;
    d->n_entries++;
    return e;
}

const nemo_tensor_entry *nemo_tdir_find(const nemo_tensor_dir *d, const char *name) {
    for (int i = 0; i < d->n_entries; i++)
        if (!strcmp(d->entries[i].name, name)) return &d->entries[i];
    return NULL;
}

void nemo_tdir_free(nemo_tensor_dir *d) {
    if (!d) return;
    for (int i = 0; i < d->n_entries; i++) free(d->entries[i].name);
    free(d->entries);
    for (int i = 0; i < d->n_files; i++) {
        nemo_map_close(&d->maps[i]);
        free(d->paths[i]);
    }
    free(d->maps);
    free(d->paths);
    memset(d, 0, sizeof *d);
}
