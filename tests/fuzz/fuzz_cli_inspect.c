/* Fuzz the CLI's view of untrusted bytes (`gpurent inspect FILE`): record
 * or any canonical value -> JSON through bindings/cli/json.c.
 *
 * Oracles: a value is shown only when the library calls it canonical; a
 * known record that is shown can be encoded back from its JSON to the very
 * same bytes (the JSON view loses nothing). */
#include "cli.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    int canon = gpurent_wire_check_canonical(data, size);
    json_t *v = cli_json_from_value(data, size, err, sizeof err);
    FUZZ_ASSERT((v != NULL) == (canon == GPURENT_OK), "value shown %d, canonical status %d", v != NULL, canon);
    json_decref(v);

    json_t *j = cli_json_from_record(data, size, err, sizeof err);
    if (!j) return 0;
    uint32_t type = 0;
    FUZZ_ASSERT(gpurent_wire_record_type(data, size, &type) == GPURENT_OK, "shown record has no type");
    const char *kind = gpurent_record_type_name(type);
    if (strcmp(kind, "gpu") && strcmp(kind, "offer") && strcmp(kind, "request")) {
        json_decref(j);
        return 0; /* shown as a plain value; no JSON input form */
    }
    gpurent_buf out = {0};
    FUZZ_ASSERT(cli_record_from_json(kind, j, &out, err, sizeof err) == 0, "shown %s cannot be encoded: %s", kind,
                err);
    fuzz_expect_same_bytes(GPURENT_OK, &out, data, size, "cli_record_from_json");
    gpurent_buf_free(&out);
    json_decref(j);
    return 0;
}
