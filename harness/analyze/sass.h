/* SASS text (nvdisasm -c or cuobjdump -sass output) parsed into functions
 * and instructions, and the instruction mix of a function and of its main
 * loop (the innermost loop that holds the tensor-core MMAs). */
#ifndef PF_SASS_H
#define PF_SASS_H

#include <stdint.h>

typedef struct pf_sass_insn {
    uint32_t addr;
    char op[48];    /* opcode with its modifiers: "LDSM.16.MT88.4" */
    int64_t target; /* branch target address (BRA, BRX, JMP), else -1 */
    int guarded;    /* predicated: "@P0", "@!P1" (not "@PT") */
    int pred_operand; /* "BRA P3, target", "BRA.DIV UR4, ...": a condition */
} pf_sass_insn;

typedef struct pf_sass_func {
    char name[128];
    int registers;  /* nvdisasm's SHI_REGISTERS; -1 when not printed */
    pf_sass_insn *insn;
    int n_insn;
} pf_sass_func;

typedef struct pf_sass {
    pf_sass_func *fn;
    int n_fn;
} pf_sass;

/* Parse either tool's output. -1 with a message when no function or
 * instruction is found or a branch names an unknown label. */
int pf_sass_parse(const char *text, pf_sass *out);
void pf_sass_free(pf_sass *s);
/* The function named `name`, or NULL. */
const pf_sass_func *pf_sass_find(const pf_sass *s, const char *name);

/* Widths of memory instructions: 8, 16, 32, 64, 128 bits. */
enum { PF_W8, PF_W16, PF_W32, PF_W64, PF_W128, PF_N_WIDTHS };
extern const int pf_sass_width_bits[PF_N_WIDTHS];

typedef struct pf_sass_mix {
    int total;
    int hmma;            /* tensor-core mma.sync (HMMA.*) */
    int ldsm[3][2];      /* [x1, x2, x4][plain, .T (MT88)] */
    int ldgsts[PF_N_WIDTHS]; /* cp.async */
    int ldg[PF_N_WIDTHS], stg[PF_N_WIDTHS];
    int lds[PF_N_WIDTHS], sts[PF_N_WIDTHS];
    int ldl, stl;        /* local memory (spills, stack arrays) */
    int bar, bra, mufu, shfl;
} pf_sass_mix;

/* Sums over a mix. */
int pf_sass_mix_sum(const int by_width[PF_N_WIDTHS]);
/* LDSM in units of one .x4 (four 8x8 b16 matrices, 512 bytes a warp). */
double pf_sass_ldsm_x4(const pf_sass_mix *m);
/* Shared-memory bytes a warp loads (LDSM + LDS). */
double pf_sass_smem_load_bytes(const pf_sass_mix *m);

typedef struct pf_sass_loop {
    int found;           /* 0: no loop holds an HMMA (mix stays zero) */
    uint32_t head, end;  /* lowest and highest address in the loop */
    int blocks;          /* basic blocks in it */
    int inner_loops;     /* loops nested inside it (no HMMA in them) */
    int hmma_loops;      /* innermost loops with HMMAs in the function */
    pf_sass_mix mix;
} pf_sass_loop;

/* Add one instruction to a mix. */
void pf_sass_count_one(const pf_sass_insn *in, pf_sass_mix *m);
/* Mix of every instruction of f. */
void pf_sass_count(const pf_sass_func *f, pf_sass_mix *out);
/* The main loop of f (sass_loop.c explains how it is found). -1 only when
 * out of memory. */
int pf_sass_main_loop(const pf_sass_func *f, pf_sass_loop *out);

#endif
