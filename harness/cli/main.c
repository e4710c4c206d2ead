/* pftune entry point: global flags (--help, --version) and dispatch to the
 * subcommands listed in commands.def. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "core/version.h"
#include "pf_git_rev.h" /* generated at build time: PF_GIT_REV */

typedef struct pf_command {
    const char *name;
    int (*fn)(int, char **);
    const char *summary;
} pf_command;

static const pf_command commands[] = {
#define PF_COMMAND(name, fn, summary) {#name, fn, summary},
#include "cli/commands.def"
#undef PF_COMMAND
    {NULL, NULL, NULL},
};

/* Examples shown by --help, each only when its command exists in this build. */
static const struct {
    const char *cmd, *line;
} examples[] = {
    {"devices", "pftune devices"},
    {"compile", "pftune compile --arch sm_80,sm_90 --kernel attention"},
    {"compile", "pftune compile --arch emu --kernel attention --head-dim 256 --json"},
    {"masks", "pftune masks --seq 131072"},
    {"attention", "pftune attention --layout 't20,i64,t9' --heads 8:2 --head-dim 64 --seed 1 \\\n"
                  "      --compare-reference --device emu --out o.npy"},
    {"check", "pftune check --device emu --head-dim 64"},
};

static const pf_command *find_command(const char *name)
{
    for (const pf_command *c = commands; c->name; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

static void print_help(FILE *f)
{
    fprintf(f,
            "pftune: kernel autotuning and profiling workbench for the masked prefill\n"
            "attention of multimodal Gemma models. It JIT-compiles variants of the\n"
            "attention kernel (NVRTC for GPUs, the host C compiler for the CPU `emu`\n"
            "backend that runs the same kernel source), verifies each against a\n"
            "reference, times it and reports resources and results.\n"
            "\n"
            "usage: pftune <command> [options]\n"
            "       pftune <command> --help\n"
            "       pftune --version\n"
            "\n"
            "commands:\n");
    for (const pf_command *c = commands; c->name; c++)
        fprintf(f, "  %-12s %s\n", c->name, c->summary);
    fprintf(f, "  %-12s %s\n", "help", "show help for a command (pftune help <command>)");
    fprintf(f, "\nexamples:\n");
    for (size_t i = 0; i < sizeof examples / sizeof examples[0]; i++)
        if (find_command(examples[i].cmd))
            fprintf(f, "  %s\n", examples[i].line);
    fprintf(f,
            "\nenvironment: PFTUNE_CACHE_DIR (JIT cache, default ~/.cache/pftune),\n"
            "             PFTUNE_KERNEL_DIR (kernel sources, default %s)\n",
            PF_KERNEL_DIR_DEFAULT);
}

static int unknown_command(const char *name)
{
    const char *cands[64];
    int n = 0;
    for (const pf_command *c = commands; c->name && n < 62; c++)
        cands[n++] = c->name;
    cands[n++] = "help";
    cands[n] = NULL;
    const char *s = pf_cli_closest(name, cands);
    if (name[0] == '-') {
        const char *flags[] = {"--help", "--version", NULL};
        s = pf_cli_closest(name, flags);
        if (s)
            fprintf(stderr, "pftune: unknown option '%s' (did you mean '%s'?)\n", name, s);
        else
            fprintf(stderr, "pftune: unknown option '%s' (see 'pftune --help')\n", name);
    } else if (s) {
        fprintf(stderr, "pftune: unknown command '%s' (did you mean '%s'?)\n", name, s);
    } else {
        fprintf(stderr, "pftune: unknown command '%s' (see 'pftune --help')\n", name);
    }
    return 2;
}

int main(int argc, char **argv)
{
    pf_version_set_revision(PF_GIT_REV);
    if (argc < 2) {
        fprintf(stderr, "usage: pftune <command> [options]  (see 'pftune --help')\n");
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        print_help(stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
        printf("pftune %s (%s)\n", PF_VERSION, PF_GIT_REV);
        return 0;
    }
    if (strcmp(cmd, "help") == 0) {
        if (argc < 3) {
            print_help(stdout);
            return 0;
        }
        const pf_command *c = find_command(argv[2]);
        if (!c)
            return unknown_command(argv[2]);
        char *sub_argv[] = {argv[2], "--help", NULL};
        return c->fn(2, sub_argv);
    }
    const pf_command *c = find_command(cmd);
    if (!c)
        return unknown_command(cmd);
    return c->fn(argc - 1, argv + 1);
}
