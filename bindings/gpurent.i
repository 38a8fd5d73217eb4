/* The one SWIG interface for libgpurent's Python and Go bindings.
 *
 * This file is language-neutral. It sets the rules every module follows and
 * then %includes one small file per module (core.i, wire.i, ...). Each
 * language gets its typemaps for statuses, bytes, fixed-size keys, handles
 * and strings from lang_python.i or lang_go.i, which expose the same set of
 * macros, so a module file never says which language it is built for:
 *
 *   %gpurent_handle(TYPE)       TYPE **out  -> an owned handle (Python
 *                               object / Go uintptr) for gpurent_x_new()
 *   %gpurent_long_call(FUNC)    FUNC may run long: Python releases the GIL
 *                               around it (Go needs nothing)
 *   (const uint8_t *data, size_t len)  -> bytes / []byte in
 *   gpurent_buf *out                    -> bytes / []byte out (freed here)
 *   const uint8_t key[ANY], uint8_t [ANY] members -> bytes / []byte of
 *                                          checked length
 *   char [ANY] members          -> str / string, refused when too long
 *   gpurent_status return       -> None / nil, or an exception / error
 *                                  built here, in the C wrapper, from
 *                                  gpurent_last_error_message() read on
 *                                  the thread that failed
 *
 * Generated names drop the gpurent_ / GPURENT_ prefix: gpurent_gpu_encode
 * is capi.gpu_encode (Python) and capi.Gpu_encode (Go); GPURENT_E_LIMIT is
 * capi.E_LIMIT. The generated module is called `capi` in both languages and
 * the hand-written layers (package gpurent in Go, package gpurent in Python)
 * sit on top of it.
 *
 * Adding a module: see docs/bindings.md ("Adding a module").
 */
%module(threads="1") capi

%{
#include <stdatomic.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gpurent.h>

/* Test coverage of the bindings: the first call of each wrapped gpurent_
 * function in a process appends its C name to the file named by
 * $GPURENT_BINDINGS_COVERAGE (when set). tests/check_bindings.sh reads the
 * files the Python and Go suites leave to prove every public function is
 * called by both. Cost after the first call: one relaxed atomic load. */
static void gpurent_bind_cover_record(const char *name)
{
    const char *path = getenv("GPURENT_BINDINGS_COVERAGE");
    if (!path || !*path || strncmp(name, "gpurent_", 8) != 0) return;
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return;
    size_t n = strlen(name);
    char line[160];
    if (n < sizeof line - 1) {
        memcpy(line, name, n);
        line[n] = '\n';
        if (write(fd, line, n + 1) < 0) { /* best effort: a test reports the gap */ }
    }
    close(fd);
}
#define GPURENT_BIND_COVER(name)                                                    \
    do {                                                                           \
        static atomic_int seen_;                                                   \
        if (!atomic_load_explicit(&seen_, memory_order_relaxed) &&                 \
            !atomic_exchange_explicit(&seen_, 1, memory_order_relaxed))            \
            gpurent_bind_cover_record(name);                                       \
    } while (0)
%}

#ifdef SWIGPYTHON
/* Long calls keep the GIL only where a module says they do not. */
%nothread;
#endif

/* Names: strip the prefixes. Functions and types lose gpurent_, constants
 * and enum values lose GPURENT_. */
%rename("%(strip:[gpurent_])s") "";
%rename("%(strip:[GPURENT_])s", %$isconstant) "";
%rename("%(strip:[GPURENT_])s", %$isenumitem) "";

/* Every wrapper records its coverage, then makes the call. */
%exception %{
  GPURENT_BIND_COVER("$name");
  $action
%}

%include <stdint.i>

#if defined(SWIGPYTHON)
%include "lang_python.i"
#elif defined(SWIGGO)
%include "lang_go.i"
#else
#error "libgpurent bindings exist for Python and Go only"
#endif

/* Enum parameters are wrapped as the integers they were before they took the
 * enum type: Python keeps its range errors (a negative kind is a
 * FieldRangeError naming the field), Go's capi its int/uint parameters (the
 * typed ones, Preset, ChallengeKind and JobOutcome, are package gpurent's). */
%apply int { gpurent_match_preset };
%apply unsigned int { gpurent_challenge_kind, gpurent_job_outcome };

/* Header plumbing SWIG must see but must not wrap. */
%ignore GPURENT_STR;
%ignore GPURENT_STR_;
%include <gpurent/export.h>

/* ---- modules, in dependency order ---- */
%include "core.i"
%include "wire.i"
%include "attest.i"
%include "probe.i"
%include "tier.i"
%include "match.i"
%include "models.i"
