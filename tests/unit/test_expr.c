/* Constraint expressions: random expressions printed with only the
 * parentheses precedence needs, checked against a tree evaluation written
 * here in C (values, overflow, division by zero, short-circuits);
 * precedence and string cases; malformed input refused with its column;
 * evaluation errors; deep nesting. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/pf_error.h"
#include "pf_test.h"
#include "tuner/expr.h"

static const char *const names[] = {"A", "B", "C", "BLOCK_M", "WARPS", "HEAD_DIM",
                                    "MASK_STORAGE", "SEQ_LEN", "GHOST", NULL};

typedef struct env {
    int64_t a, b, c;
} env;

static int lookup(void *ctx, const char *name, size_t len, pf_expr_value *out)
{
    const env *e = ctx;
    memset(out, 0, sizeof *out);
#define IS(s) (len == strlen(s) && memcmp(name, s, len) == 0)
    if (IS("A"))
        out->i = e->a;
    else if (IS("B"))
        out->i = e->b;
    else if (IS("C"))
        out->i = e->c;
    else if (IS("BLOCK_M"))
        out->i = 64;
    else if (IS("WARPS"))
        out->i = 4;
    else if (IS("HEAD_DIM"))
        out->i = 128;
    else if (IS("SEQ_LEN"))
        out->i = 32768;
    else if (IS("MASK_STORAGE")) {
        out->is_string = 1;
        out->s = "spans";
    } else
        return -1; /* GHOST: a known name without a value */
#undef IS
    return 0;
}

/* ---- the independent evaluator: a tree, printed and computed here ---- */

enum { N_LIT, N_VAR, N_NEG, N_NOT, N_BIN };
static const struct {
    const char *op;
    int prec; /* higher binds tighter */
} bins[] = {{"*", 6}, {"/", 6}, {"%", 6}, {"+", 5}, {"-", 5}, {"<", 4}, {"<=", 4},
            {">", 4}, {">=", 4}, {"==", 3}, {"!=", 3}, {"&&", 2}, {"||", 1}};
#define N_BINS ((int)(sizeof bins / sizeof bins[0]))

typedef struct tnode {
    int kind, op, var;
    int64_t lit;
    struct tnode *l, *r;
} tnode;

static tnode *gen(int depth)
{
    tnode *n = calloc(1, sizeof *n);
    int pick = (int)(pf_test_rng() % (depth > 0 ? 10 : 2));
    if (pick == 0) {
        n->kind = N_LIT;
        n->lit = (int64_t)(pf_test_rng() % 21);
    } else if (pick == 1) {
        n->kind = N_VAR;
        n->var = (int)(pf_test_rng() % 3);
    } else if (pick == 2) {
        n->kind = pf_test_rng() % 2 ? N_NEG : N_NOT;
        n->l = gen(depth - 1);
    } else {
        n->kind = N_BIN;
        n->op = (int)(pf_test_rng() % N_BINS);
        n->l = gen(depth - 1);
        n->r = gen(depth - 1);
    }
    return n;
}

static void tfree(tnode *n)
{
    if (!n)
        return;
    tfree(n->l);
    tfree(n->r);
    free(n);
}

static int prec(const tnode *n)
{
    return n->kind == N_BIN ? bins[n->op].prec : n->kind == N_NEG || n->kind == N_NOT ? 7 : 8;
}

static void print(const tnode *n, char *buf, size_t size)
{
    size_t at = strlen(buf);
    const char *sp = pf_test_rng() % 2 ? " " : "";
    char l[4096] = "", r[4096] = "";
    switch (n->kind) {
    case N_LIT:
        snprintf(buf + at, size - at, "%lld", (long long)n->lit);
        return;
    case N_VAR:
        snprintf(buf + at, size - at, "%c", "ABC"[n->var]);
        return;
    case N_NEG:
    case N_NOT:
        print(n->l, l, sizeof l);
        snprintf(buf + at, size - at, prec(n->l) < 7 ? "%c%s(%s)" : "%c%s%s",
                 n->kind == N_NEG ? '-' : '!', sp, l);
        return;
    default:
        print(n->l, l, sizeof l);
        print(n->r, r, sizeof r);
        /* left-associative: a right operand of equal precedence needs parentheses */
        snprintf(buf + at, size - at, prec(n->l) < prec(n) ? "(%s)%s%s " : "%s%s%s ", l, sp,
                 bins[n->op].op);
        at = strlen(buf);
        snprintf(buf + at, size - at, prec(n->r) <= prec(n) ? "(%s)" : "%s", r);
    }
}

