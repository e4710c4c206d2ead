/* `pftune best FILE --seq N ...`: the tuned variant for a shape, from a
 * tuned.json (or a results.json, reduced the same way), by nearest
 * sequence-length bucket. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "core/json_doc.h"
#include "core/pf_error.h"
#include "tuner/results.h"

#define CMD "best"

enum { OPT_SEQ, OPT_MODEL, OPT_LAYER, OPT_HEAD_DIM, OPT_RULE, OPT_JSON };

static const pf_cli_opt opts[] = {
    [OPT_SEQ] = {"seq", 0, "N", "sequence length (tokens) to look up; nearest bucket wins"},
    [OPT_MODEL] = {"model", 'm', "NAME", "model preset of the entry (default: any)"},
    [OPT_LAYER] = {"layer", 'l', "KIND", "full or sliding (default: any)"},
    [OPT_HEAD_DIM] = {"head-dim", 0, "D", "head dim of the entry (default: any)"},
    [OPT_RULE] = {"rule", 'r', "RULE", "mask rule of the entry (default: any)"},
    [OPT_JSON] = {"json", 0, NULL, "print one JSON object"},
    {0},
};

int cmd_best(int argc, char **argv)
{
    pf_cli c;
    pf_cli_init(&c, CMD, argc, argv, opts, "pftune best TUNED.json|RESULTS.json --seq N [options]",
                "Print the variant tuned for a shape at a sequence length: the entry matching\n"
                "--model/--layer/--head-dim/--rule and in it the bucket nearest to --seq (ties:\n"
                "the larger). A choice made from host timings (emu) is flagged.");
    c.examples = "  pftune best qs/tuned.json --seq 300 --layer sliding\n"
                 "  pftune best qs/results.json --seq 512 --json\n";
    const char *file = NULL, *model = NULL, *layer = NULL, *rule = NULL, *val;
    long seq = -1, head_dim = 0;
    int json = 0, k;
    while ((k = pf_cli_next(&c, &val)) != PF_CLI_DONE) {
        switch (k) {
        case PF_CLI_HELP: return 0;
        case PF_CLI_ERROR: return 2;
        case PF_CLI_ARG:
            if (file)
                return pf_cli_usage_error(CMD, "one file at a time");
            file = val;
            break;
        case OPT_SEQ:
            if (pf_cli_parse_long(CMD, "--seq", val, 1, 1L << 40, &seq) < 0)
                return 2;
            break;
        case OPT_MODEL: model = val; break;
        case OPT_LAYER: layer = val; break;
        case OPT_HEAD_DIM:
            if (pf_cli_parse_long(CMD, "--head-dim", val, 1, 4096, &head_dim) < 0)
                return 2;
            break;
        case OPT_RULE: rule = val; break;
        case OPT_JSON: json = 1; break;
        }
    }
    if (!file || seq < 0)
        return pf_cli_usage_error(CMD, "give a tuned.json or results.json and --seq N");
    json_error_t err;
    json_t *doc = json_load_file(file, 0, &err);
    if (!doc)
        return pf_cli_fail(CMD, "%s: %s (line %d)", file, err.text, err.line);
    const char *schema = json_string_value(json_object_get(doc, "schema"));
    if (schema && strncmp(schema, "pftune.results/", 15) == 0) {
        json_decref(doc);
        pf_results r;
        if (pf_results_read(file, &r))
            return pf_cli_fail_error(CMD);
        doc = pf_tuned_from_results(&r);
        pf_results_free(&r);
        if (!doc)
            return pf_cli_fail(CMD, "cannot reduce %s to a tuned configuration", file);
    }
    char variant[512], timer[32];
    int64_t bucket = 0;
    int rc = pf_tuned_lookup(doc, model, layer, (int)head_dim, rule, seq, variant, sizeof variant,
                             &bucket, timer, sizeof timer);
    if (rc) {
        json_decref(doc);
        return pf_cli_fail(CMD, "%s: %s", file, pf_error_get());
    }
    int host = strcmp(timer, "emu-host") == 0 || strcmp(timer, "host") == 0;
    if (json) {
        json_t *out = pf_json_doc_new("pftune.best", 1);
        json_object_set_new(out, "variant", json_string(variant));
        json_object_set_new(out, "bucket", json_integer(bucket));
        json_object_set_new(out, "seq", json_integer(seq));
        json_object_set_new(out, "timer", json_string(timer));
        json_object_set_new(out, "device", json_incref(json_object_get(doc, "device")));
        rc = pf_json_doc_print(out) ? pf_cli_fail_error(CMD) : 0;
        json_decref(out);
    } else {
        printf("%s\n", variant);
        fprintf(stderr, "best: bucket %lld tokens, timed with %s\n", (long long)bucket, timer);
    }
    if (host)
        fprintf(stderr, "pftune: best: warning: chosen from %s timings (CPU), not GPU numbers\n",
                timer);
    json_decref(doc);
    return rc;
}
