/* safetensors.c — validating reader of safetensors files and sharded index files.
 *
 * File layout: u64 N (little-endian) | N bytes of JSON header | data buffer. Each header entry
 * {"dtype", "shape", "data_offsets": [begin, end)} addresses the data buffer. We check what the
 * reference implementation checks (dtype known, offsets in bounds, byte count = shape × dtype
 * size, tensors packed back to back without gaps or overlaps, buffer fully used), so a file we
 * accept is one every other reader accepts too. */
#include "checkpoint/safetensors.h"

#include <jansson.h>
#include <stdlib.h>

typedef struct {
    uint64_t begin, end;
    int entry;
} st_range;

static int range_cmp(const void *a, const void *b) {
    const st_range *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return 0;
}

static uint64_t le64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

/* Reads a non-negative JSON integer. */
static int json_u64(const json_t *j, uint64_t *out) {
    if (!json_is_integer(j)) return -1;
    json_int_t v = json_integer_value(j);
    if (v < 0) return -1;
    *out = (uint64_t)v;
    return 0;
}

static nemo_status parse_entry(nemo_tensor_dir *d, int file, const char *name, const char *key,
                               json_t *val, const uint8_t *buf, uint64_t buf_len, uint64_t buf_off,
                               nemo_error *err) {
    if (!json_is_object(val))
        return nemo_fail(err, NEMO_ERR_FORMAT, "%s: tensor '%s': expected a JSON object", name,
                         key);
    json_t *jd = json_object_get(val, "dtype"), *js = json_object_get(val, "shape"),
           *jo = json_object_get(val, "data_offsets");
    if (!json_is_string(jd))
        return nemo_fail(err, NEMO_ERR_FORMAT, "%s: tensor '%s': missing string \"dtype\"", name,
                         key);
    nemo_dtype dt;
    const char *dts = json_string_value(jd);
    if (nemo_dtype_from_name(dts, &dt) != 0 || nemo_dtype_info(dt)->block_elems != 1 ||
        strcmp(dts, nemo_dtype_name(dt)) != 0)
        return nemo_fail(err, NEMO_ERR_FORMAT, "%s: tensor '%s': unknown dtype \"%s\"", name, key,
                         dts);
    if (!json_is_array(js))
        return nemo_fail(err, NEMO_ERR_FORMAT, "%s: tensor '%s': missing array \"shape\"", name,
                         key);
    size_t nd = json_array_size(js);
    if (nd > NEMO_MAX_DIMS)
        return nemo_fail(err, NEMO_ERR_FORMAT, "%s: tensor '%s': %zu dimensions, at most %d", name,
                         key, nd, NEMO_MAX_DIMS);
    uint64_t shape[NEMO_MAX_DIMS], n = 1;
    for (size_t i = 0; i < nd; i++) {
        if (json_u64(json_array_get(js, i), &shape[i]))
            return nemo_fail(err, NEMO_ERR_FORMAT,
                             "%s: tensor '%s': shape[%zu] is not a non-negative integer", name, key,
                             i);
        if (nemo_mul_u64(n, shape[i], &n))
            return nemo_fail(err, NEMO_ERR_FORMAT, "%s: tensor '%s': element count overflows", name,
                             key);
    }
    uint64_t begin, end;
    if (!json_is_array(jo) || json_array_size(jo) != 2 || json_u64(json_array_get(jo, 0), &begin) ||
        json_u64(json_array_get(jo, 1), &end))
        return nemo_fail(err, NEMO_ERR_FORMAT,
                         "%s: tensor '%s': \"data_offsets\" must be [begin, end] integers", name,
                         key);
    if (begin > end || end > buf_len)
        return nemo_fail(err, NEMO_ERR_FORMAT,
                         "%s: tensor '%s': data_offsets [%llu, %llu] outside the data buffer of "
                         "%llu bytes (file offset %llu)",
                         name, key, (unsigned long long)begin, (unsigned long long)end,
                         (unsigned long long)buf_len, (unsigned long long)buf_off);
    uint64_t want;
    if (nemo_mul_u64(n, nemo_dtype_info(dt)->block_bytes, &want) || want != end - begin)
        return nemo_fail(err, NEMO_ERR_FORMAT,
                         "%s: tensor '%s': data_offsets [%llu, %llu] hold %llu bytes, expected "
                         "%llu (%llu elements of %s)",
                         name, key, (unsigned long long)begin, (unsigned long long)end,
                         (unsigned long long)(end - begin), (unsigned long long)want,
                         (unsigned long long)n, dts);
    nemo_tensor_entry *e = nemo_tdir_add(d, key);
    if (!e) return nemo_fail(err, NEMO_ERR_NOMEM, "%s: out of memory", name);
    e->dtype = dt;
    e->ndim = (int)nd;
    memcpy(e->shape, shape, nd * sizeof shape[0]);
    e->n_elems = n;
    e->data = buf + begin;
    e->nbytes = end - begin;
    e->file = file;
    e->file_offset = buf_off + begin;
    return NEMO_OK;
}

