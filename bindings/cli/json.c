/* Records <-> JSON for people and scripts. Each record kind has a schema
 * naming its integer keys; JSON goes to MessagePack through the schema and
 * then through the library's own strict decoder, so the CLI accepts exactly
 * what the library accepts and writes only canonical bytes. */
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "gpurent/probe.h"

/* T_ENUM: an unsigned value shown by name (names[value]) and read from a
 * name or a number; T_RECTYPE and T_STATUS are shown by the library's
 * names (record types, statuses) and are never written from JSON. */
typedef enum { T_UINT, T_STR, T_BIN, T_MAP, T_ARR_MAP, T_SET_STR, T_SET_BIN, T_PAYLOAD, T_ENUM, T_RECTYPE,
               T_STATUS, T_PV, T_UOPT, T_OPT_STR } ftype; /* T_PV: a probed value [state, error, value(, ratio, verdict)];
                                                 T_UOPT: an optional uint, written only when not 0;
                                                 T_OPT_STR: a string written only when set (non-empty)
                                                 (docs/wire-format.md 2.0) */

typedef struct schema schema;
typedef struct sfield {
    uint32_t key;
    const char *name;
    ftype type;
    uint64_t def;      /* default for a missing T_UINT; for T_ARR_MAP the most items (0: any) */
    uint32_t bin_len;  /* T_BIN / T_SET_BIN: bytes; T_ENUM: how many names */
    const schema *sub; /* T_MAP / T_ARR_MAP */
    const char *const *names; /* T_ENUM: names[value], NULL for a gap */
} sfield;

struct schema {
    const char *name;
    uint32_t type; /* record type under key 0; 0 for a nested map */
    size_t n;
    const sfield *f;
};

#define U(k, n) {k, n, T_UINT, 0, 0, NULL, NULL}
#define UD(k, n, d) {k, n, T_UINT, d, 0, NULL, NULL}
#define UO(k, n) {k, n, T_UOPT, 0, 0, NULL, NULL}
#define S(k, n) {k, n, T_STR, 0, 0, NULL, NULL}
#define B(k, n, l) {k, n, T_BIN, 0, l, NULL, NULL}
#define E(k, n, tab) {k, n, T_ENUM, 0, sizeof tab / sizeof tab[0], NULL, tab}

static const char *const iface_names[] = {"any", "pcie", "sxm"};
static const char *const gang_names[] = {"node", "provider", "region"};
static const char *const check_names[] = {"not_run", "passed", "failed"};
static const char *const challenge_names[] = {NULL, "gpu", "cpu"};
static const char *const outcome_names[] = {NULL, "completed", "failed_provider", "failed_user"};

static const sfield gpu_f[] = {
    S(1, "model"), B(2, "uuid", 16), U(3, "pci_domain"), U(4, "pci_bus"), U(5, "pci_device"),
    U(6, "cc_major"), U(7, "cc_minor"), U(8, "sm_count"), U(9, "memory_mib"), U(10, "clock_mhz"),
    U(11, "mem_clock_mhz"), U(12, "bus_width_bits"), U(13, "l2_kib"), U(14, "ecc_enabled"),
    E(15, "interface", iface_names), U(16, "fp32_gflops"), U(17, "fp16_tensor_gflops"), U(18, "mem_bw_mbps"),
    U(19, "measured_fp32_gflops"), U(20, "measured_mem_bw_mbps"), U(21, "cuda_version"),
    UO(22, "pci_vendor_id"), UO(23, "pci_device_id"), UO(24, "pci_subsystem_vendor_id"),
    UO(25, "pci_subsystem_device_id"),
};
static const schema gpu_map = {"gpu", 0, sizeof gpu_f / sizeof gpu_f[0], gpu_f};
static const schema gpu_rec = {"gpu", GPURENT_RECORD_GPU, sizeof gpu_f / sizeof gpu_f[0], gpu_f};

static const sfield node_f[] = {
    S(1, "node_id"), {2, "gpu", T_MAP, 0, 0, &gpu_map, NULL}, UD(3, "gpu_count", 1), U(4, "gpu_free"),
    U(5, "shared"), U(6, "cpu_millicores"), U(7, "ram_mib"), U(8, "disk_gib"),
    U(9, "price_micro_per_gpu_hour"), B(10, "report_digest", 32),
};
static const schema node_map = {"node", 0, sizeof node_f / sizeof node_f[0], node_f};

