/* file.c — read-only memory maps of weight files (zero-copy, paged in on use) and small-file
 * reads for JSON configs. */
#include "core/core.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

nemo_status nemo_map_open(const char *path, nemo_map *out, nemo_error *err) {
    out->data = NULL;
    out->size = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return nemo_fail(err, NEMO_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return nemo_fail(err, NEMO_ERR_IO, "%s: cannot stat: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return nemo_fail(err, NEMO_ERR_IO, "%s: not a regular file", path);
    }
    if (st.st_size > 0) {
        void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            int e = errno;
            close(fd);
            return nemo_fail(err, NEMO_ERR_IO, "%s: cannot mmap %lld bytes: %s", path,
                             (long long)st.st_size, strerror(e));
        }
        out->data = p;
        out->size = (uint64_t)st.st_size;
    }
    close(fd);
    return NEMO_OK;
}

void nemo_map_close(nemo_map *m) {
    if (m && m->data) munmap((void *)m->data, (size_t)m->size);
    if (m) {
        m->data = NULL;
        m->size = 0;
    }
}

nemo_status nemo_read_file(const char *path, uint64_t max_bytes, char **out, uint64_t *len,
                           nemo_error *err) {
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return nemo_fail(err, NEMO_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    if (!buf) {
        fclose(f);
        return nemo_fail(err, NEMO_ERR_NOMEM, "%s: out of memory", path);
    }
    for (;;) {
        if (n + 1 >= cap) {
            if (cap > max_bytes) {
                free(buf);
                fclose(f);
                return nemo_fail(err, NEMO_ERR_FORMAT, "%s: larger than %llu bytes", path,
                                 (unsigned long long)max_bytes);
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                fclose(f);
                return nemo_fail(err, NEMO_ERR_NOMEM, "%s: out of memory", path);
            }
            buf = nb;
            cap *= 2;
        }
        size_t r = fread(buf + n, 1, cap - 1 - n, f);
        n += r;
        if (r == 0) break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return nemo_fail(err, NEMO_ERR_IO, "%s: read error", path);
    }
    if (n > max_bytes) {
        free(buf);
        return nemo_fail(err, NEMO_ERR_FORMAT, "%s: larger than %llu bytes", path,
                         (unsigned long long)max_bytes);
    }
    buf[n] = 0;
    *out = buf;
    if (len) *len = n;
    return NEMO_OK;
}

int nemo_file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int nemo_path_join(char *out, size_t cap, const char *dir, const char *name) {
    size_t dl = strlen(dir);
    while (dl > 1 && dir[dl - 1] == '/') dl--;
    int n = snprintf(out, cap, "%.*s/%s", (int)dl, dir, name);
    return (n < 0 || (size_t)n >= cap) ? -1 : 0;
}

const char *nemo_basename(const char *path) {
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}
