/* SASS parser and counter on a committed fixture (nvdisasm -c of
 * kernels/test/mma_probe.cu for sm_80, CUDA 13), so it runs without a
 * disassembler: exact counts per entry, the main loop of the tiled GEMM,
 * widths, labels; plus hand-written snippets for the cuobjdump form, a
 * duplicated loop and nesting. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/sass.h"
#include "core/pf_error.h"
#include "pf_test.h"

static char *read_fixture(const char *name)
{
    const char *src = getenv("PFTUNE_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/fixtures/%s", src ? src : PF_SOURCE_DIR, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *t = malloc((size_t)n + 1);
    if (t && fread(t, 1, (size_t)n, f) != (size_t)n) {
        free(t);
        t = NULL;
    }
    if (t)
        t[n] = 0;
    fclose(f);
    return t;
}

static void test_fixture(void)
{
    char *text = read_fixture("mma_probe.sm_80.sass");
    CHECK_MSG(text != NULL, "fixture missing");
    if (!text)
        return;
    pf_sass s;
    CHECK_MSG(pf_sass_parse(text, &s) == 0, "%s", pf_error_get());
    free(text);
    CHECK(s.n_fn == 3);
    const pf_sass_func *num = pf_sass_find(&s, "pf_numeric_probe");
    const pf_sass_func *gemm = pf_sass_find(&s, "pf_mma_probe_gemm");
    const pf_sass_func *tile = pf_sass_find(&s, "pf_mma_probe_tile");
    CHECK(num && gemm && tile);
    if (!num || !gemm || !tile) {
        pf_sass_free(&s);
        return;
    }
    CHECK(num->registers == 18 && gemm->registers == 90 && tile->registers == 22);
    CHECK(num->n_insn == 72 && gemm->n_insn == 328 && tile->n_insn == 120);

    pf_sass_mix m;
    pf_sass_count(gemm, &m);
    CHECK(m.total == 328 && m.hmma == 16);
    CHECK(m.ldsm[2][0] == 1 && m.ldsm[2][1] == 4 && m.ldsm[0][0] == 0 && m.ldsm[1][1] == 0);
    CHECK(m.ldgsts[PF_W128] == 4 && pf_sass_mix_sum(m.ldgsts) == 4);
    CHECK(m.lds[PF_W32] == 3 && m.stg[PF_W32] == 32 && pf_sass_mix_sum(m.ldg) == 0);
    CHECK(m.bar == 2 && m.bra == 5 && m.ldl == 0 && m.stl == 0);
    /* 1 + 4 x4 loads = 5 x4 = 2560 B, 3 LDS.32 = 384 B, over 16 HMMA */
    CHECK(pf_sass_ldsm_x4(&m) == 5.0 && pf_sass_smem_load_bytes(&m) == 2944.0);

    pf_sass_loop l;
    CHECK(pf_sass_main_loop(gemm, &l) == 0);
    CHECK(l.found && l.head == 0x0640 && l.end == 0x0cb0 && l.blocks == 3);
    CHECK(l.inner_loops == 0 && l.hmma_loops == 1);
    CHECK(l.mix.total == 104 && l.mix.hmma == 16 && l.mix.ldsm[2][0] == 1 &&
          l.mix.ldsm[2][1] == 4 && l.mix.ldgsts[PF_W128] == 2 && l.mix.bar == 2 &&
          l.mix.bra == 2 && l.mix.lds[PF_W32] == 3);

    pf_sass_count(tile, &m); /* every LDSM shape */
    CHECK(m.hmma == 2 && m.ldsm[0][0] == 4 && m.ldsm[1][0] == 2 && m.ldsm[0][1] == 2 &&
          m.ldsm[1][1] == 1 && m.ldsm[2][0] == 0 && m.ldsm[2][1] == 0);
    CHECK(pf_sass_ldsm_x4(&m) == 3.0); /* (4 + 2*2 + 2 + 2) / 4 */
    CHECK(m.ldgsts[PF_W128] == 3 && m.ldg[PF_W16] == 12 && m.ldg[PF_W32] == 4 && m.bar == 1);
    CHECK(pf_sass_main_loop(tile, &l) == 0 && !l.found);

    pf_sass_count(num, &m);
    CHECK(m.hmma == 0 && m.mufu == 1 && m.ldg[PF_W32] == 2 && m.stg[PF_W16] == 2 &&
          m.stg[PF_W32] == 4);
    pf_sass_free(&s);
}

/* cuobjdump's form: addresses as targets, encodings in comments. A guarded
 * backward branch closes an outer loop around an inner one; the HMMA loop
 * is the inner one, with an out-of-line block that rejoins it. */
