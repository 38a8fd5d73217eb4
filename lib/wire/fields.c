/* Table-driven field encoding, decoding and range checks. */
#include <string.h>

#include "mp_internal.h"

static uint64_t get_uint(const void *base, const gr_field *f)
{
    const uint8_t *p = (const uint8_t *)base + f->offset;
    if (f->kind == GR_U32) { uint32_t v; memcpy(&v, p, 4); return v; }
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

int gr_check_cstr(const char *s, size_t cap, int allow_empty, const char *what, const char *name)
{
    size_t len = strnlen(s, cap);
    if (len == cap)
        return gr_fail(GPURENT_E_INVALID_FIELD, "%s.%s: not NUL-terminated within %zu bytes", what, name, cap);
    if (!allow_empty && len == 0)
        return gr_fail(GPURENT_E_INVALID_FIELD, "%s.%s: must not be empty", what, name);
    if (!gr_utf8_valid((const uint8_t *)s, len))
        return gr_fail(GPURENT_E_INVALID_FIELD, "%s.%s: not valid UTF-8", what, name);
    return GPURENT_OK;
}

int gr_fields_validate(const void *base, const gr_field *f, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++) {
        const char *p = (const char *)base + f[i].offset;
        int rc = GPURENT_OK;
        switch (f[i].kind) {
        case GR_U32:
        case GR_U64: {
            uint64_t v = get_uint(base, &f[i]);
            if (v > f[i].max)
                rc = gr_fail(GPURENT_E_INVALID_FIELD, "%s.%s: %llu above the limit %llu", what, f[i].name,
                             (unsigned long long)v, (unsigned long long)f[i].max);
            break;
        }
        case GR_STR:
        case GR_STR_OPT:
            rc = gr_check_cstr(p, f[i].size, f[i].kind == GR_STR_OPT, what, f[i].name);
            break;
        default:
            break;
        }
        if (rc) return rc;
    }
    return GPURENT_OK;
}

void gr_wr_fields(gr_writer *w, const void *base, const gr_field *f, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *p = (const char *)base + f[i].offset;
        gr_wr_uint(w, f[i].key);
        switch (f[i].kind) {
        case GR_U32:
        case GR_U64: gr_wr_uint(w, get_uint(base, &f[i])); break;
        case GR_STR:
        case GR_STR_OPT: gr_wr_cstr(w, p); break;
        case GR_BIN: gr_wr_bin(w, (const uint8_t *)p, f[i].size); break;
        }
    }
}

int gr_rd_fields(gr_reader *r, void *base, const gr_field *f, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t *p = (uint8_t *)base + f[i].offset;
        int rc;
        switch (f[i].kind) {
        case GR_U32: {
            uint32_t v;
            if ((rc = gr_rd_field_u32(r, f[i].key, f[i].name, (uint32_t)f[i].max, &v))) return rc;
            memcpy(p, &v, 4);
            break;
        }
        case GR_U64: {
            uint64_t v;
            if ((rc = gr_rd_field_u64(r, f[i].key, f[i].name, f[i].max, &v))) return rc;
            memcpy(p, &v, 8);
            break;
        }
        case GR_STR:
        case GR_STR_OPT:
            rc = gr_rd_field_str(r, f[i].key, f[i].name, (char *)p, f[i].size, f[i].kind == GR_STR_OPT);
            if (rc) return rc;
            break;
        case GR_BIN:
            if ((rc = gr_rd_field_bin(r, f[i].key, f[i].name, p, f[i].size))) return rc;
            break;
        }
    }
    return GPURENT_OK;
}

/* ---- optional fields ---- */

uint32_t gr_opt_count(const void *base, const gr_field *f, size_t n)
{
    uint32_t c = 0;
    for (size_t i = 0; i < n; i++) c += get_uint(base, &f[i]) != 0;
    return c;
}

void gr_wr_opt_fields(gr_writer *w, const void *base, const gr_field *f, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t v = get_uint(base, &f[i]);
        if (!v) continue;
        gr_wr_uint(w, f[i].key);
        gr_wr_uint(w, v);
    }
}

int gr_rd_opt_fields(gr_reader *r, void *base, const gr_field *f, size_t n, uint32_t entries)
{
    size_t next = 0; /* keys ascend (the canonical walk checked it): the table is walked once */
    for (uint32_t e = 0; e < entries; e++) {
        uint64_t key, v;
        int rc = gr_rd_uint(r, &key);
        if (rc) return rc == GPURENT_E_INVALID_FIELD ? gr_fail(rc, "%s: a map key is not an unsigned integer", r->what) : rc;
        while (next < n && f[next].key < key) next++;
        if (next == n || f[next].key != key)
            return gr_fail(GPURENT_E_INVALID_FIELD, "%s: key %llu is not a field of this record", r->what,
                           (unsigned long long)key);
        const gr_field *x = &f[next++];
        if ((rc = gr_rd_uint(r, &v))) return gr_annotate(rc, x->name);
        if (v == 0)
            return gr_fail(GPURENT_E_NONCANONICAL, "%s.%s: optional field written with 0 (its canonical form leaves it out)",
                           r->what, x->name);
        if (v > x->max)
            return gr_fail(GPURENT_E_INVALID_FIELD, "%s.%s: %llu above the limit %llu", r->what, x->name,
                           (unsigned long long)v, (unsigned long long)x->max);
        uint8_t *p = (uint8_t *)base + x->offset;
        if (x->kind == GR_U32) {
            uint32_t v32 = (uint32_t)v;
            memcpy(p, &v32, 4);
        } else {
            memcpy(p, &v, 8);
        }
    }
    return GPURENT_OK;
}