static const sfield offer_f[] = {
    B(1, "provider_key", 32), U(2, "seq"), S(3, "region"), U(4, "stake_micro"), U(5, "min_duration_s"),
    U(6, "max_duration_s"), {7, "nodes", T_ARR_MAP, GPURENT_OFFER_MAX_NODES, 0, &node_map, NULL},
};
static const schema offer_rec = {"offer", GPURENT_RECORD_OFFER, sizeof offer_f / sizeof offer_f[0], offer_f};

static const sfield request_f[] = {
    S(1, "request_id"), UD(2, "gpu_count", 1), UD(3, "gang_nodes", 1), E(4, "gang_scope", gang_names),
    U(5, "vram_share_pct"), U(6, "min_vram_mib"), U(7, "min_cc"), U(8, "min_fp32_gflops"),
    E(9, "interface", iface_names), U(10, "min_cuda_version"), U(11, "max_price_micro_per_gpu_hour"),
    U(12, "allowed_tiers"), UD(13, "duration_s", 3600), U(14, "verified_only"), U(15, "cpu_millicores"),
    U(16, "ram_mib"), U(17, "disk_gib"), U(18, "submitted_at"),
    {19, "models", T_SET_STR, 0, 0, NULL, NULL}, {20, "regions", T_SET_STR, 0, 0, NULL, NULL},
    {21, "excluded_regions", T_SET_STR, 0, 0, NULL, NULL}, {22, "providers", T_SET_BIN, 0, 32, NULL, NULL},
    {23, "excluded_providers", T_SET_BIN, 0, 32, NULL, NULL},
    {24, "framework", T_OPT_STR, 0, 0, NULL, NULL}, /* a framework build, "torch 2.5+cu124" (docs/models.md) */
};
static const schema request_rec = {"request", GPURENT_RECORD_REQUEST, sizeof request_f / sizeof request_f[0],
                                   request_f};

/* Records of the other modules: shown with names; only gpu, offer and
 * request can be written from JSON (the others are made by the library). */
static const sfield sig_f[] = {B(1, "key", 32), B(2, "signature", 64)};
static const schema sig_map = {"signature", 0, 2, sig_f};
static const sfield env_f[] = {
    {1, "statement", T_RECTYPE, 0, 0, NULL, NULL}, B(2, "issuer", 32), U(3, "issued_at"), U(4, "expires_at"),
    B(5, "nonce", 16), B(6, "subject", 0), {7, "payload", T_PAYLOAD, 0, 0, NULL, NULL},
    {8, "signatures", T_ARR_MAP, 0, 0, &sig_map, NULL},
};
static const schema env_rec = {"envelope", GPURENT_RECORD_ENVELOPE, sizeof env_f / sizeof env_f[0], env_f};
static const sfield rev_f[] = {B(1, "key", 32), U(2, "revoked_at"), U(3, "reason")};
static const schema rev_rec = {"revocation", GPURENT_RECORD_REVOCATION, 3, rev_f};
static const sfield chal_f[] = {U(1, "time_s"), E(2, "kind", challenge_names), U(3, "passed")};
static const schema chal_map = {"challenge", 0, 3, chal_f};
static const sfield job_f[] = {S(1, "job_id"), U(2, "end_s"), E(3, "outcome", outcome_names)};
static const schema job_map = {"job", 0, 3, job_f};
static const sfield audit_f[] = {
    B(1, "provider_key", 32), B(2, "auditor_key", 32), U(3, "time_s"), E(4, "gpu_report", check_names),
    E(5, "integrity", check_names), E(6, "security", check_names), B(7, "gpu_report_digest", 32),
    U(8, "stake_observed"), U(9, "stake_micro"),
    {10, "challenges", T_ARR_MAP, GPURENT_AUDIT_MAX_CHALLENGES, 0, &chal_map, NULL},
    {11, "jobs", T_ARR_MAP, GPURENT_AUDIT_MAX_JOBS, 0, &job_map, NULL},
};
static const schema audit_rec = {"audit_report", GPURENT_RECORD_AUDIT_REPORT, sizeof audit_f / sizeof audit_f[0], audit_f};
static const sfield cert_f[] = {
    B(1, "provider_key", 32), U(2, "era"), U(3, "tier"), U(4, "incubating"), U(5, "score_ppm"), U(6, "mean_ppm"),
    U(7, "confidence_ppm"), U(8, "uptime_ppm"), U(9, "eras_in_tier"), U(10, "points_ppm"),
    B(11, "evidence_digest", 32), B(12, "params_digest", 32), {13, "auditors", T_SET_BIN, 0, 32, NULL, NULL},
};
static const schema cert_rec = {"tier_cert", GPURENT_RECORD_TIER_CERT, sizeof cert_f / sizeof cert_f[0], cert_f};