/* C semantics with overflow and zero division as errors (*err = 1). */
static int64_t value(const tnode *n, const env *e, int *err)
{
    int64_t x, y, z = 0;
    switch (n->kind) {
    case N_LIT:
        return n->lit;
    case N_VAR:
        return n->var == 0 ? e->a : n->var == 1 ? e->b : e->c;
    case N_NEG:
        x = value(n->l, e, err);
        if (x == INT64_MIN)
            *err = 1;
        return *err ? 0 : -x;
    case N_NOT:
        return !value(n->l, e, err);
    }
    x = value(n->l, e, err);
    if (*err)
        return 0;
    const char *op = bins[n->op].op;
    if (!strcmp(op, "&&") && !x)
        return 0;
    if (!strcmp(op, "||") && x)
        return 1;
    y = value(n->r, e, err);
    if (*err)
        return 0;
    if (!strcmp(op, "*") && __builtin_mul_overflow(x, y, &z))
        *err = 1;
    else if (!strcmp(op, "+") && __builtin_add_overflow(x, y, &z))
        *err = 1;
    else if (!strcmp(op, "-") && __builtin_sub_overflow(x, y, &z))
        *err = 1;
    else if ((!strcmp(op, "/") || !strcmp(op, "%")) && (y == 0 || (x == INT64_MIN && y == -1)))
        *err = 1;
    if (*err)
        return 0;
    switch (op[0] << 8 | op[1]) {
    case '/' << 8: return x / y;
    case '%' << 8: return x % y;
    case '<' << 8: return x < y;
    case '<' << 8 | '=': return x <= y;
    case '>' << 8: return x > y;
    case '>' << 8 | '=': return x >= y;
    case '=' << 8 | '=': return x == y;
    case '!' << 8 | '=': return x != y;
    case '&' << 8 | '&':
    case '|' << 8 | '|': return y != 0;
    default: return z; /* * + - */
    }
}

/* 1 / 0, or -1 on a parse or evaluation error. */
static int eval_text(const char *text, env *e)
{
    pf_expr *x = pf_expr_parse(text, names);
    if (!x)
        return -2;
    int r = pf_expr_eval(x, lookup, e);
    pf_expr_free(x);
    return r;
}

static void test_random(void)
{
    int errors = 0, mismatches = 0;
    for (int iter = 0; iter < 20000; iter++) {
        tnode *t = gen(1 + (int)(pf_test_rng() % 5));
        env e = {(int64_t)(pf_test_rng() % 41) - 20, (int64_t)(pf_test_rng() % 41) - 20,
                 (int64_t)(pf_test_rng() % 41) - 20};
        if (iter % 10 == 0) /* big values reach the overflow checks */
            e.a = INT64_MAX - (int64_t)(pf_test_rng() % 3), e.b = INT64_MIN + 1;
        char text[4096] = "";
        print(t, text, sizeof text);
        int err = 0;
        int64_t v = value(t, &e, &err);
        char claim[4200];
        if (v == INT64_MIN)
            snprintf(claim, sizeof claim, "(%s) == -9223372036854775807 - 1", text);
        else
            snprintf(claim, sizeof claim, "(%s) == %lld", text, (long long)v);
        int truth = eval_text(text, &e), eq = eval_text(claim, &e);
        if (err) {
            errors++;
            if (truth != -1 || eq != -1 || strncmp(pf_error_get(), "column ", 7) != 0)
                mismatches++, fprintf(stderr, "expected an error: %s (%d %d)\n", text, truth, eq);
        } else if (truth != (v != 0) || eq != 1) {
            mismatches++;
            fprintf(stderr, "mismatch: %s = %lld (A=%lld B=%lld C=%lld): got %d, %d: %s\n", text,
                    (long long)v, (long long)e.a, (long long)e.b, (long long)e.c, truth, eq,
                    pf_error_get());
        }
        tfree(t);
    }
    CHECK(mismatches == 0);
    CHECK(errors > 100); /* the error paths were exercised */
    printf("random: 20000 expressions, %d evaluation errors expected and seen\n", errors);
}

