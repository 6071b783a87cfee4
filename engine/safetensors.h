/*
 * safetensors.h - internal: a strict reader for the safetensors format
 * (8-byte little-endian header length N, N bytes of UTF-8 JSON, data buffer).
 *
 * The parser works on bytes in memory (so a fuzzer can feed it) and checks
 * every rule of the safetensors library plus docs/model-format.md, section 2:
 * header size limit, UTF-8, JSON, duplicate names, known dtypes, integer
 * shapes, byte sizes computed without overflow, offsets inside the data
 * buffer, no overlap, no hole, the last tensor ending at the end of the file,
 * and a string-to-string "__metadata__". Nothing here prints or exits.
 */
#ifndef S2S_SAFETENSORS_H
#define S2S_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "s2s.h"

/* Most dimensions a tensor may have (safetensors itself sets no limit). */
#define ST_MAX_DIMS 16
/* Largest integer accepted for a dimension or offset: integers above 2^53
 * cannot be represented exactly by the JSON parser's doubles. */
#define ST_MAX_JSON_INT 9007199254740992.0 /* 2^53 */

/* Every dtype safetensors defines (as of safetensors 0.6), in its order. */
typedef enum st_dtype {
    ST_BOOL = 0, ST_F4, ST_F6_E2M3, ST_F6_E3M2, ST_U8, ST_I8, ST_F8_E5M2, ST_F8_E4M3,
    ST_F8_E8M0, ST_I16, ST_U16, ST_F16, ST_BF16, ST_I32, ST_U32, ST_F32, ST_C64, ST_F64,
    ST_I64, ST_U64,
    ST_DTYPE_COUNT
} st_dtype;

/* The name of `dt` as written in a header ("F32"), static; "?" if out of range. */
const char *st_dtype_name(st_dtype dt);
/* Bits per element of `dt` (4 for F4, 6 for F6_*, 8 for U8, ...); 0 if out of range. */
unsigned st_dtype_bits(st_dtype dt);

typedef struct st_tensor {
    char *name;                  /* owned, NUL-terminated */
    st_dtype dtype;
    int ndim;                    /* 0 (scalar) .. ST_MAX_DIMS */
    uint64_t shape[ST_MAX_DIMS];
    uint64_t n_elements;         /* product of shape (1 for a scalar) */
    uint64_t begin, end;         /* data_offsets, relative to the data buffer */
    const uint8_t *data;         /* points into the parsed buffer: end - begin bytes */
    uint64_t file_offset;        /* byte offset of `data` from the start of the file */
} st_tensor;

typedef struct st_file {
    st_tensor *tensors;          /* n_tensors, sorted by name (owned) */
    size_t n_tensors;
    char **meta_keys;            /* __metadata__ entries, n_meta each (owned) */
    char **meta_values;
    size_t n_meta;
    uint64_t header_len;         /* N */
    uint64_t data_len;           /* bytes in the data buffer */
} st_file;

/* Parses and validates the safetensors bytes `buf` (`size` bytes; buf may be
 * NULL when size is 0). `name` (e.g. "model.safetensors") starts every error
 * message. The tensors' data pointers point into `buf`, which must outlive
 * `out`. On failure returns S2S_ERR_SAFETENSORS (or S2S_ERR_NOMEM) with `err`
 * set and leaves `out` empty. Free with safetensors_free(). */
s2s_status safetensors_parse(const uint8_t *buf, size_t size, const char *name, st_file *out,
                             s2s_error *err);

/* Frees what safetensors_parse put in `f` and zeroes it (the buffer is not
 * touched). NULL is a no-op. */
void safetensors_free(st_file *f);

/* The tensor called `name`, or NULL when absent. The pointer lives as long as `f`. */
const st_tensor *safetensors_find(const st_file *f, const char *name);

/* Maps the regular file `path` read-only. On success *map / *size describe
 * the mapping (*map is NULL for an empty file); release with
 * safetensors_unmap(). `name` is used in messages. Errors: S2S_ERR_IO. */
s2s_status safetensors_map_file(const char *path, const char *name, void **map, size_t *size,
                                s2s_error *err);
/* Releases a mapping made by safetensors_map_file(); NULL is a no-op. */
void safetensors_unmap(void *map, size_t size);

#endif
