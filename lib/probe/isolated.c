/* gpurent_probe_run_isolated: the probe in a child process, so that a
 * driver that crashes, scribbles over memory or never returns costs the
 * child, not the caller.
 *
 * The child is forked (not exec'd: no helper program to install or find)
 * and runs gpurent_probe_run; it sends back its status and the report's
 * canonical encoding through a pipe and leaves with _exit. The parent reads
 * within the time limit, decodes (so a child whose memory the driver
 * damaged cannot hand over an invalid report), and reaps the child in
 * every case. A fork child may only use what is safe after fork in a
 * threaded process: the library's locks are reset by pthread_atfork
 * handlers (loader.c), glibc's malloc is fork-safe, and the child never
 * returns into the caller's code. */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "probe_internal.h"

/* The child answers within its own time limit; the parent waits this much
 * longer (fork, encoding, writing) before it kills the child. */
#define GRACE_MS 1000u
#define SLICE_MS 10
#define HEADER 12u                 /* "GRP1", int32 status, uint32 length; little-endian */
#define MAX_MESSAGE (1u << 20)     /* far above the largest encoded report */

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* ---------------- the child ---------------- */

static void child_main(int fd, const gpurent_probe_options *o, const uint8_t nonce[32])
{
    /* A crash is the parent's to report: no handler the caller (or a
     * language runtime) installed runs here. */
    static const int crash[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGSYS, SIGTRAP};
    for (size_t i = 0; i < sizeof crash / sizeof crash[0]; i++) signal(crash[i], SIG_DFL);
    signal(SIGPIPE, SIG_IGN);
    sigset_t all;
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);

    uint8_t head[HEADER] = {'G', 'R', 'P', '1'};
    gpurent_buf enc = {NULL, 0};
    gpurent_gpu_report *r = gr_calloc(1, sizeof *r);
    int rc = r ? gpurent_probe_run(o, nonce, NULL, r) : GPURENT_E_NOMEM;
    if (rc == GPURENT_OK) rc = gpurent_gpu_report_encode(r, &enc);
    put32(head + 4, (uint32_t)rc);
    put32(head + 8, rc == GPURENT_OK ? (uint32_t)enc.len : 0);
    int ok = write_all(fd, head, HEADER) == 0 && (rc != GPURENT_OK || write_all(fd, enc.data, enc.len) == 0);
    gpurent_buf_free(&enc);
    gr_free(r);
    close(fd);
    _exit(ok ? 0 : 3);
}

/* ---------------- the parent ---------------- */

