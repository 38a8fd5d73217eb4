/* The deployment request record. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/snap_internal.h"
#include "mp_internal.h"

#define RF(key, kind, member, max) GR_FIELD(key, kind, gpurent_request, member, max)
static const gr_field req_fields[] = {
    RF(1, GR_STR, request_id, 0),
    RF(2, GR_U32, gpu_count, GPURENT_REQUEST_MAX_GPUS),
    RF(3, GR_U32, gang_nodes, GPURENT_REQUEST_MAX_GPUS),
    RF(4, GR_U32, gang_scope, GPURENT_GANG_REGION),
    RF(5, GR_U32, vram_share_pct, 100),
    RF(6, GR_U64, min_vram_mib, 1ull << 32),
    RF(7, GR_U32, min_cc, 999),
    RF(8, GR_U64, min_fp32_gflops, 1ull << 40),
    RF(9, GR_U32, interface, GPURENT_IFACE_SXM),
    RF(10, GR_U32, min_cuda_version, 999999),
    RF(11, GR_U64, max_price_micro_per_gpu_hour, 1ull << 50),
    RF(12, GR_U32, allowed_tiers, 0xfe),
    RF(13, GR_U32, duration_s, GPURENT_MAX_DURATION_S),
    RF(14, GR_U32, verified_only, 1),
    RF(15, GR_U32, cpu_millicores, 100000000u),
    RF(16, GR_U64, ram_mib, 1ull << 40),
    RF(17, GR_U64, disk_gib, 1ull << 40),
    RF(18, GR_U64, submitted_at, 1ull << 40),
};
#undef RF
#define N_(a) (sizeof(a) / sizeof((a)[0]))
#define REQ_FIELDS 24 /* type + 18 scalars + 5 lists; + the optional framework (key 24) */

/* The five set-valued fields, described once for encode, decode and checks. */
typedef struct list_desc {
    uint8_t key;
    uint8_t is_bin;
    uint16_t count_off;
    uint16_t items_off;
    uint16_t item_size;
    const char *name;
} list_desc;

