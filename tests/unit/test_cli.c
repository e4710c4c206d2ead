/* CLI helpers: edit distance against a brute-force recursive reference on
 * random strings, closest-match suggestions, and the option parser on
 * random permutations of a command line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "pf_test.h"

/* Independent reference: the textbook recursion (exponential, short inputs). */
static int lev_ref(const char *a, const char *b)
{
    if (!*a)
        return (int)strlen(b);
    if (!*b)
        return (int)strlen(a);
    int sub = lev_ref(a + 1, b + 1) + (*a != *b);
    int del = lev_ref(a + 1, b) + 1;
    int ins = lev_ref(a, b + 1) + 1;
    int m = sub < del ? sub : del;
    return m < ins ? m : ins;
}

static void random_word(char *w, int max_len)
{
    int n = rand() % (max_len + 1);
    for (int i = 0; i < n; i++)
        w[i] = (char)('a' + rand() % 4); /* small alphabet: many near-matches */
    w[n] = '\0';
}

enum { OPT_ARCH, OPT_JSON, OPT_JOBS };
static const pf_cli_opt opts[] = {
    [OPT_ARCH] = {"arch", 'a', "SM", "target"},
    [OPT_JSON] = {"json", 0, NULL, "json output"},
    [OPT_JOBS] = {"jobs", 'j', "N", "workers"},
    {0},
};

/* Parse argv; returns the last pf_cli_next code and fills the seen values. */
static int parse(int argc, char **argv, const char **arch, int *json, const char **jobs,
                 int *n_pos)
{
    pf_cli c;
    pf_cli_init(&c, "t", argc, argv, opts, "t [options]", "test");
    *arch = NULL;
    *jobs = NULL;
    *json = 0;
    *n_pos = 0;
    const char *v;
    int o;
    while ((o = pf_cli_next(&c, &v)) != PF_CLI_DONE) {
        if (o == PF_CLI_ERROR || o == PF_CLI_HELP)
            return o;
        if (o == PF_CLI_ARG)
            (*n_pos)++;
        else if (o == OPT_ARCH)
            *arch = v;
        else if (o == OPT_JSON)
            (*json)++;
        else if (o == OPT_JOBS)
            *jobs = v;
    }
    return PF_CLI_DONE;
}

