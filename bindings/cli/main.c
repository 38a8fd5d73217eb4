/* gpurent: every libgpurent job from a shell. See docs/cli.md. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const cli_cmd inspect_cmd = {
    "inspect", "usage: gpurent inspect FILE\n",
    "Decode a wire record or any canonical value (FILE or - for stdin) and print it as JSON.\n"
    "Known records are checked strictly and shown with field names; byte strings as hex; record\n"
    "types, statuses and other enumerations by name. An envelope's payload is shown decoded but\n"
    "NOT verified (gpurent verify does that).\n",
    (const cli_optdef[]){{NULL, OPT_FLAG, 0, 0, 0}}, 1, 1, "FILE"};

int cmd_inspect(int argc, char **argv)
{
    cli_args a;
    int prc = cli_parse(&inspect_cmd, argc, argv, &a);
    if (prc) return prc < 0 ? 0 : prc;
    const char *in = a.pos[0];
    uint8_t *data;
    size_t len;
    if (cli_read_file(in, &data, &len)) return cli_fail("inspect", EXIT_IO, "%s: %s", in, strerror(errno));
    char err[600];
    json_t *j = cli_json_from_record(data, len, err, sizeof err);
    if (!j) {
        /* Not a record: maybe still a canonical value. */
        char err2[600];
        j = cli_json_from_value(data, len, err2, sizeof err2);
        if (j && len && (data[0] & 0xf0) == 0x80) { json_decref(j); j = NULL; } /* a map that failed as a record */
    }
    free(data);
    if (!j) return cli_fail("inspect", EXIT_INPUT, "%s", err);
    json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY); /* a bare value too */
    fputc('\n', stdout);
    json_decref(j);
    return 0;
}

static const cli_cmd encode_cmd = {
    "encode", "usage: gpurent encode KIND FILE.json [-o OUT]\n",
    "Convert a JSON record to its canonical bytes (FILE.json or - for stdin; OUT or stdout).\n"
    "KIND is one of: gpu, offer, request, audit_report.\n"
    "Missing fields take their defaults; unknown fields, duplicate keys and wrong types are refused;\n"
    "byte fields are hex; numbers are JSON integers (or canonical decimal strings above 2^63-1);\n"
    "sets and the lists of an audit report may be given in any order. Examples: examples/cli/.\n",
    (const cli_optdef[]){{"-o", OPT_STR, 0, 0, 0}, {NULL, OPT_FLAG, 0, 0, 0}}, 2, 2, "KIND and FILE.json"};

int cmd_encode(int argc, char **argv)
{
    cli_args a;
    int prc = cli_parse(&encode_cmd, argc, argv, &a);
    if (prc) return prc < 0 ? 0 : prc;
    const char *out = cli_opt(&a, "-o");
    if (!out) out = "-";
    int code = 0;
    json_t *j = cli_load_json("encode", a.pos[1], &code);
    if (!j) return code;
    gpurent_buf b = {0};
    char err[600];
    int rc = cli_record_from_json(a.pos[0], j, &b, err, sizeof err);
    json_decref(j);
    if (rc) return cli_fail("encode", EXIT_INPUT, "%s", err);
    rc = cli_write_file(out, b.data, b.len);
    gpurent_buf_free(&b);
    if (rc) return cli_fail("encode", EXIT_IO, "%s: %s", out, strerror(errno));
    return 0;
}

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
} command;

static const command commands[] = {
    {"inspect", cmd_inspect, "decode any wire record or envelope to JSON"},
    {"encode", cmd_encode, "convert a JSON gpu, offer, request or audit_report to canonical bytes"},
    {"keygen", cmd_keygen, "create a key pair, sealed in a file with a passphrase"},
    {"sign", cmd_sign, "sign a canonical record into an envelope"},
    {"cosign", cmd_cosign, "add a signature to an envelope (quorum statements)"},
    {"verify", cmd_verify, "verify an envelope against a trust file"},
    {"probe", cmd_probe, "probe this machine's GPUs (table, JSON, or a signed report)"},
    {"tier", cmd_tier, "verify signed audit reports and evaluate provider tiers"},
    {"match", cmd_match, "match requests to offers, explain a request, write the receipt"},
    {"bench", cmd_bench, "quick speed figures for this machine, beside their baselines"},
    {"demo", cmd_demo, "run a whole simulated market and print a summary"},
    {"node", cmd_node, "run a market role over NATS JetStream (provider, auditor, matchmaker)"},
    {"request", cmd_request, "submit a signed request over NATS and wait for its quorum receipt"},
};

static int usage(FILE *f)
{
    fprintf(f, "usage: gpurent COMMAND [ARGS]   (gpurent COMMAND --help for each)\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\nexit codes: 0 ok, 1 operation failed (verification, no match), 2 usage,\n"
               "            3 file I/O, 4 malformed input (JSON, record, passphrase)\n");
    return f == stdout ? 0 : EXIT_USAGE;
}

int main(int argc, char **argv)
{
    if (argc < 2) return usage(stderr);
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) return usage(stdout);
    if (!strcmp(argv[1], "--version")) {
        printf("gpurent %s (library %s)\n", GPURENT_VERSION_STRING, gpurent_version_string());
        return 0;
    }
    if (gpurent_init() != GPURENT_OK) return cli_fail_status("init", gpurent_last_error_status(), EXIT_FAILED);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(argv[1], commands[i].name)) continue;
        int rc = commands[i].run(argc - 1, argv + 1);
        cli_args_free();
        return rc;
    }
    fprintf(stderr, "gpurent: unknown command '%s'\n", argv[1]);
    return usage(stderr);
}
