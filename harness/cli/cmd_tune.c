/* `pftune tune PROFILE`: sweep a profile's search space on a device and
 * write results.json, tuned.json and the journal into --out; or, with
 * --slurm, submit the sweep as a Slurm job array plus a merge job
 * (cli/slurm.h). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/slurm.h"
#include "core/pf_error.h"
#include "core/version.h"
#include "tuner/profile.h"
#include "tuner/space.h"
#include "tuner/strategy.h"
#include "tuner/tune.h"

#define CMD "tune"

enum { OPT_OUT, OPT_STRATEGY, OPT_BUDGET, OPT_TIME, OPT_SEED, OPT_RESUME, OPT_SHARD, OPT_DEVICE,
       OPT_JOBS, OPT_TIMEOUT, OPT_SLURM, OPT_TASKS, OPT_GPUS, OPT_PARTITION, OPT_ACCOUNT,
       OPT_SBATCH_ARG, OPT_DRY_RUN };

static const pf_cli_opt opts[] = {
    [OPT_OUT] = {"out", 'o', "DIR", "output directory (default tune-out): results.json, tuned.json, journal.jsonl"},
    [OPT_STRATEGY] = {"strategy", 's', "S", "exhaustive, random, anneal or model (default: the profile's)"},
    [OPT_BUDGET] = {"budget", 'n', "N", "at most N evaluations per problem (0: no limit)"},
    [OPT_TIME] = {"time", 't', "T", "stop handing out points after T seconds; with --slurm: each job's time limit (HH:MM:SS)"},
    [OPT_SEED] = {"seed", 0, "N", "seed of the strategy, workloads and inputs (default: the profile's)"},
    [OPT_RESUME] = {"resume", 'r', NULL, "continue the sweep in --out from its journal"},
    [OPT_SHARD] = {"shard", 0, "I/N", "measure only shard I of N (0-based); join shards with merge"},
    [OPT_DEVICE] = {"device", 'd', "D", "auto (default), emu, cuda:N, a list cuda:0,cuda:1, or all GPUs"},
    [OPT_JOBS] = {"jobs", 'j', "N", "emu only: worker processes (GPUs get one worker each)"},
    [OPT_TIMEOUT] = {"timeout", 0, "SECONDS", "per point: a hung point is killed and recorded 'timeout'"},
    [OPT_SLURM] = {"slurm", 0, NULL, "submit as a Slurm job array (one shard a task) plus a merge job; rerun to resubmit unfinished shards"},
    [OPT_TASKS] = {"tasks", 0, "N", "--slurm: array tasks, i.e. shards (default 4, or the earlier submission's)"},
    [OPT_GPUS] = {"gpus-per-task", 0, "G", "--slurm: GPUs per task (default 1; none with --device emu)"},
    [OPT_PARTITION] = {"partition", 0, "P", "--slurm: the partition to run in"},
    [OPT_ACCOUNT] = {"account", 0, "A", "--slurm: the account to charge"},
    [OPT_SBATCH_ARG] = {"sbatch-arg", 0, "ARG", "--slurm: one more #SBATCH option for both jobs (repeatable), e.g. --sbatch-arg=--mem=16G"},
    [OPT_DRY_RUN] = {"dry-run", 0, NULL, "--slurm: print the batch scripts and the sbatch lines, submit nothing"},
    {0},
};

static int parse_shard(const char *text, int *i, int *n)
{
    char tail;
    if (sscanf(text, "%d/%d%c", i, n, &tail) != 2 || *n < 1 || *i < 0 || *i >= *n || *n > 100000)
        return pf_cli_usage_error(CMD, "--shard '%s': want I/N with 0 <= I < N", text);
    return 0;
}

/* With --slurm, the options every task's tune gets as given (indexed by
 * option; the last entry sizes the table to every option). */
static const char *const pass_flag[] = {
    [OPT_STRATEGY] = "--strategy", [OPT_BUDGET] = "--budget", [OPT_SEED] = "--seed",
    [OPT_JOBS] = "--jobs", [OPT_TIMEOUT] = "--timeout", [OPT_DRY_RUN] = NULL,
};

/* A Slurm option value goes into a #SBATCH line: one word, no quotes. */
static int slurm_word(const char *what, const char *val)
{
    if (!*val || strpbrk(val, " \t\n\r'\"\\"))
        return pf_cli_usage_error(CMD, "%s '%s': want one word without spaces or quotes", what, val);
    return 0;
}

/* --slurm: absolute paths (the jobs run elsewhere, from DIR), a profile
 * that loads, then the submission. */
