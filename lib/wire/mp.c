/* Canonical MessagePack writer (msgpack-c) and strict reader (ours). */
#include <string.h>

#include "mp_internal.h"

/* ---------------- writer ---------------- */

static int write_cb(void *data, const char *buf, size_t len)
{
    gr_bytes *b = data;
    if (b->data && !b->failed && len <= b->cap - b->len) { /* the common case, without a call (records encode a value at a time) */
        memcpy(b->data + b->len, buf, len);
        b->len += len;
        return 0;
    }
    gr_bytes_append(b, buf, len);
    return 0;
}

void gr_wr_init(gr_writer *w)
{
    gr_bytes_init(&w->out);
    msgpack_packer_init(&w->pk, &w->out, write_cb);
}

void gr_wr_init_on(gr_writer *w, gr_bytes *b)
{
    w->out = *b;
    gr_bytes_init(b);
    msgpack_packer_init(&w->pk, &w->out, write_cb);
}

void gr_wr_give_back(gr_writer *w, gr_bytes *b)
{
    *b = w->out;
    gr_bytes_init(&w->out);
}

void gr_wr_map(gr_writer *w, uint32_t n) { msgpack_pack_map(&w->pk, n); }
void gr_wr_array(gr_writer *w, uint32_t n) { msgpack_pack_array(&w->pk, n); }

/* gr_wr_uint: inline in mp_internal.h (the encoders' hot path). */
void gr_wr_int(gr_writer *w, int64_t v) { msgpack_pack_int64(&w->pk, v); }

void gr_wr_str(gr_writer *w, const char *s, size_t len)
{
    msgpack_pack_str(&w->pk, len);
    msgpack_pack_str_body(&w->pk, s, len);
}

void gr_wr_cstr(gr_writer *w, const char *s) { gr_wr_str(w, s, strlen(s)); }

void gr_wr_bin(gr_writer *w, const uint8_t *b, size_t len)
{
    msgpack_pack_bin(&w->pk, len);
    msgpack_pack_bin_body(&w->pk, b, len);
}

void gr_wr_raw(gr_writer *w, const uint8_t *b, size_t len) { gr_bytes_append(&w->out, b, len); }

int gr_wr_finish(gr_writer *w, gpurent_buf *out) { return gr_bytes_finish(&w->out, out); }

void gr_wr_abort(gr_writer *w) { gr_bytes_free(&w->out); }

/* ---------------- reader ---------------- */

void gr_rd_init(gr_reader *r, const uint8_t *data, size_t len, const char *what)
{
    r->p = data;
    r->end = data + len;
    r->what = what;
}

size_t gr_rd_left(const gr_reader *r) { return (size_t)(r->end - r->p); }

static int truncated(const gr_reader *r)
{
    return gr_fail(GPURENT_E_TRUNCATED, "%s: input ends inside a value", r->what);
}

static int noncanon(const gr_reader *r, const char *why)
{
    return gr_fail(GPURENT_E_NONCANONICAL, "%s: %s", r->what, why);
}

/* Big-endian integer of n bytes after the tag byte. */
static int take_be(gr_reader *r, unsigned n, uint64_t *v)
{
    if (gr_rd_left(r) < n) return truncated(r);
    uint64_t x = 0;
    for (unsigned i = 0; i < n; i++) x = (x << 8) | r->p[i];
    r->p += n;
    *v = x;
    return GPURENT_OK;
}

static int take_tag(gr_reader *r, uint8_t *tag)
{
    if (r->p >= r->end) return truncated(r);
    *tag = *r->p++;
    return GPURENT_OK;
}

/* A length with a short form: fix range [0, fixmax], then 8/16/32-bit forms
 * whose minimum is the first value the shorter form cannot hold. */
static int check_len_min(gr_reader *r, uint64_t len, uint64_t min, const char *what)
{
    if (len < min) {
        char why[96];
        snprintf(why, sizeof why, "%s length %llu not in its shortest form", what,
                 (unsigned long long)len);
        return noncanon(r, why);
    }
    return GPURENT_OK;
}

