/* Shared helpers for subcommands: errors, the command-line parser, file I/O,
 * JSON inputs, passphrases, times, keys. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"

int cli_fail_status(const char *cmd, int status, int code)
{
    fprintf(stderr, "gpurent %s: %s: %s\n", cmd, gpurent_status_name(status),
            *gpurent_last_error_message() ? gpurent_last_error_message() : gpurent_strerror(status));
    return code;
}

int cli_fail(const char *cmd, int code, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "gpurent %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return code;
}

/* ---------------- the command line ---------------- */

static cli_kv *g_kv;
static const char **g_pos;

void cli_args_free(void)
{
    free(g_kv);
    free(g_pos);
    g_kv = NULL;
    g_pos = NULL;
}

static int vusage(const cli_cmd *c, const char *fmt, va_list ap)
{
    fprintf(stderr, "gpurent %s: ", c->name);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n%s", c->usage);
    return EXIT_USAGE;
}

static int usage_err(const cli_cmd *c, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static int usage_err(const cli_cmd *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = vusage(c, fmt, ap);
    va_end(ap);
    return rc;
}

int cli_usage_error(const cli_args *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = vusage(a->cmd, fmt, ap);
    va_end(ap);
    return rc;
}

int cli_u64(const char *s, uint64_t *out)
{
    /* strtoull skips blanks and accepts signs ("-5" is 2^64-5): only
     * the one canonical spelling of a number is taken. */
    size_t n = strlen(s);
    if (n == 0 || n > 20 || (s[0] == '0' && n > 1)) return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10) return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

static const cli_optdef *find_opt(const cli_cmd *c, const char *name, size_t len)
{
    for (const cli_optdef *d = c->opts; d && d->name; d++)
        if (strlen(d->name) == len && !strncmp(d->name, name, len)) return d;
    return NULL;
}

static int check_value(const cli_cmd *c, const cli_optdef *d, const char *v)
{
    uint64_t x;
    uint8_t b[32];
    switch (d->kind) {
    case OPT_U64:
        if (cli_u64(v, &x) || x < d->min || x > d->max)
            return usage_err(c, "%s needs a whole number in %llu..%llu, not '%s'", d->name,
                             (unsigned long long)d->min, (unsigned long long)d->max, v);
        return 0;
    case OPT_HEX32:
        if (cli_unhex(v, b, 32)) return usage_err(c, "%s needs 64 hex digits (32 bytes), not '%s'", d->name, v);
        return 0;
    case OPT_STR:
        if (!*v) return usage_err(c, "%s needs a non-empty value", d->name);
        return 0;
    default: return 0;
    }
}

int cli_parse(const cli_cmd *c, int argc, char **argv, cli_args *a)
{
    cli_args_free();
    memset(a, 0, sizeof *a);
    a->cmd = c;
    g_kv = calloc((size_t)argc + 1, sizeof *g_kv);
    g_pos = calloc((size_t)argc + 1, sizeof *g_pos);
    if (!g_kv || !g_pos) return cli_fail(c->name, EXIT_FAILED, "out of memory");
    a->kv = g_kv;
    a->pos = g_pos;
    int only_operands = 0;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (only_operands || arg[0] != '-' || !arg[1]) {
            a->pos[a->npos++] = arg;
            continue;
        }
        if (!strcmp(arg, "--")) { only_operands = 1; continue; }
        if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
            printf("%s%s", c->usage, c->help);
            return -1;
        }
        const char *eq = arg[1] == '-' ? strchr(arg, '=') : NULL;
        size_t nlen = eq ? (size_t)(eq - arg) : strlen(arg);
        const cli_optdef *d = find_opt(c, arg, nlen);
        if (!d) return usage_err(c, "unknown option '%.*s'", (int)nlen, arg);
        const char *v = NULL;
        if (d->kind == OPT_FLAG) {
            if (eq) return usage_err(c, "%s takes no value", d->name);
        } else if (eq) {
            v = eq + 1;
        } else if (i + 1 < argc) {
            v = argv[++i];
        } else {
            return usage_err(c, "%s needs a value", d->name);
        }
        if (!d->repeat)
            for (int k = 0; k < a->nkv; k++)
                if (a->kv[k].def == d) return usage_err(c, "%s given twice", d->name);
        if (v && check_value(c, d, v)) return EXIT_USAGE;
        a->kv[a->nkv].def = d;
        a->kv[a->nkv++].value = v;
    }
    if (a->npos < c->min_pos)
        return usage_err(c, "missing %s", c->pos_name ? c->pos_name : "argument");
    if (c->max_pos >= 0 && a->npos > c->max_pos) return usage_err(c, "unexpected argument '%s'", a->pos[c->max_pos]);
    return 0;
}

