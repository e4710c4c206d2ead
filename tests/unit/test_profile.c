/* Profiles: defaults, every model/shape/axis/workload form, the layouts
 * pf_profile_layout builds, a table of bad profiles refused with the key
 * path in the message, and every shipped profiles/NAME.json loads. */
#include <glob.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#include "attention/attn_variant.h"
#include "attention/layout.h"
#include "attention/mask_rule.h"
#include "core/pf_error.h"
#include "measure/measure.h"
#include "pf_test.h"
#include "tuner/expr.h"
#include "tuner/profile.h"

static const char *const axes[] = {"BLOCK_M", "BLOCK_N",  "WARPS",     "STAGES", "MASK_STORAGE",
                                   "INDPTR_T", "TILE_SKIP", "HEAD_DIM", NULL};

static int parse(const char *text, pf_profile *p)
{
    return pf_profile_parse(text, strlen(text), "t.json", axes, p);
}

#define BASE "\"family\": \"attention\", \"model\": \"test-tiny\", \"seq_lens\": [256, 512]"

static void test_defaults(void)
{
    const char *text = "{\"family\": \"attention\", \"model\": \"gemma3-4b\", \"seq_lens\": [8192]}";
    pf_profile p;
    CHECK_MSG(parse(text, &p) == 0, "%s", pf_error_get());
    pf_measure_opts m;
    pf_measure_defaults(&m);
    CHECK(!strcmp(p.family, "attention") && !strcmp(p.model, "gemma3-4b"));
    CHECK(!strcmp(p.strategy, "exhaustive") && p.seed == 1 && p.requests == 1);
    CHECK(p.warmup == m.warmup && p.min_samples == m.min_samples &&
          p.max_samples == m.max_samples && p.stdrel == m.stdrel &&
          p.max_seconds == m.max_seconds && p.flush_l2 == m.flush_l2);
    CHECK(p.verify == 1 && p.keep_spills == 0 && p.budget_evals == 0 && p.budget_seconds == 0);
    CHECK(p.n_layers == 2 && p.layers[0] == PF_LAYER_FULL && p.layers[1] == PF_LAYER_SLIDING);
    CHECK(p.n_head_dims == 1 && p.head_dims[0] == 256);
    CHECK(p.head_dim_of_layer[0] == 256 && p.head_dim_of_layer[1] == 256);
    CHECK(p.hq == 8 && p.hkv == 4 && p.hkv_of_layer[0] == 4 && p.hkv_of_layer[1] == 4);
    CHECK(p.window == 1024 && p.rule == PF_RULE_GEMMA3);
    CHECK(p.scale_of_layer[0] == 0.0625f && p.scale_of_layer[1] == 0.0625f);
    CHECK(p.workload == PF_WORKLOAD_IMAGES && p.image_tokens == 256 && p.image_every == 4096);
    CHECK(p.n_axes == 0 && p.n_constraints == 0 && p.n_seqs == 1 && p.seq_lens[0] == 8192);
    CHECK(p.hash == XXH3_64bits(text, strlen(text)));
    pf_profile q;
    const char *spaced = "{\"family\": \"attention\",  \"model\": \"gemma3-4b\", \"seq_lens\": [8192]}";
    CHECK(parse(spaced, &q) == 0 && q.hash != p.hash); /* the bytes, not the meaning */
}