/* GPU report: probed values are small arrays ([state, error, value]), shown as they are. */
#define PV(k, n) {k, n, T_PV, 0, 0, NULL, NULL}
static const sfield dev_f[] = {
    U(1, "ordinal"), PV(2, "name"), PV(3, "uuid"), PV(4, "pci_domain"), PV(5, "pci_bus"), PV(6, "pci_device"),
    PV(7, "cc_major"), PV(8, "cc_minor"), PV(9, "sm_count"), PV(10, "memory_bytes"), PV(11, "clock_khz"),
    PV(12, "mem_clock_khz"), PV(13, "bus_width_bits"), PV(14, "l2_bytes"), PV(15, "ecc_enabled"),
    PV(16, "max_threads_per_sm"), PV(17, "fp32_gflops"), PV(18, "fp16_tensor_gflops"), PV(19, "bf16_tensor_gflops"),
    PV(20, "mem_bw_mbps"), PV(21, "h2d_peak_mbps"), PV(22, "d2d"), PV(23, "h2d"), PV(24, "fma"),
    UO(25, "pci_vendor_id"), UO(26, "pci_device_id"), UO(27, "pci_subsystem_vendor_id"),
    UO(28, "pci_subsystem_device_id"),
};
static const schema dev_map = {"device", 0, sizeof dev_f / sizeof dev_f[0], dev_f};
static const sfield report_f[] = {
    B(1, "nonce", 32), U(2, "probed_at"), {3, "status", T_STATUS, 0, 0, NULL, NULL}, U(4, "driver_error"), S(5, "reason"),
    PV(6, "driver_version"), S(7, "driver_path"), B(8, "driver_digest", 32), U(9, "ld_preload_set"),
    U(10, "cuda_visible_devices_set"), U(11, "driver_device_count"), U(12, "checks"),
    {13, "devices", T_ARR_MAP, 0, 0, &dev_map, NULL},
};
static const schema report_rec = {"gpu_report", GPURENT_RECORD_GPU_REPORT, sizeof report_f / sizeof report_f[0],
                                  report_f};

static const sfield place_f[] = {B(1, "provider_key", 32), S(2, "node_id"), U(3, "gpus"), U(4, "share_pct"),
                                 U(5, "gpu_index"), U(6, "price_micro_per_gpu_hour")};
static const schema place_map = {"placement", 0, 6, place_f};
static const sfield assign_f[] = {S(1, "request_id"), U(2, "value"), {3, "placements", T_ARR_MAP, 0, 0, &place_map, NULL}};
static const schema assign_map = {"assignment", 0, 3, assign_f};
static const sfield receipt_f[] = {
    B(1, "seed", 32), B(2, "policy_digest", 32), B(3, "offers_digest", 32), B(4, "requests_digest", 32),
    U(5, "matched_at"), U(6, "total_value"), U(7, "request_count"), {8, "assignments", T_ARR_MAP, 0, 0, &assign_map, NULL},
};
static const schema receipt_rec = {"match_receipt", GPURENT_RECORD_MATCH_RECEIPT,
                                   sizeof receipt_f / sizeof receipt_f[0], receipt_f};

static const schema *const records[] = {&gpu_rec, &offer_rec, &request_rec, &env_rec, &rev_rec, &audit_rec, &cert_rec,
                                        &report_rec, &receipt_rec};

static const schema *schema_by_name(const char *name)
{
    for (size_t i = 0; i < sizeof records / sizeof records[0]; i++)
        if (!strcmp(records[i]->name, name)) return records[i];
    return NULL;
}

static const schema *schema_by_type(uint32_t type)
{
    for (size_t i = 0; i < sizeof records / sizeof records[0]; i++)
        if (records[i]->type == type) return records[i];
    return NULL;
}

char *cli_hex(const uint8_t *b, size_t n)
{
    char *s = malloc(2 * n + 1);
    if (!s) return NULL;
    for (size_t i = 0; i < n; i++) sprintf(s + 2 * i, "%02x", b[i]);
    s[2 * n] = '\0';
    return s;
}

int cli_unhex(const char *s, uint8_t *out, size_t n)
{
    if (strlen(s) != 2 * n) return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1) return -1;
        if (!strchr("0123456789abcdefABCDEF", s[2 * i]) || !strchr("0123456789abcdefABCDEF", s[2 * i + 1]))
            return -1;
        out[i] = (uint8_t)v;
    }
    return 0;
}

