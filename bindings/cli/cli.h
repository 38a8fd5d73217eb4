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

/* Whole-file I/O; "-" is stdin/stdout. Return 0 or -1 (errno set). */
int cli_read_file(const char *path, uint8_t **data, size_t *len);
int cli_write_file(const char *path, const uint8_t *data, size_t len);

/* Record <-> JSON. The record kind is a name ("request", "offer", "gpu")
 * or, for json_from_record, taken from the bytes. */
int cli_record_from_json(const char *kind, json_t *j, gpurent_buf *out, char *err, size_t errlen);
json_t *cli_json_from_record(const uint8_t *data, size_t len, char *err, size_t errlen);
/* Any canonical value to JSON without names (maps keyed by their keys). */
json_t *cli_json_from_value(const uint8_t *data, size_t len, char *err, size_t errlen);

/* Hex helpers. */
char *cli_hex(const uint8_t *b, size_t n); /* malloc'd */
int cli_unhex(const char *s, uint8_t *out, size_t n); /* 0 if exactly n bytes */

int cmd_inspect(int argc, char **argv);
int cmd_encode(int argc, char **argv);

#endif

/* Option helpers (args.c). */
const char *cli_opt(int argc, char **argv, const char *name);
int cli_flag(int argc, char **argv, const char *name);
/* The which-th argument that is not an option; `valued` lists the options
 * that take a value (NULL-terminated). */
const char *cli_positional(int argc, char **argv, int which, const char *const *valued);
/* Passphrase from --pass-file, --pass-env VAR or $GPURENT_PASSPHRASE:
 * 0, -1 (file unreadable) or -2 (none given / empty). */
int cli_passphrase(int argc, char **argv, char *buf, size_t cap);
int cli_u64(const char *s, uint64_t *out);
/* --now SECONDS when given (tests move the clock), else the time. */
uint64_t cli_now(int argc, char **argv);
/* Load --key with the passphrase; 0 or an exit code (message printed). */
int cli_load_key(const char *cmd, int argc, char **argv, gpurent_key **key);

int cmd_keygen(int argc, char **argv);
int cmd_sign(int argc, char **argv);
int cmd_cosign(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_probe(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_match(int argc, char **argv);
int cmd_tier(int argc, char **argv);
/* Trust file (JSON) -> trust store; 0 or an exit code (message printed). */
int cli_load_trust(const char *cmd, const char *path, gpurent_trust **out);
int cmd_bench(int argc, char **argv);
/* Monotonic clock in seconds (timings). */
double cli_mono_s(void);
