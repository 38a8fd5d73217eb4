/* The gpurent command-line tool: shared declarations. */
#ifndef GPURENT_CLI_H
#define GPURENT_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "gpurent.h"
#include "gpurent/attest.h"

/* Exit codes (docs/cli.md). */
enum {
    EXIT_OK_ = 0,
    EXIT_FAILED = 1,  /* the operation ran and said no: verification failed, no match, ... */
    EXIT_USAGE = 2,   /* bad command line */
    EXIT_IO = 3,      /* a file could not be read or written */
    EXIT_INPUT = 4    /* the input is malformed: bad JSON, bad record, wrong passphrase */
};

/* Print "gpurent <cmd>: STATUS_NAME: detail" on stderr and return `code`. */
int cli_fail_status(const char *cmd, int status, int code);
int cli_fail(const char *cmd, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* ---- the command line (args.c): one parser for every command ----
 *
 * Each command declares its options in a table. Every argument that starts
 * with '-' (other than "-" alone, and anything after "--") must be one of
 * them; "--opt value" and "--opt=value" are the same; values are checked by
 * kind while parsing. Anything else is a usage error: one line naming the
 * reason, then the command's usage, exit 2. */
typedef enum {
    OPT_FLAG,  /* no value */
    OPT_STR,   /* any text (a path, a name) */
    OPT_U64,   /* a canonical decimal in [min, max] */
    OPT_HEX32  /* exactly 64 hex digits (32 bytes) */
} cli_opt_kind;

typedef struct cli_optdef {
    const char *name; /* "--key" or "-o" */
    cli_opt_kind kind;
    int repeat;       /* may be given more than once (else a second one is an error) */
    uint64_t min, max;
} cli_optdef;

typedef struct cli_cmd {
    const char *name;
    const char *usage;      /* "usage: gpurent NAME ..." lines: printed on a usage error */
    const char *help;       /* the rest of --help */
    const cli_optdef *opts; /* ends with a {NULL} entry */
    int min_pos, max_pos;   /* operands; max_pos -1 = any number */
    const char *pos_name;   /* what the operands are, for "missing FILE" */
} cli_cmd;

typedef struct cli_kv {
    const cli_optdef *def;
    const char *value; /* NULL for a flag */
} cli_kv;

typedef struct cli_args {
    const cli_cmd *cmd;
    int nkv, npos;
    cli_kv *kv;        /* in command-line order */
    const char **pos;  /* operands in order */
} cli_args;

/* Parse argv (argv[0] is the command's name). 0: go on; -1: --help was
 * printed (exit 0); EXIT_USAGE: the reason and usage were printed. The
 * arrays live until cli_args_free (main calls it after the command). */
int cli_parse(const cli_cmd *c, int argc, char **argv, cli_args *a);
void cli_args_free(void);
/* A usage error found by the command itself: reason + usage, EXIT_USAGE. */
int cli_usage_error(const cli_args *a, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* The value of an option (the last one of a repeatable one), NULL if absent. */
const char *cli_opt(const cli_args *a, const char *name);
int cli_flag(const cli_args *a, const char *name);
/* An OPT_U64 option's value, or `def` when absent (already range-checked). */
uint64_t cli_opt_u64(const cli_args *a, const char *name, uint64_t def);
/* An OPT_HEX32 option: 1 and `out` filled when given, else 0. */
int cli_opt_hex32(const cli_args *a, const char *name, uint8_t out[32]);

/* A canonical unsigned decimal: digits only, no sign, blank or leading zero
 * (except "0" itself), at most 2^64-1. 0 or -1. */
int cli_u64(const char *s, uint64_t *out);

/* Passphrase from --pass-file, --pass-env VAR or $GPURENT_PASSPHRASE:
 * 0, -1 (file unreadable) or -2 (none given / empty). */
int cli_passphrase(const cli_args *a, char *buf, size_t cap);
/* --now SECONDS when given (tests move the clock), else the time. */
uint64_t cli_now(const cli_args *a);
/* Load --key with the passphrase; 0 or an exit code (message printed). */
int cli_load_key(const cli_args *a, gpurent_key **key);

/* ---- files ---- */

/* Whole-file read; "-" is stdin. At most `max` bytes (EFBIG beyond). 0 or -1 (errno set). */
int cli_read_file_max(const char *path, size_t max, uint8_t **data, size_t *len);
int cli_read_file(const char *path, uint8_t **data, size_t *len);
/* Whole-file write; "-" is stdout. A file is written to a new temporary file
 * in the same folder (O_CREAT|O_EXCL|O_NOFOLLOW, `mode`), synced, then
 * renamed over `path`: a symlink at `path` is replaced, never followed; a
 * failure leaves the old file as it was. With `no_clobber`, an existing
 * `path` is not replaced (EEXIST). 0 or -1 (errno set). */
int cli_write_file_mode(const char *path, const uint8_t *data, size_t len, unsigned mode, int no_clobber);
int cli_write_file(const char *path, const uint8_t *data, size_t len);

/* JSON inputs: bounded in size before parsing, duplicate keys refused.
 * NULL and a message printed (exit code in *code) on failure. */
#define CLI_JSON_MAX_BYTES (8u << 20)
json_t *cli_load_json(const char *cmd, const char *path, int *code);
json_t *cli_parse_json(const char *cmd, const char *path, const uint8_t *data, size_t len, int *code);

/* Record <-> JSON. The record kind is a name ("request", "offer", "gpu")
 * or, for json_from_record, taken from the bytes. */
int cli_record_from_json(const char *kind, json_t *j, gpurent_buf *out, char *err, size_t errlen);
json_t *cli_json_from_record(const uint8_t *data, size_t len, char *err, size_t errlen);
/* Any canonical value to JSON without names (maps keyed by their keys). */
json_t *cli_json_from_value(const uint8_t *data, size_t len, char *err, size_t errlen);

/* Hex helpers. */
char *cli_hex(const uint8_t *b, size_t n); /* malloc'd */
int cli_unhex(const char *s, uint8_t *out, size_t n); /* 0 if exactly n bytes */

/* Role names ("provider") <-> bits; a mask as "provider|auditor". */
uint32_t cli_role_bit(const char *name);

int cmd_inspect(int argc, char **argv);
int cmd_encode(int argc, char **argv);
int cmd_keygen(int argc, char **argv);
int cmd_sign(int argc, char **argv);
int cmd_cosign(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_probe(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_match(int argc, char **argv);
int cmd_tier(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_node(int argc, char **argv);    /* node*.c: libnats */
int cmd_request(int argc, char **argv);
/* Trust file (JSON) -> trust store; 0 or an exit code (message printed). */
int cli_load_trust(const char *cmd, const char *path, gpurent_trust **out);
/* Monotonic clock in seconds (timings). */
double cli_mono_s(void);

#endif
