/* gpurent: every libgpurent job from a shell. See docs/cli.md. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cmd_inspect(int argc, char **argv)
{
    if (argc != 2 || !strcmp(argv[1], "--help")) {
        fprintf(argc == 2 ? stdout : stderr,
                "usage: gpurent inspect FILE\n"
                "Decode a wire record or any canonical value (FILE or - for stdin) and print it as JSON.\n"
                "Known records are checked strictly and shown with field names; byte strings as hex.\n");
        return argc == 2 ? 0 : EXIT_USAGE;
    }
    uint8_t *data;
    size_t len;
    if (cli_read_file(argv[1], &data, &len)) return cli_fail("inspect", EXIT_IO, "%s: %s", argv[1], strerror(errno));
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
    json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    fputc('\n', stdout);
    json_decref(j);
    return 0;
}

int cmd_encode(int argc, char **argv)
{
    const char *out = "-";
    if (argc >= 2 && !strcmp(argv[1], "--help")) {
        printf("usage: gpurent encode KIND FILE.json [-o OUT]\n"
               "Convert a JSON record (KIND: gpu, offer, request) to its canonical bytes.\n"
               "Missing fields take their defaults; unknown fields are refused; byte fields are hex.\n");
        return 0;
    }
    if (argc == 5 && !strcmp(argv[3], "-o")) out = argv[4];
    else if (argc != 3) return cli_fail("encode", EXIT_USAGE, "usage: gpurent encode KIND FILE.json [-o OUT]");
    json_error_t je;
    json_t *j = strcmp(argv[2], "-") ? json_load_file(argv[2], 0, &je) : json_loadf(stdin, 0, &je);
    if (!j) {
        if (je.line < 0 || strstr(je.text, "unable to open"))
            return cli_fail("encode", EXIT_IO, "%s: %s", argv[2], je.text);
        return cli_fail("encode", EXIT_INPUT, "%s:%d:%d: malformed JSON: %s", argv[2], je.line, je.column, je.text);
    }
    gpurent_buf b = {0};
    char err[600];
    int rc = cli_record_from_json(argv[1], j, &b, err, sizeof err);
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
    {"encode", cmd_encode, "convert a JSON request, offer or GPU to canonical bytes"},
    {"keygen", cmd_keygen, "create a key pair, sealed in a file with a passphrase"},
    {"sign", cmd_sign, "sign a canonical record into an envelope"},
    {"cosign", cmd_cosign, "add a signature to an envelope (quorum statements)"},
    {"verify", cmd_verify, "verify an envelope against a trust file"},
    {"probe", cmd_probe, "probe this machine's GPUs (table, JSON, or a signed report)"},
    {"tier", cmd_tier, "verify signed audit reports and evaluate provider tiers"},
    {"match", cmd_match, "match requests to offers, explain a request, write the receipt"},
    {"bench", cmd_bench, "quick speed figures for this machine, beside their baselines"},
    {"demo", cmd_demo, "run a whole simulated market and print a summary"},
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
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "gpurent: unknown command '%s'\n", argv[1]);
    return usage(stderr);
}