static const char cuobjdump_text[] =
    "\tcode for sm_80\n"
    "\t\tFunction : k\n"
    "\t.headerflags\t@\"EF_CUDA_SM80\"\n"
    "        /*0000*/                   MOV R1, c[0x0][0x28] ;   /* 0x00000a0000017a02 */\n"
    "                                                            /* 0x000fe40000000f00 */\n"
    "        /*0010*/                   LDG.E.64 R2, [R4.64] ;   /* 0x0 */\n"
    "        /*0020*/                   LDSM.16.M88.4 R8, [R0] ;\n"           /* outer head */
    "        /*0030*/                   HMMA.16816.F32.BF16 R12, R8, R6, R12 ;\n" /* inner head */
    "        /*0040*/               @P0 BRA 0x90 ;\n"                      /* to the cold block */
    "        /*0050*/                   LDSM.16.MT88.2 R6, [R0+0x100] ;\n"
    "        /*0060*/               @P1 BRA 0x30 ;\n"                      /* inner latch */
    "        /*0070*/               @P2 BRA 0x20 ;\n"                      /* outer latch */
    "        /*0080*/                   EXIT ;\n"
    "        /*0090*/                   LDL R7, [R1] ;\n"                  /* cold, rejoins */
    "        /*00a0*/                   BRA 0x50 ;\n"
    "        /*00b0*/                   BRA 0xb0;\n";

static void test_cuobjdump_form(void)
{
    pf_sass s;
    CHECK_MSG(pf_sass_parse(cuobjdump_text, &s) == 0, "%s", pf_error_get());
    if (s.n_fn != 1) {
        CHECK(0);
        pf_sass_free(&s);
        return;
    }
    const pf_sass_func *f = &s.fn[0];
    CHECK(strcmp(f->name, "k") == 0 && f->registers == -1 && f->n_insn == 12);
    CHECK(f->insn[4].target == 0x90 && f->insn[4].guarded && f->insn[11].target == 0xb0);
    pf_sass_loop l;
    CHECK(pf_sass_main_loop(f, &l) == 0);
    /* inner loop: 0x30..0x60 plus the block 0x90..0xa0 that returns into it */
    CHECK(l.found && l.head == 0x30 && l.end == 0xa0 && l.blocks == 3 && l.hmma_loops == 1);
    CHECK(l.mix.total == 6 && l.mix.hmma == 1 && l.mix.ldsm[1][1] == 1 && l.mix.ldsm[2][0] == 0 &&
          l.mix.ldl == 1 && l.mix.bra == 3);
    pf_sass_mix m;
    pf_sass_count(f, &m);
    CHECK(m.ldg[PF_W64] == 1 && m.ldsm[2][0] == 1 && m.bra == 5);
    pf_sass_free(&s);
}

/* nvdisasm labels, a predicate operand on BRA, and errors. */
static void test_labels_and_errors(void)
{
    const char *text = "\t.section\t.text.f,\"ax\",@progbits\n"
                       "\t.sectioninfo\t@\"SHI_REGISTERS=40\"\n"
                       "f:\n"
                       ".L_x_0:\n"
                       "        /*0000*/                   HMMA.16816.F32 R0, R4, R8, R0 ;\n"
                       "        /*0010*/              @P0 BRA P1, `(.L_x_0) ;\n"
                       "        /*0020*/                   EXIT ;\n"
                       ".L_x_1:\n";
    pf_sass s;
    CHECK_MSG(pf_sass_parse(text, &s) == 0, "%s", pf_error_get());
    if (s.n_fn == 1) {
        CHECK(s.fn[0].registers == 40 && s.fn[0].insn[1].target == 0 &&
              s.fn[0].insn[1].pred_operand);
        pf_sass_loop l;
        CHECK(pf_sass_main_loop(&s.fn[0], &l) == 0 && l.found && l.head == 0 && l.end == 0x10);
    }
    pf_sass_free(&s);
    CHECK(pf_sass_parse("\t.section\t.text.g,\"ax\",@progbits\n"
                        "        /*0000*/  BRA `(.L_x_9) ;\n",
                        &s) == -1);
    CHECK(strstr(pf_error_get(), "unknown label .L_x_9") != NULL);
    CHECK(pf_sass_parse("hello\n", &s) == -1 && strstr(pf_error_get(), "no SASS instructions"));
}

int main(void)
{
    test_fixture();
    test_cuobjdump_form();
    test_labels_and_errors();
    return PF_TEST_RESULT();
}