static int read_container(gr_reader *r, uint8_t fixbase, uint8_t tag16, const char *what,
                          unsigned per_item_min, uint32_t *count)
{
    uint8_t tag = 0;
    uint64_t n = 0;
    int rc = take_tag(r, &tag);
    if (rc) return rc;
    if ((tag & 0xf0) == fixbase) {
        n = tag & 0x0f;
    } else if (tag == tag16) {
        if ((rc = take_be(r, 2, &n)) || (rc = check_len_min(r, n, 16, what))) return rc;
    } else if (tag == tag16 + 1) {
        if ((rc = take_be(r, 4, &n)) || (rc = check_len_min(r, n, 65536, what))) return rc;
    } else {
        r->p--;
        return gr_fail(GPURENT_E_INVALID_FIELD, "%s: expected a %s", r->what, what);
    }
    /* Each item takes at least one byte (two for a map entry): a declared
     * count larger than the bytes left is a lie, refused before any use. */
    if (n > gr_rd_left(r) / per_item_min)
        return gr_fail(GPURENT_E_TRUNCATED, "%s: %s declares %llu items but only %zu bytes remain",
                       r->what, what, (unsigned long long)n, gr_rd_left(r));
    *count = (uint32_t)n;
    return GPURENT_OK;
}

int gr_rd_map(gr_reader *r, uint32_t *count) { return read_container(r, 0x80, 0xde, "map", 2, count); }

int gr_rd_array(gr_reader *r, uint32_t *count)
{
    return read_container(r, 0x90, 0xdc, "array", 1, count);
}

/* Everything but the one-byte forms: kept out of line so the common case
 * below needs no stack frame. */
static int __attribute__((noinline)) rd_int_slow(gr_reader *r, int64_t *v)
{
    uint8_t tag = 0;
    uint64_t u = 0;
    int rc = take_tag(r, &tag);
    if (rc) return rc;
    static const uint64_t umin[4] = {0x80, 0x100, 0x10000, 0x100000000ULL};
    static const int64_t smax[4] = {-33, -129, -32769, -2147483649LL};
    if (tag >= 0xcc && tag <= 0xcf) {
        unsigned k = tag - 0xcc;
        if ((rc = take_be(r, 1u << k, &u))) return rc;
        if (u < umin[k]) return noncanon(r, "integer not in its shortest form");
        if (u > INT64_MAX) return gr_fail(GPURENT_E_INVALID_FIELD, "%s: integer above 2^63-1", r->what);
        *v = (int64_t)u;
        return GPURENT_OK;
    }
    if (tag >= 0xd0 && tag <= 0xd3) {
        unsigned k = tag - 0xd0, n = 1u << k;
        if ((rc = take_be(r, n, &u))) return rc;
        int64_t s = n == 8 ? (int64_t)u : (int64_t)(u << (64 - 8 * n)) >> (64 - 8 * n);
        if (s > smax[k]) return noncanon(r, "integer not in its shortest form");
        *v = s;
        return GPURENT_OK;
    }
    if (tag == 0xca || tag == 0xcb) { r->p--; return noncanon(r, "floating point is not allowed"); }
    r->p--;
    return gr_fail(GPURENT_E_INVALID_FIELD, "%s: expected an integer", r->what);
}

int gr_rd_int(gr_reader *r, int64_t *v)
{
    if (r->p < r->end) {
        uint8_t tag = *r->p;
        if (tag <= 0x7f || tag >= 0xe0) {
            r->p++;
            *v = (int8_t)tag; /* 0x00..0x7f and 0xe0..0xff (-32..-1) */
            return GPURENT_OK;
        }
    }
    return rd_int_slow(r, v);
}

static int __attribute__((noinline)) rd_uint_slow(gr_reader *r, uint64_t *v)
{
    const uint8_t *start = r->p;
    if (r->p < r->end && *r->p == 0xcf) {
        /* uint64 above INT64_MAX: read directly, gr_rd_int cannot hold it. */
        uint64_t u = 0;
        r->p++;
        int rc = take_be(r, 8, &u);
        if (rc) return rc;
        if (u < 0x100000000ULL) return noncanon(r, "integer not in its shortest form");
        *v = u;
        return GPURENT_OK;
    }
    int64_t s;
    int rc = gr_rd_int(r, &s);
    if (rc) return rc;
    if (s < 0) {
        r->p = start;
        return gr_fail(GPURENT_E_INVALID_FIELD, "%s: negative value where an unsigned integer is required",
                       r->what);
    }
    *v = (uint64_t)s;
    return GPURENT_OK;
}

int gr_rd_uint(gr_reader *r, uint64_t *v)
{
    if (r->p < r->end && *r->p <= 0x7f) {
        *v = *r->p++;
        return GPURENT_OK;
    }
    return rd_uint_slow(r, v);
}

