/* cmd_align.c - placeholder until the engine lands. */
#include "cli.h"

int cmd_align(int argc, char **argv)
{
    cli_opts o;
    int rc = cli_parse(argv[0], argc, argv, &o);
    if (rc) return rc < 0 ? CLI_EXIT_OK : rc;
    fprintf(stderr, "s2s %s: not implemented yet\n", o.cmd);
    return CLI_EXIT_USAGE;
}
