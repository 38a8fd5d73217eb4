/* Files the library writes for its caller: written whole to a fresh
 * temporary file in the same folder, made durable, then put in place, so a
 * crash at any moment leaves either the old file or the new one. Used by
 * key files (lib/attest) and snapshots (lib/tier, lib/match, lib/attest). */
#define _GNU_SOURCE /* sync_file_range */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core_internal.h"

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n > (1u << 30) ? (1u << 30) : n);
        if (w < 0 && errno == EINTR) continue;
        if (w == 0) errno = EIO; /* (no progress, no error: not expected of a file) */
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* A fresh temporary file beside `path`: "<dir>/.<name>.<16 hex>.tmp",
 * created with O_CREAT|O_EXCL|O_NOFOLLOW (never an existing file, never
 * through a planted symlink), mode 0600 (snapshots and key files may hold
 * what others must not read). */
static int open_temp(const char *path, char *tmp, size_t cap, char *dir, size_t dcap)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    size_t dlen = slash ? (size_t)(slash - path) : 0;
    if (!*base) {
        errno = EISDIR;
        return -1;
    }
    if (dlen + 2 > dcap) {
        errno = ENAMETOOLONG;
        return -1;
    }
    if (slash) {
        memcpy(dir, path, dlen ? dlen : 1); /* "/name" lives in "/" */
        dir[dlen ? dlen : 1] = 0;
    } else {
        memcpy(dir, ".", 2);
    }
    for (int tries = 0; tries < 16; tries++) {
        uint8_t r[8];
        char hex[17];
        randombytes_buf(r, sizeof r);
        sodium_bin2hex(hex, sizeof hex, r, sizeof r);
        if (snprintf(tmp, cap, "%.*s.%s.%s.tmp", (int)(base - path), path, base, hex) >= (int)cap) {
            errno = ENAMETOOLONG;
            return -1;
        }
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0 || errno != EEXIST) return fd;
    }
    return -1;
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    int err = errno;
    close(fd);
    errno = err;
    return rc;
}

/* Ask the kernel to start writing the `n` bytes from `off` on back now,
 * without waiting: the disk works while the caller writes the rest or
 * computes the tail, and the fsync that follows finds little left to do. A
 * hint: errors are ignored. */
void gr_file_start_writeback(int fd, size_t off, size_t n)
{
#if defined(__linux__) && !defined(__EMSCRIPTEN__) && defined(SYNC_FILE_RANGE_WRITE)
    /* (emscripten's libc declares it but does not define it) */
    (void)sync_file_range(fd, (off_t)off, (off_t)n, SYNC_FILE_RANGE_WRITE);
#else
    (void)fd;
    (void)off;
    (void)n;
#endif
}

int gr_file_write(int fd, const uint8_t *p, size_t n) { return write_all(fd, p, n); }

int gr_file_pwrite(int fd, const uint8_t *p, size_t n, uint64_t off)
{
    while (n) {
        ssize_t w = pwrite(fd, p, n > (1u << 30) ? (1u << 30) : n, (off_t)off);
        if (w < 0 && errno == EINTR) continue;
        if (w == 0) errno = EIO;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
        off += (uint64_t)w;
    }
    return 0;
}

/* write_all in pieces of WB_STEP bytes, the writeback of each started as
 * soon as it is in the page cache (the disk starts on the first piece, not
 * once everything is copied). */
#define WB_STEP ((size_t)8 << 20)
static int write_all_wb(int fd, const uint8_t *p, size_t n)
{
    for (size_t off = 0; off < n;) {
        size_t k = n - off < WB_STEP ? n - off : WB_STEP;
        if (write_all(fd, p + off, k) != 0) return -1;
        gr_file_start_writeback(fd, off, k);
        off += k;
    }
    return 0;
}

int gr_file_temp_open(gr_file_temp *t, const char *path, const char *what)
{
    t->fd = -1;
    t->path = path;
    t->what = what;
    if (!path) return gr_fail(GPURENT_E_INVALID_ARG, "%s: path is NULL", what);
    if (strlen(path) >= GR_PATH_CAP) return gr_fail(GPURENT_E_INVALID_ARG, "%s: path too long", what);
    int rc = gr_ensure_init();
    if (rc) return rc;
    t->fd = open_temp(path, t->tmp, sizeof t->tmp, t->dir, sizeof t->dir);
    if (t->fd < 0) return gr_fail(GPURENT_E_IO, "%s '%s': temporary file: %s", what, path, strerror(errno));
    return GPURENT_OK;
}

