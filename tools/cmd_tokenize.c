/* cmd_tokenize.c - placeholder. */
#include "cli.h"

int cmd_tokenize(int argc, char **argv)
{
    cli_opts o;
    int rc = cli_parse("tokenize", argc, argv, &o);
    if (rc) return rc < 0 ? CLI_EXIT_OK : rc;
    fprintf(stderr, "s2s tokenize: not implemented yet\n");
    return CLI_EXIT_USAGE;
}
