/*
 * test_safetensors.c - the safetensors rules: every malformed header or
 * buffer refused with its status and a message naming what is wrong.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "model.h"
#include "s2s.h"
#include "safetensors.h"
#include "tokenizer.h"
#include "support/model_dir.h"

/* ---- safetensors malformations ------------------------------------------ */

#define ONE_T "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}"

Test(safetensors, truncated_file)
{
    fixture fx;
    fx_init(&fx);
    fx_raw(&fx, calloc(5, 1), 5);
    expect_fail(&fx, S2S_ERR_SAFETENSORS, "file is 5 bytes, too short");
}

Test(safetensors, empty_file)
{
    fixture fx;
    fx_init(&fx);
    fx_raw(&fx, calloc(1, 1), 0);
    expect_fail(&fx, S2S_ERR_SAFETENSORS, "file is 0 bytes");
}

Test(safetensors, header_length_past_end)
{
    fixture fx;
    fx_init(&fx);
    RAW(&fx, ONE_T, 8, 1000);
    expect_fail(&fx, S2S_ERR_SAFETENSORS, "header length 1000 runs past the end");
}

Test(safetensors, header_length_near_2_64)
{
    fixture fx;
    fx_init(&fx);
    RAW(&fx, ONE_T, 8, UINT64_MAX - 3);
    expect_fail(&fx, S2S_ERR_SAFETENSORS, "exceeds the limit of 100000000 bytes");
}

Test(safetensors, header_just_over_limit)
{
    fixture fx;
    fx_init(&fx);
    RAW(&fx, ONE_T, 8, 100000001ULL);
    expect_fail(&fx, S2S_ERR_SAFETENSORS, "header length 100000001 exceeds");
}

Test(safetensors, bad_json)
{
    fixture fx;
    fx_init(&fx);
    RAW(&fx, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}", 8, 0);
    expect_fail(&fx, S2S_ERR_SAFETENSORS, "not valid JSON");
}

Test(safetensors, trailing_garbage_after_json)
{
    fixture fx;
    fx_init(&fx);
    RAW(&fx, ONE_T " x", 8, 0);
    /* the JSON is 54 bytes, then a space, then 'x' at header index 55 = file offset 63 */
    expect_fail(&fx, S2S_ERR_SAFETENSORS, "trailing data after the JSON at byte offset 63");
}

