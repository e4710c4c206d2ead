/* Constraint expressions (tuner/expr.h): a recursive-descent parser into a
 * node array, a static type check where types are known at parse time
 * (literals, operator results), and a tree evaluator with C semantics
 * (division truncates toward zero, && and || short-circuit) that refuses
 * division by zero and 64-bit overflow instead of wrapping. */
#include "tuner/expr.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/pf_error.h"

typedef enum {
    OP_INT, OP_STR, OP_NAME,
    OP_NEG, OP_NOT,
    OP_MUL, OP_DIV, OP_MOD, OP_ADD, OP_SUB,
    OP_LT, OP_LE, OP_GT, OP_GE, OP_EQ, OP_NE,
    OP_AND, OP_OR,
} op_kind;

/* Type known at parse time: names are only known at evaluation. */
enum { T_ANY, T_INT, T_STR };

typedef struct node {
    op_kind op;
    int col;        /* 1-based column of the operator or operand */
    int a, b;       /* child node indices (-1 if none) */
    int64_t i;      /* OP_INT */
    int s, len;     /* OP_STR / OP_NAME: offset and length in text */
    int type;       /* T_* */
} node;

struct pf_expr {
    char *text;     /* a copy of the source: strings and names point into it */
    node *nodes;
    int n, cap;
    int root;
};

typedef struct parser {
    pf_expr *e;
    const char *const *names;
    int pos;
    int depth;      /* current nesting of the descent */
} parser;

static const char *const op_text[] = {
    [OP_NEG] = "-", [OP_NOT] = "!", [OP_MUL] = "*", [OP_DIV] = "/", [OP_MOD] = "%",
    [OP_ADD] = "+", [OP_SUB] = "-", [OP_LT] = "<",  [OP_LE] = "<=", [OP_GT] = ">",
    [OP_GE] = ">=", [OP_EQ] = "==", [OP_NE] = "!=", [OP_AND] = "&&", [OP_OR] = "||",
};

/* Sets "column N: <what>" (pos is 0-based) and returns -1. */
static int fail(int pos, const char *fmt, ...) PF_PRINTF(2, 3);
static int fail(int pos, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return pf_error_set("column %d: %s", pos + 1, what);
}

static void skip_space(parser *p)
{
    while (isspace((unsigned char)p->e->text[p->pos]))
        p->pos++;
}

/* What is at pos, quoted for a message ("end of expression" at the end). */
static const char *describe(const parser *p, int pos, char *buf, size_t size)
{
    const char *t = p->e->text;
    unsigned char c = (unsigned char)t[pos];
    if (!c)
        return "end of expression";
    if (!isprint(c)) {
        snprintf(buf, size, "byte 0x%02x", c);
        return buf;
    }
    int n = 0;
    if (isalnum(c) || c == '_')
        while (n < 24 && (isalnum((unsigned char)t[pos + n]) || t[pos + n] == '_'))
            n++;
    else
        n = 1;
    snprintf(buf, size, "'%.*s'", n, t + pos);
    return buf;
}

static int add_node(parser *p, node nd)
{
    pf_expr *e = p->e;
    if (e->n == e->cap) {
        int cap = e->cap ? 2 * e->cap : 16;
        node *grown = realloc(e->nodes, (size_t)cap * sizeof *grown);
        if (!grown)
            return pf_error_set("out of memory parsing an expression");
        e->nodes = grown;
        e->cap = cap;
    }
    e->nodes[e->n] = nd;
    return e->n++;
}

static int is_known(const parser *p, const char *name, int len)
{
    if (!p->names)
        return 1;
    for (const char *const *n = p->names; *n; n++)
        if ((int)strlen(*n) == len && memcmp(*n, name, (size_t)len) == 0)
            return 1;
    return 0;
}

static int unknown_name(const parser *p, int pos, int len)
{
    char known[400] = "";
    size_t used = 0;
    for (const char *const *n = p->names; *n && used < sizeof known - 8; n++) {
        int w = snprintf(known + used, sizeof known - used, "%s%s", used ? ", " : "", *n);
        if (w < 0 || (size_t)w >= sizeof known - used) {
            snprintf(known + used, sizeof known - used, ", ...");
            break;
        }
        used += (size_t)w;
    }
    return pf_error_set("column %d: unknown name '%.*s' (known: %s)", pos + 1, len > 40 ? 40 : len,
                        p->e->text + pos, known[0] ? known : "none");
}

static int parse_or(parser *p);

