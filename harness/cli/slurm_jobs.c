/* Talking to Slurm (see slurm.h): the job-id record in DIR, running
 * sbatch / squeue / sacct without a shell, and their answers. */
#include "cli/slurm.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/json_doc.h"
#include "core/pf_error.h"

/* ---- the record ---- */

json_t *pf_slurm_jobs_load(const char *dir, int *bad)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, PF_SLURM_JOBS_FILE);
    *bad = 0;
    if (access(path, F_OK) != 0)
        return NULL;
    json_error_t err;
    json_t *doc = json_load_file(path, 0, &err);
    const char *schema = json_string_value(json_object_get(doc, "schema"));
    if (!doc || !schema || strcmp(schema, "pftune.slurm/1") != 0 ||
        !json_is_integer(json_object_get(doc, "tasks")) ||
        !json_is_array(json_object_get(doc, "submissions"))) {
        pf_error_set("%s: %s", path, doc ? "not a pftune.slurm/1 record" : err.text);
        json_decref(doc);
        *bad = 1;
        return NULL;
    }
    return doc;
}

int pf_slurm_jobs_save(const char *dir, const json_t *jobs)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, PF_SLURM_JOBS_FILE);
    return pf_json_doc_write(jobs, path);
}

int pf_slurm_task_job(const json_t *jobs, int task, char *id, size_t n)
{
    json_t *subs = json_object_get(jobs, "submissions");
    for (size_t s = json_array_size(subs); s-- > 0;) {
        json_t *sub = json_array_get(subs, s), *t;
        const char *array = json_string_value(json_object_get(sub, "array_job"));
        size_t k;
        json_array_foreach(json_object_get(sub, "tasks"), k, t)
            if (array && json_integer_value(t) == task) {
                snprintf(id, n, "%s_%d", array, task);
                return 0;
            }
    }
    return -1;
}

void pf_slurm_all_jobs(const json_t *jobs, char *ids, size_t n)
{
    static const char *const keys[] = {"array_job", "merge_job"};
    size_t len = 0, s;
    json_t *sub;
    ids[0] = 0;
    json_array_foreach(json_object_get(jobs, "submissions"), s, sub)
        for (int k = 0; k < 2; k++) {
            const char *id = json_string_value(json_object_get(sub, keys[k]));
            if (id && len < n)
                len += (size_t)snprintf(ids + len, n - len, "%s%s", len ? "," : "", id);
        }
}

/* ---- running a Slurm command ---- */

int pf_slurm_on_path(const char *prog)
{
    const char *path = getenv("PATH");
    char buf[4200];
    while (path && *path) {
        size_t len = strcspn(path, ":");
        snprintf(buf, sizeof buf, "%.*s/%s", (int)(len ? len : 1), len ? path : ".", prog);
        if (access(buf, X_OK) == 0)
            return 1;
        path += len + (path[len] == ':');
    }
    return 0;
}

/* Read both pipes to their ends (poll: neither can fill up and stall the child). */
static void drain(int fd_out, int fd_err, char *out, size_t n, char *err, size_t n_err)
{
    struct pollfd p[2] = {{fd_out, POLLIN, 0}, {fd_err, POLLIN, 0}};
    char *buf[2] = {out, err};
    size_t cap[2] = {n, err ? n_err : 0}, len[2] = {0, 0};
    int open_fds = 2;
    while (open_fds > 0) {
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (int i = 0; i < 2; i++) {
            if (p[i].fd < 0 || !p[i].revents)
                continue;
            char tmp[4096];
            ssize_t r = read(p[i].fd, tmp, sizeof tmp);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0) {
                p[i].fd = -1;
                open_fds--;
                continue;
            }
            size_t keep = cap[i] > len[i] + 1 ? cap[i] - len[i] - 1 : 0;
            keep = keep < (size_t)r ? keep : (size_t)r;
            if (keep) /* the rest, and all of an unwanted stream, is dropped */
                memcpy(buf[i] + len[i], tmp, keep);
            len[i] += keep;
        }
    }
    if (n)
        out[len[0]] = 0;
    if (err && n_err)
        err[len[1]] = 0;
}

int pf_slurm_run(char *const argv[], char *out, size_t n, char *err, size_t n_err)
{
    int po[2], pe[2];
    if (pipe(po) != 0)
        return pf_error_set("pipe: %s", strerror(errno));
    if (pipe(pe) != 0) {
        close(po[0]), close(po[1]);
        return pf_error_set("pipe: %s", strerror(errno));
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(po[0]), close(po[1]), close(pe[0]), close(pe[1]);
        return pf_error_set("fork: %s", strerror(errno));
    }
    if (pid == 0) {
        dup2(po[1], 1);
        dup2(pe[1], 2);
        close(po[0]), close(po[1]), close(pe[0]), close(pe[1]);
        execvp(argv[0], argv);
        fprintf(stderr, "%s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(po[1]), close(pe[1]);
    drain(po[0], pe[0], out, n, err, n_err);
    close(po[0]), close(pe[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return pf_error_set("waitpid: %s", strerror(errno));
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && !pf_slurm_on_path(argv[0]))
        return pf_error_set("%s is not on PATH", argv[0]);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* ---- job states ---- */

/* Lines "ID|STATE ..." into st (the first answer for an id wins). */
static void add_states(pf_slurm_states *st, char *text)
{
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        char *bar = strchr(line, '|');
        if (!bar || pf_slurm_state_of(st, (*bar = 0, line)))
            continue;
        pf_slurm_state *g = realloc(st->v, sizeof *g * (size_t)(st->n + 1));
        if (!g)
            return;
        st->v = g;
        snprintf(g[st->n].id, sizeof g[0].id, "%s", line);
        /* "CANCELLED by 0" -> "CANCELLED" */
        snprintf(g[st->n].state, sizeof g[0].state, "%.*s", (int)strcspn(bar + 1, " |"), bar + 1);
        st->n++;
    }
}

void pf_slurm_states_query(const char *ids, pf_slurm_states *st)
{
    memset(st, 0, sizeof *st);
    if (!ids || !*ids)
        return;
    static char out[1 << 20];
    /* -t all: finished jobs too, while the controller still holds them.
     * squeue -j fails as a whole once one of the ids has left the
     * controller: then every job it holds, filtered by the lookups */
    char *squeue[] = {"squeue", "-h", "-r", "-t", "all", "-o", "%i|%T", "-j", (char *)ids, NULL};
    if (pf_slurm_on_path("squeue") && (pf_slurm_run(squeue, out, sizeof out, NULL, 0) == 0 ||
                                       (squeue[7] = NULL, pf_slurm_run(squeue, out, sizeof out,
                                                                       NULL, 0) == 0))) {
        st->squeue = 1;
        add_states(st, out);
    }
    char *sacct[] = {"sacct", "-n", "-X", "-P", "-o", "JobID,State", "-j", (char *)ids, NULL};
    if (pf_slurm_on_path("sacct") && pf_slurm_run(sacct, out, sizeof out, NULL, 0) == 0) {
        st->sacct = 1;
        add_states(st, out);
    }
}

const char *pf_slurm_state_of(const pf_slurm_states *st, const char *id)
{
    for (int i = 0; i < st->n; i++)
        if (strcmp(st->v[i].id, id) == 0)
            return st->v[i].state;
    return NULL;
}

void pf_slurm_states_free(pf_slurm_states *st)
{
    free(st->v);
    memset(st, 0, sizeof *st);
}
