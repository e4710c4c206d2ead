/* Shared command-line helpers (see cli.h). */
#include "cli/cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/pf_sanitize.h"

void pf_cli_init(pf_cli *c, const char *cmd, int argc, char **argv, const pf_cli_opt *opts,
                 const char *usage, const char *description)
{
    memset(c, 0, sizeof *c);
    c->cmd = cmd;
    c->argc = argc;
    c->argv = argv;
    c->i = 1;
    c->opts = opts;
    c->usage = usage;
    c->description = description;
}

static void vreport(const char *cmd, const char *fmt, va_list ap)
{
    fprintf(stderr, "pftune: %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

int pf_cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(cmd, fmt, ap);
    va_end(ap);
    return 2;
}

int pf_cli_fail(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(cmd, fmt, ap);
    va_end(ap);
    return 1;
}

int pf_cli_fail_error(const char *cmd)
{
    const char *msg = pf_error_get();
    return pf_cli_fail(cmd, "%s", msg[0] ? msg : "failed (no details)");
}

int pf_cli_edit_distance(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    if (n > 64 || m > 64) /* long strings are never typos of each other */
        return (int)(n > m ? n : m);
    int row[65];
    for (size_t j = 0; j <= m; j++)
        row[j] = (int)j;
    for (size_t i = 1; i <= n; i++) {
        int diag = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= m; j++) {
            int up = row[j];
            int best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[m];
}

const char *pf_cli_closest(const char *word, const char *const *cands)
{
    const char *best = NULL;
    int best_d = 1 << 30;
    for (const char *const *c = cands; *c; c++) {
        int d = pf_cli_edit_distance(word, *c);
        /* A prefix of a candidate ("--jo" for "--jobs") is also a likely typo. */
        if (strlen(word) >= 2 && strncmp(*c, word, strlen(word)) == 0 && d > 1)
            d = 1;
        if (d < best_d) {
            best_d = d;
            best = *c;
        }
    }
    int len = (int)strlen(word);
    int limit = len / 3 > 2 ? len / 3 : 2;
    return best && best_d <= limit ? best : NULL;
}

static const pf_cli_opt *find_long(const pf_cli *c, const char *name, size_t len)
{
    for (const pf_cli_opt *o = c->opts; o && o->name; o++)
        if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
            return o;
    return NULL;
}

static const pf_cli_opt *find_short(const pf_cli *c, char s)
{
    for (const pf_cli_opt *o = c->opts; o && o->name; o++)
        if (o->short_name && o->short_name == s)
            return o;
    return NULL;
}

static int unknown_option(const pf_cli *c, const char *arg, size_t len)
{
    /* Candidates: every "--name" plus "--help". */
    const char *cands[130];
    char names[128][72];
    int n = 0;
    for (const pf_cli_opt *o = c->opts; o && o->name && n < 127; o++, n++) {
        snprintf(names[n], sizeof names[n], "--%s", o->name);
        cands[n] = names[n];
    }
    cands[n++] = "--help";
    cands[n] = NULL;
    char word[128];
    snprintf(word, sizeof word, "%.*s", (int)(len < 120 ? len : 120), arg);
    const char *s = pf_cli_closest(word, cands);
    if (s)
        pf_cli_usage_error(c->cmd, "unknown option '%s' (did you mean '%s'?)", word, s);
    else
        pf_cli_usage_error(c->cmd, "unknown option '%s' (see 'pftune %s --help')", word, c->cmd);
    return PF_CLI_ERROR;
}

int pf_cli_next(pf_cli *c, const char **value)
{
    *value = NULL;
    if (c->i >= c->argc)
        return PF_CLI_DONE;
    const char *arg = c->argv[c->i++];
    if (c->only_args || arg[0] != '-' || arg[1] == '\0') { /* "-" is a positional (stdin) */
        *value = arg;
        return PF_CLI_ARG;
    }
    if (strcmp(arg, "--") == 0) {
        c->only_args = 1;
        return pf_cli_next(c, value);
    }
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
        pf_cli_print_help(c, stdout);
        return PF_CLI_HELP;
    }
    const pf_cli_opt *o;
    const char *inline_value = NULL;
    char shown[80];
    if (arg[1] == '-') {
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        o = find_long(c, name, len);
        if (!o)
            return unknown_option(c, arg, len + 2);
        inline_value = eq ? eq + 1 : NULL;
        snprintf(shown, sizeof shown, "--%s", o->name);
    } else {
        o = find_short(c, arg[1]);
        if (find_long(c, arg + 1, strlen(arg + 1)))
            o = NULL; /* "-arch" means "--arch", not "-a rch" */
        if (o && arg[2] != '\0') {
            if (!o->metavar)
                o = NULL;           /* "-json": not a short flag */
            else
                inline_value = arg + 2; /* "-j4" */
        }
        if (!o) /* "-arch" is probably "--arch": suggest among long names */
            return unknown_option(c, arg, strlen(arg));
        snprintf(shown, sizeof shown, "-%c", o->short_name);
    }
    if (!o->metavar) {
        if (inline_value) {
            pf_cli_usage_error(c->cmd, "option '%s' takes no value", shown);
            return PF_CLI_ERROR;
        }
        return (int)(o - c->opts);
    }
    if (inline_value) {
        *value = inline_value;
    } else if (c->i < c->argc) {
        *value = c->argv[c->i++];
    } else {
        pf_cli_usage_error(c->cmd, "option '%s' needs a value (%s)", shown, o->metavar);
        return PF_CLI_ERROR;
    }
    return (int)(o - c->opts);
}

void pf_cli_print_help(const pf_cli *c, FILE *f)
{
    fprintf(f, "usage: %s\n", c->usage ? c->usage : c->cmd);
    if (c->description)
        fprintf(f, "\n%s\n", c->description);
    fprintf(f, "\noptions:\n");
    for (const pf_cli_opt *o = c->opts; o && o->name; o++) {
        char left[96];
        int n = 0;
        if (o->short_name)
            n = snprintf(left, sizeof left, "-%c, ", o->short_name);
        snprintf(left + n, sizeof left - (size_t)n, "--%s%s%s", o->name, o->metavar ? " " : "",
                 o->metavar ? o->metavar : "");
        fprintf(f, "  %-28s %s\n", left, o->help ? o->help : "");
    }
    fprintf(f, "  %-28s %s\n", "-h, --help", "show this help");
    if (c->examples)
        fprintf(f, "\nexamples:\n%s", c->examples);
}

int pf_cli_parse_long(const char *cmd, const char *what, const char *text, long min, long max,
                      long *out)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (text[0] == '\0' || *end != '\0' || errno == ERANGE) {
        pf_cli_usage_error(cmd, "%s: '%s' is not an integer", what, text);
        return -1;
    }
    if (v < min || v > max) {
        pf_cli_usage_error(cmd, "%s: %ld is out of range [%ld, %ld]", what, v, min, max);
        return -1;
    }
    *out = v;
    return 0;
}

