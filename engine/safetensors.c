/*
 * safetensors.c - strict safetensors parsing and read-only file mapping.
 * See safetensors.h for the rules checked.
 */
#include "safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <utf8proc.h>

#include "config.h"

static const struct {
    const char *name;
    unsigned bits;
} dtype_table[ST_DTYPE_COUNT] = {
    [ST_BOOL] = {"BOOL", 8},       [ST_F4] = {"F4", 4},
    [ST_F6_E2M3] = {"F6_E2M3", 6}, [ST_F6_E3M2] = {"F6_E3M2", 6},
    [ST_U8] = {"U8", 8},           [ST_I8] = {"I8", 8},
    [ST_F8_E5M2] = {"F8_E5M2", 8}, [ST_F8_E4M3] = {"F8_E4M3", 8},
    [ST_F8_E8M0] = {"F8_E8M0", 8}, [ST_I16] = {"I16", 16},
    [ST_U16] = {"U16", 16},        [ST_F16] = {"F16", 16},
    [ST_BF16] = {"BF16", 16},      [ST_I32] = {"I32", 32},
    [ST_U32] = {"U32", 32},        [ST_F32] = {"F32", 32},
    [ST_C64] = {"C64", 64},        [ST_F64] = {"F64", 64},
    [ST_I64] = {"I64", 64},        [ST_U64] = {"U64", 64},
};

/* Static name of `dt`, "?" when out of range. */
const char *st_dtype_name(st_dtype dt)
{
    return (unsigned)dt < ST_DTYPE_COUNT ? dtype_table[dt].name : "?";
}

/* Bits per element of `dt`, 0 when out of range. */
unsigned st_dtype_bits(st_dtype dt)
{
    return (unsigned)dt < ST_DTYPE_COUNT ? dtype_table[dt].bits : 0;
}

/* Looks `s` up in the dtype table; returns 0 and sets *out when found. */
static int dtype_from_name(const char *s, st_dtype *out)
{
    for (int i = 0; i < ST_DTYPE_COUNT; i++)
        if (strcmp(s, dtype_table[i].name) == 0) {
            *out = (st_dtype)i;
            return 0;
        }
    return -1;
}

/* Frees what safetensors_parse allocated in `f` and zeroes it. */
void safetensors_free(st_file *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n_tensors; i++)
        free(f->tensors[i].name);
    free(f->tensors);
    for (size_t i = 0; i < f->n_meta; i++) {
        free(f->meta_keys[i]);
        free(f->meta_values[i]);
    }
    free(f->meta_keys);
    free(f->meta_values);
    memset(f, 0, sizeof *f);
}

/* qsort/bsearch order of st_tensor by name (byte order). */
static int cmp_tensor_name(const void *a, const void *b)
{
    return strcmp(((const st_tensor *)a)->name, ((const st_tensor *)b)->name);
}

/* Orders tensor pointers by (begin, end), then by name for determinism. */
static int cmp_tensor_offsets(const void *a, const void *b)
{
    const st_tensor *x = *(const st_tensor *const *)a, *y = *(const st_tensor *const *)b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end)
        return x->end < y->end ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* Binary search in the name-sorted tensor table; NULL when absent. */
const st_tensor *safetensors_find(const st_file *f, const char *name)
{
    if (!f || !name || f->n_tensors == 0)
        return NULL;
    st_tensor key = {.name = (char *)name};
    return bsearch(&key, f->tensors, f->n_tensors, sizeof key, cmp_tensor_name);
}

/* Reads a JSON number that must be an integer in [0, 2^53]; returns 0 and
 * sets *out on success. */
static int json_uint(const cJSON *v, uint64_t *out)
{
    if (!cJSON_IsNumber(v))
        return -1;
    double d = v->valuedouble;
    if (!isfinite(d) || d < 0 || d > ST_MAX_JSON_INT || d != floor(d))
        return -1;
    *out = (uint64_t)d;
    return 0;
}


/* ---- integer literals -------------------------------------------------------
 * cJSON keeps every number as a double, so 512, 512.0, 5.12e2 and -0 look
 * alike after parsing. The safetensors reference reads offsets and shapes
 * as unsigned integers and refuses the others; to do the same, the header
 * text is scanned for its number literals (in document order, the order
 * cJSON keeps) and every number node whose literal is not a plain
 * non-negative integer (0 or a digit 1-9 followed by digits) gets the value
 * NaN, which json_uint refuses with the tensor's name. */

