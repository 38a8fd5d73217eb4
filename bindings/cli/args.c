/* Shared helpers for subcommands: errors, file I/O, options, passphrases, times, keys. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

int cli_read_file(const char *path, uint8_t **data, size_t *len)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f) return -1;
    size_t cap = 4096, n = 0;
    uint8_t *b = malloc(cap);
    while (b) {
        n += fread(b + n, 1, cap - n, f);
        if (n < cap) break;
        uint8_t *nb = cap < (64u << 20) ? realloc(b, cap * 2) : NULL;
        if (!nb) { free(b); b = NULL; errno = EFBIG; break; }
        b = nb;
        cap *= 2;
    }
    int bad = !b || ferror(f);
    if (f != stdin) fclose(f);
    if (bad) { free(b); return -1; }
    *data = b;
    *len = n;
    return 0;
}

int cli_write_file(const char *path, const uint8_t *data, size_t len)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "wb") : stdout;
    if (!f) return -1;
    int bad = fwrite(data, 1, len, f) != len;
    if (f != stdout) bad |= fclose(f) != 0;
    else fflush(f);
    return bad ? -1 : 0;
}

const char *cli_opt(int argc, char **argv, const char *name)
{
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], name)) return argv[i + 1];
    return NULL;
}

int cli_flag(int argc, char **argv, const char *name)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], name)) return 1;
    return 0;
}

const char *cli_positional(int argc, char **argv, int which, const char *const *valued)
{
    int seen = 0;
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-' && argv[i][1]) {
            for (const char *const *v = valued; *v; v++)
                if (!strcmp(argv[i], *v)) { i++; break; }
            continue;
        }
        if (seen++ == which) return argv[i];
    }
    return NULL;
}

int cli_passphrase(int argc, char **argv, char *buf, size_t cap)
{
    const char *file = cli_opt(argc, argv, "--pass-file");
    if (file) {
        FILE *f = fopen(file, "r");
        if (!f) return -1;
        if (!fgets(buf, (int)cap, f)) buf[0] = '\0';
        fclose(f);
        buf[strcspn(buf, "\r\n")] = '\0';
        return buf[0] ? 0 : -2;
    }
    const char *var = cli_opt(argc, argv, "--pass-env");
    const char *v = getenv(var ? var : "GPURENT_PASSPHRASE");
    if (!v || !*v) return -2;
    snprintf(buf, cap, "%s", v);
    return 0;
}

int cli_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-') return -1;
    *out = v;
    return 0;
}

uint64_t cli_now(int argc, char **argv)
{
    const char *s = cli_opt(argc, argv, "--now");
    uint64_t v;
    if (s && !cli_u64(s, &v)) return v;
    return (uint64_t)time(NULL);
}

int cli_load_key(const char *cmd, int argc, char **argv, gpurent_key **key)
{
    const char *path = cli_opt(argc, argv, "--key");
    if (!path) return cli_fail(cmd, EXIT_USAGE, "--key KEYFILE is required");
    char pass[4097];
    int p = cli_passphrase(argc, argv, pass, sizeof pass);
    if (p == -1) return cli_fail(cmd, EXIT_IO, "cannot read the passphrase file: %s", strerror(errno));
    if (p == -2) return cli_fail(cmd, EXIT_USAGE, "no passphrase: set GPURENT_PASSPHRASE, --pass-env VAR or --pass-file FILE");
    int rc = gpurent_key_load(key, path, pass, NULL);
    memset(pass, 0, sizeof pass);
    if (rc == GPURENT_E_IO) return cli_fail_status(cmd, rc, EXIT_IO);
    if (rc) return cli_fail_status(cmd, rc, EXIT_INPUT);
    return 0;
}

double cli_mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