/* ---------------- JSON -> MessagePack ---------------- */

typedef struct jctx {
    msgpack_packer pk;
    char *err;
    size_t errlen;
} jctx;

static int jfail(jctx *c, const char *path, const char *what)
{
    snprintf(c->err, c->errlen, "%s: %s", path, what);
    return -1;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int pack_map(jctx *c, const schema *s, json_t *obj, const char *path);

static int pack_field(jctx *c, const sfield *f, json_t *v, const char *path)
{
    switch (f->type) {
    case T_UOPT:
    case T_UINT:
        if (!v) return msgpack_pack_uint64(&c->pk, f->def), 0;
        if (json_is_string(v)) {
            /* Values above 2^63-1 do not fit JSON integers here: inspect
             * writes them as decimal strings, and they are read back so. */
            uint64_t big;
            if (cli_u64(json_string_value(v), &big)) return jfail(c, path, "expected a non-negative integer");
            return msgpack_pack_uint64(&c->pk, big), 0;
        }
        if (!json_is_integer(v) || json_integer_value(v) < 0)
            return jfail(c, path, "expected a non-negative integer");
        return msgpack_pack_uint64(&c->pk, (uint64_t)json_integer_value(v)), 0;
    case T_ENUM:
        if (json_is_string(v)) {
            for (uint32_t i = 0; i < f->bin_len; i++)
                if (f->names[i] && !strcmp(f->names[i], json_string_value(v))) return msgpack_pack_uint64(&c->pk, i), 0;
            char what[200], list[120] = "";
            for (uint32_t i = 0; i < f->bin_len; i++)
                if (f->names[i]) {
                    if (*list) strncat(list, ", ", sizeof list - strlen(list) - 1);
                    strncat(list, f->names[i], sizeof list - strlen(list) - 1);
                }
            snprintf(what, sizeof what, "unknown name '%.40s' (%s)", json_string_value(v), list);
            return jfail(c, path, what);
        }
        if (v && (!json_is_integer(v) || json_integer_value(v) < 0))
            return jfail(c, path, "expected a name or a non-negative integer");
        return msgpack_pack_uint64(&c->pk, v ? (uint64_t)json_integer_value(v) : 0), 0;
    case T_RECTYPE:
    case T_STATUS:
    case T_PV:
        return jfail(c, path, "internal: not written from JSON");
    case T_OPT_STR:
    case T_STR: {
        const char *s = v ? json_string_value(v) : "";
        if (!s) return jfail(c, path, "expected a string");
        size_t l = v ? json_string_length(v) : 0;
        msgpack_pack_str(&c->pk, l);
        return msgpack_pack_str_body(&c->pk, s, l), 0;
    }
    case T_BIN: {
        uint8_t buf[64] = {0};
        if (v && (!json_is_string(v) || cli_unhex(json_string_value(v), buf, f->bin_len)))
            return jfail(c, path, f->bin_len == 32 ? "expected 64 hex digits" : "expected 32 hex digits");
        msgpack_pack_bin(&c->pk, f->bin_len);
        return msgpack_pack_bin_body(&c->pk, buf, f->bin_len), 0;
    }
    case T_MAP:
        if (v && !json_is_object(v)) return jfail(c, path, "expected an object");
        return pack_map(c, f->sub, v, path);
    case T_ARR_MAP: {
        if (v && !json_is_array(v)) return jfail(c, path, "expected an array");
        size_t n = v ? json_array_size(v) : 0;
        if (f->def && n > f->def) {
            char what[96];
            snprintf(what, sizeof what, "%zu items, at most %llu", n, (unsigned long long)f->def);
            return jfail(c, path, what);
        }
        msgpack_pack_array(&c->pk, n);
        for (size_t i = 0; i < n; i++) {
            char p[256];
            snprintf(p, sizeof p, "%.200s[%zu]", path, i);
            json_t *it = json_array_get(v, i);
            if (!json_is_object(it)) return jfail(c, p, "expected an object");
            if (pack_map(c, f->sub, it, p)) return -1;
        }
        return 0;
    }
    case T_PAYLOAD:
        return jfail(c, path, "internal: payloads are not written from JSON");
    case T_SET_STR:
    case T_SET_BIN: {
        if (v && !json_is_array(v)) return jfail(c, path, "expected an array");
        size_t n = v ? json_array_size(v) : 0;
        if (n > 64) return jfail(c, path, "too many items");
        const char *items[64];
        for (size_t i = 0; i < n; i++)
            if (!(items[i] = json_string_value(json_array_get(v, i)))) return jfail(c, path, "expected strings");
        /* Sets are canonical when sorted; hex of equal length sorts like bytes. */
        qsort(items, n, sizeof items[0], cmp_str);
        msgpack_pack_array(&c->pk, n);
        for (size_t i = 0; i < n; i++) {
            if (f->type == T_SET_STR) {
                msgpack_pack_str(&c->pk, strlen(items[i]));
                msgpack_pack_str_body(&c->pk, items[i], strlen(items[i]));
            } else {
                uint8_t key[32];
                char lower[65];
                size_t l = strlen(items[i]);
                if (l != 64) return jfail(c, path, "expected keys of 64 hex digits");
                for (size_t k = 0; k <= l; k++) lower[k] = (char)(items[i][k] | (items[i][k] >= 'A' && items[i][k] <= 'F' ? 0x20 : 0));
                if (cli_unhex(lower, key, 32)) return jfail(c, path, "expected keys of 64 hex digits");
                msgpack_pack_bin(&c->pk, 32);
                msgpack_pack_bin_body(&c->pk, key, 32);
            }
        }
        return 0;
    }
    }
    return jfail(c, path, "internal: unknown field type");
}

/* An optional field that is left out: missing from the JSON, or 0. */
static int opt_absent(const sfield *f, json_t *obj)
{
    json_t *v = obj ? json_object_get(obj, f->name) : NULL;
    if (f->type == T_UOPT) return !v || (json_is_integer(v) && json_integer_value(v) == 0);
    /* An optional string is left out when absent, null or "" (any other
     * type is written, so pack_field refuses it by name). */
    if (f->type == T_OPT_STR) return !v || json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0);
    return 0;
}