int gr_utf8_valid(const uint8_t *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint8_t c = s[i];
        if (c == 0) return 0;
        if (c < 0x80) { i++; continue; }
        unsigned n;
        uint32_t cp, min;
        if ((c & 0xe0) == 0xc0) { n = 1; cp = c & 0x1f; min = 0x80; }
        else if ((c & 0xf0) == 0xe0) { n = 2; cp = c & 0x0f; min = 0x800; }
        else if ((c & 0xf8) == 0xf0) { n = 3; cp = c & 0x07; min = 0x10000; }
        else return 0;
        if (len - i <= n) return 0;
        for (unsigned k = 1; k <= n; k++) {
            if ((s[i + k] & 0xc0) != 0x80) return 0;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
        i += n + 1;
    }
    return 1;
}

void gr_path(char *dst, size_t cap, const char *a, uint32_t i, const char *b)
{
    char digits[12];
    size_t nd = 0, at = 0;
    do digits[nd++] = (char)('0' + i % 10); while ((i /= 10) != 0);
    if (cap == 0) return;
    for (; *a && at + 1 < cap; a++) dst[at++] = *a;
    if (at + 1 < cap) dst[at++] = '[';
    while (nd && at + 1 < cap) dst[at++] = digits[--nd];
    if (at + 1 < cap) dst[at++] = ']';
    for (; *b && at + 1 < cap; b++) dst[at++] = *b;
    dst[at] = '\0';
}

static int read_blob(gr_reader *r, int is_str, const uint8_t **b, uint32_t *len, uint32_t max_len)
{
    uint8_t tag = 0;
    uint64_t n = 0;
    int rc = take_tag(r, &tag);
    if (rc) return rc;
    const char *kind = is_str ? "string" : "byte string";
    if (is_str && (tag & 0xe0) == 0xa0) {
        n = tag & 0x1f;
    } else if (tag == (is_str ? 0xd9 : 0xc4)) {
        if ((rc = take_be(r, 1, &n)) || (rc = check_len_min(r, n, is_str ? 32 : 0, kind))) return rc;
    } else if (tag == (is_str ? 0xda : 0xc5)) {
        if ((rc = take_be(r, 2, &n)) || (rc = check_len_min(r, n, 256, kind))) return rc;
    } else if (tag == (is_str ? 0xdb : 0xc6)) {
        if ((rc = take_be(r, 4, &n)) || (rc = check_len_min(r, n, 65536, kind))) return rc;
    } else {
        r->p--;
        return gr_fail(GPURENT_E_INVALID_FIELD, "%s: expected a %s", r->what, kind);
    }
    if (n > max_len)
        return gr_fail(GPURENT_E_OVERSIZE, "%s: %s of %llu bytes above the limit %u", r->what, kind,
                       (unsigned long long)n, max_len);
    if (n > gr_rd_left(r)) return truncated(r);
    if (is_str && !gr_utf8_valid(r->p, (size_t)n))
        return gr_fail(GPURENT_E_INVALID_FIELD, "%s: string is not valid UTF-8 (or holds NUL)", r->what);
    *b = r->p;
    *len = (uint32_t)n;
    r->p += n;
    return GPURENT_OK;
}

int gr_rd_str(gr_reader *r, const char **s, uint32_t *len, uint32_t max_len)
{
    return read_blob(r, 1, (const uint8_t **)s, len, max_len);
}

int gr_rd_bin(gr_reader *r, const uint8_t **b, uint32_t *len, uint32_t max_len)
{
    return read_blob(r, 0, b, len, max_len);
}

/* Bytewise order of encoded keys, as in deterministic CBOR: shorter first
 * is not used; plain lexicographic comparison of the encodings. */
static inline int key_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    if (alen == 1 && blen == 1) return (int)a[0] - (int)b[0]; /* fixint keys, the usual case */
    size_t n = alen < blen ? alen : blen;
    int c = memcmp(a, b, n);
    if (c) return c;
    return alen < blen ? -1 : alen > blen;
}

/* Skip a one-byte value (fixint, nil, false, true) if that is what comes
 * next: the common case inside maps and arrays, handled without a call. */
static inline int skip_byte_value(gr_reader *r)
{
    if (r->p >= r->end) return 0;
    uint8_t t = *r->p;
    if (t <= 0x7f || t >= 0xe0 || t == 0xc0 || t == 0xc2 || t == 0xc3) {
        r->p++;
        return 1;
    }
    return 0;
}