int main(void)
{
    srand((unsigned)time(NULL) ^ (unsigned)getpid());

    for (int t = 0; t < 300; t++) {
        char a[8], b[8];
        random_word(a, 6);
        random_word(b, 6);
        CHECK_MSG(pf_cli_edit_distance(a, b) == lev_ref(a, b), "'%s' '%s'", a, b);
    }

    const char *cmds[] = {"devices", "compile", "masks", "attention", "check", "help", NULL};
    CHECK(strcmp(pf_cli_closest("devics", cmds), "devices") == 0);
    CHECK(strcmp(pf_cli_closest("compiel", cmds), "compile") == 0);
    CHECK(strcmp(pf_cli_closest("atten", cmds) ? pf_cli_closest("atten", cmds) : "", "attention") == 0);
    CHECK(pf_cli_closest("zzzzzzzzzz", cmds) == NULL);
    /* a random single-character typo of any candidate suggests that candidate */
    for (int t = 0; t < 100; t++) {
        const char *w = cmds[rand() % 5];
        char typo[32];
        snprintf(typo, sizeof typo, "%s", w);
        typo[rand() % strlen(typo)] = (char)('0' + rand() % 10);
        const char *s = pf_cli_closest(typo, cmds);
        CHECK_MSG(s && strcmp(s, w) == 0, "typo '%s' of '%s' -> '%s'", typo, w, s ? s : "NULL");
    }

    /* the parser: all forms, in a random order, with positionals mixed in */
    char jobs_val[16];
    snprintf(jobs_val, sizeof jobs_val, "%d", 1 + rand() % 99);
    for (int t = 0; t < 50; t++) {
        char *pieces[4][2] = {{"--arch", "sm_90"}, {"--json", NULL}, {"-j", jobs_val}, {"pos", NULL}};
        char *argv[12];
        int argc = 0;
        argv[argc++] = "t";
        int order[4] = {0, 1, 2, 3};
        for (int i = 3; i > 0; i--) {
            int j = rand() % (i + 1), tmp = order[i];
            order[i] = order[j];
            order[j] = tmp;
        }
        for (int i = 0; i < 4; i++) {
            argv[argc++] = pieces[order[i]][0];
            if (pieces[order[i]][1])
                argv[argc++] = pieces[order[i]][1];
        }
        argv[argc] = NULL;
        const char *arch, *jobs;
        int json, n_pos;
        CHECK(parse(argc, argv, &arch, &json, &jobs, &n_pos) == PF_CLI_DONE);
        CHECK(arch && strcmp(arch, "sm_90") == 0);
        CHECK(jobs && strcmp(jobs, jobs_val) == 0);
        CHECK(json == 1 && n_pos == 1);
    }
    const char *arch, *jobs;
    int json, n_pos;
    char *eq[] = {"t", "--arch=sm_80", "--", "--json", NULL};
    CHECK(parse(4, eq, &arch, &json, &jobs, &n_pos) == PF_CLI_DONE);
    CHECK(arch && strcmp(arch, "sm_80") == 0 && json == 0 && n_pos == 1);
    char *attached[] = {"t", "-asm_86", "-j7", NULL};
    CHECK(parse(3, attached, &arch, &json, &jobs, &n_pos) == PF_CLI_DONE);
    CHECK(arch && strcmp(arch, "sm_86") == 0 && jobs && strcmp(jobs, "7") == 0);

    /* usage errors (messages go to stderr; the codes are what we check) */
    char *unknown[] = {"t", "--jsno", NULL};
    CHECK(parse(2, unknown, &arch, &json, &jobs, &n_pos) == PF_CLI_ERROR);
    char *missing[] = {"t", "--arch", NULL};
    CHECK(parse(2, missing, &arch, &json, &jobs, &n_pos) == PF_CLI_ERROR);
    char *flagval[] = {"t", "--json=1", NULL};
    CHECK(parse(2, flagval, &arch, &json, &jobs, &n_pos) == PF_CLI_ERROR);
    char *shortbad[] = {"t", "-x", NULL};
    CHECK(parse(2, shortbad, &arch, &json, &jobs, &n_pos) == PF_CLI_ERROR);
    char *longish[] = {"t", "-arch", "sm_90", NULL}; /* "--arch"? not -a with value "rch" */
    CHECK(parse(3, longish, &arch, &json, &jobs, &n_pos) == PF_CLI_ERROR);

    long v;
    long lo = -(rand() % 100), hi = 100 + rand() % 100, want = lo + rand() % (hi - lo + 1);
    char num[32];
    snprintf(num, sizeof num, "%ld", want);
    CHECK(pf_cli_parse_long("t", "--n", num, lo, hi, &v) == 0 && v == want);
    snprintf(num, sizeof num, "%ld", hi + 1);
    CHECK(pf_cli_parse_long("t", "--n", num, lo, hi, &v) == -1);
    CHECK(pf_cli_parse_long("t", "--n", "12x", lo, hi, &v) == -1);
    CHECK(pf_cli_parse_long("t", "--n", "", lo, hi, &v) == -1);
    double d;
    CHECK(pf_cli_parse_double("t", "--x", "0.25", 0, 1, &d) == 0 && d == 0.25);
    CHECK(pf_cli_parse_double("t", "--x", "nan", 0, 1, &d) == -1);
    const char *choices[] = {"dense", "bitmap", "window", "spans", NULL};
    CHECK(pf_cli_parse_choice("t", "--mask", "spans", choices) == 0);
    CHECK(pf_cli_parse_choice("t", "--mask", "bitmpa", choices) == -1);
    return PF_TEST_RESULT();
}
