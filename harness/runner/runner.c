/* The runner's parent side (see runner.h): starts workers, hands out items
 * one at a time over each worker's socket, and poll()s for results, deaths
 * and deadlines. Each worker holds at most one item, so a death or a
 * timeout is charged to exactly that item. */
#include "runner/runner.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "runner/runner_internal.h"
#include "core/clock.h"

#define START_TIMEOUT_MIN_S 60.0

typedef struct slot {
    pid_t pid;       /* 0: no process */
    int fd;          /* -1: closed (finishing, or no process) */
    int started;     /* READY received */
    int ran;         /* items this process has finished */
    int item;        /* the item it holds; -1 none */
    double deadline; /* monotonic seconds; 0 none */
    unsigned char *buf;
    size_t got;      /* bytes of the current frame received */
} slot;

typedef struct pool {
    const pf_runner_config *cfg;
    int n_items, next, delivered;
    int given;       /* items handed out (by the counter or cfg->next) */
    int exhausted;   /* no more items will be handed out */
    int stash;       /* an item taken from cfg->next but not yet sent; -1 none */
    slot *slots;
    int n_slots;
    char emu_threads[24];
    char start_error[PF_ERROR_MAX]; /* the first worker that could not start */
    void *zero_record;
} pool;

static void deliver(pool *p, int index, pf_status st, const char *msg, const void *record)
{
    pf_runner_result r = {index, st, msg ? msg : "", record ? record : p->zero_record};
    p->cfg->done(p->cfg->ctx, &r);
    p->delivered++;
}

/* Close s's socket first (a worker still starting or waiting for an item
 * then sees EOF and exits), reap its process, say what became of it. */