static void test_fixed(void)
{
    static const struct {
        const char *text;
        int want;
    } cases[] = {
        {"1 + 2 * 3 == 7", 1},          {"(1 + 2) * 3 == 9", 1},
        {"10 - 4 - 3 == 3", 1},         {"100 / 10 / 5 == 2", 1},
        {"-2 * 3 == -6", 1},            {"!0 + 1 == 2", 1},
        {"1 < 2 == 1", 1},              {"1 || 0 && 0", 1},
        {"(1 || 0) && 0", 0},           {"7 % 3 * 2 == 2", 1},
        {"-7 / 2 == -3", 1},            {"-7 % 2 == -1", 1},
        {"7 % -2 == 1", 1},             {"!!5 == 1", 1},
        {"1 < 2 < 3", 1},               {"3 > 2 > 1", 0},
        {"2 - -2 == 4", 1},             {"2--2==4", 1},
        {"1 <= 1 && 1 >= 1 && !(1 < 1) && !(1 > 1)", 1},
        {"BLOCK_M * WARPS <= 512 && HEAD_DIM % 16 == 0", 1},
        {"BLOCK_M * WARPS < 256", 0},
        {"MASK_STORAGE != \"dense\" || SEQ_LEN <= 32768", 1},
        {"MASK_STORAGE == \"spans\"", 1},  {"'spans' == MASK_STORAGE", 1},
        {"MASK_STORAGE == \"span\"", 0},   {"MASK_STORAGE != 'spans'", 0},
        {"\"a\" == \"a\"", 1},             {"\"ab\" == \"a\"", 0},
        {"\"\" == ''", 1},                 {"\"a b\" != 'a b'", 0},
        {"9223372036854775807 > 0", 1},  {"-9223372036854775807 - 1 < 0", 1},
        {"  \t(  ( 3 ) )  ", 1},          {"0", 0},
        {"0 && GHOST == 0 || 1", 1},    /* GHOST never evaluated: no lookup error */
        {"A == 0 || 8 / A > 1", 1},
    };
    env e = {0, 0, 0};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int got = eval_text(cases[i].text, &e);
        CHECK_MSG(got == cases[i].want, "%s: got %d (%s)", cases[i].text, got, pf_error_get());
    }
}

