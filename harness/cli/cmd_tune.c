/* `pftune tune PROFILE`: sweep a profile's search space on a device and
 * write results.json, tuned.json and the journal into --out. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "core/pf_error.h"
#include "core/version.h"
#include "tuner/strategy.h"
#include "tuner/tune.h"

#define CMD "tune"

enum { OPT_OUT, OPT_STRATEGY, OPT_BUDGET, OPT_TIME, OPT_SEED, OPT_RESUME, OPT_SHARD, OPT_DEVICE,
       OPT_JOBS, OPT_TIMEOUT };

static const pf_cli_opt opts[] = {
    [OPT_OUT] = {"out", 'o', "DIR", "output directory (default tune-out): results.json, tuned.json, journal.jsonl"},
    [OPT_STRATEGY] = {"strategy", 's', "S", "exhaustive, random, anneal or model (default: the profile's)"},
    [OPT_BUDGET] = {"budget", 'n', "N", "at most N evaluations per problem (0: no limit)"},
    [OPT_TIME] = {"time", 't', "SECONDS", "stop handing out points after this much wall time"},
    [OPT_SEED] = {"seed", 0, "N", "seed of the strategy, workloads and inputs (default: the profile's)"},
    [OPT_RESUME] = {"resume", 'r', NULL, "continue the sweep in --out from its journal"},
    [OPT_SHARD] = {"shard", 0, "I/N", "measure only shard I of N (0-based); join shards with merge"},
    [OPT_DEVICE] = {"device", 'd', "D", "auto (default), emu, cuda:N, a list cuda:0,cuda:1, or all GPUs"},
    [OPT_JOBS] = {"jobs", 'j', "N", "emu only: worker processes (GPUs get one worker each)"},
    [OPT_TIMEOUT] = {"timeout", 0, "SECONDS", "per point: a hung point is killed and recorded 'timeout'"},
    {0},
};

static int parse_shard(const char *text, int *i, int *n)
{
    char tail;
    if (sscanf(text, "%d/%d%c", i, n, &tail) != 2 || *n < 1 || *i < 0 || *i >= *n || *n > 100000)
        return pf_cli_usage_error(CMD, "--shard '%s': want I/N with 0 <= I < N", text);
    return 0;
}

int cmd_tune(int argc, char **argv)
{
    pf_tune_opts o;
    memset(&o, 0, sizeof o);
    o.out_dir = "tune-out";
    o.budget_evals = -1;
    o.budget_seconds = -1;
    o.shard_n = 1;
    o.device = "auto";
    o.argc = argc;
    o.argv = argv;
    pf_cli c;
    pf_cli_init(&c, CMD, argc, argv, opts, "pftune tune PROFILE [options]",
                "Sweep the kernel variants of a profile (profiles/*.json): prune what cannot\n"
                "run (validity, int32 offsets, constraints, register spills from an NVRTC\n"
                "compile for the device's arch), then for each problem (layer kind x sequence\n"
                "length) let the strategy pick points; each point is compiled, verified once\n"
                "against the reference on a random multimodal layout (a wrong variant is\n"
                "never timed or chosen) and timed through the measure layer. Every finished\n"
                "point is appended to OUT/journal.jsonl, so --resume after Ctrl-C, a crash or\n"
                "kill -9 measures nothing twice. OUT/results.json holds every point;\n"
                "OUT/tuned.json the best variant per shape and sequence-length bucket.\n"
                "On emu the times are host timings (labelled emu-host), not GPU numbers.");
    c.examples = "  pftune tune profiles/quickstart.json --device emu --out qs\n"
                 "  pftune tune profiles/gemma3-4b.json --device all --strategy model --budget 200\n"
                 "  pftune tune profiles/gemma3-4b.json --shard 0/4 --out shard0 --resume\n"
                 "  pftune best qs/tuned.json --seq 512 --layer full\n";
    const char *val, *profile = NULL;
    int k;
    long l;
    while ((k = pf_cli_next(&c, &val)) != PF_CLI_DONE) {
        switch (k) {
        case PF_CLI_HELP: return 0;
        case PF_CLI_ERROR: return 2;
        case PF_CLI_ARG:
            if (profile)
                return pf_cli_usage_error(CMD, "one profile at a time ('%s' and '%s')", profile, val);
            profile = val;
            break;
        case OPT_OUT: o.out_dir = val; break;
        case OPT_STRATEGY:
            if (!pf_strategy_find(val))
                return pf_cli_usage_error(CMD, "--strategy: %s", pf_error_get());
            o.strategy = val;
            break;
        case OPT_BUDGET:
            if (pf_cli_parse_long(CMD, "--budget", val, 0, 100000000, &l) < 0)
                return 2;
            o.budget_evals = (int)l;
            break;
        case OPT_TIME:
            if (pf_cli_parse_double(CMD, "--time", val, 0, 1e9, &o.budget_seconds) < 0)
                return 2;
            break;
        case OPT_SEED:
            if (pf_cli_parse_long(CMD, "--seed", val, 0, 0x7fffffffL, &l) < 0)
                return 2;
            o.has_seed = 1;
            o.seed = (uint64_t)l;
            break;
        case OPT_RESUME: o.resume = 1; break;
        case OPT_SHARD:
            if (parse_shard(val, &o.shard_i, &o.shard_n))
                return 2;
            break;
        case OPT_DEVICE: o.device = val; break;
        case OPT_JOBS:
            if (pf_cli_parse_long(CMD, "--jobs", val, 1, 64, &l) < 0)
                return 2;
            o.jobs = (int)l;
            break;
        case OPT_TIMEOUT:
            if (pf_cli_parse_double(CMD, "--timeout", val, 0.001, 1e7, &o.timeout_s) < 0)
                return 2;
            break;
        }
    }
    if (!profile)
        return pf_cli_usage_error(CMD, "which profile? (e.g. pftune tune profiles/quickstart.json)");
    o.profile_path = profile;
    o.version = pf_version();
    if (pf_tune_run(&o))
        return pf_cli_fail_error(CMD);
    return 0;
}