static int pack_map(jctx *c, const schema *s, json_t *obj, const char *path)
{
    /* Unknown names are refused: a typo must not silently become a default. */
    const char *name;
    json_t *v;
    json_object_foreach(obj, name, v) {
        int known = 0;
        for (size_t i = 0; i < s->n; i++) known |= !strcmp(s->f[i].name, name);
        if (!known && s->type && !strcmp(name, "type")) {
            /* "type" (as inspect writes it) must name this very record. */
            if (!json_is_string(v) || strcmp(json_string_value(v), s->name)) {
                char what[160];
                snprintf(what, sizeof what, "\"type\" must be \"%s\" when encoding a %s", s->name, s->name);
                return jfail(c, path, what);
            }
            continue;
        }
        if (!known) {
            char what[160];
            snprintf(what, sizeof what, "unknown field '%s'", name);
            return jfail(c, path, what);
        }
    }
    size_t entries = s->n + (s->type ? 1 : 0);
    for (size_t i = 0; i < s->n; i++) entries -= opt_absent(&s->f[i], obj);
    msgpack_pack_map(&c->pk, (uint32_t)entries);
    if (s->type) {
        msgpack_pack_uint64(&c->pk, 0);
        msgpack_pack_uint64(&c->pk, s->type);
    }
    for (size_t i = 0; i < s->n; i++) {
        if (opt_absent(&s->f[i], obj)) continue;
        char p[256];
        snprintf(p, sizeof p, "%.180s.%.60s", path, s->f[i].name);
        msgpack_pack_uint64(&c->pk, s->f[i].key);
        if (pack_field(c, &s->f[i], obj ? json_object_get(obj, s->f[i].name) : NULL, p)) return -1;
    }
    return 0;
}

/* An audit report written by hand: its lists in any order. The packed
 * value is read with msgpack-c (it is our own, bounded output) into the
 * struct through the library's setters, which the encoder then sorts. */