void gr_file_temp_discard(gr_file_temp *t)
{
    if (t->fd < 0) return;
    close(t->fd);
    unlink(t->tmp);
    t->fd = -1;
}

/* fsync the temporary file, then put it in place: rename() over the target
 * (which replaces a symlink there, never writing through it), or link()
 * when the target must not exist (atomic: EEXIST for anything there, a
 * dangling symlink included); then fsync the folder. `err`: an errno from
 * writing it (0: none), which fails it here. */
int gr_file_temp_commit(gr_file_temp *t, int err, int replace)
{
    const char *what = t->what, *path = t->path;
    int bad = err != 0, exists = 0;
    if (!bad && fsync(t->fd) != 0) bad = 1, err = errno;
    if (close(t->fd) != 0 && !bad) bad = 1, err = errno;
    t->fd = -1;
    if (!bad && replace && rename(t->tmp, path) != 0) bad = 1, err = errno;
    if (!bad && !replace) {
        if (link(t->tmp, path) != 0) bad = 1, err = errno, exists = err == EEXIST;
        unlink(t->tmp);
    }
    if (bad) {
        unlink(t->tmp);
        if (exists) return gr_fail(GPURENT_E_EXISTS, "%s '%s' already exists (not overwritten)", what, path);
        return gr_fail(GPURENT_E_IO, "%s '%s': %s", what, path, strerror(err));
    }
    if (fsync_dir(t->dir) != 0) {
        /* the file is in place; only its durability is in doubt */
        return gr_fail(GPURENT_E_IO, "%s '%s': fsync of '%s': %s", what, path, t->dir, strerror(errno));
    }
    return GPURENT_OK;
}

int gr_file_write_atomic(const char *path, const uint8_t *data, size_t len, int replace, const char *what)
{
    gr_file_temp t;
    int rc = gr_file_temp_open(&t, path, what);
    if (rc) return rc;
    int err = write_all_wb(t.fd, data, len) != 0 ? errno : 0;
    return gr_file_temp_commit(&t, err, replace);
}

void gr_mem_large(void *p, size_t n)
{
#ifdef MADV_HUGEPAGE
    const uintptr_t page = 4096;
    uintptr_t a = ((uintptr_t)p + page - 1) & ~(page - 1), end = ((uintptr_t)p + n) & ~(page - 1);
    if (n >= (4u << 20) && end > a) (void)madvise((void *)a, end - a, MADV_HUGEPAGE); /* a hint: errors are fine */
#else
    (void)p;
    (void)n;
#endif
}

int gr_file_read(const char *path, size_t max, gpurent_buf *out, const char *what)
{
    out->data = NULL;
    out->len = 0;
    if (!path) return gr_fail(GPURENT_E_INVALID_ARG, "%s: path is NULL", what);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return gr_fail(GPURENT_E_IO, "%s '%s': %s", what, path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int err = errno;
        close(fd);
        return gr_fail(GPURENT_E_IO, "%s '%s': %s", what, path, strerror(err));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return gr_fail(GPURENT_E_IO, "%s '%s': not a regular file", what, path);
    }
    if ((uint64_t)st.st_size > max) {
        close(fd);
        return gr_fail(GPURENT_E_LIMIT, "%s '%s': %llu bytes, above the limit %zu", what, path,
                       (unsigned long long)st.st_size, max);
    }
    size_t cap = (size_t)st.st_size, got = 0;
    uint8_t *d = gr_malloc(cap ? cap : 1);
    if (!d) {
        close(fd);
        return gr_fail(GPURENT_E_NOMEM, "%s '%s': %zu bytes", what, path, cap);
    }
    gr_mem_large(d, cap);
    ssize_t n = 0;
    while (got < cap && (n = read(fd, d + got, cap - got)) != 0) {
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) break;
        got += (size_t)n;
    }
    int err = errno;
    close(fd);
    if (n < 0) {
        gr_free(d);
        return gr_fail(GPURENT_E_IO, "%s '%s': %s", what, path, strerror(err));
    }
    out->data = d;
    out->len = got; /* a file that shrank while read is judged by its reader */
    return GPURENT_OK;
}
