/* Records <-> JSON for people and scripts. Each record kind has a schema
 * naming its integer keys; JSON goes to MessagePack through the schema and
 * then through the library's own strict decoder, so the CLI accepts exactly
 * what the library accepts and writes only canonical bytes. */
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

typedef enum { T_UINT, T_STR, T_BIN, T_MAP, T_ARR_MAP, T_SET_STR, T_SET_BIN } ftype;

typedef struct schema schema;
typedef struct sfield {
    uint32_t key;
    const char *name;
    ftype type;
    uint64_t def;      /* default for a missing T_UINT */
    uint32_t bin_len;  /* T_BIN / T_SET_BIN: bytes */
    const schema *sub; /* T_MAP / T_ARR_MAP */
} sfield;

struct schema {
    const char *name;
    uint32_t type; /* record type under key 0; 0 for a nested map */
    size_t n;
    const sfield *f;
};

#define U(k, n) {k, n, T_UINT, 0, 0, NULL}
#define UD(k, n, d) {k, n, T_UINT, d, 0, NULL}
#define S(k, n) {k, n, T_STR, 0, 0, NULL}
#define B(k, n, l) {k, n, T_BIN, 0, l, NULL}

static const sfield gpu_f[] = {
    S(1, "model"), B(2, "uuid", 16), U(3, "pci_domain"), U(4, "pci_bus"), U(5, "pci_device"),
    U(6, "cc_major"), U(7, "cc_minor"), U(8, "sm_count"), U(9, "memory_mib"), U(10, "clock_mhz"),
    U(11, "mem_clock_mhz"), U(12, "bus_width_bits"), U(13, "l2_kib"), U(14, "ecc_enabled"),
    U(15, "interface"), U(16, "fp32_gflops"), U(17, "fp16_tensor_gflops"), U(18, "mem_bw_mbps"),
    U(19, "measured_fp32_gflops"), U(20, "measured_mem_bw_mbps"), U(21, "cuda_version"),
};
static const schema gpu_map = {"gpu", 0, sizeof gpu_f / sizeof gpu_f[0], gpu_f};
static const schema gpu_rec = {"gpu", GPURENT_RECORD_GPU, sizeof gpu_f / sizeof gpu_f[0], gpu_f};

static const sfield node_f[] = {
    S(1, "node_id"), {2, "gpu", T_MAP, 0, 0, &gpu_map}, UD(3, "gpu_count", 1), U(4, "gpu_free"),
    U(5, "shared"), U(6, "cpu_millicores"), U(7, "ram_mib"), U(8, "disk_gib"),
    U(9, "price_micro_per_gpu_hour"), B(10, "report_digest", 32),
};
static const schema node_map = {"node", 0, sizeof node_f / sizeof node_f[0], node_f};

static const sfield offer_f[] = {
    B(1, "provider_key", 32), U(2, "seq"), S(3, "region"), U(4, "stake_micro"), U(5, "min_duration_s"),
    U(6, "max_duration_s"), {7, "nodes", T_ARR_MAP, 0, 0, &node_map},
};
static const schema offer_rec = {"offer", GPURENT_RECORD_OFFER, sizeof offer_f / sizeof offer_f[0], offer_f};

static const sfield request_f[] = {
    S(1, "request_id"), UD(2, "gpu_count", 1), UD(3, "gang_nodes", 1), U(4, "gang_scope"),
    U(5, "vram_share_pct"), U(6, "min_vram_mib"), U(7, "min_cc"), U(8, "min_fp32_gflops"),
    U(9, "interface"), U(10, "min_cuda_version"), U(11, "max_price_micro_per_gpu_hour"),
    U(12, "allowed_tiers"), UD(13, "duration_s", 3600), U(14, "verified_only"), U(15, "cpu_millicores"),
    U(16, "ram_mib"), U(17, "disk_gib"), U(18, "submitted_at"),
    {19, "models", T_SET_STR, 0, 0, NULL}, {20, "regions", T_SET_STR, 0, 0, NULL},
    {21, "excluded_regions", T_SET_STR, 0, 0, NULL}, {22, "providers", T_SET_BIN, 0, 32, NULL},
    {23, "excluded_providers", T_SET_BIN, 0, 32, NULL},
};
static const schema request_rec = {"request", GPURENT_RECORD_REQUEST, sizeof request_f / sizeof request_f[0],
                                   request_f};

static const schema *const records[] = {&gpu_rec, &offer_rec, &request_rec};

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
    case T_UINT:
        if (!v) return msgpack_pack_uint64(&c->pk, f->def), 0;
        if (!json_is_integer(v) || json_integer_value(v) < 0)
            return jfail(c, path, "expected a non-negative integer");
        return msgpack_pack_uint64(&c->pk, (uint64_t)json_integer_value(v)), 0;
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

static int pack_map(jctx *c, const schema *s, json_t *obj, const char *path)
{
    /* Unknown names are refused: a typo must not silently become a default. */
    const char *name;
    json_t *v;
    json_object_foreach(obj, name, v) {
        int known = 0;
        for (size_t i = 0; i < s->n; i++) known |= !strcmp(s->f[i].name, name);
        if (!known && !(s->type && !strcmp(name, "type"))) {
            char what[160];
            snprintf(what, sizeof what, "unknown field '%s'", name);
            return jfail(c, path, what);
        }
    }
    msgpack_pack_map(&c->pk, s->n + (s->type ? 1 : 0));
    if (s->type) {
        msgpack_pack_uint64(&c->pk, 0);
        msgpack_pack_uint64(&c->pk, s->type);
    }
    for (size_t i = 0; i < s->n; i++) {
        char p[256];
        snprintf(p, sizeof p, "%.180s.%.60s", path, s->f[i].name);
        msgpack_pack_uint64(&c->pk, s->f[i].key);
        if (pack_field(c, &s->f[i], obj ? json_object_get(obj, s->f[i].name) : NULL, p)) return -1;
    }
    return 0;
}

/* Decode with the library's strict decoder and re-encode: the output is
 * canonical and valid, or the library's error names the problem. */
static int validate(uint32_t type, const uint8_t *b, size_t n, gpurent_buf *out)
{
    int rc;
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
    if (!s) return snprintf(err, errlen, "unknown record kind '%s' (gpu, offer, request)", kind), -1;
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
    case MSGPACK_OBJECT_STR: return json_stringn(o->via.str.ptr, o->via.str.size);
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
    if (s) {
        /* Known records are decoded strictly before they are shown. */
        gpurent_buf again = {0};
        rc = validate(type, data, len, &again);
        gpurent_buf_free(&again);
        if (rc) {
            snprintf(err, errlen, "%s: %s", gpurent_status_name(rc), gpurent_last_error_message());
            return NULL;
        }
    }
    return to_json(data, len, s, err, errlen);
}
