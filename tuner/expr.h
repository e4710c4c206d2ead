/* Constraint expressions over the axes of a search space, e.g.
 *   BLOCK_M * WARPS <= 512 && HEAD_DIM % 16 == 0
 *   MASK_STORAGE != "dense" || SEQ_LEN <= 32768
 * Integers (64-bit) and quoted strings; operators, by precedence:
 *   ( )   unary - !   * / %   + -   < <= > >=   == !=   &&   ||
 * Names are axis names (or the extra names the caller allows, such as
 * SEQ_LEN); an unknown name, a type mismatch (string < int), division by
 * zero and malformed syntax are refused with a one-line message that names
 * the column (1-based) and what is wrong.
 *
 * Semantics are C's on int64_t: / and % truncate toward zero, comparisons
 * and ! && || give 0 or 1, && and || short-circuit (so `X == 0 || 8 / X > 1`
 * is safe). Overflow (including INT64_MIN / -1 and -INT64_MIN) and division
 * or modulo by zero are evaluation errors, never wrapped values; a literal
 * above INT64_MAX is a parse error. Strings are '...' or "..." without
 * escapes and support only == and != (with a string); mixing types is
 * refused at parse time when both sides are literals or operator results,
 * else at evaluation. Nesting (parentheses, unary operators) is capped at
 * 64 levels and operator chains at 256, so no input can exhaust the stack. */
#ifndef PF_EXPR_H
#define PF_EXPR_H

#include <stddef.h>
#include <stdint.h>

typedef struct pf_expr pf_expr; /* a parsed expression (opaque) */

/* A value a name resolves to: an integer, or a string when is_string. */
typedef struct pf_expr_value {
    int is_string;
    int64_t i;
    const char *s;
} pf_expr_value;

/* Resolve `name` (not NUL-terminated: `len` bytes) to a value. 0 found,
 * -1 unknown name (the evaluator reports it). A string value's `s` must be
 * NUL-terminated and live until pf_expr_eval returns. */
typedef int (*pf_expr_lookup)(void *ctx, const char *name, size_t len, pf_expr_value *out);

/* Parse `text`; names are checked against `names` (NULL-terminated list)
 * so an unknown one is refused at parse time (names NULL: any name, which
 * the lookup must then resolve). NULL on error (pf_error set:
 * "column 12: unknown name 'BLOCKM' (known: BLOCK_M, ...)"). */
pf_expr *pf_expr_parse(const char *text, const char *const *names);
/* Evaluate to a truth value: 1 / 0, or -1 on an evaluation error (pf_error
 * set, e.g. division by zero, type mismatch). */
int pf_expr_eval(const pf_expr *e, pf_expr_lookup lookup, void *ctx);
void pf_expr_free(pf_expr *e);

#endif