static int lenient_audit(const uint8_t *b, size_t n, gpurent_audit_report *a)
{
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    int rc = GPURENT_OK;
    if (msgpack_unpack_next(&u, (const char *)b, n, &off) != MSGPACK_UNPACK_SUCCESS) {
        msgpack_unpacked_destroy(&u);
        return GPURENT_E_MALFORMED;
    }
    const msgpack_object_map *m = &u.data.via.map;
    for (uint32_t i = 0; i < m->size && !rc; i++) {
        const msgpack_object *v = &m->ptr[i].val;
        uint64_t k = m->ptr[i].key.via.u64, x = v->type == MSGPACK_OBJECT_POSITIVE_INTEGER ? v->via.u64 : 0;
        const void *bin = v->type == MSGPACK_OBJECT_BIN ? v->via.bin.ptr : NULL;
        switch (k) {
        case 1: if (bin) memcpy(a->provider_key, bin, 32); break;
        case 2: if (bin) memcpy(a->auditor_key, bin, 32); break;
        case 3: a->time_s = x; break;
        case 4: a->gpu_report = (uint32_t)x; break;
        case 5: a->integrity = (uint32_t)x; break;
        case 6: a->security = (uint32_t)x; break;
        case 7: if (bin) memcpy(a->gpu_report_digest, bin, 32); break;
        case 8: a->stake_observed = (uint32_t)x; break;
        case 9: a->stake_micro = x; break;
        case 10:
        case 11:
            for (uint32_t j = 0; j < v->via.array.size && !rc; j++) {
                const msgpack_object_map *it = &v->via.array.ptr[j].via.map;
                uint64_t f[3] = {0, 0, 0};
                char id[GPURENT_NAME_MAX] = "";
                for (uint32_t q = 0; q < it->size && q < 3; q++) {
                    const msgpack_object *iv = &it->ptr[q].val;
                    if (iv->type == MSGPACK_OBJECT_STR)
                        snprintf(id, sizeof id, "%.*s", (int)iv->via.str.size, iv->via.str.size ? iv->via.str.ptr : "");
                    else f[q] = iv->via.u64;
                }
                rc = k == 10 ? gpurent_audit_report_add_challenge(a, f[0], (uint32_t)f[1], (uint32_t)f[2])
                             : gpurent_audit_report_add_job(a, id, f[1], (uint32_t)f[2]);
            }
            break;
        default: break;
        }
    }
    msgpack_unpacked_destroy(&u);
    return rc;
}

/* The library's strict decoder for any record type it knows (for inspect):
 * every field is checked before anything is shown. */
static int strict_check(uint32_t type, const uint8_t *b, size_t n)
{
    int rc = GPURENT_OK;
    switch (type) {
    case GPURENT_RECORD_GPU_REPORT: {
        gpurent_gpu_report *r = malloc(sizeof *r); /* about 40 KiB: not on the stack */
        if (!r) return GPURENT_E_NOMEM;
        rc = gpurent_gpu_report_decode(b, n, r);
        free(r);
        return rc;
    }
    case GPURENT_RECORD_ENVELOPE: {
        gpurent_envelope e;
        return gpurent_envelope_decode(b, n, &e);
    }
    case GPURENT_RECORD_REVOCATION: {
        gpurent_revocation v;
        return gpurent_revocation_decode(b, n, &v);
    }
    case GPURENT_RECORD_AUDIT_REPORT: {
        gpurent_audit_report a;
        gpurent_audit_report_init(&a);
        rc = gpurent_audit_report_decode(b, n, &a);
        gpurent_audit_report_clear(&a);
        return rc;
    }
    case GPURENT_RECORD_TIER_CERT: {
        gpurent_tier_cert c;
        return gpurent_tier_cert_decode(b, n, &c);
    }
    case GPURENT_RECORD_MATCH_RECEIPT: {
        gpurent_match_receipt r;
        gpurent_match_receipt_init(&r);
        rc = gpurent_match_receipt_decode(b, n, &r);
        gpurent_match_receipt_clear(&r);
        return rc;
    }
    default: return rc;
    }
}

/* Decode with the library's strict decoder and re-encode: the output is
 * canonical and valid, or the library's error names the problem. */
static int validate(uint32_t type, const uint8_t *b, size_t n, gpurent_buf *out)
{
    int rc;
    if (type == GPURENT_RECORD_AUDIT_REPORT) {
        /* Re-encode through the struct: the encoder sorts the challenge and
         * job sets, so people may list them in any order. */
        gpurent_audit_report a;
        gpurent_audit_report_init(&a);
        rc = lenient_audit(b, n, &a);
        if (!rc) rc = gpurent_audit_report_encode(&a, out);
        gpurent_audit_report_clear(&a);
        return rc;
    }
    if (type != GPURENT_RECORD_GPU && type != GPURENT_RECORD_OFFER && type != GPURENT_RECORD_REQUEST)
        return GPURENT_E_UNSUPPORTED; /* made by the library, not from JSON */
    if (type == GPURENT_RECORD_GPU) {
        gpurent_gpu g;
        rc = gpurent_gpu_decode(b, n, &g);
        return rc ? rc : gpurent_gpu_encode(&g, out);
    }
    if (type == GPURENT_RECORD_OFFER) {
        gpurent_offer o;
        gpurent_offer_init(&o);
        rc = gpurent_offer_decode(b, n, &o);
        if (!rc) rc = gpurent_offer_encode(&o, out);
        gpurent_offer_clear(&o);
        return rc;
    }
    gpurent_request q;
    rc = gpurent_request_decode(b, n, &q);
    return rc ? rc : gpurent_request_encode(&q, out);
}