static void test_models(void)
{
    pf_profile p;
    /* Gemma-4: full layers 512 with 2 kv heads, sliding 256 with 8 */
    CHECK(parse("{\"family\": \"attention\", \"model\": \"gemma4-26b-a4b\", \"seq_lens\": [8192]}",
                &p) == 0);
    CHECK(p.n_head_dims == 2 && p.head_dims[0] == 512 && p.head_dims[1] == 256);
    CHECK(p.hkv_of_layer[0] == 2 && p.hkv_of_layer[1] == 8 && p.hkv == 8 && p.hq == 16);
    CHECK(p.scale_of_layer[0] == 1.0f && p.rule == PF_RULE_GEMMA4 && p.image_tokens == 280);
    CHECK(parse("{\"family\": \"attention\", \"model\": \"gemma4-31b\", \"layers\": [\"sliding\"], "
                "\"seq_lens\": [8192]}", &p) == 0);
    CHECK(p.n_layers == 1 && p.layers[0] == PF_LAYER_SLIDING && p.head_dim_of_layer[0] == 256 &&
          p.hkv_of_layer[0] == 16 && p.n_head_dims == 1);
    /* Gemma-3 27B: head dim 128, scale 168^-0.5; text-only 1b is causal */
    CHECK(parse("{\"family\": \"attention\", \"model\": \"gemma3-27b\", \"seq_lens\": [8]}", &p) == 0);
    CHECK(p.head_dims[0] == 128 && fabsf(p.scale_of_layer[0] - 1 / sqrtf(168)) < 1e-7f);
    CHECK(parse("{\"family\": \"attention\", \"model\": \"gemma3-1b\", \"seq_lens\": [8]}", &p) == 0);
    CHECK(p.rule == PF_RULE_CAUSAL && p.image_tokens == 0 && p.n_layers == 2);
    /* explicit shapes: per-layer lists follow "layers" */
    CHECK_MSG(parse("{\"family\": \"attention\", \"seq_lens\": [64], \"layers\": [\"sliding\", \"full\"],"
                    " \"shape\": {\"heads\": 8, \"kv_heads\": [4, 2], \"head_dims\": [64, 128],"
                    " \"window\": 32, \"rule\": \"gemma4\", \"scale\": [0.5, 1],"
                    " \"image_tokens\": 12}}", &p) == 0, "%s", pf_error_get());
    CHECK(p.model[0] == 0 && p.hq == 8 && p.window == 32 && p.rule == PF_RULE_GEMMA4);
    CHECK(p.layers[0] == PF_LAYER_SLIDING && p.hkv_of_layer[0] == 4 && p.head_dim_of_layer[0] == 64 &&
          p.scale_of_layer[0] == 0.5f && p.hkv == 4);
    CHECK(p.layers[1] == PF_LAYER_FULL && p.hkv_of_layer[1] == 2 && p.head_dim_of_layer[1] == 128 &&
          p.scale_of_layer[1] == 1.0f);
    CHECK(p.n_head_dims == 2 && p.head_dims[0] == 64 && p.image_tokens == 12);
    /* no window: only full layers; causal and D^-0.5 by default */
    CHECK(parse("{\"family\": \"attention\", \"seq_lens\": [64], \"shape\": {\"heads\": 4, "
                "\"kv_heads\": 4, \"head_dims\": 64}}", &p) == 0);
    CHECK(p.n_layers == 1 && p.layers[0] == PF_LAYER_FULL && p.rule == PF_RULE_CAUSAL &&
          p.scale_of_layer[0] == 0.125f && p.image_tokens == 0);
}

static void test_axes_and_settings(void)
{
    pf_profile p;
    const char *text =
        "{" BASE ", \"description\": \"all the forms\","
        " \"axes\": {\"WARPS\": {\"pow2\": [2, 8]}, \"BLOCK_M\": [64, 128, 32],"
        "  \"MASK_STORAGE\": [\"spans\", \"bitmap\"], \"STAGES\": {\"range\": [1, 2]},"
        "  \"BLOCK_N\": {\"range\": [16, 64], \"step\": 24}, \"INDPTR_T\": [\"long long\"]},"
        " \"constraints\": [\"BLOCK_M * WARPS <= 512\", \"MASK_STORAGE != 'dense' || SEQ_LEN <= 256\"],"
        " \"strategy\": \"anneal\", \"seed\": 42, \"budget\": {\"evals\": 12, \"seconds\": 1.5},"
        " \"measure\": {\"warmup\": 0, \"min_samples\": 2, \"max_samples\": 4, \"stdrel\": 0.1,"
        "  \"max_seconds\": 0.25, \"flush_l2\": false}, \"keep_spills\": true, \"verify\": false}";
    CHECK_MSG(parse(text, &p) == 0, "%s", pf_error_get());
    CHECK(!strcmp(p.description, "all the forms"));
    CHECK(p.n_axes == 6);
    /* the file's order */
    CHECK(!strcmp(p.axes[0].name, "WARPS") && p.axes[0].n_values == 3 && !p.axes[0].is_string &&
          !strcmp(p.axes[0].values[0], "2") && !strcmp(p.axes[0].values[2], "8"));
    CHECK(!strcmp(p.axes[1].name, "BLOCK_M") && p.axes[1].n_values == 3 &&
          !strcmp(p.axes[1].values[2], "32"));
    CHECK(p.axes[2].is_string && p.axes[2].n_values == 2 && !strcmp(p.axes[2].values[1], "bitmap"));
    CHECK(p.axes[3].n_values == 2 && !strcmp(p.axes[3].values[0], "1"));
    CHECK(p.axes[4].n_values == 3 && !strcmp(p.axes[4].values[1], "40") &&
          !strcmp(p.axes[4].values[2], "64"));
    CHECK(!strcmp(p.axes[5].values[0], "long long"));
    CHECK(p.n_constraints == 2 && !strcmp(p.constraints[0], "BLOCK_M * WARPS <= 512"));
    CHECK(!strcmp(p.strategy, "anneal") && p.seed == 42 && p.budget_evals == 12 &&
          p.budget_seconds == 1.5);
    CHECK(p.warmup == 0 && p.min_samples == 2 && p.max_samples == 4 && p.stdrel == 0.1 &&
          p.max_seconds == 0.25 && p.flush_l2 == 0 && p.keep_spills == 1 && p.verify == 0);
    /* a range that does not land on hi stops before it; 32 values are allowed */
    CHECK(parse("{" BASE ", \"axes\": {\"BLOCK_N\": {\"range\": [0, 31]}}}", &p) == 0 &&
          p.axes[0].n_values == 32);
    CHECK(parse("{" BASE ", \"axes\": {\"BLOCK_N\": {\"range\": [1, 10], \"step\": 4}}}", &p) == 0 &&
          p.axes[0].n_values == 3 && !strcmp(p.axes[0].values[2], "9"));
    /* no axis list: any identifier (and constraints over any name) */
    CHECK(pf_profile_parse("{" BASE ", \"axes\": {\"NEW_AXIS\": [1]}, \"constraints\": [\"Z > 1\"]}",
                           strlen("{" BASE ", \"axes\": {\"NEW_AXIS\": [1]}, \"constraints\": [\"Z > 1\"]}"),
                           "t.json", NULL, &p) == 0);
}