static void reap(slot *s, char *how, size_t n)
{
    if (s->fd >= 0)
        close(s->fd);
    int status = 0;
    pid_t r;
    while ((r = waitpid(s->pid, &status, 0)) < 0 && errno == EINTR)
        ;
    if (r < 0)
        snprintf(how, n, "was lost (waitpid: %s)", strerror(errno));
    else if (WIFSIGNALED(status))
        snprintf(how, n, "died of signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
    else
        snprintf(how, n, "exited with code %d", WEXITSTATUS(status));
    s->fd = -1;
    s->pid = 0;
    s->started = 0;
    s->ran = 0;
    s->item = -1;
    s->deadline = 0;
    s->got = 0;
}

static void note_start_error(pool *p, const char *msg)
{
    if (!p->start_error[0])
        snprintf(p->start_error, sizeof p->start_error, "%s", msg);
}

static void start_worker(pool *p, slot *s)
{
    int others[256], n = 0;
    for (int i = 0; i < p->n_slots && n < 256; i++)
        if (p->slots[i].fd >= 0)
            others[n++] = p->slots[i].fd;
    if (pf_runner_spawn(p->cfg, (int)(s - p->slots), p->emu_threads, others, n, &s->pid,
                        &s->fd) < 0) {
        note_start_error(p, pf_error_get());
        s->pid = 0;
        s->fd = -1;
        return;
    }
    s->started = 0;
    s->ran = 0;
    s->item = -1;
    s->got = 0;
    /* a hung start-up (device open) must not hang the run either; it gets
     * at least a minute, as opening a GPU can take seconds on a busy host */
    double limit = p->cfg->timeout_s > START_TIMEOUT_MIN_S ? p->cfg->timeout_s : START_TIMEOUT_MIN_S;
    s->deadline = p->cfg->timeout_s > 0 ? pf_clock_seconds() + limit : 0;
}

/* The next item to hand out, or -1 (then p->exhausted is set). */
static int take_item(pool *p)
{
    if (p->stash >= 0)
        return p->stash;
    if (p->exhausted)
        return -1;
    int index = -1;
    if (p->cfg->next) {
        index = p->cfg->next(p->cfg->ctx);
        if (index >= p->n_items)
            index = -1; /* out of range: treated as the end */
    } else if (p->next < p->n_items) {
        index = p->next++;
    }
    if (index < 0)
        p->exhausted = 1;
    p->stash = index;
    return index;
}

/* Give s the next item, or tell it to finish when none is left. */
static void assign(pool *p, slot *s)
{
    int32_t index = take_item(p);
    if (index < 0) {
        close(s->fd); /* EOF: the worker runs fini and exits; reaped at the end */
        s->fd = -1;
        s->deadline = 0;
        return;
    }
    ssize_t w;
    while ((w = send(s->fd, &index, sizeof index, MSG_NOSIGNAL)) < 0 && errno == EINTR)
        ;
    if (w != (ssize_t)sizeof index)
        return; /* it died; poll reports the hang-up and the item stays stashed */
    p->stash = -1;
    p->given++;
    s->item = index;
    s->deadline = p->cfg->timeout_s > 0 ? pf_clock_seconds() + p->cfg->timeout_s : 0;
}

/* s's process died, or overran its deadline (then it is killed here):
 * charge its item and replace it. */
static void lost_worker(pool *p, slot *s, int timed_out)
{
    char how[160], msg[PF_ERROR_MAX];
    int item = s->item, started = s->started, ran = s->ran;
    if (timed_out)
        kill(s->pid, SIGKILL);
    reap(s, how, sizeof how);
    if (item >= 0) {
        if (timed_out)
            snprintf(msg, sizeof msg, "no result within %g s (its worker was killed)",
                     p->cfg->timeout_s);
        else
            snprintf(msg, sizeof msg, "its worker %s", how);
        deliver(p, item, timed_out ? PF_STATUS_TIMEOUT : PF_STATUS_CRASHED, msg, NULL);
    } else if (!ran) {
        /* it never worked: not replaced, so a worker that cannot start
         * cannot loop */
        if (timed_out)
            snprintf(msg, sizeof msg, "a worker did not start in time (killed)");
        else
            snprintf(msg, sizeof msg, "a worker %s %s", how,
                     started ? "before its first item" : "while starting");
        note_start_error(p, msg);
        return;
    }
    /* (an idle death after finished items, e.g. killed from outside, is
     * replaced too: each follows a finished item, so this ends) */
    if (take_item(p) >= 0)
        start_worker(p, s);
}

static void on_frame(pool *p, slot *s)
{
    const pf_runner_frame *f = (const pf_runner_frame *)s->buf;
    s->got = 0;
    if (f->kind == PF_RUNNER_READY) {
        s->started = 1;
        assign(p, s);
    } else if (f->kind == PF_RUNNER_INIT_FAILED) {
        note_start_error(p, f->message);
        char how[160];
        reap(s, how, sizeof how);
    } else if (f->kind == PF_RUNNER_RESULT && f->index == s->item) {
        s->item = -1;
        s->deadline = 0;
        s->ran++;
        deliver(p, f->index, (pf_status)f->status, f->message, s->buf + sizeof *f);
        assign(p, s);
    } else {
        lost_worker(p, s, 0); /* garbled protocol: treat as a crash */
    }
}

/* Read what s has sent; frames complete as their bytes arrive. */
static void on_readable(pool *p, slot *s)
{
    for (;;) {
        size_t want = sizeof(pf_runner_frame);
        if (s->got >= want)
            want += ((const pf_runner_frame *)s->buf)->payload;
        if (want > sizeof(pf_runner_frame) + p->cfg->record_size) {
            lost_worker(p, s, 0);
            return;
        }
        ssize_t r = recv(s->fd, s->buf + s->got, want - s->got, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (r <= 0) {
            lost_worker(p, s, 0); /* EOF or reset: the worker is gone */
            return;
        }
        s->got += (size_t)r;
        if (s->got == want && (want > sizeof(pf_runner_frame) ||
                               ((const pf_runner_frame *)s->buf)->payload == 0)) {
            on_frame(p, s);
            if (s->fd < 0)
                return;
        }
    }
}

static void check_deadlines(pool *p)
{
    double t = pf_clock_seconds();
    for (int i = 0; i < p->n_slots; i++) {
        slot *s = &p->slots[i];
        if (s->fd >= 0 && s->deadline > 0 && t >= s->deadline)
            lost_worker(p, s, 1);
    }
}

static int poll_timeout_ms(const pool *p)
{
    double first = 0;
    for (int i = 0; i < p->n_slots; i++) {
        const slot *s = &p->slots[i];
        if (s->fd >= 0 && s->deadline > 0 && (first == 0 || s->deadline < first))
            first = s->deadline;
    }
    if (first == 0)
        return -1;
    double ms = (first - pf_clock_seconds()) * 1000 + 1;
    return ms < 0 ? 0 : ms > 60000 ? 60000 : (int)ms;
}

static int run_pool(pool *p)
{
    struct pollfd fds[256];
    int idx[256];
    for (int i = 0; i < p->n_slots; i++)
        start_worker(p, &p->slots[i]);
    while (!(p->exhausted && p->stash < 0 && p->delivered == p->given)) {
        int n = 0;
        for (int i = 0; i < p->n_slots; i++)
            if (p->slots[i].fd >= 0) {
                fds[n] = (struct pollfd){p->slots[i].fd, POLLIN, 0};
                idx[n++] = i;
            }
        if (n == 0)
            return pf_error_set("%s", p->start_error[0] ? p->start_error : "runner: no worker left");
        int r = poll(fds, (nfds_t)n, poll_timeout_ms(p));
        if (r < 0 && errno != EINTR)
            return pf_error_set("runner: poll: %s", strerror(errno));
        for (int j = 0; j < n && r > 0; j++)
            if (fds[j].revents && p->slots[idx[j]].fd == fds[j].fd)
                on_readable(p, &p->slots[idx[j]]);
        check_deadlines(p);
    }
    return 0;
}

static int run_in_process(const pf_runner_config *cfg, int n_items)
{
    pf_error_clear();
    if (cfg->init && cfg->init(cfg->ctx, 0) < 0)
        return -1;
    void *record = malloc(cfg->record_size ? cfg->record_size : 1);
    if (!record) {
        if (cfg->fini)
            cfg->fini(cfg->ctx);
        return pf_error_set("runner: out of memory for a result record");
    }
    for (int k = 0;; k++) {
        int i = cfg->next ? cfg->next(cfg->ctx) : k < n_items ? k : -1;
        if (i < 0 || i >= n_items)
            break;
        memset(record, 0, cfg->record_size);
        pf_error_clear();
        pf_status st = cfg->item(cfg->ctx, i, record);
        pf_runner_result r = {i, st, st == PF_STATUS_OK ? "" : pf_error_get(), record};
        cfg->done(cfg->ctx, &r);
    }
    if (cfg->fini)
        cfg->fini(cfg->ctx);
    free(record);
    return 0;
}

int pf_runner_run(const pf_runner_config *cfg, int n_items)
{
    if (!cfg->item || !cfg->done || n_items < 0 || cfg->workers < 0 || cfg->workers > 256 ||
        cfg->record_size > (1u << 30) || cfg->timeout_s < 0)
        return pf_error_set("runner: bad configuration");
    if (cfg->workers == 0) {
        if (cfg->timeout_s > 0)
            return pf_error_set("runner: a timeout needs worker processes");
        return run_in_process(cfg, n_items);
    }
    if (n_items == 0)
        return 0;
    pool p;
    memset(&p, 0, sizeof p);
    p.cfg = cfg;
    p.n_items = n_items;
    p.n_slots = cfg->workers < n_items ? cfg->workers : n_items;
    p.stash = -1;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    snprintf(p.emu_threads, sizeof p.emu_threads, "%ld",
             cores / p.n_slots > 1 ? cores / p.n_slots : 1);
    p.slots = calloc((size_t)p.n_slots, sizeof *p.slots);
    p.zero_record = calloc(1, cfg->record_size ? cfg->record_size : 1);
    int rc = p.slots && p.zero_record ? 0 : pf_error_set("runner: out of memory");
    for (int i = 0; i < p.n_slots && !rc; i++) {
        p.slots[i].fd = -1;
        p.slots[i].item = -1;
        p.slots[i].buf = malloc(sizeof(pf_runner_frame) + cfg->record_size);
        if (!p.slots[i].buf)
            rc = pf_error_set("runner: out of memory");
    }
    if (!rc)
        rc = run_pool(&p);
    /* finish: idle workers see EOF and exit; on failure, stop the rest */
    for (int i = 0; p.slots && i < p.n_slots; i++) {
        slot *s = &p.slots[i];
        if (s->pid) {
            if (rc)
                kill(s->pid, SIGKILL);
            char how[160];
            reap(s, how, sizeof how);
        }
        free(s->buf);
    }
    free(p.slots);
    free(p.zero_record);
    return rc;
}
