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
    FUZZ_ASSERT(v == NULL || canon == GPURENT_OK, "non-canonical value shown (%d)", canon);
    /* Known CLI gap (reported, bindings/cli/json.c): a canonical value holding
     * an empty string is not shown (jansson's json_stringn(NULL, 0) is NULL,
     * msgpack-c gives a NULL pointer for ""): at the top level the call fails,
     * nested the item is dropped. Tighten to "shown exactly when canonical"
     * when fixed; regress/cli_inspect/empty-string-value is the input. */
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
    /* Known CLI gap (reported, bindings/cli/json.c): inspect shows integers
     * above 2^63-1 as decimal strings, which encode refuses; only offer.seq
     * can hold one. Remove this skip when encode accepts them. */
    if (!strcmp(kind, "offer")) {
        gpurent_offer o;
        gpurent_offer_init(&o);
        int big = gpurent_offer_decode(data, size, &o) == GPURENT_OK && o.seq > (uint64_t)INT64_MAX;
        gpurent_offer_clear(&o);
        if (big) {
            json_decref(j);
            return 0;
        }
    }
    gpurent_buf out = {0};
    FUZZ_ASSERT(cli_record_from_json(kind, j, &out, err, sizeof err) == 0, "shown %s cannot be encoded: %s", kind,
                err);
    fuzz_expect_same_bytes(GPURENT_OK, &out, data, size, "cli_record_from_json");
    gpurent_buf_free(&out);
    json_decref(j);
    return 0;
}
