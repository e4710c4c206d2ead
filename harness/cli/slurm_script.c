/* The two batch scripts of a Slurm sweep (see slurm.h). Paths are absolute
 * and single-quoted: the jobs run on other nodes, from DIR. */
#include "cli/slurm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/version.h"

/* s single-quoted for sh ('it'\''s'). */
static void quote(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++)
        if (*s == '\'')
            fputs("'\\''", f);
        else
            fputc(*s, f);
    fputc('\'', f);
}

/* name='value' */
static void shell_var(FILE *f, const char *name, const char *value)
{
    fprintf(f, "%s=", name);
    quote(f, value);
    fputc('\n', f);
}

/* A script's text goes to a memory stream; it starts with the shell and
 * the job name, "pftune-<profile file name without .json><suffix>". */
static FILE *script_start(char **text, size_t *size, const pf_slurm_opts *o, const char *suffix)
{
    FILE *f = open_memstream(text, size);
    if (!f)
        return NULL;
    const char *base = strrchr(o->profile, '/');
    base = base ? base + 1 : o->profile;
    size_t len = strlen(base);
    if (len > 5 && strcmp(base + len - 5, ".json") == 0)
        len -= 5;
    fprintf(f, "#!/bin/bash\n#SBATCH --job-name=pftune-%.*s%s\n", (int)len, base, suffix);
    return f;
}

/* The options both jobs share: where, how long, on whose account, logs. */
static void common_options(FILE *f, const pf_slurm_opts *o, const char *log)
{
    fprintf(f, "#SBATCH --ntasks=1\n");
    if (o->partition)
        fprintf(f, "#SBATCH --partition=%s\n", o->partition);
    if (o->time_limit)
        fprintf(f, "#SBATCH --time=%s\n", o->time_limit);
    if (o->account)
        fprintf(f, "#SBATCH --account=%s\n", o->account);
    fprintf(f, "#SBATCH --chdir=%s\n", o->out_dir);
    fprintf(f, "#SBATCH --output=%s/logs/%s\n", o->out_dir, log);
    fprintf(f, "#SBATCH --open-mode=append\n");
    for (int i = 0; i < o->n_sbatch_args; i++)
        fprintf(f, "#SBATCH %s\n", o->sbatch_args[i]);
}

/* the text is only final (and its pointer valid) once the stream is closed */
static char *finish(FILE *f, char **text)
{
    if (fclose(f) == 0)
        return *text;
    free(*text);
    return NULL;
}

char *pf_slurm_array_script(const pf_slurm_opts *o, int tasks, const char *indices)
{
    char *text = NULL;
    size_t size = 0;
    FILE *f = script_start(&text, &size, o, "");
    if (!f)
        return NULL;
    fprintf(f, "#SBATCH --array=%s\n", indices);
    if (o->gpus_per_task > 0)
        fprintf(f, "#SBATCH --gpus-per-task=%d\n", o->gpus_per_task);
    if (o->cpus_per_task > 0)
        fprintf(f, "#SBATCH --cpus-per-task=%d\n", o->cpus_per_task);
    fprintf(f, "#SBATCH --requeue\n");
    common_options(f, o, "task-%a.log");
    fprintf(f,
            "# Written by `pftune tune --slurm` (pftune %s): array task i sweeps shard i\n"
            "# of %d of the profile into DIR/shard-i, on the GPUs Slurm gives it\n"
            "# (CUDA_VISIBLE_DEVICES, hence --device all) or on emu. Always --resume: a\n"
            "# requeued, preempted or rerun task continues from its journal and measures\n"
            "# nothing twice.\n"
            "set -u\n",
            pf_version_full(), tasks);
    shell_var(f, "pftune", o->pftune);
    shell_var(f, "profile", o->profile);
    shell_var(f, "dir", o->out_dir);
    fprintf(f,
            "i=${SLURM_ARRAY_TASK_ID:?submit this with sbatch: it is a job-array script}\n"
            "echo \"pftune: task $i of %d, job ${SLURM_JOB_ID:-?}, restart "
            "${SLURM_RESTART_COUNT:-0}, on $(hostname) at $(date -u +%%FT%%TZ), GPUs "
            "${CUDA_VISIBLE_DEVICES:-none}\"\n"
            "\"$pftune\" tune \"$profile\" --shard \"$i/%d\" --resume --out \"$dir/shard-$i\" "
            "--device %s",
            tasks, tasks, o->device);
    for (int i = 0; i < o->n_tune_args; i++)
        fputc(' ', f), quote(f, o->tune_args[i]);
    fputs(" &\n"
          "pid=$!\n"
          "# scancel, preemption and the time limit send SIGTERM: pass it on to the\n"
          "# sweep (its journal already holds every finished point) and wait for it\n"
          "trap 'kill -TERM \"$pid\" 2>/dev/null' TERM INT\n"
          "wait \"$pid\"\n"
          "rc=$?\n"
          "while kill -0 \"$pid\" 2>/dev/null; do\n"
          "    wait \"$pid\"\n"
          "    rc=$?\n"
          "done\n"
          "exit \"$rc\"\n",
          f);
    return finish(f, &text);
}

char *pf_slurm_merge_script(const pf_slurm_opts *o, int tasks)
{
    char *text = NULL;
    size_t size = 0;
    FILE *f = script_start(&text, &size, o, "-merge");
    if (!f)
        return NULL;
    common_options(f, o, "merge.log");
    fprintf(f,
            "# Written by `pftune tune --slurm` (pftune %s): runs after the array,\n"
            "# merges its complete shards into DIR/results.json and DIR/tuned.json,\n"
            "# names any shard that is missing or incomplete and then exits 1 (rerun\n"
            "# the submission: it resubmits only those).\n"
            "set -u\n",
            pf_version_full());
    shell_var(f, "pftune", o->pftune);
    shell_var(f, "dir", o->out_dir);
    fprintf(f,
            "shards=()\n"
            "for ((i = 0; i < %d; i++)); do shards+=(\"$dir/shard-$i\"); done\n"
            "out=$(\"$pftune\" merge --complete-only \"${shards[@]}\" --out \"$dir\")\n"
            "rc=$?\n"
            "echo \"$out\"\n"
            "# a report of what was merged (merge names its results when it wrote\n"
            "# them), when this pftune has the command\n"
            "if [[ $out == *\"results: \"* ]] && \"$pftune\" help report >/dev/null 2>&1; then\n"
            "    \"$pftune\" report \"$dir/results.json\" >\"$dir/report.txt\" ||\n"
            "        echo \"pftune report failed (exit $?); the merged results stand\" >&2\n"
            "fi\n"
            "exit \"$rc\"\n",
            tasks);
    return finish(f, &text);
}
