/*
 * fixture_models.h - the committed fixture models (tests/fixtures/models/)
 * for the Criterion tests that decode with them.
 */
#ifndef S2S_TEST_FIXTURE_MODELS_H
#define S2S_TEST_FIXTURE_MODELS_H

#include "s2s.h"

/* Loads tests/fixtures/models/NAME under $S2S_ROOT (default "."); fails the
 * test with the loader's message when it cannot. Free with s2s_model_free(). */
s2s_model *load_fixture(const char *name);

/* Loads the shipped model models/NAME under $S2S_ROOT, the same way. */
s2s_model *load_shipped(const char *name);

#endif