int cli_record_from_json(const char *kind, json_t *j, gpurent_buf *out, char *err, size_t errlen)
{
    const schema *s = schema_by_name(kind);
    if (!s || (s->type != GPURENT_RECORD_GPU && s->type != GPURENT_RECORD_OFFER && s->type != GPURENT_RECORD_REQUEST &&
               s->type != GPURENT_RECORD_AUDIT_REPORT))
        return snprintf(err, errlen, "unknown record kind '%s' (gpu, offer, request, audit_report)", kind), -1;
    if (!json_is_object(j)) return snprintf(err, errlen, "%s: expected a JSON object", kind), -1;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    jctx c = {.err = err, .errlen = errlen};
    msgpack_packer_init(&c.pk, &sb, msgpack_sbuffer_write);
    int rc = pack_map(&c, s, j, kind);
    if (!rc) {
        rc = validate(s->type, (const uint8_t *)sb.data, sb.size, out);
        if (rc) snprintf(err, errlen, "%s: %s", gpurent_status_name(rc), gpurent_last_error_message());
    }
    msgpack_sbuffer_destroy(&sb);
    return rc ? -1 : 0;
}

/* ---------------- MessagePack -> JSON ---------------- */

static json_t *value_to_json(const msgpack_object *o, const schema *s);

static json_t *bin_hex(const void *p, size_t n)
{
    char *h = cli_hex(p, n);
    json_t *j = json_string(h ? h : "");
    free(h);
    return j;
}

static json_t *map_to_json(const msgpack_object *o, const schema *s)
{
    json_t *j = json_object();
    for (uint32_t i = 0; i < o->via.map.size; i++) {
        const msgpack_object *k = &o->via.map.ptr[i].key, *v = &o->via.map.ptr[i].val;
        const sfield *f = NULL;
        char name[32];
        if (k->type == MSGPACK_OBJECT_POSITIVE_INTEGER && s) {
            for (size_t x = 0; x < s->n; x++)
                if (s->f[x].key == k->via.u64) f = &s->f[x];
            if (k->via.u64 == 0 && s->type) {
                json_object_set_new(j, "type", json_string(gpurent_record_type_name((uint32_t)v->via.u64)));
                continue;
            }
        }
        if (f) snprintf(name, sizeof name, "%s", f->name);
        else if (k->type == MSGPACK_OBJECT_POSITIVE_INTEGER) snprintf(name, sizeof name, "%llu", (unsigned long long)k->via.u64);
        else if (k->type == MSGPACK_OBJECT_STR) snprintf(name, sizeof name, "%.*s", (int)(k->via.str.size < 31 ? k->via.str.size : 31), k->via.str.ptr);
        else snprintf(name, sizeof name, "key%u", i);
        const schema *sub = f && (f->type == T_MAP || f->type == T_ARR_MAP) ? f->sub : NULL;
        /* Enumerations by name: people read "match_receipt", not 7. */
        if (f && v->type == MSGPACK_OBJECT_POSITIVE_INTEGER && v->via.u64 <= UINT32_MAX) {
            const char *nm = NULL;
            if (f->type == T_ENUM && v->via.u64 < f->bin_len) nm = f->names[v->via.u64];
            if (f->type == T_RECTYPE && strcmp(gpurent_record_type_name((uint32_t)v->via.u64), "unknown"))
                nm = gpurent_record_type_name((uint32_t)v->via.u64);
            if (nm) { json_object_set_new(j, name, json_string(nm)); continue; }
        }
        if (f && f->type == T_PV && v->type == MSGPACK_OBJECT_ARRAY && v->via.array.size >= 3) {
            /* [state, error, value] and, for checks, [.., ratio_ppm, verdict]: states and verdicts by name. */
            const msgpack_object *it = v->via.array.ptr;
            json_t *a = json_array();
            for (uint32_t x = 0; x < v->via.array.size; x++) {
                int named = it[x].type == MSGPACK_OBJECT_POSITIVE_INTEGER && it[x].via.u64 < 16 &&
                            (x == 0 || (x == 4 && v->via.array.size == 5));
                json_array_append_new(a, !named ? value_to_json(&it[x], NULL)
                                                : json_string(x == 0 ? gpurent_pv_state_name((uint32_t)it[x].via.u64)
                                                                     : gpurent_verdict_name((uint32_t)it[x].via.u64)));
            }
            json_object_set_new(j, name, a);
            continue;
        }
        if (f && f->type == T_STATUS && (v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER || v->type == MSGPACK_OBJECT_POSITIVE_INTEGER)) {
            json_object_set_new(j, name, json_string(gpurent_status_name((int)v->via.i64)));
            continue;
        }
        if (f && f->type == T_PAYLOAD && v->type == MSGPACK_OBJECT_BIN) {
            /* The payload is a record of its own: show it decoded (it is
             * NOT verified by inspect: `gpurent verify` does that). */
            char err[300];
            json_t *p = cli_json_from_record((const uint8_t *)v->via.bin.ptr, v->via.bin.size, err, sizeof err);
            json_object_set_new(j, name, p ? p : json_string(err));
            continue;
        }
        json_object_set_new(j, name, value_to_json(v, sub));
    }
    return j;
}

