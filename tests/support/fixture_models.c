/*
 * fixture_models.c - see fixture_models.h.
 */
#include "fixture_models.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

/* Loads $S2S_ROOT/DIR/NAME, failing the test with the loader's message. */
static s2s_model *load_under_root(const char *dir, const char *name)
{
    const char *root = getenv("S2S_ROOT");
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/%s", root ? root : ".", dir, name);
    s2s_error err = {0};
    s2s_model *m = s2s_model_load(path, &err);
    cr_assert_not_null(m, "loading %s: %s", path, err.message);
    return m;
}

s2s_model *load_fixture(const char *name)
{
    return load_under_root("tests/fixtures/models", name);
}

s2s_model *load_shipped(const char *name)
{
    return load_under_root("models", name);
}
