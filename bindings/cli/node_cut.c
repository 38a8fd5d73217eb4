/* The cut statement's payload (docs/net.md, "Cut statements"): the canonical
 * map {0: 4096, 1: scope, 2: number, 3: boundary_s}, written and read here
 * without libnats so that tests/fuzz/fuzz_node_cut.c can reach it. */
#include <stdlib.h>
#include <string.h>

#include "node.h"

/* MessagePack's shortest form of an unsigned integer at p + *o. */
static void put_uint(uint8_t *p, size_t *o, uint64_t v)
{
    if (v < 128) p[(*o)++] = (uint8_t)v;
    else if (v <= 0xff) { p[(*o)++] = 0xcc; p[(*o)++] = (uint8_t)v; }
    else if (v <= 0xffff) { p[(*o)++] = 0xcd; for (int i = 1; i >= 0; i--) p[(*o)++] = (uint8_t)(v >> (8 * i)); }
    else if (v <= 0xffffffffu) { p[(*o)++] = 0xce; for (int i = 3; i >= 0; i--) p[(*o)++] = (uint8_t)(v >> (8 * i)); }
    else { p[(*o)++] = 0xcf; for (int i = 7; i >= 0; i--) p[(*o)++] = (uint8_t)(v >> (8 * i)); }
}

static int scope_ok(const char *s)
{
    size_t l = strlen(s);
    if (l == 0 || l >= NODE_SCOPE_MAX) return 0;
    for (size_t i = 0; i < l; i++)
        if (s[i] <= ' ' || s[i] > '~') return 0;
    return 1;
}

int node_cut_encode(const node_cut *c, gpurent_buf *out)
{
    if (!scope_ok(c->scope)) return GPURENT_E_INVALID_FIELD;
    uint8_t p[128];
    size_t o = 0, l = strlen(c->scope);
    p[o++] = 0x84;
    p[o++] = 0;
    put_uint(p, &o, NODE_STATEMENT_CUT);
    p[o++] = 1;
    p[o++] = (uint8_t)(0xa0 | l); /* fixstr: scopes are under 32 bytes... or str8 below */
    if (l > 31) { o--; p[o++] = 0xd9; p[o++] = (uint8_t)l; }
    memcpy(p + o, c->scope, l);
    o += l;
    p[o++] = 2;
    put_uint(p, &o, c->number);
    p[o++] = 3;
    put_uint(p, &o, c->boundary_s);
    out->data = malloc(o);
    if (!out->data) return GPURENT_E_NOMEM;
    memcpy(out->data, p, o);
    out->len = o;
    return 0;
}

static int get_uint(const uint8_t *p, size_t len, size_t *o, uint64_t *v)
{
    if (*o >= len) return -1;
    uint8_t t = p[(*o)++];
    int n = t < 0x80 ? 0 : t == 0xcc ? 1 : t == 0xcd ? 2 : t == 0xce ? 4 : t == 0xcf ? 8 : -1;
    if (n < 0 || *o + (size_t)n > len) return -1;
    *v = n ? 0 : t;
    for (int i = 0; i < n; i++) *v = *v << 8 | p[(*o)++];
    return 0;
}

/* Parse loosely, then insist that re-encoding gives the same bytes: only the
 * canonical form is accepted. */
int node_cut_decode(const uint8_t *p, size_t len, node_cut *c)
{
    memset(c, 0, sizeof *c);
    size_t o = 0;
    uint64_t v;
    if (len < 8 || p[o++] != 0x84 || p[o++] != 0) return -1;
    if (get_uint(p, len, &o, &v) || v != NODE_STATEMENT_CUT) return -1;
    if (o >= len || p[o++] != 1 || o >= len) return -1;
    size_t l;
    if ((p[o] & 0xe0) == 0xa0) l = p[o++] & 0x1f;
    else if (p[o] == 0xd9 && o + 1 < len) { l = p[o + 1]; o += 2; }
    else return -1;
    if (l >= NODE_SCOPE_MAX || o + l > len) return -1;
    memcpy(c->scope, p + o, l);
    o += l;
    if (o >= len || p[o++] != 2 || get_uint(p, len, &o, &c->number)) return -1;
    if (o >= len || p[o++] != 3 || get_uint(p, len, &o, &c->boundary_s)) return -1;
    gpurent_buf b = {0};
    int same = node_cut_encode(c, &b) == 0 && b.len == len && !memcmp(b.data, p, len);
    free(b.data);
    return same ? 0 : -1;
}