static int parse_primary(parser *p)
{
    char buf[48];
    skip_space(p);
    const char *t = p->e->text;
    int start = p->pos;
    unsigned char c = (unsigned char)t[start];
    if (c == '(') {
        p->pos++;
        int inner = parse_or(p);
        if (inner < 0)
            return -1;
        skip_space(p);
        if (t[p->pos] != ')') {
            return fail(p->pos, "expected ')' to close the '(' at column %d, found %s", start + 1,
                        describe(p, p->pos, buf, sizeof buf));
        }
        p->pos++;
        return inner;
    }
    if (isdigit(c)) {
        int64_t v = 0;
        while (isdigit((unsigned char)t[p->pos])) {
            int d = t[p->pos] - '0';
            if (v > (INT64_MAX - d) / 10)
                return fail(start, "integer literal is out of range (64-bit)");
            v = v * 10 + d;
            p->pos++;
        }
        if (isalpha((unsigned char)t[p->pos]) || t[p->pos] == '_')
            return fail(p->pos, "unexpected %s after a number", describe(p, p->pos, buf, sizeof buf));
        return add_node(p, (node){.op = OP_INT, .col = start + 1, .a = -1, .b = -1, .i = v,
                                  .type = T_INT});
    }
    if (c == '"' || c == '\'') {
        const char *end = strchr(t + start + 1, c);
        if (!end)
            return fail(start, "unterminated string (no closing %c)", c);
        p->pos = (int)(end - t) + 1;
        return add_node(p, (node){.op = OP_STR, .col = start + 1, .a = -1, .b = -1,
                                  .s = start + 1, .len = (int)(end - t) - start - 1,
                                  .type = T_STR});
    }
    if (isalpha(c) || c == '_') {
        while (isalnum((unsigned char)t[p->pos]) || t[p->pos] == '_')
            p->pos++;
        int len = p->pos - start;
        if (!is_known(p, t + start, len))
            return unknown_name(p, start, len);
        return add_node(p, (node){.op = OP_NAME, .col = start + 1, .a = -1, .b = -1, .s = start,
                                  .len = len, .type = T_ANY});
    }
    if (!c && start == 0)
        return fail(start, "empty expression");
    return fail(start, "expected a value, found %s", describe(p, start, buf, sizeof buf));
}

/* Checks one operator's operand types where both are known now. */
static int type_of(parser *p, op_kind op, int col, int a, int b)
{
    int ta = p->e->nodes[a].type, tb = b >= 0 ? p->e->nodes[b].type : T_INT;
    if (op == OP_EQ || op == OP_NE) {
        if (ta != T_ANY && tb != T_ANY && ta != tb)
            return fail(col - 1, "type mismatch: '%s' compares a string with an integer",
                        op_text[op]);
        return T_INT;
    }
    if (ta == T_STR || tb == T_STR)
        return fail(col - 1, "type mismatch: '%s' needs integers, not strings", op_text[op]);
    return T_INT;
}

static int make_op(parser *p, op_kind op, int col, int a, int b)
{
    int type = type_of(p, op, col, a, b);
    if (type < 0)
        return -1;
    return add_node(p, (node){.op = op, .col = col, .a = a, .b = b, .type = type});
}

#define PF_EXPR_MAX_DEPTH 64

static int parse_unary(parser *p)
{
    skip_space(p);
    char c = p->e->text[p->pos];
    if (c == '-' || (c == '!' && p->e->text[p->pos + 1] != '=')) {
        int col = p->pos + 1;
        if (++p->depth > PF_EXPR_MAX_DEPTH)
            return fail(p->pos, "nested too deeply (more than %d levels)", PF_EXPR_MAX_DEPTH);
        p->pos++;
        int a = parse_unary(p);
        p->depth--;
        if (a < 0)
            return -1;
        return make_op(p, c == '-' ? OP_NEG : OP_NOT, col, a, -1);
    }
    if (c == '(' && ++p->depth > PF_EXPR_MAX_DEPTH)
        return fail(p->pos, "nested too deeply (more than %d levels)", PF_EXPR_MAX_DEPTH);
    int r = parse_primary(p);
    if (c == '(')
        p->depth--;
    return r;
}

/* One level of left-associative binary operators: `ops` lists the
 * operator spellings of the level (longest first) and their kinds. */
typedef struct level {
    const char *spell[4];
    op_kind kind[4];
    int (*next)(parser *p);
} level;

