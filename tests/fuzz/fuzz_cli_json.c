/* Fuzz the CLI's JSON input (`gpurent encode KIND FILE.json`): JSON text ->
 * record bytes through bindings/cli/json.c. The first input byte picks the
 * record kind, the rest is the JSON text.
 *
 * Oracles: whatever the CLI encodes is a record the library decodes, and
 * showing it as JSON (`gpurent inspect`) and encoding that JSON again gives
 * the same bytes. */
#include "cli.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const kinds[] = {"gpu", "offer", "request"};
    if (size < 1) return 0;
    const char *kind = kinds[data[0] % 3];
    json_error_t je;
    json_t *j = json_loadb((const char *)data + 1, size - 1, 0, &je);
    if (!j) return 0;
    char err[512];
    gpurent_buf out = {0};
    if (cli_record_from_json(kind, j, &out, err, sizeof err) != 0) {
        FUZZ_ASSERT(err[0] != '\0', "cli_record_from_json failed without a message");
        json_decref(j);
        return 0;
    }
    json_decref(j);
    uint32_t type = 0;
    FUZZ_ASSERT(gpurent_wire_record_type(out.data, out.len, &type) == GPURENT_OK, "CLI wrote a bad record");
    FUZZ_ASSERT(!strcmp(gpurent_record_type_name(type), kind), "CLI wrote a %s for %s", gpurent_record_type_name(type),
                kind);
    json_t *shown = cli_json_from_record(out.data, out.len, err, sizeof err);
    FUZZ_ASSERT(shown != NULL, "inspect refuses what encode wrote: %s", err);
    gpurent_buf again = {0};
    FUZZ_ASSERT(cli_record_from_json(kind, shown, &again, err, sizeof err) == 0, "re-encode failed: %s", err);
    FUZZ_ASSERT(again.len == out.len && memcmp(again.data, out.data, out.len) == 0,
                "JSON round trip changed the record");
    json_decref(shown);
    gpurent_buf_free(&again);
    gpurent_buf_free(&out);
    return 0;
}
