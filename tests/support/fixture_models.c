/*
 * fixture_models.c - see fixture_models.h.
 */
#include "fixture_models.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

s2s_model *load_fixture(const char *name)
{
    const char *root = getenv("S2S_ROOT");
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/fixtures/models/%s", root ? root : ".", name);
    s2s_error err = {0};
    s2s_model *m = s2s_model_load(path, &err);
    cr_assert_not_null(m, "loading %s: %s", path, err.message);
    return m;
}