static int parse_level(parser *p, const level *lv)
{
    int a = lv->next(p);
    int chain = 0;
    while (a >= 0) {
        skip_space(p);
        const char *t = p->e->text + p->pos;
        int k = -1;
        for (int i = 0; i < 4 && lv->spell[i]; i++) {
            size_t n = strlen(lv->spell[i]);
            if (strncmp(t, lv->spell[i], n) == 0) {
                k = i;
                break;
            }
        }
        /* '<' must not take the first char of '<=' etc.: spellings are listed longest first */
        if (k < 0)
            return a;
        if (++chain > PF_EXPR_MAX_DEPTH * 4)
            return fail(p->pos, "too long: more than %d operators in a row", 4 * PF_EXPR_MAX_DEPTH);
        int col = p->pos + 1;
        p->pos += (int)strlen(lv->spell[k]);
        int b = lv->next(p);
        if (b < 0)
            return -1;
        a = make_op(p, lv->kind[k], col, a, b);
    }
    return a;
}

static int parse_mul(parser *p)
{
    static const level lv = {{"*", "/", "%"}, {OP_MUL, OP_DIV, OP_MOD}, parse_unary};
    return parse_level(p, &lv);
}

static int parse_add(parser *p)
{
    static const level lv = {{"+", "-"}, {OP_ADD, OP_SUB}, parse_mul};
    return parse_level(p, &lv);
}

static int parse_rel(parser *p)
{
    static const level lv = {{"<=", ">=", "<", ">"}, {OP_LE, OP_GE, OP_LT, OP_GT}, parse_add};
    return parse_level(p, &lv);
}

static int parse_eq(parser *p)
{
    static const level lv = {{"==", "!="}, {OP_EQ, OP_NE}, parse_rel};
    return parse_level(p, &lv);
}

static int parse_and(parser *p)
{
    static const level lv = {{"&&"}, {OP_AND}, parse_eq};
    return parse_level(p, &lv);
}

static int parse_or(parser *p)
{
    static const level lv = {{"||"}, {OP_OR}, parse_and};
    return parse_level(p, &lv);
}

/* After a complete expression: name the leftover, with a hint for the
 * C-like spellings people reach for. */
static int trailing(parser *p)
{
    char buf[48];
    const char *t = p->e->text + p->pos;
    if (t[0] == '=')
        return fail(p->pos, "'=' is not an operator (use '==')");
    if (t[0] == '&' || t[0] == '|')
        return fail(p->pos, "bitwise '%c' is not supported (use '%c%c')", t[0], t[0], t[0]);
    if (t[0] == ')')
        return fail(p->pos, "')' without a matching '('");
    return fail(p->pos, "unexpected %s after the expression", describe(p, p->pos, buf, sizeof buf));
}

/* The tree depth, bounded so that evaluation cannot overflow the stack. */
static int tree_depth(const pf_expr *e, int n, int limit)
{
    if (n < 0 || limit <= 0)
        return 0;
    int a = tree_depth(e, e->nodes[n].a, limit - 1), b = tree_depth(e, e->nodes[n].b, limit - 1);
    return 1 + (a > b ? a : b);
}

pf_expr *pf_expr_parse(const char *text, const char *const *names)
{
    pf_expr *e = calloc(1, sizeof *e);
    if (!e || !(e->text = strdup(text ? text : ""))) {
        free(e);
        pf_error_set("out of memory parsing an expression");
        return NULL;
    }
    parser p = {.e = e, .names = names};
    skip_space(&p);
    if (!e->text[p.pos]) {
        fail(0, "empty expression");
        pf_expr_free(e);
        return NULL;
    }
    e->root = parse_or(&p);
    if (e->root >= 0) {
        skip_space(&p);
        if (e->text[p.pos]) {
            trailing(&p);
            e->root = -1;
        } else if (e->nodes[e->root].type == T_STR) {
            fail(0, "the expression is a string, not a truth value");
            e->root = -1;
        } else if (tree_depth(e, e->root, 2 * PF_EXPR_MAX_DEPTH * 4 + 2) >
                   2 * PF_EXPR_MAX_DEPTH * 4) {
            fail(0, "nested too deeply");
            e->root = -1;
        }
    }
    if (e->root < 0) {
        pf_expr_free(e);
        return NULL;
    }
    return e;
}

void pf_expr_free(pf_expr *e)
{
    if (!e)
        return;
    free(e->nodes);
    free(e->text);
    free(e);
}

/* ---- evaluation ---- */

typedef struct evalctx {
    const pf_expr *e;
    pf_expr_lookup lookup;
    void *ctx;
} evalctx;

#define eval_fail(nd, ...) fail((nd)->col - 1, __VA_ARGS__)

