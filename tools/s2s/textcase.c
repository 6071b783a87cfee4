/*
 * textcase.c - case handling of the command (--case): ALL-CAPS and Title
 * Case sentences are decoded in the case the model was trained on, and the
 * output is given the input's case back.
 */
#include <stddef.h>

#include "cli.h"

const char *cli_case_name(int casing)
{
    return casing == CLI_CASE_UPPER ? "upper" : casing == CLI_CASE_TITLE ? "title" : NULL;
}