static int submit_slurm(pf_slurm_opts *so, const char *profile, const char *out)
{
    static pf_profile prof;
    if (pf_profile_load(profile, pf_tune_axis_names(), &prof))
        return pf_cli_fail_error(CMD);
    ssize_t len = readlink("/proc/self/exe", so->pftune, sizeof so->pftune - 1);
    if (len <= 0)
        return pf_cli_fail(CMD, "cannot find this pftune binary: %s", strerror(errno));
    so->pftune[len] = 0;
    char buf[PATH_MAX];
    if (!realpath(profile, buf))
        return pf_cli_fail(CMD, "%s: %s", profile, strerror(errno));
    snprintf(so->profile, sizeof so->profile, "%s", buf);
    if (out[0] == '/') {
        snprintf(so->out_dir, sizeof so->out_dir, "%s", out);
    } else {
        if (!getcwd(buf, sizeof buf))
            return pf_cli_fail(CMD, "getcwd: %s", strerror(errno));
        if ((size_t)snprintf(so->out_dir, sizeof so->out_dir, "%s/%s", buf, out) >= sizeof so->out_dir)
            return pf_cli_fail(CMD, "--out %s: path too long", out);
    }
    for (size_t n = strlen(so->out_dir); n > 1 && so->out_dir[n - 1] == '/';)
        so->out_dir[--n] = 0;
    if (strpbrk(so->out_dir, "\n\r") || strpbrk(so->profile, "\n\r"))
        return pf_cli_usage_error(CMD, "--slurm: paths with line breaks cannot go into a batch script");
    if (pf_slurm_submit(so))
        return pf_cli_fail_error(CMD);
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
                 "  pftune tune profiles/gemma3-4b.json --slurm --tasks 8 --partition gpu "
                 "--time 04:00:00 --out g4b\n"
                 "  pftune best qs/tuned.json --seq 512 --layer full\n";
    const char *val, *profile = NULL, *time_text = NULL, *slurm_only = NULL;
    int k, slurm = 0;
    long l;
    pf_slurm_opts so;
    memset(&so, 0, sizeof so);
    so.gpus_per_task = -1;
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
        case OPT_SLURM: slurm = 1; break;
        case OPT_TASKS:
            if (pf_cli_parse_long(CMD, "--tasks", val, 1, 10000, &l) < 0)
                return 2;
            so.tasks = (int)l;
            slurm_only = "--tasks";
            break;
        case OPT_GPUS:
            if (pf_cli_parse_long(CMD, "--gpus-per-task", val, 1, 64, &l) < 0)
                return 2;
            so.gpus_per_task = (int)l;
            slurm_only = "--gpus-per-task";
            break;
        case OPT_PARTITION:
        case OPT_ACCOUNT:
            if (slurm_word(k == OPT_PARTITION ? "--partition" : "--account", val))
                return 2;
            *(k == OPT_PARTITION ? &so.partition : &so.account) = val;
            slurm_only = k == OPT_PARTITION ? "--partition" : "--account";
            break;
        case OPT_SBATCH_ARG:
            if (val[0] != '-' || strpbrk(val, "\n\r"))
                return pf_cli_usage_error(CMD, "--sbatch-arg '%s': want one sbatch option on "
                                          "one line, e.g. --mem=16G", val);
            if (so.n_sbatch_args == PF_SLURM_MAX_ARGS)
                return pf_cli_usage_error(CMD, "at most %d --sbatch-arg", PF_SLURM_MAX_ARGS);
            so.sbatch_args[so.n_sbatch_args++] = val;
            slurm_only = "--sbatch-arg";
            break;
        case OPT_DRY_RUN: so.dry_run = 1, slurm_only = "--dry-run"; break;
        case OPT_BUDGET:
            if (pf_cli_parse_long(CMD, "--budget", val, 0, 100000000, &l) < 0)
                return 2;
            o.budget_evals = (int)l;
            break;
        case OPT_TIME: time_text = val; break; /* seconds, or with --slurm a time limit */
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
        /* with --slurm, what every task's tune gets besides its shard */
        if (k >= 0 && pass_flag[k] && so.n_tune_args + 2 <= 2 * PF_SLURM_MAX_ARGS) {
            so.tune_args[so.n_tune_args++] = pass_flag[k];
            so.tune_args[so.n_tune_args++] = val;
        }
    }
    if (!profile)
        return pf_cli_usage_error(CMD, "which profile? (e.g. pftune tune profiles/quickstart.json)");
    if (slurm_only && !slurm)
        return pf_cli_usage_error(CMD, "%s goes with --slurm", slurm_only);
    if (slurm) {
        if (o.shard_n > 1)
            return pf_cli_usage_error(CMD, "--shard: with --slurm each array task is one shard "
                                      "(--tasks N)");
        if (time_text && (strspn(time_text, "0123456789:-") != strlen(time_text) ||
                          !strpbrk(time_text, "0123456789")))
            return pf_cli_usage_error(CMD, "--time '%s': with --slurm a time limit, e.g. "
                                      "04:00:00 or 1-00:00:00", time_text);
        int emu = strcmp(o.device, "emu") == 0;
        if (emu && so.gpus_per_task > 0)
            return pf_cli_usage_error(CMD, "--gpus-per-task: emu tasks run on CPUs");
        so.time_limit = time_text;
        so.device = emu ? "emu" : "all"; /* Slurm sets CUDA_VISIBLE_DEVICES to the task's GPUs */
        so.gpus_per_task = emu ? 0 : so.gpus_per_task > 0 ? so.gpus_per_task : 1;
        so.cpus_per_task = emu ? o.jobs : 0;
        return submit_slurm(&so, profile, o.out_dir);
    }
    if (time_text && pf_cli_parse_double(CMD, "--time", time_text, 0, 1e9, &o.budget_seconds) < 0)
        return 2;
    o.profile_path = profile;
    o.version = pf_version();
    if (pf_tune_run(&o))
        return pf_cli_fail_error(CMD);
    return 0;
}