/* Each request of l has seq tokens; the layout equals spec when given. */
static int layout_is(const pf_profile *p, int i, const char *spec, int n_req)
{
    pf_layout *l = NULL, *want = NULL;
    if (pf_profile_layout(p, i, 7, &l)) {
        fprintf(stderr, "layout %d: %s\n", i, pf_error_get());
        return 0;
    }
    int ok = l->n_req == n_req;
    for (int r = 0; r < l->n_req; r++)
        ok &= l->req[r].kv_len == p->seq_lens[i];
    if (spec) {
        ok &= pf_layout_parse(spec, &want) == 0 && pf_layout_equal(l, want);
        if (!ok) {
            char *s = pf_layout_to_string(l);
            fprintf(stderr, "got %s, want %s\n", s, spec);
            free(s);
        }
    }
    pf_layout_free(l);
    pf_layout_free(want);
    return ok;
}

static void test_workloads(void)
{
    pf_profile p;
    /* default: the model's images (test-tiny: 16 tokens) every 4096: all text here */
    CHECK(parse("{" BASE "}", &p) == 0 && p.workload == PF_WORKLOAD_IMAGES);
    CHECK(layout_is(&p, 0, "t256", 1) && layout_is(&p, 1, "t512", 1));
    CHECK(parse("{" BASE ", \"requests\": 2, \"workload\": {\"images\": {\"every\": 112}}}", &p) == 0);
    CHECK(layout_is(&p, 0, "t112,i16,t112,i16;t112,i16,t112,i16", 2));
    CHECK(parse("{" BASE ", \"workload\": {\"images\": {\"tokens\": 100, \"every\": 50}}}", &p) == 0);
    CHECK(layout_is(&p, 0, "t50,i100,t50,t56", 1));
    /* a pattern repeated, the last copy cut short */
    CHECK(parse("{\"family\": \"attention\", \"model\": \"test-tiny\", \"seq_lens\": [20, 8], "
                "\"requests\": 3, \"workload\": {\"layout\": \"t5,i3\"}}", &p) == 0);
    CHECK(p.workload == PF_WORKLOAD_LAYOUT && p.layout_repeat == 1);
    CHECK(layout_is(&p, 0, "t5,i3,t5,i3,t4;t5,i3,t5,i3,t4;t5,i3,t5,i3,t4", 3));
    CHECK(layout_is(&p, 1, "t5,i3;t5,i3;t5,i3", 3));
    /* whole batches per length */
    CHECK_MSG(parse("{\"family\": \"attention\", \"model\": \"test-tiny\", \"seq_lens\": [10, 6], "
                    "\"workload\": {\"layouts\": {\"6\": \"t2,i4\", \"10\": \"t4|t2,i4;i10\"}}}",
                    &p) == 0, "%s", pf_error_get());
    CHECK(p.workload == PF_WORKLOAD_LAYOUT && p.layout_repeat == 0);
    CHECK(layout_is(&p, 0, "t4|t2,i4;i10", 2) && layout_is(&p, 1, "t2,i4", 1));
    /* random: seeded, at most seq tokens and max_requests requests */
    CHECK(parse("{" BASE ", \"workload\": {\"random\": {\"max_requests\": 3}}}", &p) == 0);
    CHECK(p.workload == PF_WORKLOAD_RANDOM && p.requests == 3);
    pf_layout *a, *b, *c;
    CHECK(pf_profile_layout(&p, 1, 5, &a) == 0 && pf_profile_layout(&p, 1, 5, &b) == 0 &&
          pf_profile_layout(&p, 0, 5, &c) == 0);
    CHECK(pf_layout_equal(a, b) && a->n_req >= 1 && a->n_req <= 3);
    for (int r = 0; r < c->n_req; r++)
        CHECK(c->req[r].kv_len <= 256);
    pf_layout_free(a);
    pf_layout_free(b);
    pf_layout_free(c);
    CHECK(pf_profile_layout(&p, 2, 5, &a) == -1 && a == NULL);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* pf_profile_load: a layout file beside the profile, I/O errors. */
static void test_load(void)
{
    char dir[] = "/tmp/pf_profile_XXXXXX", prof[256], lay[256];
    if (!mkdtemp(dir)) {
        CHECK(0);
        return;
    }
    snprintf(prof, sizeof prof, "%s/p.json", dir);
    snprintf(lay, sizeof lay, "%s/lay.json", dir);
    write_file(lay, "{\"requests\": [{\"spans\": [[\"t\", 6], [\"i\", 4]]}, "
                    "{\"prefix\": 2, \"token_types\": [0, 0, 1, 1, 0]}]}");
    write_file(prof, "{\"family\": \"attention\", \"model\": \"test-tiny\", \"seq_lens\": [10], "
                     "\"workload\": {\"layout_file\": \"lay.json\"}}");
    pf_profile p;
    CHECK_MSG(pf_profile_load(prof, axes, &p) == 0, "%s", pf_error_get());
    CHECK(p.workload == PF_WORKLOAD_FILE && !strcmp(p.layout_file, lay));
    pf_layout *l;
    CHECK(pf_profile_layout(&p, 0, 1, &l) == 0 && l->n_req == 2 && l->req[1].prefix == 2);
    pf_layout_free(l);
    p.seq_lens[0] = 12; /* the file disagrees with seq_lens */
    CHECK(pf_profile_layout(&p, 0, 1, &l) == -1 && strstr(pf_error_get(), "longest request has 10"));
    write_file(prof, "{\"family\": \"attention\", \"model\": \"test-tiny\", \"seq_lens\": [10], "
                     "\"workload\": {\"layout_file\": \"missing.json\"}}");
    CHECK(pf_profile_load(prof, axes, &p) == 0 && pf_profile_layout(&p, 0, 1, &l) == -1 &&
          strstr(pf_error_get(), "missing.json"));
    write_file(prof, "{\"family\": \"attention\", \"model\": \"test-tiny\"}");
    CHECK(pf_profile_load(prof, axes, &p) == -1 && strstr(pf_error_get(), "p.json: \"seq_lens\": missing"));
    CHECK(pf_profile_load(dir, axes, &p) == -1 && strstr(pf_error_get(), "not a regular file"));
    unlink(prof);
    CHECK(pf_profile_load(prof, axes, &p) == -1 && strstr(pf_error_get(), "cannot open"));
    unlink(lay);
    rmdir(dir);
}

static void test_bad(void)
{
    /* A fragment is added to BASE; a text starting with '{' is used whole. */
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"{", "line 1, column 1: "},
        {"[]", "must be a JSON object"},
        {"{\"family\": \"attention\", \"family\": \"attention\"}", "duplicate object key"},
        {"\"sequence\": 1", "\"sequence\": unknown key (known: family, description, model"},
        {"\"fam\\nily\": 1", "\"fam?ily\": unknown key"},
        {"{\"model\": \"test-tiny\", \"seq_lens\": [1]}", "\"family\": missing"},
        {"{\"family\": \"mlp\", \"model\": \"test-tiny\", \"seq_lens\": [1]}",
         "\"family\": unknown family 'mlp' (known: attention)"},
        {"{\"family\": 3}", "\"family\": must be a string"},
        {"\"description\": 5", "\"description\": must be a string"},
        {"{\"family\": \"attention\", \"model\": \"test-tiny\"}", "\"seq_lens\": missing"},
        {"{\"family\": \"attention\", \"model\": \"test-tiny\", \"seq_lens\": []}",
         "\"seq_lens\": must not be empty"},
        {"{\"family\": \"attention\", \"model\": \"test-tiny\", \"seq_lens\": [8, 0]}",
         "\"seq_lens\"[1]: must be a positive integer"},
        {"{\"family\": \"attention\", \"model\": \"test-tiny\", \"seq_lens\": [-5]}",
         "\"seq_lens\"[0]: must be a positive integer"},
        {"{\"family\": \"attention\", \"model\": \"test-tiny\", \"seq_lens\": [1.5]}",
         "\"seq_lens\"[0]: must be a positive integer"},
        {"{\"family\": \"attention\", \"model\": \"test-tiny\", \"seq_lens\": [8192, 8192]}",
         "\"seq_lens\"[1]: duplicate of [0]"},
        {"{\"family\": \"attention\", \"model\": \"test-tiny\", \"seq_lens\": "
         "[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17]}", "\"seq_lens\": too many values (17, at most 16)"},
        {"{\"family\": \"attention\", \"model\": \"test-tiny\", \"seq_lens\": \"8192\"}",
         "\"seq_lens\": must be a list"},
        {"{\"family\": \"attention\", \"model\": \"test-tiny\", \"seq_lens\": [268435457]}",
         "\"seq_lens\"[0]: must be a positive integer (at most 268435456)"},
        {"{\"family\": \"attention\", \"model\": \"gemma3-5b\", \"seq_lens\": [1]}",
         "\"model\": unknown model 'gemma3-5b' (known: gemma3-270m, gemma3-1b, gemma3-4b"},
        {"{\"family\": \"attention\", \"model\": 4, \"seq_lens\": [1]}", "\"model\": must be a string"},
        {"{\"family\": \"attention\", \"seq_lens\": [1]}", "\"model\": missing"},
        {"\"shape\": {\"heads\": 1, \"kv_heads\": 1, \"head_dims\": 64}", "\"shape\": give \"model\""},
        {"{\"family\": \"attention\", \"seq_lens\": [1], \"shape\": {\"kv_heads\": 1, \"head_dims\": 64}}",
         "\"shape.heads\": missing"},
        {"{\"family\": \"attention\", \"seq_lens\": [1], \"shape\": {\"heads\": 8, \"kv_heads\": 3, "
         "\"head_dims\": 64}}", "\"shape.kv_heads\": 3 does not divide heads (8)"},
        {"{\"family\": \"attention\", \"seq_lens\": [1], \"shape\": {\"heads\": 8, \"kv_heads\": "
         "[1, 2, 4], \"head_dims\": 64, \"window\": 8}}",
         "\"shape.kv_heads\": must be one value or a list of one per entry of \"layers\" (2)"},
        {"{\"family\": \"attention\", \"seq_lens\": [1], \"shape\": {\"heads\": 8, \"kv_heads\": 1, "
         "\"head_dims\": [64, 0], \"window\": 8}}", "\"shape.head_dims\"[1]: must be a positive integer (at most 1024)"},
        {"{\"family\": \"attention\", \"seq_lens\": [1], \"shape\": {\"heads\": 8, \"kv_heads\": 1, "
         "\"head_dims\": 64, \"rule\": \"gemma5\"}}", "\"shape.rule\": unknown rule 'gemma5'"},
        {"{\"family\": \"attention\", \"seq_lens\": [1], \"shape\": {\"heads_q\": 8}}",
         "\"shape.heads_q\": unknown key (known: heads, kv_heads"},
        {"{\"family\": \"attention\", \"seq_lens\": [1], \"shape\": {\"heads\": 8, \"kv_heads\": 1, "
         "\"head_dims\": 64, \"scale\": -1}}", "\"shape.scale\": must be a number > 0"},
        {"{\"family\": \"attention\", \"seq_lens\": [1], \"shape\": {\"heads\": 0, \"kv_heads\": 1, "
         "\"head_dims\": 64}}", "\"shape.heads\": must be a positive integer (at most 1024)"},
        {"{\"family\": \"attention\", \"seq_lens\": [1], \"shape\": 5}", "\"shape\": must be an object"},
        {"\"layers\": [\"full\", \"local\"]", "\"layers\"[1]: unknown layer kind 'local'"},
        {"\"layers\": []", "\"layers\": must not be empty"},
        {"\"layers\": [\"full\", \"full\"]", "\"layers\"[1]: duplicate of [0]"},
        {"\"layers\": [\"full\", \"sliding\", \"full\"]", "\"layers\": too many values (3, at most 2)"},
        {"\"layers\": \"full\"", "\"layers\": must be a list"},
        {"{\"family\": \"attention\", \"seq_lens\": [1], \"layers\": [\"sliding\"], \"shape\": "
         "{\"heads\": 8, \"kv_heads\": 1, \"head_dims\": 64}}",
         "\"layers\"[0]: \"sliding\" needs a model with a window"},
        {"{\"family\": \"attention\", \"seq_lens\": [1], \"layers\": [\"full\", \"sliding\"], \"shape\": "
         "{\"heads\": 8, \"kv_heads\": 1, \"head_dims\": 64, \"window\": 4, \"rule\": \"bidirectional\"}}",
         "\"layers\"[1]: rule bidirectional has no sliding-window layer"},
        {"\"requests\": 0", "\"requests\": must be a positive integer (at most 1048576)"},
        {"\"requests\": 2, \"workload\": {\"random\": {}}", "\"requests\": only for \"images\""},
        {"{\"family\": \"attention\", \"model\": \"test-tiny\", \"seq_lens\": [134217728], "
         "\"requests\": 4}", "\"seq_lens\"[0]: 134217728 tokens x 4 requests is over the layout limit"},
        {"\"workload\": {}", "\"workload\": give exactly one of images, layout"},
        {"\"workload\": {\"images\": {}, \"random\": {}}", "\"workload\": give exactly one"},
        {"\"workload\": {\"image\": {}}", "\"workload.image\": unknown key (known: images, layout"},
        {"\"workload\": []", "\"workload\": must be an object"},
        {"\"workload\": {\"images\": {\"every\": 0}}", "\"workload.images.every\": must be a positive integer"},
        {"\"workload\": {\"images\": {\"tokens\": -1}}", "\"workload.images.tokens\": must be an integer in 0.."},
        {"\"workload\": {\"images\": {\"count\": 1}}", "\"workload.images.count\": unknown key (known: tokens, every)"},
        {"\"workload\": {\"layout\": \"x5\"}", "\"workload.layout\": layout: "},
        {"\"workload\": {\"layout\": \"t300\"}", "\"workload.layout\": the pattern has 300 tokens, more than seq len 256"},
        {"\"workload\": {\"layout\": \"t5;t5\"}", "\"workload.layout\": must be one request"},
        {"\"workload\": {\"layout\": \"t5|t5\"}", "\"workload.layout\": must be one request"},
        {"\"workload\": {\"layout\": \"\"}", "\"workload.layout\": must be a string of 1..255"},
        {"\"workload\": {\"layouts\": {\"256\": \"t256\"}}", "\"workload.layouts\": no layout for seq len 512"},
        {"\"workload\": {\"layouts\": {\"256\": \"t256\", \"512\": \"t512\", \"100\": \"t100\"}}",
         "\"workload.layouts.100\": not one of \"seq_lens\""},
        {"\"workload\": {\"layouts\": {\"256\": \"t200;t56\", \"512\": \"t512\"}}",
         "\"workload.layouts.256\": request 0 has 200 tokens (prefix included), not 256"},
        {"\"workload\": {\"layouts\": {\"256\": \"t300\", \"512\": \"t512\"}}",
         "\"workload.layouts.256\": more tokens than 1 requests of 256"},
        {"\"workload\": {\"layouts\": {\"256\": 5}}", "\"workload.layouts.256\": must be a string"},
        {"\"workload\": {\"layouts\": {\"256\": \"t2,i2|i252\", \"512\": \"t512\"}}", "\"workload.layouts.256\": layout: "},
        {"\"workload\": {\"layout_file\": \"x.txt\"}", "\"workload.layout_file\": must name a .json or .npy"},
        {"\"workload\": {\"layout_file\": \"x.json\"}", "\"workload.layout_file\": give one seq len"},
        {"\"workload\": {\"random\": {\"max_requests\": 0}}",
         "\"workload.random.max_requests\": must be a positive integer (at most 64)"},
        {"\"workload\": {\"random\": {\"seed\": 0}}", "\"workload.random.seed\": unknown key (known: max_requests)"},
        {"\"axes\": {}", "\"axes\": must not be empty"},
        {"\"axes\": []", "\"axes\": must be an object"},
        {"\"axes\": {\"BLOCKM\": [64]}", "\"axes.BLOCKM\": unknown axis (known: BLOCK_M, BLOCK_N"},
        {"\"axes\": {\"HEAD_DIM\": [64]}", "\"axes.HEAD_DIM\": head dims come from"},
        {"\"axes\": {\"SEQ_LEN\": [64]}", "\"axes.SEQ_LEN\": SEQ_LEN is set by \"seq_lens\""},
        {"\"axes\": {\"BLOCK_M\": []}", "\"axes.BLOCK_M\": must not be empty"},
        {"\"axes\": {\"BLOCK_M\": [64, 128, -1]}", "\"axes.BLOCK_M\"[2]: must be an integer >= 0"},
        {"\"axes\": {\"BLOCK_M\": [64, 64]}", "\"axes.BLOCK_M\"[1]: duplicate of [0] (64)"},
        {"\"axes\": {\"MASK_STORAGE\": [\"spans\", \"spans\"]}", "\"axes.MASK_STORAGE\"[1]: duplicate of [0]"},
        {"\"axes\": {\"BLOCK_M\": [64, \"spans\"]}", "\"axes.BLOCK_M\"[1]: mixes integers and strings"},
        {"\"axes\": {\"BLOCK_M\": [1.5]}", "\"axes.BLOCK_M\"[0]: must be an integer >= 0 or a string"},
        {"\"axes\": {\"BLOCK_M\": [true]}", "\"axes.BLOCK_M\"[0]: must be an integer >= 0 or a string"},
        {"\"axes\": {\"BLOCK_M\": [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,"
         "26,27,28,29,30,31,32,33]}", "\"axes.BLOCK_M\": too many values (33, at most 32)"},
        {"\"axes\": {\"MASK_STORAGE\": [\"spans,x\"]}", "\"axes.MASK_STORAGE\"[0]: 'spans,x': use letters"},
        {"\"axes\": {\"MASK_STORAGE\": [\"abcdefghijklmnopqrstuvwxyz\"]}",
         "\"axes.MASK_STORAGE\"[0]: must be a string of 1..23 characters"},
        {"\"axes\": {\"BLOCK_M\": 64}", "\"axes.BLOCK_M\": must be a list"},
        {"\"axes\": {\"WARPS\": {\"pow2\": [3, 8]}}", "\"axes.WARPS.pow2\"[0]: 3 is not a power of two"},
        {"\"axes\": {\"WARPS\": {\"pow2\": [2, 12]}}", "\"axes.WARPS.pow2\"[1]: 12 is not a power of two"},
        {"\"axes\": {\"WARPS\": {\"pow2\": [0, 8]}}", "\"axes.WARPS.pow2\"[0]: must be a positive integer"},
        {"\"axes\": {\"WARPS\": {\"pow2\": [8, 2]}}", "\"axes.WARPS.pow2\": lo 8 is above hi 2"},
        {"\"axes\": {\"STAGES\": {\"range\": [1]}}", "\"axes.STAGES.range\": must be [lo, hi]"},
        {"\"axes\": {\"STAGES\": {\"range\": [0, 100]}}", "\"axes.STAGES.range\": gives 101 values (at most 32)"},
        {"\"axes\": {\"STAGES\": {\"range\": [1, 2], \"step\": 0}}", "\"axes.STAGES.step\": must be a positive integer"},
        {"\"axes\": {\"STAGES\": {\"range\": [1, 2], \"pow2\": [1, 2]}}",
         "\"axes.STAGES\": give \"range\" or \"pow2\", not both"},
        {"\"axes\": {\"STAGES\": {\"rang\": [1, 2]}}", "\"axes.STAGES\": must be a list of values, {\"range\""},
        {"\"axes\": {\"STAGES\": {\"pow2\": [1, 2], \"step\": 2}}", "\"axes.STAGES.step\": unknown key (known: pow2)"},
        {"\"axes\": {\"A1\": [1], \"A2\": [1], \"A3\": [1], \"A4\": [1], \"A5\": [1], \"A6\": [1], "
         "\"A7\": [1], \"A8\": [1], \"A9\": [1], \"A10\": [1], \"A11\": [1], \"A12\": [1], \"A13\": [1],"
         " \"A14\": [1], \"A15\": [1], \"A16\": [1], \"A17\": [1]}", "\"axes\": too many axes (17, at most 16)"},
        {"\"constraints\": [\"BLOCK_M >\"]", "\"constraints\"[0]: column 10: expected a value"},
        {"\"constraints\": [\"BLOCK_M > 1\", \"HEADDIM == 1\"]",
         "\"constraints\"[1]: column 1: unknown name 'HEADDIM' (known: BLOCK_M"},
        {"\"constraints\": [\"SEQ_LEN > 1 && SEQLEN > 2\"]", "\"constraints\"[0]: column 16: unknown name 'SEQLEN'"},
        {"\"constraints\": []", "\"constraints\": must not be empty"},
        {"\"constraints\": [5]", "\"constraints\"[0]: must be a string"},
        {"\"constraints\": \"BLOCK_M > 1\"", "\"constraints\": must be a list"},
        {"\"constraints\": [\"'a' < 1\"]", "\"constraints\"[0]: column 5: type mismatch"},
        {"\"constraints\": [\"BLOCK_M > 1\\t\"]", "\"constraints\"[0]: byte 0x09 at offset 11"},
        {"\"strategy\": \"Model!\"", "\"strategy\": must be a strategy name"},
        {"\"strategy\": \"\"", "\"strategy\": must be a string of 1..31 characters"},
        {"\"seed\": -1", "\"seed\": must be an integer >= 0"},
        {"\"seed\": \"1\"", "\"seed\": must be an integer >= 0"},
        {"\"budget\": {\"evals\": -1}", "\"budget.evals\": must be an integer in 0..2147483647"},
        {"\"budget\": {\"seconds\": -5}", "\"budget.seconds\": must be a number >= 0"},
        {"\"budget\": {\"minutes\": 5}", "\"budget.minutes\": unknown key (known: evals, seconds)"},
        {"\"budget\": 5", "\"budget\": must be an object"},
        {"\"measure\": {\"max_samples\": 5}", "\"measure.max_samples\": max_samples 5 is below min_samples 10"},
        {"\"measure\": {\"min_samples\": 0}", "\"measure.min_samples\": must be a positive integer (at most 1000000)"},
        {"\"measure\": {\"warmup\": -1}", "\"measure.warmup\": must be an integer in 0..100000"},
        {"\"measure\": {\"stdrel\": \"x\"}", "\"measure.stdrel\": must be a number >= 0"},
        {"\"measure\": {\"max_seconds\": 0}", "\"measure.max_seconds\": must be a number > 0"},
        {"\"measure\": {\"flush\": true}", "\"measure.flush\": unknown key (known: warmup, min_samples"},
        {"\"measure\": {\"flush_l2\": 1}", "\"measure.flush_l2\": must be true or false"},
        {"\"verify\": \"yes\"", "\"verify\": must be true or false"},
        {"\"keep_spills\": 0", "\"keep_spills\": must be true or false"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[2048];
        if (cases[i].text[0] == '{' || cases[i].text[0] == '[')
            snprintf(text, sizeof text, "%s", cases[i].text);
        else
            snprintf(text, sizeof text, "{" BASE ", %s}", cases[i].text);
        pf_profile p;
        pf_error_clear();
        int rc = parse(text, &p);
        const char *msg = pf_error_get();
        CHECK_MSG(rc == -1 && strncmp(msg, "profile t.json: ", 16) == 0 &&
                      strstr(msg, cases[i].want) && !strchr(msg, '\n'),
                  "case %zu: %s\n  got  '%s'\n  want '%s'", i, text, rc ? msg : "(accepted)",
                  cases[i].want);
    }
}