static const char *signal_name(int sig)
{
    switch (sig) {
    case SIGSEGV: return "SIGSEGV";
    case SIGBUS: return "SIGBUS";
    case SIGILL: return "SIGILL";
    case SIGFPE: return "SIGFPE";
    case SIGABRT: return "SIGABRT";
    case SIGKILL: return "SIGKILL";
    case SIGTERM: return "SIGTERM";
    case SIGSYS: return "SIGSYS";
    case SIGTRAP: return "SIGTRAP";
    default: return "a signal";
    }
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

typedef struct child {
    pid_t pid;
    int fd;
    int reaped;
    int wstatus;      /* valid when reaped and known */
    int status_known; /* 0: someone else reaped it (SIGCHLD ignored, or reaped by the caller) */
    int killed;       /* by us */
    int malformed;    /* the header is not ours, or announces too much */
    uint8_t *msg;
    size_t have;
} child;

static void reap(child *c, int flags)
{
    if (c->reaped) return;
    pid_t p;
    do p = waitpid(c->pid, &c->wstatus, flags);
    while (p < 0 && errno == EINTR);
    if (p == c->pid) c->reaped = c->status_known = 1;
    else if (p < 0) c->reaped = 1; /* ECHILD: gone, status unknown */
}

static void kill_and_reap(child *c)
{
    if (!c->reaped) {
        kill(c->pid, SIGKILL);
        c->killed = 1;
    }
    reap(c, 0);
}

/* A child that answered is leaving: wait for it until the deadline, then
 * end it. */
static void reap_by(child *c, uint64_t deadline)
{
    for (reap(c, WNOHANG); !c->reaped && mono_ms() < deadline; reap(c, WNOHANG)) {
        struct timespec ts = {0, 1000000L};
        nanosleep(&ts, NULL);
    }
    kill_and_reap(c);
}

static int complete(const child *c)
{
    return c->have >= HEADER && c->have == HEADER + get32(c->msg + 8);
}

/* Read what there is within wait_ms: 1 something (or interrupted), 0
 * nothing yet, -1 end of file or an error. */
static int read_some(child *c, int wait_ms)
{
    struct pollfd p = {c->fd, POLLIN, 0};
    if (poll(&p, 1, wait_ms) <= 0) return 0;
    size_t want = c->have < HEADER ? HEADER - c->have : HEADER + get32(c->msg + 8) - c->have;
    ssize_t got = read(c->fd, c->msg + c->have, want);
    if (got > 0) {
        c->have += (size_t)got;
        if (c->have == HEADER && (memcmp(c->msg, "GRP1", 4) != 0 || get32(c->msg + 8) > MAX_MESSAGE - HEADER))
            c->malformed = 1;
        return 1;
    }
    return got < 0 && (errno == EINTR || errno == EAGAIN) ? 1 : -1; /* -1: end of file or an error */
}

/* Read what the child sends until the message is whole or the child is
 * gone (0), the deadline passes (1) or the caller cancels (2). A write end
 * inherited by another child of the caller can keep the pipe open, so the
 * child's exit decides, not end of file. */
static int collect(child *c, uint64_t deadline, const gpurent_cancel *cancel)
{
    int eof = 0;
    while (!complete(c) && !c->malformed) {
        if (gpurent_cancel_requested(cancel)) return 2;
        if (mono_ms() >= deadline) return 1;
        if (!eof) {
            int n = read_some(c, SLICE_MS);
            if (n > 0) continue;
            eof = n < 0;
        } else {
            struct timespec ts = {0, SLICE_MS * 1000000L};
            nanosleep(&ts, NULL);
        }
        reap(c, WNOHANG);
        if (c->reaped) {
            while (!eof && !complete(c) && !c->malformed && read_some(c, 0) > 0)
                continue; /* what it wrote before it ended */
            return 0;
        }
    }
    return 0;
}

/* The report for a child that gave none. */
static void no_answer(const child *c, int outcome, uint32_t wait_ms, gpurent_gpu_report *r)
{
    int st = GPURENT_E_DRIVER_FAILED;
    char why[200];
    if (outcome == 1) {
        st = GPURENT_E_DRIVER_TIMEOUT;
        snprintf(why, sizeof why, "the probe process did not answer within %u ms and was killed", wait_ms);
    } else if (c->malformed) {
        snprintf(why, sizeof why, "the probe process sent a malformed answer and was killed");
    } else if (c->status_known && WIFSIGNALED(c->wstatus) && !c->killed) {
        int sig = WTERMSIG(c->wstatus);
        snprintf(why, sizeof why, "the probe process died of signal %d (%s) before it answered: %s", sig,
                 signal_name(sig), sig == SIGKILL ? "killed" : "the driver crashed it");
    } else if (c->status_known && WIFEXITED(c->wstatus)) {
        snprintf(why, sizeof why, "the probe process exited with status %d before it answered",
                 WEXITSTATUS(c->wstatus));
    } else if (c->killed) {
        snprintf(why, sizeof why, "the probe process sent an incomplete answer and was killed");
    } else {
        snprintf(why, sizeof why, "the probe process ended without an answer (its exit status was not available)");
    }
    r->status = st;
    r->driver_error = 0;
    snprintf(r->reason, sizeof r->reason, "%s", why);
}

/* The child's answer: its status, else its report if it decodes and is the
 * report for this challenge. */
static int answer(const child *c, gpurent_gpu_report *base)
{
    int32_t rc = (int32_t)get32(c->msg + 4);
    /* The child's status is the driver's to forge: only running out of
     * memory fails the call; any other is a fact in the report (a forged
     * CANCELLED or INVALID_ARG would mislead the caller). */
    if (rc == GPURENT_E_NOMEM && !get32(c->msg + 8)) return gr_fail(rc, "probe process: %s", gpurent_strerror(rc));
    if (rc != GPURENT_OK) {
        base->status = GPURENT_E_DRIVER_FAILED;
        if (get32(c->msg + 8) || rc > 0 || rc < -1000)
            snprintf(base->reason, sizeof base->reason, "the probe process sent a malformed answer");
        else
            snprintf(base->reason, sizeof base->reason, "the probe process failed with %s",
                     gpurent_status_name((gpurent_status)rc));
        return GPURENT_OK;
    }
    gpurent_gpu_report *back = gr_calloc(1, sizeof *back);
    if (!back) return gr_fail(GPURENT_E_NOMEM, "probe: report");
    if (gpurent_gpu_report_decode(c->msg + HEADER, c->have - HEADER, back) != GPURENT_OK) {
        base->status = GPURENT_E_DRIVER_FAILED;
        snprintf(base->reason, sizeof base->reason, "the probe process sent a report that does not decode");
    } else if (memcmp(back->nonce, base->nonce, sizeof back->nonce) || back->probed_at != base->probed_at ||
               back->checks != base->checks) {
        base->status = GPURENT_E_DRIVER_FAILED;
        snprintf(base->reason, sizeof base->reason, "the probe process sent a report for another challenge");
    } else {
        *base = *back;
    }
    gr_free(back);
    return GPURENT_OK;
}

GPURENT_API gpurent_status gpurent_probe_run_isolated(const gpurent_probe_options *opts, const uint8_t nonce[GPURENT_CHALLENGE_BYTES],
                                                      const gpurent_cancel *cancel, gpurent_gpu_report *out)
{
    gpurent_probe_options o;
    int rc = gr_probe_begin(opts, nonce, cancel, out, &o);
    if (rc) return rc;

    gpurent_gpu_report *r = gr_calloc(1, sizeof *r);
    child c = {0, -1, 0, 0, 0, 0, 0, gr_malloc(MAX_MESSAGE), 0};
    if (!r || !c.msg) {
        gr_free(r);
        gr_free(c.msg);
        return gr_fail(GPURENT_E_NOMEM, "probe: report");
    }
    /* What the parent knows without the child: the report of a child that
     * gives none. */
    gr_probe_report_start(r, nonce, &o);
    gr_probe_copy_path(r->driver_path, sizeof r->driver_path, o.driver_path);

    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        rc = gr_fail(errno == ENOMEM ? GPURENT_E_NOMEM : GPURENT_E_LIMIT, "probe: cannot create a pipe (%s)",
                     strerror(errno));
        goto out;
    }
    c.pid = fork();
    if (c.pid == 0) {
        close(fds[0]);
        child_main(fds[1], &o, nonce); /* does not return */
    }
    close(fds[1]);
    c.fd = fds[0];
    if (c.pid < 0) {
        rc = gr_fail(errno == ENOMEM ? GPURENT_E_NOMEM : GPURENT_E_LIMIT,
                     "probe: cannot start the probe process (%s)", strerror(errno));
        goto out;
    }
    uint32_t wait_ms = o.timeout_ms + GRACE_MS;
    uint64_t deadline = mono_ms() + wait_ms;
    int outcome = collect(&c, deadline, cancel);
    int whole = outcome == 0 && !c.malformed && complete(&c);
    if (whole) reap_by(&c, deadline + GRACE_MS); /* it answered: it is leaving */
    else kill_and_reap(&c);                       /* a child that answered in part is ended too */
    if (outcome == 2) {
        rc = gr_fail(GPURENT_E_CANCELLED, "probe: cancelled; the probe process was killed");
    } else if (whole) {
        rc = answer(&c, r);
    } else {
        no_answer(&c, outcome, wait_ms, r);
    }
out:
    if (c.fd >= 0) close(c.fd);
    if (rc == GPURENT_OK) *out = *r;
    gr_free(c.msg);
    gr_free(r);
    return rc;
}
