/*
 * config.h - internal: config.json parsing into model_config (model-format.md section 4),
 * plus small helpers the loader shares (error formatting, whole-file reads,
 * relative-path checks). Nothing here prints or exits.
 */
#ifndef S2S_CONFIG_H
#define S2S_CONFIG_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "model.h"
#include "s2s.h"
#include "error.h"

/* Largest embedding_size, hidden_size or attention.size accepted: keeps every
 * derived size (gates x hidden x input) far from integer overflow. */
#define CONFIG_MAX_SIZE 65536
/* Largest config.json, vocabulary or other text file the loader reads. */
#define LOADER_MAX_TEXT_FILE (256u * 1024u * 1024u)

/* "a string", "a number", ...: a JSON value's type for messages (static). */
const char *json_kind(const cJSON *v);

/* Reads the whole file `path` into a malloc'd NUL-terminated buffer the
 * caller frees (*len excludes the NUL). `name` is used in messages. Refuses
 * files above `max_bytes`. Errors: S2S_ERR_IO, S2S_ERR_NOMEM. */
s2s_status loader_read_file(const char *path, const char *name, size_t max_bytes, char **out,
                            size_t *len, s2s_error *err);

/* Checks that `rel`, the value of config key `key`, is a usable path inside the
 * model directory: not empty, not absolute, no "." or ".." component, no empty
 * component. Errors: S2S_ERR_CONFIG naming `file` and `key`. */
s2s_status config_check_relpath(const char *rel, const char *file, const char *key,
                                s2s_error *err);

/* Parses config.json text (`len` bytes, need not be NUL-terminated) into
 * `out`, applying every default and check of model-format.md section 4 that needs only
 * the config (not the vocabularies or weights). `name` ("config.json") starts
 * every message. Errors: S2S_ERR_CONFIG, S2S_ERR_VERSION (format or a newer
 * format_version), S2S_ERR_NOMEM. On failure `out` is left zeroed. On success
 * free with model_config_free(). */
s2s_status model_config_parse(const char *json, size_t len, const char *name, model_config *out,
                              s2s_error *err);

/* Frees the strings in `cfg` and zeroes it. NULL is a no-op. */
void model_config_free(model_config *cfg);

/* Parses the "tokenizer" object `obj` (NULL = absent: all defaults) into
 * `out`. Unknown keys are ignored; a wrong type or an unknown value is
 * S2S_ERR_CONFIG with a message naming the key ("tokenizer.level") and the
 * value. Free with tokenizer_config_free(). */
s2s_status tokenizer_config_parse(const cJSON *obj, tokenizer_config *out, s2s_error *err);
void tokenizer_config_free(tokenizer_config *cfg);
const char *normalizer_name(normalizer_kind k);
const char *level_name(level_kind k);

/* Names of config enum values, as written in config.json (static strings). */
const char *config_cell_name(cell_kind c);
const char *config_bridge_name(bridge_kind b);
const char *config_attention_name(attn_kind a);
const char *config_position_name(attn_position p);
const char *config_local_name(local_kind k);

#endif