const char *cli_opt(const cli_args *a, const char *name)
{
    const char *v = NULL;
    for (int i = 0; i < a->nkv; i++)
        if (!strcmp(a->kv[i].def->name, name)) v = a->kv[i].value;
    return v;
}

int cli_flag(const cli_args *a, const char *name)
{
    for (int i = 0; i < a->nkv; i++)
        if (!strcmp(a->kv[i].def->name, name)) return 1;
    return 0;
}

uint64_t cli_opt_u64(const cli_args *a, const char *name, uint64_t def)
{
    const char *s = cli_opt(a, name);
    uint64_t v;
    return s && !cli_u64(s, &v) ? v : def;
}

int cli_opt_hex32(const cli_args *a, const char *name, uint8_t out[32])
{
    const char *s = cli_opt(a, name);
    return s && !cli_unhex(s, out, 32);
}

/* ---------------- files ---------------- */

int cli_read_file_max(const char *path, size_t max, uint8_t **data, size_t *len)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f) return -1;
    size_t cap = 4096, n = 0;
    uint8_t *b = malloc(cap);
    while (b) {
        n += fread(b + n, 1, cap - n, f);
        if (n < cap) break;
        if (n > max) { free(b); b = NULL; errno = EFBIG; break; }
        uint8_t *nb = realloc(b, cap * 2);
        if (!nb) { free(b); b = NULL; errno = ENOMEM; break; }
        b = nb;
        cap *= 2;
    }
    int bad = !b || ferror(f);
    if (b && n > max) { bad = 1; errno = EFBIG; }
    if (f != stdin) fclose(f);
    if (bad) { free(b); return -1; }
    *data = b;
    *len = n;
    return 0;
}

int cli_read_file(const char *path, uint8_t **data, size_t *len)
{
    return cli_read_file_max(path, 64u << 20, data, len);
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

int cli_write_file_mode(const char *path, const uint8_t *data, size_t len, unsigned mode, int no_clobber)
{
    if (!strcmp(path, "-")) {
        int bad = fwrite(data, 1, len, stdout) != len;
        bad |= fflush(stdout) != 0;
        return bad ? -1 : 0;
    }
    /* The temporary file lives in the target's folder (so rename is atomic)
     * under a name nobody can predict, created exclusively: a file or link
     * planted there is never written through. */
    size_t plen = strlen(path);
    const char *slash = strrchr(path, '/');
    size_t dlen = slash ? (size_t)(slash - path) + 1 : 0;
    char *tmp = malloc(plen + 32), *dir = malloc(dlen + 2);
    if (!tmp || !dir) { free(tmp); free(dir); errno = ENOMEM; return -1; }
    memcpy(dir, path, dlen);
    if (!dlen) dir[dlen++] = '.';
    dir[dlen] = '\0';
    int fd = -1;
    for (int tries = 0; fd < 0 && tries < 16; tries++) {
        uint8_t r[8];
        randombytes_buf(r, sizeof r);
        char hex[17];
        for (int i = 0; i < 8; i++) snprintf(hex + 2 * i, 3, "%02x", r[i]);
        snprintf(tmp, plen + 32, "%.*s.gpurent-%s.tmp", (int)(slash ? (size_t)(slash - path) + 1 : 0), path, hex);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, (mode_t)mode);
        if (fd < 0 && errno != EEXIST) break;
    }
    int rc = -1, err = 0;
    if (fd >= 0) {
        /* open() applied the umask; fchmod sets exactly `mode` (callers
         * apply the umask to public files; secrets are 0600). */
        if (!write_all(fd, data, len) && !fchmod(fd, (mode_t)mode) && !fsync(fd)) rc = 0;
        err = errno;
        if (close(fd) && !rc) { rc = -1; err = errno; }
        if (!rc) {
            if (no_clobber) {
                /* link() fails on an existing name, whatever it is: no race. */
                if (link(tmp, path)) { rc = -1; err = errno; }
                unlink(tmp);
            } else if (rename(tmp, path)) {
                rc = -1;
                err = errno;
            }
        }
        if (rc) unlink(tmp);
        if (!rc) {
            int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (dfd >= 0) { (void)fsync(dfd); close(dfd); }
        }
    } else {
        err = errno;
    }
    free(tmp);
    free(dir);
    errno = err;
    return rc;
}