static json_t *value_to_json(const msgpack_object *o, const schema *s)
{
    switch (o->type) {
    case MSGPACK_OBJECT_NIL: return json_null();
    case MSGPACK_OBJECT_BOOLEAN: return json_boolean(o->via.boolean);
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        /* JSON integers here are signed 64-bit: larger values become strings. */
        if (o->via.u64 > (uint64_t)INT64_MAX) {
            char b[24];
            snprintf(b, sizeof b, "%llu", (unsigned long long)o->via.u64);
            return json_string(b);
        }
        return json_integer((json_int_t)o->via.u64);
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: return json_integer((json_int_t)o->via.i64);
    /* (jansson answers NULL for json_stringn(NULL, 0): give it "" instead) */
    case MSGPACK_OBJECT_STR: return json_stringn(o->via.str.size ? o->via.str.ptr : "", o->via.str.size);
    case MSGPACK_OBJECT_BIN: return bin_hex(o->via.bin.ptr, o->via.bin.size);
    case MSGPACK_OBJECT_ARRAY: {
        json_t *a = json_array();
        for (uint32_t i = 0; i < o->via.array.size; i++) json_array_append_new(a, value_to_json(&o->via.array.ptr[i], s));
        return a;
    }
    case MSGPACK_OBJECT_MAP: return map_to_json(o, s);
    default: return json_null(); /* floats and ext never pass the canonical check */
    }
}

static json_t *to_json(const uint8_t *data, size_t len, const schema *s, char *err, size_t errlen)
{
    /* Canonical first: this bounds every count before msgpack-c allocates. */
    int rc = gpurent_wire_check_canonical(data, len);
    if (rc) {
        snprintf(err, errlen, "%s: %s", gpurent_status_name(rc), gpurent_last_error_message());
        return NULL;
    }
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    json_t *j = NULL;
    if (msgpack_unpack_next(&u, (const char *)data, len, &off) == MSGPACK_UNPACK_SUCCESS)
        j = value_to_json(&u.data, s);
    else
        snprintf(err, errlen, "msgpack-c could not unpack the value");
    msgpack_unpacked_destroy(&u);
    return j;
}

json_t *cli_json_from_value(const uint8_t *data, size_t len, char *err, size_t errlen)
{
    return to_json(data, len, NULL, err, errlen);
}

json_t *cli_json_from_record(const uint8_t *data, size_t len, char *err, size_t errlen)
{
    uint32_t type;
    int rc = gpurent_wire_record_type(data, len, &type);
    if (rc) {
        snprintf(err, errlen, "%s: %s", gpurent_status_name(rc), gpurent_last_error_message());
        return NULL;
    }
    const schema *s = schema_by_type(type);
    if (!s) {
        rc = strict_check(type, data, len);
        if (rc) {
            snprintf(err, errlen, "%s: %s", gpurent_status_name(rc), gpurent_last_error_message());
            return NULL;
        }
    } else {
        /* Known records are decoded strictly before they are shown. */
        gpurent_buf again = {0};
        rc = s->type <= GPURENT_RECORD_REQUEST ? validate(type, data, len, &again) : strict_check(type, data, len);
        gpurent_buf_free(&again);
        if (rc) {
            snprintf(err, errlen, "%s: %s", gpurent_status_name(rc), gpurent_last_error_message());
            return NULL;
        }
    }
    return to_json(data, len, s, err, errlen);
}
