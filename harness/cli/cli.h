/* Shared command-line helpers for pftune subcommands.
 *
 * Every command describes its options in a table and pulls them with
 * pf_cli_next(), which gives uniform behaviour across commands:
 *   --name VALUE, --name=VALUE, -x VALUE, -xVALUE, flags without values, "--" ends
 *   options; --help / -h prints the command's help (built from the table);
 *   unknown options get "pftune: <cmd>: unknown option '--fo' (did you mean
 *   '--foo'?)" and a missing value "option '--arch' needs a value".
 *
 * Typical use (exit codes: 0 ok, 1 failure, 2 usage error):
 *
 *   enum { OPT_ARCH, OPT_JSON };
 *   static const pf_cli_opt opts[] = {
 *       [OPT_ARCH] = {"arch", 'a', "SM", "target arch (sm_90, ...)"},
 *       [OPT_JSON] = {"json", 0, NULL, "print one JSON object"},
 *       {0},
 *   };
 *   pf_cli c;
 *   pf_cli_init(&c, "compile", argc, argv, opts,
 *               "pftune compile --arch SM --kernel K [options]",
 *               "Compile one kernel variant and print its resources.");
 *   const char *val;
 *   int o;
 *   while ((o = pf_cli_next(&c, &val)) != PF_CLI_DONE) {
 *       switch (o) {
 *       case PF_CLI_HELP: return 0;
 *       case PF_CLI_ERROR: return 2;
 *       case PF_CLI_ARG: ...positional `val`...; break;
 *       case OPT_ARCH: arch = val; break;
 *       case OPT_JSON: json = 1; break;
 *       }
 *   }
 *
 * An option takes a value iff its `metavar` is non-NULL. */
#ifndef PF_CLI_H
#define PF_CLI_H

#include <stdio.h>

#include "core/pf_error.h"

typedef struct pf_cli_opt {
    const char *name;    /* long name without dashes; NULL ends the table */
    char short_name;     /* single-letter alias, 0 for none */
    const char *metavar; /* value placeholder for help ("N", "FILE"); NULL: a flag */
    const char *help;    /* one line */
} pf_cli_opt;

enum {
    PF_CLI_DONE = -1,  /* no more arguments */
    PF_CLI_ARG = -2,   /* a positional argument, in *value */
    PF_CLI_HELP = -3,  /* --help was given and printed: return 0 */
    PF_CLI_ERROR = -4, /* a usage error was printed: return 2 */
};

typedef struct pf_cli {
    const char *cmd;
    int argc;
    char **argv;
    int i;
    int only_args; /* after "--" */
    const pf_cli_opt *opts;
    const char *usage;
    const char *description;
    const char *examples; /* optional; printed under "examples:" (set after init) */
} pf_cli;

/* argv[0] is the command name; parsing starts at argv[1]. */
void pf_cli_init(pf_cli *c, const char *cmd, int argc, char **argv, const pf_cli_opt *opts,
                 const char *usage, const char *description);
/* Next option index into the table, or one of PF_CLI_*. */
int pf_cli_next(pf_cli *c, const char **value);
/* "usage: ...", description, options table, examples. */
void pf_cli_print_help(const pf_cli *c, FILE *f);

/* Print "pftune: <cmd>: <message>" to stderr and return 2 (usage error). */
int pf_cli_usage_error(const char *cmd, const char *fmt, ...) PF_PRINTF(2, 3);
/* Print "pftune: <cmd>: <message>" to stderr and return 1 (failure). */
int pf_cli_fail(const char *cmd, const char *fmt, ...) PF_PRINTF(2, 3);
/* Print "pftune: <cmd>: <pf_error_get()>" and return 1. */
int pf_cli_fail_error(const char *cmd);

/* Parse a whole decimal integer in [min, max]; on error prints a usage error
 * naming `what` (e.g. "--jobs") and returns -1. */
int pf_cli_parse_long(const char *cmd, const char *what, const char *text, long min, long max,
                      long *out);
int pf_cli_parse_double(const char *cmd, const char *what, const char *text, double min,
                        double max, double *out);
/* Is `text` one of the NULL-terminated `choices`? If not, print a usage error
 * listing them (with a closest-match suggestion) and return -1. */
int pf_cli_parse_choice(const char *cmd, const char *what, const char *text,
                        const char *const *choices);
/* --sanitize LIST (race, init, chaos; core/pf_sanitize.h): parse and put in
 * force for this process and its forked workers; the chaos seed comes from
 * PFTUNE_SANITIZE_SEED. A usage error (printed, returns -1) for an unknown
 * word or a check this build cannot do. */
int pf_cli_parse_sanitize(const char *cmd, const char *text);

/* Edit distance (Levenshtein) between two strings. */
int pf_cli_edit_distance(const char *a, const char *b);
/* The candidate closest to `word`, or NULL when none is close enough to be a
 * plausible typo (distance <= max(2, len/3)). `cands` is NULL-terminated. */
const char *pf_cli_closest(const char *word, const char *const *cands);

#endif
