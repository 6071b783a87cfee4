/*
 * main.c - the s2s command: dispatches to a subcommand.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

typedef struct subcommand {
    const char *name;
    int (*run)(int argc, char **argv);
} subcommand;

static const subcommand SUBCOMMANDS[] = {
    {"translate", cmd_translate},
    {"summarize", cmd_translate},
    {"score", cmd_score},
    {"align", cmd_align},
    {"info", cmd_info},
    {"tokenize", cmd_tokenize},
    {"serve", cmd_serve},
};

/* Finds the subcommand called `name`, or NULL. */
static const subcommand *find_subcommand(const char *name)
{
    for (size_t i = 0; i < sizeof SUBCOMMANDS / sizeof SUBCOMMANDS[0]; i++)
        if (strcmp(SUBCOMMANDS[i].name, name) == 0) return &SUBCOMMANDS[i];
    return NULL;
}

/* `s2s help [CMD]`: prints the overview or a subcommand's help. */
static int run_help(int argc, char **argv)
{
    if (argc < 2) { cli_print_help(stdout, NULL); return CLI_EXIT_OK; }
    if (!find_subcommand(argv[1])) {
        fprintf(stderr, "s2s: unknown command '%s' (see 's2s --help')\n", argv[1]);
        return CLI_EXIT_USAGE;
    }
    cli_print_help(stdout, argv[1]);
    return CLI_EXIT_OK;
}

/* Entry point: `s2s CMD [OPTIONS]`, `s2s --help`, `s2s --version`. */
int main(int argc, char **argv)
{
    if (argc < 2) {
        cli_print_help(stderr, NULL);
        return CLI_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
        cli_print_help(stdout, NULL);
        return CLI_EXIT_OK;
    }
    if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0) {
        printf("s2s %s (model format %d)\n", S2S_VERSION, S2S_FORMAT_VERSION);
        return CLI_EXIT_OK;
    }
    if (strcmp(name, "help") == 0) return run_help(argc - 1, argv + 1);
    const subcommand *sc = find_subcommand(name);
    if (!sc) {
        if (name[0] == '-')
            fprintf(stderr, "s2s: unknown option '%s' (see 's2s --help')\n", name);
        else
            fprintf(stderr, "s2s: unknown command '%s' (see 's2s --help')\n", name);
        return CLI_EXIT_USAGE;
    }
    return sc->run(argc - 1, argv + 1);
}