/* 1 when `c` can continue a number literal as cJSON reads one. */
static int number_char(char c)
{
    return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

/* 1 when s[0..len) is 0 or [1-9][0-9]*. */
static int plain_uint_literal(const char *s, size_t len)
{
    if (len == 0 || (s[0] == '0' && len > 1))
        return 0;
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

/* Walks `node`'s subtree in document order; for each number node takes the
 * next literal of the header text hdr[*pos..n) and sets the node to NaN
 * when that literal is not a plain integer. Returns -1 when the text runs
 * out of literals before the tree does (cannot happen for a header cJSON
 * parsed; refused all the same). */
static int mark_literals(cJSON *node, const char *hdr, size_t n, size_t *pos, int *in_string)
{
    for (; node; node = node->next) {
        if (cJSON_IsNumber(node)) {
            /* find the next literal outside strings */
            size_t i = *pos;
            while (i < n) {
                char c = hdr[i];
                if (*in_string) {
                    if (c == '\\')
                        i++;
                    else if (c == '"')
                        *in_string = 0;
                } else if (c == '"') {
                    *in_string = 1;
                } else if (c == '-' || (c >= '0' && c <= '9')) {
                    break;
                }
                i++;
            }
            if (i >= n)
                return -1;
            size_t j = i;
            while (j < n && number_char(hdr[j]))
                j++;
            if (!plain_uint_literal(hdr + i, j - i))
                node->valuedouble = NAN;
            *pos = j;
        }
        if (node->child && mark_literals(node->child, hdr, n, pos, in_string) != 0)
            return -1;
    }
    return 0;
}

/* Validates the UTF-8 in `s` (`len` bytes); returns the offset of the first
 * bad byte or -1 when valid. */
static long long first_bad_utf8(const uint8_t *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        utf8proc_int32_t cp;
        size_t left = len - i;
        utf8proc_ssize_t n = utf8proc_iterate(s + i, left > 4 ? 4 : (utf8proc_ssize_t)left, &cp);
        if (n <= 0)
            return (long long)i;
        i += (size_t)n;
    }
    return -1;
}

/* Fills one tensor entry from header member `item` (name already set). */
static s2s_status parse_entry(const cJSON *item, st_tensor *t, const char *fname,
                              s2s_error *err)
{
    if (!cJSON_IsObject(item))
        return s2s_fail(err, S2S_ERR_SAFETENSORS,
                           "%s: tensor \"%s\": header entry is %s, expected an object", fname,
                           t->name, json_kind(item));
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(item, "dtype");
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(item, "shape");
    const cJSON *offs = cJSON_GetObjectItemCaseSensitive(item, "data_offsets");
    if (!dt || !shape || !offs)
        return s2s_fail(err, S2S_ERR_SAFETENSORS, "%s: tensor \"%s\": missing \"%s\"", fname,
                           t->name, !dt ? "dtype" : !shape ? "shape" : "data_offsets");
    if (!cJSON_IsString(dt))
        return s2s_fail(err, S2S_ERR_SAFETENSORS,
                           "%s: tensor \"%s\": dtype is %s, expected a string", fname, t->name,
                           json_kind(dt));
    if (dtype_from_name(dt->valuestring, &t->dtype) != 0)
        return s2s_fail(err, S2S_ERR_SAFETENSORS,
                           "%s: tensor \"%s\": unknown dtype \"%.40s\"", fname, t->name,
                           dt->valuestring);
    if (!cJSON_IsArray(shape))
        return s2s_fail(err, S2S_ERR_SAFETENSORS,
                           "%s: tensor \"%s\": shape is %s, expected an array", fname, t->name,
                           json_kind(shape));
    int nd = cJSON_GetArraySize(shape);
    if (nd > ST_MAX_DIMS)
        return s2s_fail(err, S2S_ERR_SAFETENSORS,
                           "%s: tensor \"%s\": shape has %d dimensions, more than %d", fname,
                           t->name, nd, ST_MAX_DIMS);
    t->ndim = nd;
    uint64_t n_el = 1;
    int overflow = 0, k = 0;
    for (const cJSON *d = shape->child; d; d = d->next, k++) {
        if (json_uint(d, &t->shape[k]) != 0)
            return s2s_fail(err, S2S_ERR_SAFETENSORS,
                               "%s: tensor \"%s\": shape[%d] is not a non-negative integer "
                               "(at most 2^53)",
                               fname, t->name, k);
        if (__builtin_mul_overflow(n_el, t->shape[k], &n_el))
            overflow = 1;
    }
    /* A zero dimension makes the product 0 whatever overflowed before it. */
    for (k = 0; k < nd; k++)
        if (t->shape[k] == 0) {
            overflow = 0;
            n_el = 0;
        }
    if (overflow)
        return s2s_fail(err, S2S_ERR_SAFETENSORS,
                           "%s: tensor \"%s\": the element count of its shape overflows 64 bits",
                           fname, t->name);
    t->n_elements = n_el;
    uint64_t bits;
    if (__builtin_mul_overflow(n_el, (uint64_t)st_dtype_bits(t->dtype), &bits))
        return s2s_fail(err, S2S_ERR_SAFETENSORS,
                           "%s: tensor \"%s\": the byte size of its shape overflows 64 bits",
                           fname, t->name);
    if (bits % 8 != 0)
        return s2s_fail(err, S2S_ERR_SAFETENSORS,
                           "%s: tensor \"%s\": %llu elements of %s do not fill whole bytes",
                           fname, t->name, (unsigned long long)n_el, st_dtype_name(t->dtype));
    if (!cJSON_IsArray(offs) || cJSON_GetArraySize(offs) != 2 ||
        json_uint(offs->child, &t->begin) != 0 || json_uint(offs->child->next, &t->end) != 0)
        return s2s_fail(err, S2S_ERR_SAFETENSORS,
                           "%s: tensor \"%s\": data_offsets must be two non-negative integers",
                           fname, t->name);
    if (t->end < t->begin)
        return s2s_fail(err, S2S_ERR_SAFETENSORS,
                           "%s: tensor \"%s\": data_offsets [%llu, %llu] end before they begin",
                           fname, t->name, (unsigned long long)t->begin,
                           (unsigned long long)t->end);
    if (t->end - t->begin != bits / 8)
        return s2s_fail(err, S2S_ERR_SAFETENSORS,
                           "%s: tensor \"%s\": data_offsets [%llu, %llu] hold %llu bytes but "
                           "shape and dtype %s need %llu",
                           fname, t->name, (unsigned long long)t->begin,
                           (unsigned long long)t->end, (unsigned long long)(t->end - t->begin),
                           st_dtype_name(t->dtype), (unsigned long long)(bits / 8));
    return S2S_OK;
}

/* Copies the string-to-string "__metadata__" object `meta` into `f`. */
static s2s_status parse_metadata(const cJSON *meta, st_file *f, const char *fname,
                                 s2s_error *err)
{
    if (!cJSON_IsObject(meta))
        return s2s_fail(err, S2S_ERR_SAFETENSORS,
                           "%s: \"__metadata__\" is %s, expected an object of strings", fname,
                           json_kind(meta));
    size_t n = (size_t)cJSON_GetArraySize(meta);
    if (n == 0)
        return S2S_OK;
    f->meta_keys = calloc(n, sizeof *f->meta_keys);
    f->meta_values = calloc(n, sizeof *f->meta_values);
    if (!f->meta_keys || !f->meta_values)
        return s2s_fail(err, S2S_ERR_NOMEM, "%s: out of memory", fname);
    for (const cJSON *m = meta->child; m; m = m->next) {
        if (!cJSON_IsString(m))
            return s2s_fail(err, S2S_ERR_SAFETENSORS,
                               "%s: \"__metadata__\" value of \"%.100s\" is %s, expected a string",
                               fname, m->string, json_kind(m));
        for (size_t j = 0; j < f->n_meta; j++)
            if (strcmp(f->meta_keys[j], m->string) == 0)
                return s2s_fail(err, S2S_ERR_SAFETENSORS,
                                   "%s: \"__metadata__\" key \"%.100s\" appears twice", fname,
                                   m->string);
        f->meta_keys[f->n_meta] = strdup(m->string);
        f->meta_values[f->n_meta] = strdup(m->valuestring);
        if (!f->meta_keys[f->n_meta] || !f->meta_values[f->n_meta]) {
            f->n_meta++;
            return s2s_fail(err, S2S_ERR_NOMEM, "%s: out of memory", fname);
        }
        f->n_meta++;
    }
    return S2S_OK;
}

/* Checks that the tensors tile the data buffer exactly: sorted by begin, the
 * first begins at 0, each begins where the previous ended, the last ends at
 * the end of the file. */
static s2s_status check_layout(st_file *f, const char *fname, s2s_error *err)
{
    for (size_t i = 0; i < f->n_tensors; i++)
        if (f->tensors[i].end > f->data_len)
            return s2s_fail(err, S2S_ERR_SAFETENSORS,
                               "%s: tensor \"%s\": data_offsets [%llu, %llu] are out of bounds "
                               "(the data buffer has %llu bytes)",
                               fname, f->tensors[i].name,
                               (unsigned long long)f->tensors[i].begin,
                               (unsigned long long)f->tensors[i].end,
                               (unsigned long long)f->data_len);
    if (f->n_tensors == 0) {
        if (f->data_len != 0)
            return s2s_fail(err, S2S_ERR_SAFETENSORS,
                               "%s: no tensors but %llu bytes of data after the header", fname,
                               (unsigned long long)f->data_len);
        return S2S_OK;
    }
    const st_tensor **order = malloc(f->n_tensors * sizeof *order);
    if (!order)
        return s2s_fail(err, S2S_ERR_NOMEM, "%s: out of memory", fname);
    for (size_t i = 0; i < f->n_tensors; i++)
        order[i] = &f->tensors[i];
    qsort(order, f->n_tensors, sizeof *order, cmp_tensor_offsets);
    s2s_status st = S2S_OK;
    uint64_t pos = 0;
    const st_tensor *prev = NULL;
    for (size_t i = 0; i < f->n_tensors && st == S2S_OK; i++) {
        const st_tensor *t = order[i];
        if (t->begin < pos)
            st = s2s_fail(err, S2S_ERR_SAFETENSORS,
                             "%s: tensor \"%s\": data_offsets [%llu, %llu] overlap tensor \"%s\" "
                             "(which ends at %llu)",
                             fname, t->name, (unsigned long long)t->begin,
                             (unsigned long long)t->end, prev->name, (unsigned long long)pos);
        else if (t->begin > pos)
            st = prev ? s2s_fail(err, S2S_ERR_SAFETENSORS,
                                    "%s: tensor \"%s\": data_offsets [%llu, %llu] leave a hole "
                                    "after tensor \"%s\" (which ends at %llu)",
                                    fname, t->name, (unsigned long long)t->begin,
                                    (unsigned long long)t->end, prev->name,
                                    (unsigned long long)pos)
                      : s2s_fail(err, S2S_ERR_SAFETENSORS,
                                    "%s: tensor \"%s\": the first data_offsets begin at %llu, "
                                    "not 0 (a hole)",
                                    fname, t->name, (unsigned long long)t->begin);
        pos = t->end;
        prev = t;
    }
    if (st == S2S_OK && pos != f->data_len)
        st = s2s_fail(err, S2S_ERR_SAFETENSORS,
                         "%s: the last tensor \"%s\" ends at %llu but the data buffer has %llu "
                         "bytes (the last tensor must end at the end of the file)",
                         fname, prev->name, (unsigned long long)pos,
                         (unsigned long long)f->data_len);
    free(order);
    return st;
}

/* See safetensors.h. */
s2s_status safetensors_parse(const uint8_t *buf, size_t size, const char *name, st_file *out,
                             s2s_error *err)
{
    memset(out, 0, sizeof *out);
    if (size < 8)
        return s2s_fail(err, S2S_ERR_SAFETENSORS,
                           "%s: file is %zu bytes, too short for the 8-byte header length", name,
                           size);
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--)
        n = (n << 8) | buf[i];
    if (n > S2S_MAX_HEADER_BYTES)
        return s2s_fail(err, S2S_ERR_SAFETENSORS,
                           "%s: header length %llu exceeds the limit of %llu bytes", name,
                           (unsigned long long)n, (unsigned long long)S2S_MAX_HEADER_BYTES);
    if (n > size - 8)
        return s2s_fail(err, S2S_ERR_SAFETENSORS,
                           "%s: header length %llu runs past the end of the file (%zu bytes)",
                           name, (unsigned long long)n, size);
    if (n == 0 || buf[8] != '{')
        return s2s_fail(err, S2S_ERR_SAFETENSORS,
                           "%s: the header does not start with '{' (byte offset 8)", name);
    const uint8_t *hdr = buf + 8;
    long long bad = first_bad_utf8(hdr, (size_t)n);
    if (bad >= 0)
        return s2s_fail(err, S2S_ERR_SAFETENSORS,
                           "%s: header is not valid UTF-8 at byte offset %llu", name,
                           (unsigned long long)(8 + bad));
    /* JSON allows no raw control characters except white space; cJSON would
     * otherwise skip them as white space or keep them inside strings. */
    for (uint64_t i = 0; i < n; i++)
        if (hdr[i] < 0x20 && hdr[i] != ' ' && hdr[i] != '\t' && hdr[i] != '\n' && hdr[i] != '\r')
            return s2s_fail(err, S2S_ERR_SAFETENSORS,
                               "%s: header has control byte 0x%02x at byte offset %llu", name,
                               hdr[i], (unsigned long long)(8 + i));
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts((const char *)hdr, (size_t)n, &end, 0);
    if (!root) {
        /* cJSON reports the failure position through `end` (its global
         * error pointer is not thread-safe, so it is not used). */
        unsigned long long off = 8;
        if (end && end >= (const char *)hdr && end <= (const char *)hdr + n)
            off += (unsigned long long)(end - (const char *)hdr);
        return s2s_fail(err, S2S_ERR_SAFETENSORS,
                           "%s: header is not valid JSON (near byte offset %llu)", name, off);
    }
    for (const char *p = end; p && p < (const char *)hdr + n; p++)
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
            cJSON_Delete(root);
            return s2s_fail(err, S2S_ERR_SAFETENSORS,
                               "%s: header has trailing data after the JSON at byte offset %llu",
                               name, (unsigned long long)(8 + (p - (const char *)hdr)));
        }
    s2s_status st = S2S_OK;
    size_t lit_pos = 0;
    int in_string = 0;
    if (mark_literals(root, (const char *)hdr, (size_t)n, &lit_pos, &in_string) != 0) {
        st = s2s_fail(err, S2S_ERR_SAFETENSORS, "%s: header numbers do not match its text", name);
        goto done;
    }
    if (!cJSON_IsObject(root)) {
        st = s2s_fail(err, S2S_ERR_SAFETENSORS, "%s: header is %s, expected a JSON object",
                         name, json_kind(root));
        goto done;
    }
    out->header_len = n;
    out->data_len = (uint64_t)size - 8 - n;
    size_t count = 0;
    int n_metadata = 0;
    for (const cJSON *it = root->child; it; it = it->next) {
        if (strcmp(it->string, "__metadata__") == 0)
            n_metadata++;
        else
            count++;
    }
    if (n_metadata > 1) {
        st = s2s_fail(err, S2S_ERR_SAFETENSORS, "%s: \"__metadata__\" appears twice", name);
        goto done;
    }
    if (count > 0) {
        out->tensors = calloc(count, sizeof *out->tensors);
        if (!out->tensors) {
            st = s2s_fail(err, S2S_ERR_NOMEM, "%s: out of memory", name);
            goto done;
        }
    }
    for (const cJSON *it = root->child; it && st == S2S_OK; it = it->next) {
        if (strcmp(it->string, "__metadata__") == 0) {
            st = parse_metadata(it, out, name, err);
            continue;
        }
        st_tensor *t = &out->tensors[out->n_tensors];
        t->name = strdup(it->string);
        if (!t->name) {
            st = s2s_fail(err, S2S_ERR_NOMEM, "%s: out of memory", name);
            break;
        }
        out->n_tensors++;
        st = parse_entry(it, t, name, err);
    }
    if (st != S2S_OK)
        goto done;
    if (out->n_tensors > 1)
        qsort(out->tensors, out->n_tensors, sizeof *out->tensors, cmp_tensor_name);
    for (size_t i = 1; i < out->n_tensors; i++)
        if (strcmp(out->tensors[i - 1].name, out->tensors[i].name) == 0) {
            st = s2s_fail(err, S2S_ERR_SAFETENSORS, "%s: tensor name \"%s\" appears twice",
                             name, out->tensors[i].name);
            goto done;
        }
    st = check_layout(out, name, err);
    if (st != S2S_OK)
        goto done;
    for (size_t i = 0; i < out->n_tensors; i++) {
        st_tensor *t = &out->tensors[i];
        t->file_offset = 8 + n + t->begin;
        t->data = buf + t->file_offset;
    }
done:
    cJSON_Delete(root);
    if (st != S2S_OK)
        safetensors_free(out);
    return st;
}

/* See safetensors.h. */
s2s_status safetensors_map_file(const char *path, const char *name, void **map, size_t *size,
                                s2s_error *err)
{
    *map = NULL;
    *size = 0;
    /* O_NONBLOCK: a FIFO must not block the open before the check below */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return s2s_fail(err, S2S_ERR_IO, "%s: cannot open: %s", name, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int e = errno;
        close(fd);
        return s2s_fail(err, S2S_ERR_IO, "%s: cannot stat: %s", name, strerror(e));
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return s2s_fail(err, S2S_ERR_IO, "%s: not a regular file", name);
    }
    if (sb.st_size == 0) {
        close(fd);
        return S2S_OK;
    }
    void *p = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (p == MAP_FAILED)
        return s2s_fail(err, S2S_ERR_IO, "%s: cannot map %lld bytes: %s", name,
                           (long long)sb.st_size, strerror(e));
    *map = p;
    *size = (size_t)sb.st_size;
    return S2S_OK;
}

/* See safetensors.h. */
void safetensors_unmap(void *map, size_t size)
{
    if (map)
        munmap(map, size);
}
