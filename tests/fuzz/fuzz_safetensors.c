/*
 * fuzz_safetensors.c - libFuzzer target: safetensors_parse on arbitrary bytes.
 * On success, checks the parser's promises: every tensor's data lies inside
 * the input, the tensors tile the data buffer exactly, names are sorted and
 * unique, and each name is found again by safetensors_find.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    st_file f;
    s2s_error err;
    if (safetensors_parse(data, size, "fuzz.safetensors", &f, &err) != S2S_OK) {
        if (err.message[0] == '\0' || err.status == S2S_OK)
            abort(); /* a failure must say why */
        return 0;
    }
    uint64_t total = 0;
    for (size_t i = 0; i < f.n_tensors; i++) {
        const st_tensor *t = &f.tensors[i];
        uint64_t n = t->end - t->begin;
        if (t->data < data || t->file_offset + n > size || t->data != data + t->file_offset)
            abort();
        if (t->file_offset < 8 + f.header_len)
            abort();
        if (i > 0 && strcmp(f.tensors[i - 1].name, t->name) >= 0)
            abort();
        if (safetensors_find(&f, t->name) != t)
            abort();
        total += n;
    }
    if (total != f.data_len || 8 + f.header_len + f.data_len != size)
        abort();
    safetensors_free(&f);
    return 0;
}