int gr_rd_skip(gr_reader *r, int depth)
{
    if (depth > GR_MAX_DEPTH)
        return gr_fail(GPURENT_E_OVERSIZE, "%s: nesting deeper than %d", r->what, GR_MAX_DEPTH);
    if (r->p >= r->end) return truncated(r);
    uint8_t tag = *r->p;
    uint32_t n, len;
    const uint8_t *b;
    int rc;
    if (tag <= 0x7f || tag >= 0xe0) { r->p++; return GPURENT_OK; } /* fixints are always canonical */
    if (tag >= 0xcc && tag <= 0xd3) {
        if (tag == 0xcf) { uint64_t u; return gr_rd_uint(r, &u); }
        int64_t v;
        return gr_rd_int(r, &v);
    }
    if ((tag & 0xf0) == 0x80 || tag == 0xde || tag == 0xdf) {
        if ((rc = gr_rd_map(r, &n))) return rc;
        const uint8_t *prev = NULL;
        size_t prev_len = 0;
        for (uint32_t i = 0; i < n; i++) {
            const uint8_t *k = r->p;
            if (!skip_byte_value(r) && (rc = gr_rd_skip(r, depth + 1))) return rc;
            size_t klen = (size_t)(r->p - k);
            if (prev && key_cmp(prev, prev_len, k, klen) >= 0)
                return noncanon(r, "map keys not in ascending order, or repeated");
            prev = k;
            prev_len = klen;
            if (!skip_byte_value(r) && (rc = gr_rd_skip(r, depth + 1))) return rc;
        }
        return GPURENT_OK;
    }
    if ((tag & 0xf0) == 0x90 || tag == 0xdc || tag == 0xdd) {
        if ((rc = gr_rd_array(r, &n))) return rc;
        for (uint32_t i = 0; i < n; i++)
            if (!skip_byte_value(r) && (rc = gr_rd_skip(r, depth + 1))) return rc;
        return GPURENT_OK;
    }
    if ((tag & 0xe0) == 0xa0 || (tag >= 0xd9 && tag <= 0xdb))
        return gr_rd_str(r, (const char **)&b, &len, UINT32_MAX);
    if (tag >= 0xc4 && tag <= 0xc6) return gr_rd_bin(r, &b, &len, UINT32_MAX);
    if (tag == 0xc0 || tag == 0xc2 || tag == 0xc3) { r->p++; return GPURENT_OK; }
    if (tag == 0xca || tag == 0xcb) return noncanon(r, "floating point is not allowed");
    if (tag == 0xc1) return gr_fail(GPURENT_E_MALFORMED, "%s: byte 0xc1 is never used in MessagePack", r->what);
    return noncanon(r, "extension types are not allowed");
}

int gr_rd_end(const gr_reader *r)
{
    if (r->p != r->end)
        return gr_fail(GPURENT_E_NONCANONICAL, "%s: %zu trailing bytes after the value", r->what,
                       gr_rd_left(r));
    return GPURENT_OK;
}

int gr_annotate(int status, const char *field)
{
    char msg[400];
    snprintf(msg, sizeof msg, "%s", gpurent_last_error_message());
    return gr_fail(status, "%s (field '%s')", msg, field);
}

static int __attribute__((noinline)) rd_key_slow(gr_reader *r, uint64_t key, const char *name);

int gr_rd_key(gr_reader *r, uint64_t key, const char *name)
{
    if (key <= 0x7f && r->p < r->end && *r->p == key) { /* the expected key, in its only canonical form */
        r->p++;
        return GPURENT_OK;
    }
    return rd_key_slow(r, key, name);
}

static int rd_key_slow(gr_reader *r, uint64_t key, const char *name)
{
    uint64_t k;
    const uint8_t *start = r->p;
    int rc = gr_rd_uint(r, &k);
    if (rc == GPURENT_E_INVALID_FIELD)
        return gr_fail(GPURENT_E_INVALID_FIELD, "%s: map key before field '%s' is not an unsigned integer",
                       r->what, name);
    if (rc) return rc;
    if (k < key) {
        r->p = start;
        return gr_fail(GPURENT_E_NONCANONICAL, "%s: key %llu repeated or out of order before field '%s'",
                       r->what, (unsigned long long)k, name);
    }
    if (k > key)
        return gr_fail(GPURENT_E_INVALID_FIELD, "%s: field '%s' (key %llu) is missing", r->what, name,
                       (unsigned long long)key);
    return GPURENT_OK;
}

