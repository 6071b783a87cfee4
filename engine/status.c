/*
 * status.c - English descriptions of s2s_status values.
 */
#include "s2s.h"
#include "error.h"
#include <stdarg.h>
#include <stdio.h>


/* Returns a static, never-NULL description of `status`; the caller must not
 * free it. Values outside the enum give "unknown status". */
const char *s2s_strerror(s2s_status status)
{
    switch (status) {
    case S2S_OK: return "success";
    case S2S_ERR_IO: return "input/output error";
    case S2S_ERR_NOMEM: return "out of memory";
    case S2S_ERR_SAFETENSORS: return "malformed safetensors file";
    case S2S_ERR_CONFIG: return "invalid model configuration";
    case S2S_ERR_VERSION: return "unsupported model format or version";
    case S2S_ERR_VOCAB: return "invalid vocabulary";
    case S2S_ERR_TENSOR: return "missing or mismatched tensor";
    case S2S_ERR_UTF8: return "invalid UTF-8 input";
    case S2S_ERR_UNKNOWN_TOKEN: return "unknown token";
    case S2S_ERR_EMPTY_INPUT: return "empty input";
    case S2S_ERR_INVALID_ARG: return "invalid argument";
    case S2S_ERR_ABORTED: return "aborted";
    case S2S_ERR_MERGES: return "invalid BPE merges file";
    case S2S_STATUS_COUNT: break;
    }
    return "unknown status";
}

s2s_status s2s_fail(s2s_error *err, s2s_status status, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->status = status;
        tok_format_message(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return status;
}

s2s_status s2s_fail_from_tokenizer(s2s_error *err, const tok_error *terr)
{
    s2s_status st;
    switch (terr->status) {
    case TOK_OK: st = S2S_OK; break;
    case TOK_ERR_NOMEM: st = S2S_ERR_NOMEM; break;
    case TOK_ERR_CONFIG: st = S2S_ERR_CONFIG; break;
    case TOK_ERR_VOCAB: st = S2S_ERR_VOCAB; break;
    case TOK_ERR_MERGES: st = S2S_ERR_MERGES; break;
    case TOK_ERR_UTF8: st = S2S_ERR_UTF8; break;
    case TOK_ERR_INVALID_ARG:
    default: st = S2S_ERR_INVALID_ARG; break;
    }
    return s2s_fail(err, st, "%s", terr->message);
}