int cli_write_file(const char *path, const uint8_t *data, size_t len)
{
    mode_t um = umask(0);
    umask(um);
    return cli_write_file_mode(path, data, len, 0666 & ~(unsigned)um, 0);
}

/* ---------------- JSON inputs ---------------- */

json_t *cli_parse_json(const char *cmd, const char *path, const uint8_t *data, size_t len, int *code)
{
    json_error_t je;
    /* Duplicate keys are refused: a reader who sees the first one must not
     * sign the last one. */
    json_t *j = json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES, &je);
    if (!j) *code = cli_fail(cmd, EXIT_INPUT, "%s:%d:%d: malformed JSON: %s", path, je.line, je.column, je.text);
    return j;
}

json_t *cli_load_json(const char *cmd, const char *path, int *code)
{
    uint8_t *data;
    size_t len;
    /* Bounded before parsing: no record's JSON is near this size, and
     * jansson takes about ten times the text in memory. */
    if (cli_read_file_max(path, CLI_JSON_MAX_BYTES, &data, &len)) {
        if (errno == EFBIG)
            *code = cli_fail(cmd, EXIT_INPUT, "%s: GPURENT_E_OVERSIZE: JSON input above %u bytes", path,
                             CLI_JSON_MAX_BYTES);
        else
            *code = cli_fail(cmd, EXIT_IO, "%s: %s", path, strerror(errno));
        return NULL;
    }
    json_t *j = cli_parse_json(cmd, path, data, len, code);
    free(data);
    return j;
}

/* ---------------- passphrases, times, keys ---------------- */

int cli_passphrase(const cli_args *a, char *buf, size_t cap)
{
    const char *file = cli_opt(a, "--pass-file");
    if (file) {
        FILE *f = fopen(file, "r");
        if (!f) return -1;
        if (!fgets(buf, (int)cap, f)) buf[0] = '\0';
        fclose(f);
        buf[strcspn(buf, "\r\n")] = '\0';
        return buf[0] ? 0 : -2;
    }
    const char *var = cli_opt(a, "--pass-env");
    const char *v = getenv(var ? var : "GPURENT_PASSPHRASE");
    if (!v || !*v) return -2;
    snprintf(buf, cap, "%s", v);
    return 0;
}

uint64_t cli_now(const cli_args *a)
{
    return cli_opt_u64(a, "--now", (uint64_t)time(NULL));
}

int cli_load_key(const cli_args *a, gpurent_key **key)
{
    const char *cmd = a->cmd->name;
    const char *path = cli_opt(a, "--key");
    if (!path) return cli_usage_error(a, "--key KEYFILE is required");
    char pass[4097];
    int p = cli_passphrase(a, pass, sizeof pass);
    if (p == -1) return cli_fail(cmd, EXIT_IO, "cannot read the passphrase file: %s", strerror(errno));
    if (p == -2) return cli_fail(cmd, EXIT_USAGE, "no passphrase: set GPURENT_PASSPHRASE, --pass-env VAR or --pass-file FILE");
    int rc = gpurent_key_load(key, path, pass, NULL);
    sodium_memzero(pass, sizeof pass);
    if (rc == GPURENT_E_IO) return cli_fail_status(cmd, rc, EXIT_IO);
    if (rc) return cli_fail_status(cmd, rc, EXIT_INPUT);
    return 0;
}

uint32_t cli_role_bit(const char *name)
{
    static const char *const names[] = {"provider", "auditor", "matcher", "revoker", "requester"};
    for (uint32_t i = 0; i < 5; i++)
        if (!strcmp(name, names[i])) return 1u << i;
    return 0;
}

double cli_mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