/* One point of a profile's space: a value index per axis, and SEQ_LEN. */
typedef struct point {
    const pf_profile *p;
    int pick[PF_PROFILE_MAX_AXES];
    int64_t seq;
} point;

static int point_lookup(void *ctx, const char *name, size_t len, pf_expr_value *out)
{
    const point *pt = ctx;
    memset(out, 0, sizeof *out);
    if (len == 7 && !memcmp(name, "SEQ_LEN", 7)) {
        out->i = pt->seq;
        return 0;
    }
    for (int a = 0; a < pt->p->n_axes; a++) {
        const pf_profile_axis *ax = &pt->p->axes[a];
        if (strlen(ax->name) != len || memcmp(ax->name, name, len))
            continue;
        out->is_string = ax->is_string;
        out->s = ax->values[pt->pick[a]];
        out->i = ax->is_string ? 0 : strtoll(out->s, NULL, 10);
        return 0;
    }
    return -1;
}

/* Points of layer i at seq len s that are valid attention variants on
 * sm_90 and pass the constraints (what the tuner will sweep). */
static int count_points(const pf_profile *p, int layer, int64_t seq)
{
    point pt = {.p = p, .seq = seq};
    pf_expr *cons[PF_PROFILE_MAX_CONSTRAINTS];
    for (int c = 0; c < p->n_constraints; c++)
        cons[c] = pf_expr_parse(p->constraints[c], NULL);
    int n = 0;
    for (;;) {
        char text[512];
        int at = snprintf(text, sizeof text, "HEAD_DIM=%d", p->head_dim_of_layer[layer]);
        for (int a = 0; a < p->n_axes; a++)
            at += snprintf(text + at, sizeof text - (size_t)at, ",%s=%s", p->axes[a].name,
                           p->axes[a].values[pt.pick[a]]);
        pf_attn_variant v;
        int ok = pf_attn_variant_parse(text, 0, "sm_90", &v) == 0 &&
                 pf_attn_variant_valid(&v, "sm_90", NULL, 0);
        for (int c = 0; c < p->n_constraints && ok; c++)
            ok = cons[c] && pf_expr_eval(cons[c], point_lookup, &pt) == 1;
        n += ok;
        int a = 0; /* next combination, odometer style */
        while (a < p->n_axes && ++pt.pick[a] == p->axes[a].n_values)
            pt.pick[a++] = 0;
        if (a == p->n_axes)
            break;
    }
    for (int c = 0; c < p->n_constraints; c++)
        pf_expr_free(cons[c]);
    return n;
}

