/* file.c — read-only memory maps of weight files (zero-copy, paged in on use), their optional
 * move into anonymous huge-page memory (nemo_map_resident), and small-file reads for JSON
 * configs. */
#define _GNU_SOURCE /* mremap */
#include "core/core.h"

#include <errno.h>
#include <string.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Files this large are mapped at a 2 MiB-aligned address, so that nemo_map_resident can put
 * transparent huge pages at the very same addresses. */
#define HUGE_ALIGN   ((uint64_t)2 << 20)
#define RESIDENT_MIN ((uint64_t)32 << 20)

static uint64_t page_round(uint64_t n) {
    const uint64_t pg = (uint64_t)sysconf(_SC_PAGESIZE);
    return (n + pg - 1) / pg * pg;
}

/* length bytes of anonymous address space starting at a multiple of HUGE_ALIGN (the slack
 * around it is unmapped again), or MAP_FAILED */
static void *reserve_aligned(uint64_t length, int prot) {
    uint8_t *r =
        mmap(NULL, (size_t)(length + HUGE_ALIGN), prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (r == MAP_FAILED) return MAP_FAILED;
    uint8_t *a = (uint8_t *)(((uintptr_t)r + HUGE_ALIGN - 1) & ~(uintptr_t)(HUGE_ALIGN - 1));
    if (a > r) munmap(r, (size_t)(a - r));
    uint8_t *end = r + length + HUGE_ALIGN;
    if (end > a + length) munmap(a + length, (size_t)(end - (a + length)));
    return a;
}

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
        void *p = MAP_FAILED;
        if ((uint64_t)st.st_size >= RESIDENT_MIN) { /* aligned: the file over a reservation */
            void *r = reserve_aligned(page_round((uint64_t)st.st_size), PROT_NONE);
            if (r != MAP_FAILED) {
                p = mmap(r, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 0);
                if (p == MAP_FAILED) munmap(r, (size_t)page_round((uint64_t)st.st_size));
            }
        }
        if (p == MAP_FAILED) p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
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

/* MemAvailable of /proc/meminfo in bytes (0 when unknown) */
static uint64_t mem_available(void) {
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f) return 0;
    char line[256];
    unsigned long long kb = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) break;
    fclose(f);
    return (uint64_t)kb * 1024;
}

int nemo_map_resident(nemo_map *m, void (*progress)(uint64_t done, void *user), void *user) {
    if (!m || !m->data || m->size < RESIDENT_MIN) return 0;
    if ((uintptr_t)m->data % HUGE_ALIGN) return 0; /* mapped before alignment was possible */
    const char *env = getenv("NEMO_MMAP");
    if (env && env[0] == '1') return 0;
    /* anonymous memory cannot be dropped under pressure as file pages can: copy only what
     * leaves an eighth of the available memory (at least 1 GiB) free */
    const uint64_t avail = mem_available(), len = page_round(m->size);
    const uint64_t keep = avail / 8 > ((uint64_t)1 << 30) ? avail / 8 : (uint64_t)1 << 30;
    if (avail < keep || len > avail - keep) return 0;
    uint8_t *a = reserve_aligned(len, PROT_READ | PROT_WRITE);
    if (a == MAP_FAILED) return 0;
#ifdef MADV_HUGEPAGE
    madvise(a, (size_t)len, MADV_HUGEPAGE); /* a hint: without THP the copy still works */
#endif
    const uint64_t step = (uint64_t)64 << 20;
    for (uint64_t off = 0; off < m->size; off += step) {
        const uint64_t n = m->size - off < step ? m->size - off : step;
        memcpy(a + off, m->data + off, (size_t)n);
        /* unmap the copied file pages (they stay in the page cache) so the process never holds
         * the file and its copy at once */
        madvise((void *)(m->data + off), (size_t)n, MADV_DONTNEED);
        if (progress) progress(off + n, user);
    }
    /* the copy takes the file mapping's place (same addresses, so every pointer into the
     * weights stays valid; the file's pages are no longer mapped here) */
    if (mprotect(a, (size_t)len, PROT_READ) != 0 ||
        mremap(a, (size_t)len, (size_t)len, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)m->data) ==
            MAP_FAILED) {
        munmap(a, (size_t)len);
        return 0;
    }
    return 1;
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
