/* pftune entry point: dispatch to subcommands listed in commands.def. */
#include <stdio.h>
#include <string.h>

#include "commands.h"

typedef struct pf_command {
    const char *name;
    int (*fn)(int, char **);
    const char *summary;
} pf_command;

static const pf_command commands[] = {
#define PF_COMMAND(name, fn, summary) {#name, fn, summary},
#include "commands.def"
#undef PF_COMMAND
    {NULL, NULL, NULL},
};

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: pftune <command> [options]\n");
        return 2;
    }
    for (const pf_command *c = commands; c->name; c++)
        if (strcmp(c->name, argv[1]) == 0)
            return c->fn(argc - 1, argv + 1);
    fprintf(stderr, "pftune: unknown command '%s'\n", argv[1]);
    return 2;
}