int pf_cli_parse_double(const char *cmd, const char *what, const char *text, double min,
                        double max, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (text[0] == '\0' || *end != '\0' || errno == ERANGE || !isfinite(v)) {
        pf_cli_usage_error(cmd, "%s: '%s' is not a number", what, text);
        return -1;
    }
    if (v < min || v > max) {
        pf_cli_usage_error(cmd, "%s: %g is out of range [%g, %g]", what, v, min, max);
        return -1;
    }
    *out = v;
    return 0;
}

int pf_cli_parse_sanitize(const char *cmd, const char *text)
{
    unsigned mode;
    if (pf_sanitize_parse(text, &mode) != 0 || pf_sanitize_set(mode, pf_sanitize_seed()) != 0) {
        pf_cli_usage_error(cmd, "--sanitize %s: %s", text, pf_error_get());
        return -1;
    }
    return 0;
}

int pf_cli_parse_choice(const char *cmd, const char *what, const char *text,
                        const char *const *choices)
{
    char list[512] = "";
    size_t used = 0;
    for (const char *const *c = choices; *c; c++) {
        if (strcmp(*c, text) == 0)
            return 0;
        int n = snprintf(list + used, sizeof list - used, "%s%s", used ? ", " : "", *c);
        if (n > 0 && used + (size_t)n < sizeof list)
            used += (size_t)n;
    }
    const char *s = pf_cli_closest(text, choices);
    if (s)
        pf_cli_usage_error(cmd, "%s: unknown value '%s' (did you mean '%s'? choices: %s)", what,
                           text, s, list);
    else
        pf_cli_usage_error(cmd, "%s: unknown value '%s' (choices: %s)", what, text, list);
    return -1;
}