int gr_rd_record(gr_reader *r, uint32_t fields, uint64_t type)
{
    uint32_t n;
    return gr_rd_record_var(r, fields, fields, type, &n);
}

int gr_rd_record_var(gr_reader *r, uint32_t min_fields, uint32_t max_fields, uint64_t type, uint32_t *fields)
{
    uint32_t n;
    uint64_t t;
    /* The size limit first: it costs nothing and spares the canonical walk
     * over input that no record could fill. An envelope may exceed it by its
     * header and signatures, since its payload alone may reach the limit. */
    size_t limit = GPURENT_RECORD_MAX_BYTES + (type == GPURENT_RECORD_ENVELOPE ? GR_ENVELOPE_OVERHEAD_MAX : 0);
    if (gr_rd_left(r) > limit)
        return gr_fail(GPURENT_E_OVERSIZE, "%s: %zu bytes above the record limit %zu", r->what, gr_rd_left(r), limit);
    /* Canonical form first, over the whole input, so that a form problem is
     * always reported as one (a key out of order is NONCANONICAL, not a
     * "missing field") and nothing is trusted before it is checked. */
    gr_reader whole = *r;
    int rc = gr_rd_skip(&whole, 1);
    if (!rc) rc = gr_rd_end(&whole);
    if (rc) return rc;
    rc = gr_rd_map(r, &n);
    if (rc) return rc;
    if ((rc = gr_rd_key(r, 0, "type")) || (rc = gr_rd_uint(r, &t))) return rc;
    if (t != type)
        return gr_fail(GPURENT_E_WRONG_RECORD, "%s: record type %llu, expected %llu (%s given, %s expected)", r->what,
                       (unsigned long long)t, (unsigned long long)type,
                       gpurent_record_type_name(t <= UINT32_MAX ? (uint32_t)t : 0), gpurent_record_type_name(type));
    if (n < min_fields || n > max_fields) {
        if (min_fields == max_fields)
            return gr_fail(GPURENT_E_INVALID_FIELD, "%s: record has %u fields, expected %u", r->what, n, min_fields);
        return gr_fail(GPURENT_E_INVALID_FIELD, "%s: record has %u fields, expected %u..%u", r->what, n, min_fields,
                       max_fields);
    }
    *fields = n;
    return GPURENT_OK;
}

int gr_rd_field_u64(gr_reader *r, uint64_t key, const char *name, uint64_t max, uint64_t *v)
{
    int rc = gr_rd_key(r, key, name);
    if (rc) return rc;
    if ((rc = gr_rd_uint(r, v))) return gr_annotate(rc, name);
    if (*v > max)
        return gr_fail(GPURENT_E_INVALID_FIELD, "%s.%s: %llu above the limit %llu", r->what, name,
                       (unsigned long long)*v, (unsigned long long)max);
    return GPURENT_OK;
}

int gr_rd_field_u32(gr_reader *r, uint64_t key, const char *name, uint32_t max, uint32_t *v)
{
    uint64_t x;
    int rc = gr_rd_field_u64(r, key, name, max, &x);
    if (rc == GPURENT_OK) *v = (uint32_t)x;
    return rc;
}

int gr_rd_field_str(gr_reader *r, uint64_t key, const char *name, char *dst, size_t cap,
                    int allow_empty)
{
    const char *s;
    uint32_t len;
    int rc = gr_rd_key(r, key, name);
    if (rc) return rc;
    if ((rc = gr_rd_str(r, &s, &len, (uint32_t)(cap - 1)))) return gr_annotate(rc, name);
    if (!allow_empty && len == 0)
        return gr_fail(GPURENT_E_INVALID_FIELD, "%s.%s: must not be empty", r->what, name);
    memcpy(dst, s, len);
    dst[len] = '\0';
    return GPURENT_OK;
}

int gr_rd_field_bin(gr_reader *r, uint64_t key, const char *name, uint8_t *dst, size_t len)
{
    const uint8_t *b;
    uint32_t n;
    int rc = gr_rd_key(r, key, name);
    if (rc) return rc;
    if ((rc = gr_rd_bin(r, &b, &n, (uint32_t)len))) return gr_annotate(rc, name);
    if (n != len)
        return gr_fail(GPURENT_E_INVALID_FIELD, "%s.%s: %u bytes, expected %zu", r->what, name, n, len);
    memcpy(dst, b, len);
    return GPURENT_OK;
}
