/* Threads the library starts for its own work (snapshot hashing and
 * writing, request digests, index halves, batch preparation, bulk
 * verification, the probe's driver calls). */
#include <signal.h>

#include "core_internal.h"

int gr_thread_start(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
    /* The new thread inherits the mask in force when it is created: every
     * signal blocked but those a fault raises in the thread itself (so a
     * crash in a worker is still reported as one, by the embedder's or a
     * sanitizer's handler). Signals sent to the process then go to the
     * embedder's own threads, which expect them, never to a library worker
     * (a Go or Python runtime handles a signal on a thread it does not
     * know with difficulty, or not at all). */
    static const int faults[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS};
    sigset_t all, old;
    sigfillset(&all);
    for (size_t i = 0; i < sizeof faults / sizeof *faults; i++) sigdelset(&all, faults[i]);
    int masked = pthread_sigmask(SIG_SETMASK, &all, &old) == 0;
    int rc = pthread_create(th, attr, fn, arg);
    if (masked) pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}