#define LD(key, is_bin, cnt, arr)                                                              \
    {key, is_bin, (uint16_t)offsetof(gpurent_request, cnt), (uint16_t)offsetof(gpurent_request, arr), \
     (uint16_t)sizeof(((gpurent_request *)0)->arr[0]), #arr}
static const list_desc lists[] = {
    LD(19, 0, model_count, models),
    LD(20, 0, region_count, regions),
    LD(21, 0, excluded_region_count, excluded_regions),
    LD(22, 1, provider_count, providers),
    LD(23, 1, excluded_provider_count, excluded_providers),
};
#undef LD

static uint32_t *list_count(const gpurent_request *q, const list_desc *d)
{
    return (uint32_t *)((char *)q + d->count_off);
}

static char *list_item(const gpurent_request *q, const list_desc *d, uint32_t i)
{
    return (char *)q + d->items_off + (size_t)i * d->item_size;
}

/* Canonical item order: strings by bytes (strcmp), keys by memcmp. */
static int item_cmp(const list_desc *d, const char *a, const char *b)
{
    return d->is_bin ? memcmp(a, b, d->item_size) : strcmp(a, b);
}

static int check_list(const gpurent_request *q, const list_desc *d, int need_sorted)
{
    uint32_t n = *list_count(q, d);
    if (n > GPURENT_REQUEST_MAX_LIST)
        return gr_fail(GPURENT_E_INVALID_FIELD, "request.%s: %u items above the limit %u", d->name, n,
                       GPURENT_REQUEST_MAX_LIST);
    for (uint32_t i = 0; i < n; i++) {
        const char *it = list_item(q, d, i);
        /* the item's name is formatted only for the detail of a failure */
        if (!d->is_bin && gr_check_cstr(it, d->item_size, 0, "request", d->name)) {
            char name[48];
            snprintf(name, sizeof name, "%s[%u]", d->name, i);
            return gr_check_cstr(it, d->item_size, 0, "request", name);
        }
        for (uint32_t j = 0; j < i; j++) {
            int c = item_cmp(d, list_item(q, d, j), it);
            if (c == 0)
                return gr_fail(GPURENT_E_INVALID_FIELD, "request.%s[%u]: repeats item %u", d->name, i, j);
            if (need_sorted && c > 0 && j == i - 1)
                return gr_fail(GPURENT_E_NONCANONICAL, "request.%s[%u]: items not in ascending order", d->name, i);
        }
    }
    return GPURENT_OK;
}

static int check_request(const gpurent_request *q, int need_sorted)
{
    int rc = gr_fields_validate(q, req_fields, N_(req_fields), "request");
    if (rc) return rc;
    if (q->gpu_count == 0) return gr_fail(GPURENT_E_INVALID_FIELD, "request.gpu_count: must be at least 1");
    if (q->gang_nodes == 0 || q->gpu_count % q->gang_nodes)
        return gr_fail(GPURENT_E_INVALID_FIELD, "request.gang_nodes: %u does not divide gpu_count %u",
                       q->gang_nodes, q->gpu_count);
    if (q->gang_nodes > 1 && q->gang_scope == GPURENT_GANG_NODE)
        return gr_fail(GPURENT_E_INVALID_FIELD, "request.gang_scope: node scope needs gang_nodes 1, got %u",
                       q->gang_nodes);
    if (q->vram_share_pct && q->gpu_count != 1)
        return gr_fail(GPURENT_E_INVALID_FIELD, "request.vram_share_pct: a GPU share needs gpu_count 1, got %u",
                       q->gpu_count);
    if (q->duration_s == 0) return gr_fail(GPURENT_E_INVALID_FIELD, "request.duration_s: must be at least 1");
    if (q->allowed_tiers & 1u)
        return gr_fail(GPURENT_E_INVALID_FIELD, "request.allowed_tiers: bit 0 set (tiers are 1..7)");
    for (size_t i = 0; i < N_(lists); i++)
        if ((rc = check_list(q, &lists[i], need_sorted))) return rc;
    return gr_check_cstr(q->framework, sizeof q->framework, 1, "request", "framework");
}

GPURENT_API gpurent_status gpurent_request_validate(const gpurent_request *req)
{
    GR_CHECK_ARG(req, "request is NULL");
    return check_request(req, 0);
}



/* A list's items in canonical order (sets are written sorted): their
 * indices into idx by insertion sort (at most 8 items) instead of qsort,
 * which would need shared state; the count. */
static uint32_t sorted_items(const gpurent_request *req, const list_desc *d, uint32_t *idx)
{
    uint32_t n = *list_count(req, d);
    if (n > GPURENT_REQUEST_MAX_LIST) n = GPURENT_REQUEST_MAX_LIST; /* validated before; never past the arrays */
    for (uint32_t i = 0; i < n; i++) {
        uint32_t j = i;
        while (j > 0 && item_cmp(d, list_item(req, d, idx[j - 1]), list_item(req, d, i)) > 0) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = i;
    }
    return n;
}

static void write_request(gr_writer *w, const gpurent_request *req)
{
    gr_wr_map(w, REQ_FIELDS + (req->framework[0] != '\0'));
    gr_wr_uint(w, 0);
    gr_wr_uint(w, GPURENT_RECORD_REQUEST);
    gr_wr_fields(w, req, req_fields, N_(req_fields));
    for (size_t l = 0; l < N_(lists); l++) {
        const list_desc *d = &lists[l];
        uint32_t idx[GPURENT_REQUEST_MAX_LIST], n = sorted_items(req, d, idx);
        gr_wr_uint(w, d->key);
        gr_wr_array(w, n);
        for (uint32_t i = 0; i < n; i++) {
            const char *it = list_item(req, d, idx[i]);
            if (d->is_bin) gr_wr_bin(w, (const uint8_t *)it, d->item_size);
            else gr_wr_cstr(w, it);
        }
    }
    if (req->framework[0]) { /* key 24 exists only when set: a request without it keeps its old bytes */
        gr_wr_uint(w, 24);
        gr_wr_cstr(w, req->framework);
    }
}

GPURENT_API gpurent_status gpurent_request_encode(const gpurent_request *req, gpurent_buf *out)
{
    GR_CHECK_ARG(req && out, "request or out is NULL");
    int rc = check_request(req, 0);
    if (rc) return rc;
    gr_writer w;
    gr_wr_init(&w);
    write_request(&w, req);
    return gr_wr_finish(&w, out);
}

int gr_request_encode_into(const gpurent_request *req, gr_bytes *b)
{
    int rc = check_request(req, 0);
    if (rc) return rc;
    gr_writer w;
    gr_wr_init_on(&w, b);
    write_request(&w, req);
    gr_wr_give_back(&w, b);
    return b->failed ? gr_fail(GPURENT_E_NOMEM, "out of memory while encoding") : GPURENT_OK;
}

int gr_request_write_valid_into(const gpurent_request *req, gr_bytes *b)
{
    gr_writer w;
    gr_wr_init_on(&w, b);
    write_request(&w, req);
    gr_wr_give_back(&w, b);
    return b->failed ? gr_fail(GPURENT_E_NOMEM, "out of memory while encoding") : GPURENT_OK;
}

/* ---- the snapshot form (lib/match/snapshot.c, market version 4) ---- */

/* A string as LE8 length and bytes at o (at most `cap` - 1 bytes of it). */
static uint8_t *put_short(uint8_t *o, const char *s, size_t cap)
{
    size_t n = strnlen(s, cap - 1);
    *o++ = (uint8_t)n;
    memcpy(o, s, n);
    return o + n;
}

/* Room for any request's form: each string takes at most its array (its
 * length byte in place of its NUL), each scalar its field, each list a
 * count byte and at most its array. */
#define FIXED_MAX (sizeof(gpurent_request) + 8)

int gr_request_put_fixed(const gpurent_request *req, gr_bytes *b)
{
    uint8_t *o = gr_put_room(b, FIXED_MAX), *start = o; /* written in place, the room given back after */
    if (!o) return gr_fail(GPURENT_E_NOMEM, "out of memory while encoding");
    for (size_t i = 0; i < N_(req_fields); i++) {
        const gr_field *f = &req_fields[i];
        const char *p = (const char *)req + f->offset;
        if (f->kind == GR_STR) {
            o = put_short(o, p, f->size);
        } else if (f->kind == GR_U32) {
            uint32_t v;
            memcpy(&v, p, 4);
            gr_le_store(o, v, 4);
            o += 4;
        } else {
            uint64_t v;
            memcpy(&v, p, 8);
            gr_le_store(o, v, 8);
            o += 8;
        }
    }
    for (size_t l = 0; l < N_(lists); l++) {
        const list_desc *d = &lists[l];
        uint32_t idx[GPURENT_REQUEST_MAX_LIST], n = sorted_items(req, d, idx);
        *o++ = (uint8_t)n;
        for (uint32_t i = 0; i < n; i++) {
            const char *it = list_item(req, d, idx[i]);
            if (d->is_bin) {
                memcpy(o, it, d->item_size);
                o += d->item_size;
            } else {
                o = put_short(o, it, d->item_size);
            }
        }
    }
    o = put_short(o, req->framework, sizeof req->framework);
    b->len -= FIXED_MAX - (size_t)(o - start);
    return GPURENT_OK;
}

/* A string of at most cap-1 bytes into dst (empty allowed: the checks
 * judge it); 0 and r->bad when the bytes do not hold it. */
static int get_short(gr_snap_reader *r, char *dst, size_t cap)
{
    uint8_t n = gr_get_u8(r);
    const uint8_t *p = gr_get_raw(r, n);
    if (!p || n >= cap || memchr(p, 0, n)) {
        r->bad = 1;
        return 0;
    }
    memcpy(dst, p, n);
    dst[n] = 0;
    return 1;
}

int gr_request_get_fixed(gr_snap_reader *r, gpurent_request *q)
{
    /* every scalar and count is set below; list slots past a count are
     * never read, so only the head is cleared */
    memset(q, 0, offsetof(gpurent_request, models));
    for (size_t i = 0; i < N_(req_fields) && !r->bad; i++) {
        const gr_field *f = &req_fields[i];
        char *p = (char *)q + f->offset;
        if (f->kind == GR_STR) {
            get_short(r, p, f->size);
        } else if (f->kind == GR_U32) {
            uint32_t v = gr_get_u32(r);
            memcpy(p, &v, 4);
        } else {
            uint64_t v = gr_get_u64(r);
            memcpy(p, &v, 8);
        }
    }
    for (size_t l = 0; l < N_(lists) && !r->bad; l++) {
        const list_desc *d = &lists[l];
        uint32_t n = gr_get_u8(r);
        if (n > GPURENT_REQUEST_MAX_LIST)
            return gr_fail(GPURENT_E_INVALID_FIELD, "request.%s: %u items above the limit %u", d->name, n,
                           GPURENT_REQUEST_MAX_LIST);
        *list_count(q, d) = n;
        for (uint32_t i = 0; i < n && !r->bad; i++) {
            char *it = list_item(q, d, i);
            if (d->is_bin) {
                const uint8_t *k = gr_get_raw(r, d->item_size);
                if (k) memcpy(it, k, d->item_size);
            } else {
                get_short(r, it, d->item_size);
            }
        }
    }
    get_short(r, q->framework, sizeof q->framework);
    if (r->bad) return GPURENT_OK; /* the caller reports the short body */
    return check_request(q, 1); /* lists sorted and unique: one form per request */
}

static int read_list(gr_reader *r, gpurent_request *q, const list_desc *d)
{
    uint32_t n;
    int rc = gr_rd_key(r, d->key, d->name);
    if (!rc) rc = gr_rd_array(r, &n);
    if (rc) return gr_annotate(rc, d->name);
    if (n > GPURENT_REQUEST_MAX_LIST)
        return gr_fail(GPURENT_E_OVERSIZE, "request.%s: %u items above the limit %u", d->name, n,
                       GPURENT_REQUEST_MAX_LIST);
    for (uint32_t i = 0; i < n; i++) {
        char *dst = list_item(q, d, i);
        const uint8_t *b;
        uint32_t len;
        if (d->is_bin) {
            rc = gr_rd_bin(r, &b, &len, d->item_size);
            if (!rc && len != d->item_size)
                rc = gr_fail(GPURENT_E_INVALID_FIELD, "request.%s[%u]: %u bytes, expected %u", d->name, i, len,
                             d->item_size);
            if (!rc) memcpy(dst, b, d->item_size);
        } else {
            rc = gr_rd_str(r, (const char **)&b, &len, d->item_size - 1u);
            if (!rc) { memcpy(dst, b, len); dst[len] = '\0'; }
        }
        if (rc) return gr_annotate(rc, d->name);
    }
    *list_count(q, d) = n;
    return GPURENT_OK;
}

GPURENT_API gpurent_status gpurent_request_decode(const uint8_t *data, size_t len, gpurent_request *out)
{
    GR_CHECK_ARG(data || len == 0, "data is NULL");
    GR_CHECK_ARG(out, "out is NULL");
    gr_reader r;
    gpurent_request q;
    memset(&q, 0, sizeof q);
    gr_rd_init(&r, data, len, "request");
    /* 24 entries, or 25 with the optional framework (key 24): peek at the
     * map's count; gr_rd_record checks everything else. */
    gr_reader peek = r;
    uint32_t n = REQ_FIELDS;
    if (gr_rd_map(&peek, &n) || n != REQ_FIELDS + 1) n = REQ_FIELDS;
    int rc = gr_rd_record(&r, n, GPURENT_RECORD_REQUEST);
    if (!rc) rc = gr_rd_fields(&r, &q, req_fields, N_(req_fields));
    for (size_t l = 0; !rc && l < N_(lists); l++) rc = read_list(&r, &q, &lists[l]);
    if (!rc && n > REQ_FIELDS) /* present means set: an empty framework is not canonical */
        rc = gr_rd_field_str(&r, 24, "framework", q.framework, sizeof q.framework, 0);
    if (!rc) rc = gr_rd_end(&r);
    if (!rc) rc = check_request(&q, 1);
    if (!rc) *out = q;
    return rc;
}

GPURENT_API void gpurent_request_init(gpurent_request *req)
{
    if (!req) return;
    memset(req, 0, sizeof *req);
    req->gpu_count = 1;
    req->gang_nodes = 1;
    req->duration_s = 3600;
}

static int add_str(gpurent_request *q, const list_desc *d, const char *s)
{
    uint32_t *n = list_count(q, d);
    if (*n >= GPURENT_REQUEST_MAX_LIST)
        return gr_fail(GPURENT_E_LIMIT, "request.%s: already %u items, the limit", d->name, *n);
    if (strlen(s) >= d->item_size)
        return gr_fail(GPURENT_E_INVALID_ARG, "request.%s: '%s' longer than %u bytes", d->name, s,
                       d->item_size - 1u);
    memcpy(list_item(q, d, *n), s, strlen(s) + 1);
    (*n)++;
    return GPURENT_OK;
}

GPURENT_API gpurent_status gpurent_request_add_model(gpurent_request *req, const char *model)
{
    GR_CHECK_ARG(req && model, "request or model is NULL");
    return add_str(req, &lists[0], model);
}

GPURENT_API gpurent_status gpurent_request_allow_region(gpurent_request *req, const char *region)
{
    GR_CHECK_ARG(req && region, "request or region is NULL");
    return add_str(req, &lists[1], region);
}

GPURENT_API gpurent_status gpurent_request_exclude_region(gpurent_request *req, const char *region)
{
    GR_CHECK_ARG(req && region, "request or region is NULL");
    return add_str(req, &lists[2], region);
}

static int add_key(gpurent_request *req, const list_desc *d, const uint8_t key[32])
{
    uint32_t *n = list_count(req, d);
    if (*n >= GPURENT_REQUEST_MAX_LIST)
        return gr_fail(GPURENT_E_LIMIT, "request.%s: already %u items, the limit", d->name, *n);
    memcpy(list_item(req, d, *n), key, GPURENT_KEY_BYTES);
    (*n)++;
    return GPURENT_OK;
}

GPURENT_API gpurent_status gpurent_request_allow_provider(gpurent_request *req, const uint8_t key[GPURENT_KEY_BYTES])
{
    GR_CHECK_ARG(req && key, "request or key is NULL");
    return add_key(req, &lists[3], key);
}

GPURENT_API gpurent_status gpurent_request_exclude_provider(gpurent_request *req, const uint8_t key[GPURENT_KEY_BYTES])
{
    GR_CHECK_ARG(req && key, "request or key is NULL");
    return add_key(req, &lists[4], key);
}