/* Parse errors: refused, "column N: " with the expected column and text. */
static void test_malformed(void)
{
    char deep_paren[400], deep_neg[2000], long_chain[40000], many_bang[100001];
    memset(deep_paren, '(', 100);
    strcpy(deep_paren + 100, "1");
    memset(deep_paren + 101, ')', 100);
    deep_paren[201] = 0;
    memset(deep_neg, '-', 1000);
    strcpy(deep_neg + 1000, "1");
    strcpy(long_chain, "1");
    for (int i = 0; i < 10000; i++)
        strcat(long_chain + 2 * i, "+1");
    memset(many_bang, '!', 100000);
    many_bang[100000] = 0;
    const struct {
        const char *text;
        int col;
        const char *what;
    } cases[] = {
        {"", 1, "empty expression"},
        {"   ", 1, "empty expression"},
        {"(1 + 2", 7, "expected ')' to close the '(' at column 1, found end of expression"},
        {"((1) + 2", 9, "to close the '(' at column 1"},
        {"1 + 2)", 6, "')' without a matching '('"},
        {"1 2", 3, "unexpected '2' after the expression"},
        {"A B", 3, "unexpected 'B'"},
        {"1 +", 4, "expected a value, found end of expression"},
        {"* 2", 1, "expected a value, found '*'"},
        {"()", 2, "expected a value, found ')'"},
        {"BLOCKM > 1", 1, "unknown name 'BLOCKM' (known: A, B, C, BLOCK_M, WARPS"},
        {"BLOCK_M * WARPS <= 512 && HEADDIM % 16 == 0", 27, "unknown name 'HEADDIM'"},
        {"block_m > 1", 1, "unknown name 'block_m'"},
        {"\"a\" < 1", 5, "type mismatch: '<' needs integers"},
        {"\"a\" == 1", 5, "type mismatch: '==' compares a string with an integer"},
        {"1 != 'x'", 3, "type mismatch"},
        {"-\"s\" == 1", 1, "type mismatch: '-' needs integers"},
        {"!'s'", 1, "type mismatch: '!' needs integers"},
        {"'s' && 1", 5, "'&&' needs integers"},
        {"(1 == 1) + 'a' == 2", 10, "'+' needs integers"},
        {"\"s\"", 1, "the expression is a string"},
        {"BLOCK_M = 64", 9, "'=' is not an operator (use '==')"},
        {"A & B", 3, "bitwise '&' is not supported (use '&&')"},
        {"A | B", 3, "(use '||')"},
        {"\"abc", 1, "unterminated string"},
        {"MASK_STORAGE == 'spans", 17, "unterminated string (no closing ')"},
        {"99999999999999999999 > 1", 1, "out of range"},
        {"9223372036854775808", 1, "out of range"},
        {"12abc", 3, "unexpected 'abc' after a number"},
        {"$", 1, "expected a value, found '$'"},
        {"1 + \x01", 5, "byte 0x01"},
        {"1 + 2 ;", 7, "unexpected ';'"},
        {deep_paren, 65, "nested too deeply (more than 64 levels)"},
        {deep_neg, 65, "nested too deeply"},
        {many_bang, 65, "nested too deeply"},
        {long_chain, 514, "too long"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pf_error_clear();
        pf_expr *x = pf_expr_parse(cases[i].text, names);
        char col[32];
        snprintf(col, sizeof col, "column %d: ", cases[i].col);
        const char *msg = pf_error_get();
        CHECK_MSG(!x && strncmp(msg, col, strlen(col)) == 0 && strstr(msg, cases[i].what) &&
                      !strchr(msg, '\n'),
                  "case %zu ('%.40s'): got '%s', want '%s%s'", i, cases[i].text, msg, col,
                  cases[i].what);
        pf_expr_free(x);
    }
    /* nesting just under the caps is fine */
    char ok[600] = "";
    for (int i = 0; i < 60; i++)
        strcat(ok, "1+1+1+(");
    strcat(ok, "1");
    for (int i = 0; i < 60; i++)
        strcat(ok, ")");
    pf_expr *x = pf_expr_parse(ok, names);
    CHECK_MSG(x != NULL, "%s", pf_error_get());
    CHECK(x && pf_expr_eval(x, lookup, &(env){0}) == 1);
    pf_expr_free(x);
    /* names NULL: any name parses; the lookup decides */
    x = pf_expr_parse("ANYTHING > 0", NULL);
    CHECK(x && pf_expr_eval(x, lookup, &(env){0}) == -1 &&
          strstr(pf_error_get(), "column 1: name 'ANYTHING' has no value"));
    pf_expr_free(x);
}

/* Evaluation errors name the operator's column. */
static void test_eval_errors(void)
{
    static const struct {
        const char *text;
        int64_t a, b;
        const char *msg;
    } cases[] = {
        {"A / B > 0", 7, 0, "column 3: division by zero"},
        {"1 + A % B", 7, 0, "column 7: modulo by zero"},
        {"A * A > 0", (int64_t)1 << 62, 0, "column 3: integer overflow in '*'"},
        {"A + A > 0", INT64_MAX, 0, "column 3: integer overflow in '+'"},
        {"B - A > 0", INT64_MAX, INT64_MIN, "column 3: integer overflow in '-'"},
        {"-B > 0", 0, INT64_MIN, "column 1: integer overflow in '-'"},
        {"B / A > 0", -1, INT64_MIN, "column 3: integer overflow in '/'"},
        {"B % A == 0", -1, INT64_MIN, "column 3: integer overflow in '%'"},
        {"MASK_STORAGE == 1", 0, 0, "column 14: type mismatch: '==' compares a string"},
        {"MASK_STORAGE + 1 > 0", 0, 0, "column 14: type mismatch: '+' needs integers"},
        {"!MASK_STORAGE", 0, 0, "column 1: type mismatch: '!' needs integers"},
        {"MASK_STORAGE", 0, 0, "column 1: the expression is a string"},
        {"GHOST > 1", 0, 0, "column 1: name 'GHOST' has no value"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        env e = {cases[i].a, cases[i].b, 0};
        pf_expr *x = pf_expr_parse(cases[i].text, names);
        CHECK_MSG(x != NULL, "%s: %s", cases[i].text, pf_error_get());
        if (!x)
            continue;
        int r = pf_expr_eval(x, lookup, &e);
        CHECK_MSG(r == -1 && strstr(pf_error_get(), cases[i].msg), "%s: got %d '%s'",
                  cases[i].text, r, pf_error_get());
        pf_expr_free(x);
    }
    /* short-circuits skip the failing side */
    env zero = {0, 0, 0};
    CHECK(eval_text("B == 0 || A / B > 1", &zero) == 1);
    CHECK(eval_text("B != 0 && A % B == 1", &zero) == 0);
    CHECK(eval_text("B != 0 || A % B == 1", &zero) == -1);
}

int main(void)
{
    pf_test_seed();
    test_fixed();
    test_malformed();
    test_eval_errors();
    test_random();
    return PF_TEST_RESULT();
}