static int eval(const evalctx *c, int n, pf_expr_value *out);

static int eval_int(const evalctx *c, int n, const node *op, int64_t *out)
{
    pf_expr_value v;
    if (eval(c, n, &v))
        return -1;
    if (v.is_string)
        return eval_fail(op, "type mismatch: '%s' needs integers, not strings", op_text[op->op]);
    *out = v.i;
    return 0;
}

static int arith(const node *nd, int64_t x, int64_t y, int64_t *r)
{
    switch (nd->op) {
    case OP_ADD:
        if (__builtin_add_overflow(x, y, r))
            return eval_fail(nd, "integer overflow in '%s'", "+");
        return 0;
    case OP_SUB:
        if (__builtin_sub_overflow(x, y, r))
            return eval_fail(nd, "integer overflow in '%s'", "-");
        return 0;
    case OP_MUL:
        if (__builtin_mul_overflow(x, y, r))
            return eval_fail(nd, "integer overflow in '%s'", "*");
        return 0;
    case OP_DIV:
    case OP_MOD:
        if (y == 0)
            return eval_fail(nd, "%s by zero", nd->op == OP_DIV ? "division" : "modulo");
        if (x == INT64_MIN && y == -1)
            return eval_fail(nd, "integer overflow in '%s'", op_text[nd->op]);
        *r = nd->op == OP_DIV ? x / y : x % y;
        return 0;
    case OP_LT: *r = x < y; return 0;
    case OP_LE: *r = x <= y; return 0;
    case OP_GT: *r = x > y; return 0;
    case OP_GE: *r = x >= y; return 0;
    default:
        return eval_fail(nd, "internal error: operator '%s'", op_text[nd->op]);
    }
}

static int eval(const evalctx *c, int n, pf_expr_value *out)
{
    const node *nd = &c->e->nodes[n];
    const char *t = c->e->text;
    memset(out, 0, sizeof *out);
    int64_t x, y;
    switch (nd->op) {
    case OP_INT:
        out->i = nd->i;
        return 0;
    case OP_STR:
        /* the copy of the text is NUL-terminated only at its end: compare by length */
        out->is_string = 1;
        out->s = t + nd->s;
        out->i = nd->len;
        return 0;
    case OP_NAME:
        if (!c->lookup || c->lookup(c->ctx, t + nd->s, (size_t)nd->len, out) != 0)
            return pf_error_set("column %d: name '%.*s' has no value", nd->col, nd->len, t + nd->s);
        if (out->is_string) {
            if (!out->s)
                return pf_error_set("column %d: name '%.*s' has a NULL string", nd->col, nd->len,
                                    t + nd->s);
            out->i = (int64_t)strlen(out->s);
        }
        return 0;
    case OP_NEG:
        if (eval_int(c, nd->a, nd, &x))
            return -1;
        if (x == INT64_MIN)
            return eval_fail(nd, "integer overflow in '%s'", "-");
        out->i = -x;
        return 0;
    case OP_NOT:
        if (eval_int(c, nd->a, nd, &x))
            return -1;
        out->i = !x;
        return 0;
    case OP_AND:
    case OP_OR:
        if (eval_int(c, nd->a, nd, &x))
            return -1;
        if ((nd->op == OP_AND) == !x) { /* short-circuit, as in C */
            out->i = !!x;
            return 0;
        }
        if (eval_int(c, nd->b, nd, &y))
            return -1;
        out->i = !!y;
        return 0;
    case OP_EQ:
    case OP_NE: {
        pf_expr_value a, b;
        if (eval(c, nd->a, &a) || eval(c, nd->b, &b))
            return -1;
        if (a.is_string != b.is_string)
            return eval_fail(nd, "type mismatch: '%s' compares a string with an integer",
                             op_text[nd->op]);
        int eq = a.is_string ? a.i == b.i && memcmp(a.s, b.s, (size_t)a.i) == 0 : a.i == b.i;
        out->i = nd->op == OP_EQ ? eq : !eq;
        return 0;
    }
    default:
        if (eval_int(c, nd->a, nd, &x) || eval_int(c, nd->b, nd, &y))
            return -1;
        return arith(nd, x, y, &out->i);
    }
}

int pf_expr_eval(const pf_expr *e, pf_expr_lookup lookup, void *ctx)
{
    evalctx c = {e, lookup, ctx};
    pf_expr_value v;
    if (eval(&c, e->root, &v))
        return -1;
    if (v.is_string)
        return pf_error_set("column 1: the expression is a string, not a truth value");
    return v.i != 0;
}