nemo_status nemo_st_parse(nemo_tensor_dir *d, int file, const uint8_t *data, uint64_t size,
                          const char *name, nemo_error *err) {
    if (size < 8)
        return nemo_fail(err, NEMO_ERR_FORMAT,
                         "%s: %llu bytes, too short for a safetensors file (8-byte header length)",
                         name, (unsigned long long)size);
    uint64_t hlen = le64(data);
    if (hlen > NEMO_ST_MAX_HEADER)
        return nemo_fail(err, NEMO_ERR_FORMAT,
                         "%s: offset 0: header length %llu exceeds the %u-byte limit (not a "
                         "safetensors file?)",
                         name, (unsigned long long)hlen, NEMO_ST_MAX_HEADER);
    if (hlen > size - 8)
        return nemo_fail(err, NEMO_ERR_FORMAT,
                         "%s: offset 0: header length %llu runs past the end of the %llu-byte "
                         "file (truncated?)",
                         name, (unsigned long long)hlen, (unsigned long long)size);
    json_error_t je;
    json_t *root = json_loadb((const char *)data + 8, (size_t)hlen, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return nemo_fail(err, NEMO_ERR_FORMAT, "%s: header JSON at offset %llu: %s", name,
                         (unsigned long long)(8 + (uint64_t)je.position), je.text);
    nemo_status st = NEMO_OK;
    st_range *ranges = NULL;
    int first = d->n_entries;
    if (!json_is_object(root)) {
        st = nemo_fail(err, NEMO_ERR_FORMAT, "%s: header is not a JSON object", name);
        goto done;
    }
    const uint8_t *buf = data + 8 + hlen;
    uint64_t buf_len = size - 8 - hlen;
    const char *key;
    json_t *val;
    json_object_foreach(root, key, val) {
        if (!strcmp(key, "__metadata__")) {
            const char *mk;
            json_t *mv;
            if (!json_is_object(val)) {
                st = nemo_fail(err, NEMO_ERR_FORMAT, "%s: __metadata__ is not an object", name);
                goto done;
            }
            json_object_foreach(val, mk, mv) {
                if (!json_is_string(mv)) {
                    st = nemo_fail(err, NEMO_ERR_FORMAT, "%s: __metadata__['%s'] is not a string",
                                   name, mk);
                    goto done;
                }
            }
            continue;
        }
        st = parse_entry(d, file, name, key, val, buf, buf_len, 8 + hlen, err);
        if (st) goto done;
    }
    /* Packed back to back: sorted by offset, each tensor starts where the previous ended and
     * the last one ends at the end of the file. */
    int n = d->n_entries - first;
    ranges = malloc((size_t)(n ? n : 1) * sizeof *ranges);
    if (!ranges) {
        st = nemo_fail(err, NEMO_ERR_NOMEM, "%s: out of memory", name);
        goto done;
    }
    for (int i = 0; i < n; i++) {
        const nemo_tensor_entry *e = &d->entries[first + i];
        ranges[i].begin = (uint64_t)((const uint8_t *)e->data - buf);
        ranges[i].end = ranges[i].begin + e->nbytes;
        ranges[i].entry = first + i;
    }
    qsort(ranges, (size_t)n, sizeof *ranges, range_cmp);
    uint64_t at = 0;
    for (int i = 0; i < n; i++) {
        if (ranges[i].begin != at) {
            const char *what = ranges[i].begin < at ? "overlaps the previous tensor"
                                                    : "leaves a gap after the previous tensor";
            st = nemo_fail(err, NEMO_ERR_FORMAT,
                           "%s: tensor '%s': data_offsets [%llu, %llu] %s (expected begin %llu)",
                           name, d->entries[ranges[i].entry].name,
                           (unsigned long long)ranges[i].begin, (unsigned long long)ranges[i].end,
                           what, (unsigned long long)at);
            goto done;
        }
        at = ranges[i].end;
    }
    if (at != buf_len) {
        st = nemo_fail(err, NEMO_ERR_FORMAT,
                       "%s: tensors end at data offset %llu but the data buffer has %llu bytes "
                       "(file truncated or padded?)",
                       name, (unsigned long long)at, (unsigned long long)buf_len);
        goto done;
    }
done:
    free(ranges);
    json_decref(root);
    return st;
}

nemo_status nemo_st_load(nemo_tensor_dir *d, const char *path, nemo_error *err) {
    nemo_map m;
    nemo_status st = nemo_map_open(path, &m, err);
    if (st) return st;
    int idx = nemo_tdir_add_file(d, path, &m);
    if (idx < 0) {
        nemo_map_close(&m);
        return nemo_fail(err, NEMO_ERR_NOMEM, "%s: out of memory", path);
    }
    return nemo_st_parse(d, idx, d->maps[idx].data, d->maps[idx].size, path, err);
}

nemo_status nemo_st_load_index(nemo_tensor_dir *d, const char *index_path, nemo_error *err) {
    char *text;
    nemo_status st = nemo_read_file(index_path, 64u << 20, &text, NULL, err);
    if (st) return st;
    json_error_t je;
    json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &je);
    free(text);
    if (!root)
        return nemo_fail(err, NEMO_ERR_FORMAT, "%s: line %d column %d: %s", index_path, je.line,
                         je.column, je.text);
    json_t *wm = json_object_get(root, "weight_map");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", index_path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = 0;
    else
        snprintf(dir, sizeof dir, ".");
    const char *key;
    json_t *val;
    if (!json_is_object(wm) || json_object_size(wm) == 0) {
        st = nemo_fail(err, NEMO_ERR_FORMAT, "%s: missing or empty \"weight_map\" object",
                       index_path);
        goto done;
    }
    /* Load each distinct shard once, in order of first mention. */
    json_object_foreach(wm, key, val) {
        if (!json_is_string(val) || strchr(json_string_value(val), '/') ||
            !json_string_length(val)) {
            st = nemo_fail(err, NEMO_ERR_FORMAT,
                           "%s: weight_map['%s'] must be a shard file name in the same folder",
                           index_path, key);
            goto done;
        }
        const char *shard = json_string_value(val);
        int seen = 0;
        for (int f = 0; f < d->n_files && !seen; f++)
            seen = !strcmp(nemo_basename(d->paths[f]), shard);
        if (seen) continue;
        char path[4096 + 256];
        if (nemo_path_join(path, sizeof path, dir, shard)) {
            st = nemo_fail(err, NEMO_ERR_ARG, "%s: path too long", index_path);
            goto done;
        }
        if (!nemo_file_exists(path)) {
            st = nemo_fail(err, NEMO_ERR_MISSING,
                           "%s: weight_map names shard '%s' (for '%s') but %s does not exist",
                           index_path, shard, key, path);
            goto done;
        }
        st = nemo_st_load(d, path, err);
        if (st) goto done;
    }
    json_object_foreach(wm, key, val) {
        const nemo_tensor_entry *e = nemo_tdir_find(d, key);
        if (!e) {
            st = nemo_fail(err, NEMO_ERR_MISSING,
                           "%s: weight_map lists '%s' in %s, but that shard has no such tensor",
                           index_path, key, json_string_value(val));
            goto done;
        }
        if (strcmp(nemo_basename(d->paths[e->file]), json_string_value(val))) {
            st = nemo_fail(err, NEMO_ERR_FORMAT, "%s: weight_map puts '%s' in %s, but it is in %s",
                           index_path, key, json_string_value(val),
                           nemo_basename(d->paths[e->file]));
            goto done;
        }
    }
    /* A tensor present in two shards would make the lookup ambiguous. */
    for (int i = 0; i < d->n_entries; i++)
        for (int j = i + 1; j < d->n_entries; j++)
            if (!strcmp(d->entries[i].name, d->entries[j].name)) {
                st = nemo_fail(err, NEMO_ERR_FORMAT, "%s: tensor '%s' appears in both %s and %s",
                               index_path, d->entries[i].name, d->paths[d->entries[i].file],
                               d->paths[d->entries[j].file]);
                goto done;
            }
done:
    json_decref(root);
    return st;
}