Test(safetensors, bad_utf8_in_header)
{
    fixture fx;
    fx_init(&fx);
    /* '{' '"' 'a' then 0xFF: header index 3, file offset 11 */
    RAW(&fx, "{\"a\xff\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, 0);
    expect_fail(&fx, S2S_ERR_SAFETENSORS, "not valid UTF-8 at byte offset 11");
}

Test(safetensors, control_byte_in_header)
{
    fixture fx;
    fx_init(&fx);
    RAW(&fx, "{\"a\x01\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, 0);
    expect_fail(&fx, S2S_ERR_SAFETENSORS, "control byte 0x01 at byte offset 11");
}

Test(safetensors, header_not_object)
{
    fixture fx;
    fx_init(&fx);
    RAW(&fx, "[1, 2]", 0, 0);
    expect_fail(&fx, S2S_ERR_SAFETENSORS, "does not start with '{'");
}

Test(safetensors, duplicate_names)
{
    fixture fx;
    fx_init(&fx);
    RAW(&fx, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                  "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}",
                  16, 0);
    expect_fail(&fx, S2S_ERR_SAFETENSORS, "tensor name \"a\" appears twice");
}

Test(safetensors, unknown_dtype)
{
    fixture fx;
    fx_init(&fx);
    RAW(&fx, "{\"a\":{\"dtype\":\"F33\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, 0);
    expect_fail(&fx, S2S_ERR_SAFETENSORS, "unknown dtype \"F33\"");
}

Test(safetensors, offsets_out_of_bounds)
{
    fixture fx;
    fx_init(&fx);
    RAW(&fx, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                  "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}",
                  12, 0);
    expect_fail(&fx, S2S_ERR_SAFETENSORS,
                "tensor \"b\": data_offsets [8, 16] are out of bounds (the data buffer has 12");
}

Test(safetensors, overlapping)
{
    fixture fx;
    fx_init(&fx);
    RAW(&fx, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                  "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
                  12, 0);
    expect_fail(&fx, S2S_ERR_SAFETENSORS, "tensor \"b\": data_offsets [4, 12] overlap tensor \"a\"");
}

Test(safetensors, hole)
{
    fixture fx;
    fx_init(&fx);
    RAW(&fx, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                  "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[12,20]}}",
                  20, 0);
    expect_fail(&fx, S2S_ERR_SAFETENSORS, "data_offsets [12, 20] leave a hole after tensor \"a\"");
}

Test(safetensors, first_not_at_zero)
{
    fixture fx;
    fx_init(&fx);
    RAW(&fx, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, 0);
    expect_fail(&fx, S2S_ERR_SAFETENSORS, "first data_offsets begin at 4, not 0");
}

Test(safetensors, last_not_at_eof)
{
    fixture fx;
    fx_init(&fx);
    RAW(&fx, ONE_T, 9, 0);
    expect_fail(&fx, S2S_ERR_SAFETENSORS,
                "last tensor \"a\" ends at 8 but the data buffer has 9 bytes");
}

Test(safetensors, size_not_matching_shape)
{
    fixture fx;
    fx_init(&fx);
    RAW(&fx, "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, 0);
    expect_fail(&fx, S2S_ERR_SAFETENSORS, "hold 8 bytes but shape and dtype F32 need 12");
}

Test(safetensors, shape_product_overflow)
{
    fixture fx;
    fx_init(&fx);
    /* 2^32 x 2^32 = 2^64 elements: overflows 64 bits */
    RAW(&fx, "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],"
                  "\"data_offsets\":[0,8]}}",
                  8, 0);
    expect_fail(&fx, S2S_ERR_SAFETENSORS, "element count of its shape overflows");
}

Test(safetensors, byte_size_overflow)
{
    fixture fx;
    fx_init(&fx);
    /* 2^31 x 2^31 = 2^62 elements x 64 bits overflows */
    RAW(&fx, "{\"a\":{\"dtype\":\"F64\",\"shape\":[2147483648,2147483648],"
                  "\"data_offsets\":[0,8]}}",
                  8, 0);
    expect_fail(&fx, S2S_ERR_SAFETENSORS, "byte size of its shape overflows");
}

Test(safetensors, negative_dim)
{
    fixture fx;
    fx_init(&fx);
    RAW(&fx, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2,-1],\"data_offsets\":[0,8]}}", 8, 0);
    expect_fail(&fx, S2S_ERR_SAFETENSORS, "shape[1] is not a non-negative integer");
}

Test(safetensors, fractional_dim)
{
    fixture fx;
    fx_init(&fx);
    RAW(&fx, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}", 8, 0);
    expect_fail(&fx, S2S_ERR_SAFETENSORS, "shape[0] is not a non-negative integer");
}

Test(safetensors, metadata_not_object)
{
    fixture fx;
    fx_init(&fx);
    RAW(&fx, "{\"__metadata__\":[1],\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,"
                  "8]}}",
                  8, 0);
    expect_fail(&fx, S2S_ERR_SAFETENSORS, "\"__metadata__\" is an array");
}

Test(safetensors, metadata_value_not_string)
{
    fixture fx;
    fx_init(&fx);
    RAW(&fx, "{\"__metadata__\":{\"format\":\"pt\",\"n\":3},\"a\":{\"dtype\":\"F32\",\"shape\":[2],"
                  "\"data_offsets\":[0,8]}}",
                  8, 0);
    expect_fail(&fx, S2S_ERR_SAFETENSORS, "\"__metadata__\" value of \"n\" is a number");
}

Test(safetensors, sub_byte_dtype_must_fill_bytes)
{
    /* direct parser test: F4 x 3 elements = 12 bits, not whole bytes */
    const char *h = "{\"a\":{\"dtype\":\"F4\",\"shape\":[3],\"data_offsets\":[0,2]}}";
    size_t len;
    uint8_t *b = st_raw(h, 2, 0, &len);
    st_file f;
    s2s_error err = {0};
    cr_assert_eq(safetensors_parse(b, len, "w.safetensors", &f, &err), S2S_ERR_SAFETENSORS);
    cr_assert(strstr(err.message, "do not fill whole bytes"), "%s", err.message);
    free(b);
    /* F4 x 4 = 2 bytes, F6_E2M3 x 4 = 3 bytes, C64 x 1 = 8 bytes: valid */
    h = "{\"a\":{\"dtype\":\"F4\",\"shape\":[4],\"data_offsets\":[0,2]},"
        "\"b\":{\"dtype\":\"F6_E2M3\",\"shape\":[2,2],\"data_offsets\":[2,5]},"
        "\"c\":{\"dtype\":\"C64\",\"shape\":[],\"data_offsets\":[5,13]},"
        "\"z\":{\"dtype\":\"BOOL\",\"shape\":[0,7],\"data_offsets\":[13,13]}}";
    b = st_raw(h, 13, 0, &len);
    cr_assert_eq(safetensors_parse(b, len, "w.safetensors", &f, &err), S2S_OK, "%s", err.message);
    cr_assert_eq(f.n_tensors, 4);
    const st_tensor *t = safetensors_find(&f, "c");
    cr_assert_not_null(t);
    cr_assert_eq(t->ndim, 0);
    cr_assert_eq(t->n_elements, 1);
    cr_assert_eq(t->file_offset, 8 + strlen(h) + 5);
    cr_assert_null(safetensors_find(&f, "d"));
    safetensors_free(&f);
    free(b);
}

Test(safetensors, empty_header_object_is_valid)
{
    size_t len;
    uint8_t *b = st_raw("{}      ", 0, 0, &len);
    st_file f;
    s2s_error err = {0};
    cr_assert_eq(safetensors_parse(b, len, "w", &f, &err), S2S_OK, "%s", err.message);
    cr_assert_eq(f.n_tensors, 0);
    safetensors_free(&f);
    free(b);
    b = st_raw("{}", 4, 0, &len);
    cr_assert_eq(safetensors_parse(b, len, "w", &f, &err), S2S_ERR_SAFETENSORS);
    cr_assert(strstr(err.message, "no tensors but 4 bytes"), "%s", err.message);
    free(b);
}

static void parse_expect(const char *header, size_t dlen, const char *needle)
{
    size_t len;
    uint8_t *b = st_raw(header, dlen, 0, &len);
    st_file f;
    s2s_error err = {0};
    cr_assert_eq(safetensors_parse(b, len, "w.safetensors", &f, &err), S2S_ERR_SAFETENSORS,
                 "accepted: %s", header);
    cr_assert(strstr(err.message, needle), "message \"%s\" lacks \"%s\"", err.message, needle);
    cr_assert_eq(f.n_tensors, 0); /* left empty */
    free(b);
}

Test(safetensors, entry_rules)
{
    parse_expect("{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8,
                 "tensor \"a\": missing \"dtype\"");
    parse_expect("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", 8,
                 "tensor \"a\": missing \"shape\"");
    parse_expect("{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, "missing \"data_offsets\"");
    parse_expect("{\"a\":{\"dtype\":32,\"shape\":[2],\"data_offsets\":[0,8]}}", 8,
                 "dtype is a number, expected a string");
    parse_expect("{\"a\":{\"dtype\":\"f32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8,
                 "unknown dtype \"f32\"");
    parse_expect("{\"a\":{\"dtype\":\"F32\",\"shape\":2,\"data_offsets\":[0,8]}}", 8,
                 "shape is a number, expected an array");
    parse_expect("{\"a\":{\"dtype\":\"F32\",\"shape\":[\"2\"],\"data_offsets\":[0,8]}}", 8,
                 "shape[0] is not a non-negative integer");
    parse_expect("{\"a\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1],"
                 "\"data_offsets\":[0,1]}}",
                 1, "shape has 17 dimensions, more than 16");
    parse_expect("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8,9]}}", 8,
                 "data_offsets must be two non-negative integers");
    parse_expect("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,-8]}}", 8,
                 "data_offsets must be two non-negative integers");
    parse_expect("{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,0]}}", 8,
                 "data_offsets [8, 0] end before they begin");
    parse_expect("{\"a\":[1,2]}", 0, "tensor \"a\": header entry is an array");
    parse_expect("{\"__metadata__\":{},\"__metadata__\":{}}", 0, "\"__metadata__\" appears twice");
    parse_expect("{\"__metadata__\":{\"k\":\"v\",\"k\":\"w\"}}", 0,
                 "\"__metadata__\" key \"k\" appears twice");
    parse_expect("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}} \x0c", 8,
                 "control byte 0x0c");
    /* 2^53 + 2 is above the exact-integer limit */
    parse_expect("{\"a\":{\"dtype\":\"U8\",\"shape\":[9007199254740994],\"data_offsets\":[0,1]}}",
                 1, "shape[0] is not a non-negative integer (at most 2^53)");
}

Test(safetensors, metadata_is_kept)
{
    const char *h = "{\"__metadata__\":{\"format\":\"pt\",\"note\":\"\\u00e9\"},"
                    "\"b\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[2,3]},"
                    "\"a\":{\"dtype\":\"I16\",\"shape\":[1],\"data_offsets\":[0,2]}}";
    size_t len;
    uint8_t *b = st_raw(h, 3, 0, &len);
    b[len - 1] = 0x7f;
    st_file f;
    s2s_error err = {0};
    cr_assert_eq(safetensors_parse(b, len, "w", &f, &err), S2S_OK, "%s", err.message);
    cr_assert_eq(f.n_meta, 2);
    cr_assert_str_eq(f.meta_keys[1], "note");
    cr_assert_str_eq(f.meta_values[1], "\xc3\xa9");
    cr_assert_eq(f.n_tensors, 2);
    cr_assert_str_eq(f.tensors[0].name, "a"); /* sorted by name, not by offset */
    cr_assert_eq(f.tensors[1].data[0], 0x7f);
    cr_assert_eq(f.header_len, strlen(h));
    cr_assert_eq(f.data_len, 3);
    safetensors_free(&f);
    free(b);
}

/* Offsets and shapes are integers: a JSON float or exponent literal, a
 * minus zero or a leading zero is refused even when its value is a whole
 * number (as the reference implementation reads them as unsigned integers). */
Test(safetensors, float_literals_refused_as_offsets_and_shapes)
{
    const char *offs_bad[] = {"[0.0, 8]", "[0, 8.0]", "[0, 0.8e1]", "[0, 8E0]", "[-0, 8]", "[0, 08]", "[0, 8e+0]"};
    for (size_t i = 0; i < sizeof offs_bad / sizeof offs_bad[0]; i++) {
        char h[256];
        snprintf(h, sizeof h, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":%s}}", offs_bad[i]);
        parse_expect(h, 8, "tensor \"a\": data_offsets must be two non-negative integers");
    }
    /* the finding: [0.0, 5.12e2] and a shape of 1.28E2 */
    parse_expect("{\"a\":{\"dtype\":\"F32\",\"shape\":[1.28E2],\"data_offsets\":[0.0,5.12e2]}}", 512,
                 "tensor \"a\": shape[0] is not a non-negative integer");
    const char *shape_bad[] = {"[2.0]", "[-0.0]", "[-0]", "[0.2e1]", "[2, 1e0]", "[02]"};
    for (size_t i = 0; i < sizeof shape_bad / sizeof shape_bad[0]; i++) {
        char h[256];
        snprintf(h, sizeof h, "{\"a\":{\"dtype\":\"F32\",\"shape\":%s,\"data_offsets\":[0,8]}}", shape_bad[i]);
        parse_expect(h, 8, "is not a non-negative integer");
    }
    /* digits, dots and exponents inside strings (names, metadata, escapes)
     * are not numbers and do not shift the literals that follow */
    const char *h = "{\"__metadata__\":{\"v\":\"1.5e3 \\\" 2.0\"},"
                    "\"x.1e2\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
    size_t len;
    uint8_t *b = st_raw(h, 8, 0, &len);
    st_file f;
    s2s_error err = {0};
    cr_assert_eq(safetensors_parse(b, len, "w.safetensors", &f, &err), S2S_OK, "%s", err.message);
    cr_assert_eq(f.n_tensors, 1);
    safetensors_free(&f);
    free(b);
    /* 0 and plain integers with white space stay valid */
    b = st_raw("{\"a\":{\"dtype\":\"U8\",\"shape\":[ 0 ],\"data_offsets\":[ 0 , 0 ]},"
               "\"b\":{\"dtype\":\"U8\",\"shape\":[10],\"data_offsets\":[0,10]}}", 10, 0, &len);
    cr_assert_eq(safetensors_parse(b, len, "w.safetensors", &f, &err), S2S_OK, "%s", err.message);
    safetensors_free(&f);
    free(b);
}