/* Every shipped profile loads, and builds its layout at every length. */
static void test_shipped(void)
{
    const char *src = getenv("PFTUNE_SOURCE_DIR");
    char pattern[1024];
    snprintf(pattern, sizeof pattern, "%s/profiles/*.json", src ? src : PF_SOURCE_DIR);
    glob_t g;
    int n = glob(pattern, 0, NULL, &g) == 0 ? (int)g.gl_pathc : 0;
    CHECK_MSG(n >= 6, "%d profiles in %s", n, pattern);
    for (int i = 0; i < n; i++) {
        pf_profile p;
        const char *path = g.gl_pathv[i];
        if (pf_profile_load(path, axes, &p)) {
            CHECK_MSG(0, "%s", pf_error_get());
            continue;
        }
        CHECK_MSG(p.n_seqs >= 2 && p.n_axes > 0, "%s", path);
        for (int s = 0; s < p.n_seqs; s++) {
            pf_layout *l;
            int rc = pf_profile_layout(&p, s, p.seed, &l);
            CHECK_MSG(rc == 0, "%s at %lld: %s", path, (long long)p.seq_lens[s], pf_error_get());
            if (!rc && p.workload == PF_WORKLOAD_IMAGES && p.image_tokens > 0 &&
                p.seq_lens[s] > p.image_every + p.image_tokens)
                CHECK_MSG(l->max_group_len == p.image_tokens, "%s: images", path);
            pf_layout_free(rc ? NULL : l);
        }
        /* every layer and length has valid points; the quickstart sweep is small */
        int points = 0;
        for (int l = 0; l < p.n_layers; l++)
            for (int s = 0; s < p.n_seqs; s++) {
                int k = count_points(&p, l, p.seq_lens[s]);
                CHECK_MSG(k > 0, "%s: no valid point for layer %d at %lld", path, l,
                          (long long)p.seq_lens[s]);
                points += k;
            }
        if (strstr(path, "/quickstart.json"))
            CHECK_MSG(points >= 8 && points <= 16 && !strcmp(p.model, "test-tiny"),
                      "quickstart: %d points", points);
        printf("%s: %s, %d seq lens, %d axes, %d constraints, strategy %s, %d points\n",
               strrchr(path, '/') + 1, p.model, p.n_seqs, p.n_axes, p.n_constraints, p.strategy,
               points);
    }
    if (n)
        globfree(&g);
}

int main(void)
{
    test_defaults();
    test_models();
    test_axes_and_settings();
    test_workloads();
    test_load();
    test_bad();
    test_shipped();
    return PF_TEST_RESULT();
}
