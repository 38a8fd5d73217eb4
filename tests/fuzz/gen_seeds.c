/* Seed corpus generator: `make fuzz-seeds` writes tests/fuzz/corpus/<name>/.
 *
 * Valid records come from the library's own encoders. Hostile inputs come
 * from two places: a fixed list of generic MessagePack traps (huge declared
 * counts, deep nesting, floats, ext types, padded integers, bad UTF-8, ...)
 * and systematic mutations of each valid record: every map entry at every
 * depth gets its value replaced by a float, an ext, a nil, a padded form or
 * broken UTF-8, its key swapped with the next, repeated or dropped, and every
 * array gets a huge declared count, swapped or repeated items. Output is
 * deterministic (same library, same files), so regenerating shows up in git
 * only when the encoders change. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "gpurent.h"
#include "wire/mp_internal.h"
#include "fuzz_fixture.h"
#include "fuzz_market_fixture.h"

static const char *out_root;
static unsigned written;

static void die(const char *what)
{
    fprintf(stderr, "gen_seeds: %s\n", what);
    exit(1);
}

static void emit(const char *dir, const char *name, const uint8_t *d, size_t n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", out_root, dir);
    if (mkdir(path, 0777) != 0 && errno != EEXIST) die("mkdir failed");
    snprintf(path, sizeof path, "%s/%s/%s", out_root, dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || (n && fwrite(d, 1, n, f) != n) || fclose(f) != 0) die("write failed");
    written++;
}

/* Every seed also goes to the generic canonical-checker corpus. */
static void emit2(const char *dir, const char *name, const uint8_t *d, size_t n)
{
    char cname[256];
    emit(dir, name, d, n);
    snprintf(cname, sizeof cname, "%s-%s", dir, name);
    emit("canonical", cname, d, n);
    emit("cli_inspect", cname, d, n);
}

/* ---- a growable byte string for building mutations ---- */
typedef struct bytes {
    uint8_t d[1 << 16];
    size_t n;
} bytes;

static void put(bytes *b, const void *p, size_t n)
{
    if (b->n + n > sizeof b->d) die("mutation too large");
    memcpy(b->d + b->n, p, n);
    b->n += n;
}

static void put_hex(bytes *b, const char *hex)
{
    for (; hex[0] && hex[1]; hex += 2) {
        unsigned v;
        if (sscanf(hex, "%2x", &v) != 1) die("bad hex");
        uint8_t c = (uint8_t)v;
        put(b, &c, 1);
    }
}

/* A map or array header for `count` items in its shortest form. */
static void put_container(bytes *b, int is_map, uint32_t count)
{
    uint8_t h[5];
    if (count < 16) {
        h[0] = (uint8_t)((is_map ? 0x80 : 0x90) | count);
        put(b, h, 1);
    } else if (count < 65536) {
        h[0] = is_map ? 0xde : 0xdc;
        h[1] = (uint8_t)(count >> 8);
        h[2] = (uint8_t)count;
        put(b, h, 3);
    } else {
        die("container too large");
    }
}

/* ---- walking a valid encoding ---- */
typedef struct span {
    size_t off, len;
} span;

typedef struct entry {
    char path[96];  /* keys and indices from the root, "7.0.2.9" */
    int in_map;     /* map entry (key, value) or array item */
    span hdr;       /* the parent container's header */
    uint32_t count; /* the parent's item count */
    uint32_t index; /* position within the parent */
    span key;       /* map entries only */
    span val;
    span next;      /* the following sibling entry, len 0 if none */
} entry;

#define MAX_ENTRIES 4096
static entry entries[MAX_ENTRIES];
static size_t n_entries;

static size_t skip_value(const uint8_t *base, size_t off, size_t end)
{
    gr_reader r;
    gr_rd_init(&r, base + off, end - off, "seed");
    if (gr_rd_skip(&r, 1)) die("walking an invalid encoding");
    return (size_t)(r.p - base);
}

static void walk(const uint8_t *base, size_t off, size_t end, const char *path);

static void walk_container(const uint8_t *base, size_t off, size_t end, const char *path, int is_map)
{
    gr_reader r;
    uint32_t count;
    gr_rd_init(&r, base + off, end - off, "seed");
    if ((is_map ? gr_rd_map(&r, &count) : gr_rd_array(&r, &count))) die("bad container");
    span hdr = {off, (size_t)(r.p - (base + off))};
    size_t p = off + hdr.len;
    size_t first = n_entries;
    for (uint32_t i = 0; i < count; i++) {
        if (n_entries == MAX_ENTRIES) die("too many entries");
        entry *e = &entries[n_entries++];
        memset(e, 0, sizeof *e);
        e->in_map = is_map;
        e->hdr = hdr;
        e->count = count;
        e->index = i;
        if (is_map) {
            size_t kend = skip_value(base, p, end);
            e->key = (span){p, kend - p};
            /* Record keys are small unsigned integers: name the path by them. */
            snprintf(e->path, sizeof e->path, "%s%s%u", path, *path ? "." : "", base[p]);
            p = kend;
        } else {
            snprintf(e->path, sizeof e->path, "%s%s%u", path, *path ? "." : "", i);
        }
        size_t vend = skip_value(base, p, end);
        e->val = (span){p, vend - p};
        p = vend;
    }
    /* Link siblings (entry spans include the key). */
    for (size_t i = first; i + 1 < n_entries && entries[i + 1].hdr.off == hdr.off; i++) {
        entry *a = &entries[i], *b = &entries[i + 1];
        size_t bstart = b->in_map ? b->key.off : b->val.off;
        a->next = (span){bstart, b->val.off + b->val.len - bstart};
    }
    /* Recurse after linking so nested entries do not sit between siblings. */
    size_t last = n_entries;
    for (size_t i = first; i < last; i++) {
        char sub[96];
        snprintf(sub, sizeof sub, "%s", entries[i].path);
        walk(base, entries[i].val.off, entries[i].val.off + entries[i].val.len, sub);
    }
}

static void walk(const uint8_t *base, size_t off, size_t end, const char *path)
{
    uint8_t t = base[off];
    if ((t & 0xf0) == 0x80 || t == 0xde || t == 0xdf) walk_container(base, off, end, path, 1);
    else if ((t & 0xf0) == 0x90 || t == 0xdc || t == 0xdd) walk_container(base, off, end, path, 0);
}

/* ---- mutations ---- */
static const uint8_t *cur;
static size_t cur_len;

/* Copy the record with [a, a+alen) replaced by `with`. */
static void replace(bytes *b, size_t a, size_t alen, const bytes *with)
{
    b->n = 0;
    put(b, cur, a);
    put(b, with->d, with->n);
    put(b, cur + a + alen, cur_len - a - alen);
}

static void mutate_count(bytes *b, const entry *e, uint32_t new_count, size_t cut, size_t cut_len,
                         const uint8_t *ins, size_t ins_len, size_t ins_at)
{
    /* Rebuild: new header, then the body with one span cut or one inserted. */
    bytes *h = calloc(1, sizeof *h);
    if (!h) die("nomem");
    int is_map = e->in_map;
    put_container(h, is_map, new_count);
    b->n = 0;
    put(b, cur, e->hdr.off);
    put(b, h->d, h->n);
    size_t body = e->hdr.off + e->hdr.len;
    if (cut_len) {
        put(b, cur + body, cut - body);
        put(b, cur + cut + cut_len, cur_len - cut - cut_len);
    } else {
        put(b, cur + body, ins_at - body);
        put(b, ins, ins_len);
        put(b, cur + ins_at, cur_len - ins_at);
    }
    free(h);
}

static void mutate_entry(const char *dir, const char *rec, const entry *e)
{
    static bytes b, w;
    char name[200];
    const uint8_t *v = cur + e->val.off;
#define OUT(label) \
    (snprintf(name, sizeof name, "%.40s-at-%.90s-%.40s", rec, e->path, label), emit(dir, name, b.d, b.n))
#define WITH(hex, label) (w.n = 0, put_hex(&w, hex), replace(&b, e->val.off, e->val.len, &w), OUT(label))
    WITH("ca3f800000", "float32");
    WITH("d40100", "ext");
    WITH("c0", "nil");
    WITH("e0", "negative");
    WITH("cf0000000100000000", "u64-2pow32");
    WITH("cfffffffffffffffff", "u64-max");
    if (v[0] <= 0x7f) {
        char hex[16];
        snprintf(hex, sizeof hex, "cc%02x", v[0]);
        WITH(hex, "padded-int");
        snprintf(hex, sizeof hex, "d0%02x", v[0]);
        WITH(hex, "signed-form");
    }
    if ((v[0] & 0xe0) == 0xa0) {
        /* Same string, str8 length form (not shortest); then broken UTF-8. */
        w.n = 0;
        uint8_t h[2] = {0xd9, (uint8_t)(v[0] & 0x1f)};
        put(&w, h, 2);
        put(&w, v + 1, e->val.len - 1);
        replace(&b, e->val.off, e->val.len, &w);
        OUT("str8-form");
        WITH("a2c328", "utf8-bad-continuation");
        WITH("a2c0af", "utf8-overlong");
        WITH("a3eda080", "utf8-surrogate");
        WITH("a4f4908080", "utf8-above-max");
        WITH("a3610062", "nul-in-string");
        WITH("a0", "empty-string");
        w.n = 0;
        uint8_t big[2] = {0xd9, 0x80};
        put(&w, big, 2);
        for (int i = 0; i < 0x80; i++) put(&w, "x", 1);
        replace(&b, e->val.off, e->val.len, &w);
        OUT("long-string");
    }
    if (v[0] == 0xc4) {
        WITH("c40f000102030405060708090a0b0c0d0e", "bin-short");
        WITH("c5000100", "bin16-form");
        WITH("c6ffffffff", "bin-huge");
    }
    if ((v[0] & 0xf0) == 0x90 || v[0] == 0xdc) {
        WITH("ddffffffff", "array-huge");
        WITH("dcffff", "array16-huge");
        WITH("90", "array-empty");
    }
    if ((v[0] & 0xf0) == 0x80 || v[0] == 0xde) {
        WITH("dfffffffff", "map-huge");
        WITH("80", "map-empty");
    }
    /* Structure: swap with the next sibling, repeat, drop. */
    if (e->next.len) {
        size_t start = e->in_map ? e->key.off : e->val.off;
        size_t len = e->val.off + e->val.len - start;
        b.n = 0;
        put(&b, cur, start);
        put(&b, cur + e->next.off, e->next.len);
        put(&b, cur + start, len);
        put(&b, cur + e->next.off + e->next.len, cur_len - e->next.off - e->next.len);
        OUT("swapped");
    }
    {
        size_t start = e->in_map ? e->key.off : e->val.off;
        size_t len = e->val.off + e->val.len - start;
        mutate_count(&b, e, e->count + 1, 0, 0, cur + start, len, start + len);
        OUT("repeated");
        mutate_count(&b, e, e->count - 1, start, len, NULL, 0, 0);
        OUT("dropped");
        /* Cut the record right after this entry's key (or in the value). */
        b.n = 0;
        put(&b, cur, e->val.off + e->val.len / 2);
        OUT("truncated");
    }
#undef WITH
#undef OUT
}

static void seed_record(const char *dir, const char *rec, const gpurent_buf *buf, int mutate)
{
    char name[160];
    snprintf(name, sizeof name, "%s-valid", rec);
    emit2(dir, name, buf->data, buf->len);
    if (!mutate) return;
    static bytes b;
    cur = buf->data;
    cur_len = buf->len;
    /* Whole-record traps. */
    b.n = 0; put(&b, cur, cur_len); put_hex(&b, "00");
    snprintf(name, sizeof name, "%s-trailing-byte", rec); emit2(dir, name, b.d, b.n);
    b.n = 0; put(&b, cur, cur_len); put(&b, cur, cur_len);
    snprintf(name, sizeof name, "%s-twice", rec); emit2(dir, name, b.d, b.n);
    snprintf(name, sizeof name, "%s-minus-1", rec); emit2(dir, name, cur, cur_len - 1);
    snprintf(name, sizeof name, "%s-first-byte", rec); emit2(dir, name, cur, 1);
    b.n = 0; put_hex(&b, "dd00000001"); put(&b, cur, cur_len);
    snprintf(name, sizeof name, "%s-in-array32", rec); emit2(dir, name, b.d, b.n);
    n_entries = 0;
    walk(cur, 0, cur_len, "");
    for (size_t i = 0; i < n_entries; i++) {
        /* Depth 3 reaches an offer's node fields and a request's list
         * items; deeper maps (a node's GPU) repeat the GPU record's seeds. */
        int depth = 1;
        for (const char *c = entries[i].path; *c; c++) depth += *c == '.';
        if (depth <= 3) mutate_entry(dir, rec, &entries[i]);
    }
}

/* ---- valid records ---- */
static void h100(gpurent_gpu *g)
{
    memset(g, 0, sizeof *g);
    snprintf(g->model, sizeof g->model, "H100 SXM5 80GB");
    for (int i = 0; i < 16; i++) g->uuid[i] = (uint8_t)(0x10 + i);
    g->pci_bus = 0x1b;
    g->cc_major = 9;
    g->sm_count = 132;
    g->memory_mib = 81559;
    g->clock_mhz = 1980;
    g->mem_clock_mhz = 2619;
    g->bus_width_bits = 5120;
    g->l2_kib = 51200;
    g->ecc_enabled = 1;
    g->interface = GPURENT_IFACE_SXM;
    g->fp32_gflops = 66900;
    g->fp16_tensor_gflops = 989400;
    g->mem_bw_mbps = 3352000;
    g->measured_fp32_gflops = 61000;
    g->measured_mem_bw_mbps = 2900000;
    g->cuda_version = 12040;
}

static void rtx4090(gpurent_gpu *g)
{
    memset(g, 0, sizeof *g);
    snprintf(g->model, sizeof g->model, "RTX 4090");
    g->pci_domain = 0x10000;
    g->pci_bus = 255;
    g->pci_device = 31;
    g->cc_major = 8;
    g->cc_minor = 9;
    g->sm_count = 128;
    g->memory_mib = 24564;
    g->clock_mhz = 2520;
    g->mem_clock_mhz = 10501;
    g->bus_width_bits = 384;
    g->l2_kib = 73728;
    g->interface = GPURENT_IFACE_PCIE;
    g->fp32_gflops = 82600;
    g->mem_bw_mbps = 1008000;
    g->cuda_version = 12020;
}

static void at_limits(gpurent_gpu *g)
{
    memset(g, 0, sizeof *g);
    /* 63 bytes of multi-byte UTF-8: "é" x 31 + "x". */
    for (int i = 0; i < 31; i++) memcpy(g->model + 2 * i, "\xc3\xa9", 2);
    g->model[62] = 'x';
    memset(g->uuid, 0xff, sizeof g->uuid);
    g->pci_domain = 0xffffffffu;
    g->pci_bus = 255;
    g->pci_device = 31;
    g->cc_major = 99;
    g->cc_minor = 9;
    g->sm_count = 100000;
    g->memory_mib = 1ull << 32;
    g->clock_mhz = g->mem_clock_mhz = 100000;
    g->bus_width_bits = 65536;
    g->l2_kib = 1u << 24;
    g->ecc_enabled = 1;
    g->interface = GPURENT_IFACE_SXM;
    g->fp32_gflops = g->fp16_tensor_gflops = g->mem_bw_mbps = 1ull << 40;
    g->measured_fp32_gflops = g->measured_mem_bw_mbps = 1ull << 40;
    g->cuda_version = 999999;
}

static void encode_gpu(const gpurent_gpu *g, gpurent_buf *out)
{
    if (gpurent_gpu_encode(g, out)) die(gpurent_last_error_message());
}

static void gen_gpu(void)
{
    gpurent_gpu g;
    gpurent_buf b = {0};
    h100(&g); encode_gpu(&g, &b); seed_record("gpu", "h100", &b, 1); gpurent_buf_free(&b);
    rtx4090(&g); encode_gpu(&g, &b); seed_record("gpu", "rtx4090", &b, 0); gpurent_buf_free(&b);
    at_limits(&g); encode_gpu(&g, &b); seed_record("gpu", "limits", &b, 0); gpurent_buf_free(&b);
    memset(&g, 0, sizeof g);
    g.model[0] = 'x';
    g.cc_major = 1;
    encode_gpu(&g, &b); seed_record("gpu", "minimal", &b, 0); gpurent_buf_free(&b);
}

static void node(gpurent_node *n, const char *id, const gpurent_gpu *g, uint32_t count, uint32_t free_)
{
    memset(n, 0, sizeof *n);
    snprintf(n->node_id, sizeof n->node_id, "%s", id);
    n->gpu = *g;
    n->gpu_count = count;
    n->gpu_free = free_;
    n->cpu_millicores = 64000;
    n->ram_mib = 1u << 20;
    n->disk_gib = 4096;
    n->price_micro_per_gpu_hour = 2490000;
}

static void gen_offer(void)
{
    gpurent_offer o;
    gpurent_node n;
    gpurent_gpu g;
    gpurent_buf b = {0};

    gpurent_offer_init(&o);
    for (int i = 0; i < 32; i++) o.provider_key[i] = (uint8_t)(i * 7);
    o.seq = 1;
    snprintf(o.region, sizeof o.region, "eu-west");
    o.stake_micro = 5000000000ull;
    o.min_duration_s = 3600;
    h100(&g);
    node(&n, "node-a", &g, 8, 8);
    memset(n.report_digest, 0xab, sizeof n.report_digest);
    if (gpurent_offer_add_node(&o, &n)) die("add_node");
    if (gpurent_offer_encode(&o, &b)) die(gpurent_last_error_message());
    seed_record("offer", "one-node", &b, 1);
    gpurent_buf_free(&b);

    rtx4090(&g);
    node(&n, "node-b", &g, 1, 0);
    n.shared = 1;
    gpurent_offer_add_node(&o, &n);
    node(&n, "node-c", &g, 4, 2);
    gpurent_offer_add_node(&o, &n);
    o.seq = UINT64_MAX;
    o.max_duration_s = GPURENT_MAX_DURATION_S;
    if (gpurent_offer_encode(&o, &b)) die(gpurent_last_error_message());
    seed_record("offer", "three-nodes", &b, 0);
    gpurent_buf_free(&b);

    /* 17 nodes: the node array needs its 16-bit length form. */
    for (int i = 3; i < 17; i++) {
        char id[16];
        snprintf(id, sizeof id, "n%02d", i);
        node(&n, id, &g, 1, 1);
        gpurent_offer_add_node(&o, &n);
    }
    if (gpurent_offer_encode(&o, &b)) die(gpurent_last_error_message());
    seed_record("offer", "array16-nodes", &b, 0);
    gpurent_buf_free(&b);
    gpurent_offer_clear(&o);
}

static void gen_request(void)
{
    static gpurent_request q;
    gpurent_buf b = {0};
    gpurent_request_init(&q);
    snprintf(q.request_id, sizeof q.request_id, "req-1");
    if (gpurent_request_encode(&q, &b)) die(gpurent_last_error_message());
    seed_record("request", "default", &b, 0);
    gpurent_buf_free(&b);

    q.gpu_count = 32;
    q.gang_nodes = 4;
    q.gang_scope = GPURENT_GANG_PROVIDER;
    q.min_vram_mib = 80000;
    q.min_cc = 80;
    q.min_fp32_gflops = 19000;
    q.interface = GPURENT_IFACE_SXM;
    q.min_cuda_version = 12000;
    q.max_price_micro_per_gpu_hour = 3000000;
    q.allowed_tiers = 0x1c;
    q.duration_s = 86400;
    q.verified_only = 1;
    q.cpu_millicores = 32000;
    q.ram_mib = 262144;
    q.disk_gib = 1000;
    q.submitted_at = 1735689600;
    gpurent_request_add_model(&q, "H100 SXM5 80GB");
    gpurent_request_add_model(&q, "A100 SXM4 80GB");
    gpurent_request_allow_region(&q, "eu-west");
    gpurent_request_allow_region(&q, "us-east");
    gpurent_request_exclude_region(&q, "ap-south");
    uint8_t key[32];
    memset(key, 0x11, sizeof key);
    gpurent_request_allow_provider(&q, key);
    memset(key, 0x01, sizeof key);
    gpurent_request_allow_provider(&q, key);
    memset(key, 0x99, sizeof key);
    gpurent_request_exclude_provider(&q, key);
    if (gpurent_request_encode(&q, &b)) die(gpurent_last_error_message());
    seed_record("request", "gang", &b, 1);
    gpurent_buf_free(&b);

    /* Full lists (8 each). */
    for (int i = 2; i < 8; i++) {
        char s[16];
        snprintf(s, sizeof s, "model-%d", i);
        gpurent_request_add_model(&q, s);
        snprintf(s, sizeof s, "r%d", i);
        gpurent_request_allow_region(&q, s);
        gpurent_request_exclude_region(&q, s);
        memset(key, 0x20 + i, sizeof key);
        gpurent_request_allow_provider(&q, key);
        gpurent_request_exclude_provider(&q, key);
    }
    gpurent_request_exclude_region(&q, "zz");
    memset(key, 0xfe, sizeof key);
    gpurent_request_exclude_provider(&q, key);
    if (gpurent_request_encode(&q, &b)) die(gpurent_last_error_message());
    seed_record("request", "full-lists", &b, 0);
    gpurent_buf_free(&b);

    gpurent_request_init(&q);
    snprintf(q.request_id, sizeof q.request_id, "share");
    q.vram_share_pct = 25;
    if (gpurent_request_encode(&q, &b)) die(gpurent_last_error_message());
    seed_record("request", "vram-share", &b, 0);
    gpurent_buf_free(&b);
}

/* Generic MessagePack values and traps for the canonical checker. */
static void gen_generic(void)
{
    static const struct { const char *name, *hex; } v[] = {
        {"valid-nil", "c0"}, {"valid-false", "c2"}, {"valid-true", "c3"},
        {"valid-int-0", "00"}, {"valid-int-127", "7f"}, {"valid-int-128", "cc80"},
        {"valid-int-256", "cd0100"}, {"valid-int-65536", "ce00010000"},
        {"valid-int-2pow32", "cf0000000100000000"}, {"valid-int-u64max", "cfffffffffffffffff"},
        {"valid-neg-1", "ff"}, {"valid-neg-32", "e0"}, {"valid-neg-33", "d0df"},
        {"valid-neg-129", "d1ff7f"}, {"valid-neg-32769", "d2ffff7fff"},
        {"valid-neg-min", "d38000000000000000"},
        {"valid-str", "a3616263"}, {"valid-str-utf8", "a4f09f9a80"}, {"valid-bin", "c403010203"},
        {"valid-bin-empty", "c400"}, {"valid-array", "93c0c2c3"}, {"valid-map", "82000101a161"},
        {"valid-map-strkeys", "82a161c0a162c0"}, {"valid-map-mixed-keys", "830000a16100c40100"},
        {"valid-nested", "81009181a17891c0"}, {"valid-empty-record", "80"},
        {"valid-record-type-only", "810001"}, {"valid-record-type-big", "8100ce00010000"},
        {"valid-record-type-huge", "8100cf0000000100000000"},
        {"valid-record-unknown-type", "8200630101"},
        {"empty", ""}, {"never-used-c1", "c1"},
        {"array32-huge", "ddffffffff"}, {"array16-huge", "dcffff"}, {"map32-huge", "dfffffffff"},
        {"map16-huge", "deffff"}, {"str32-huge", "dbffffffff"}, {"bin32-huge", "c6ffffffff"},
        {"float32", "ca3f800000"}, {"float64", "cb3ff0000000000000"},
        {"fixext1", "d40100"}, {"ext8", "c7010100"}, {"fixext16", "d8010000000000000000000000000000000000"},
        {"timestamp-ext", "d6ff00000000"},
        {"padded-uint8", "cc01"}, {"padded-uint16", "cd0001"}, {"padded-uint32", "ce00000001"},
        {"padded-uint64", "cf0000000000000001"}, {"signed-positive", "d001"},
        {"padded-int8", "d0e0"}, {"padded-int16", "d1ff80"}, {"padded-int32", "d2ffffff80"},
        {"padded-int64", "d3ffffffffffffff80"}, {"padded-str8", "d90161"}, {"padded-str16", "da000161"},
        {"padded-str32", "db0000000161"}, {"padded-bin16", "c5000100"}, {"padded-bin32", "c60000000100"},
        {"padded-array16", "dc0000"}, {"padded-array32", "dd00000000"}, {"padded-map16", "de0000"},
        {"padded-map32", "df00000000"},
        {"dup-keys", "8200000000"}, {"unsorted-keys", "8201000000"}, {"unsorted-str-keys", "82a162c0a161c0"},
        {"int-key-after-str", "82a161c00000"}, {"utf8-bad", "a2c328"}, {"utf8-overlong", "a2c0af"},
        {"utf8-surrogate", "a3eda080"}, {"utf8-above-max", "a4f4908080"}, {"utf8-truncated", "a2e282"},
        {"nul-in-string", "a3610062"}, {"trailing", "0000"}, {"truncated-map", "820000"},
        {"truncated-uint32", "ce0001"}, {"record-neg-type", "8100ff"}, {"record-str-key", "81a16101"},
        {"record-key1-first", "810101"}, {"record-type-nil", "8100c0"},
    };
    static bytes b;
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        b.n = 0;
        put_hex(&b, v[i].hex);
        emit("canonical", v[i].name, b.d, b.n);
    }
    /* Nesting at the limit (16 levels) and one past it, arrays and maps. */
    for (int depth = 15; depth <= 17; depth++) {
        char name[32];
        b.n = 0;
        for (int i = 0; i < depth; i++) put_hex(&b, "91");
        put_hex(&b, "c0");
        snprintf(name, sizeof name, "nested-arrays-%d", depth + 1);
        emit("canonical", name, b.d, b.n);
        b.n = 0;
        for (int i = 0; i < depth; i++) put_hex(&b, "8100");
        put_hex(&b, "c0");
        snprintf(name, sizeof name, "nested-maps-%d", depth + 1);
        emit("canonical", name, b.d, b.n);
    }
    b.n = 0;
    for (int i = 0; i < 4000; i++) put_hex(&b, "91");
    emit("canonical", "nested-arrays-4000", b.d, b.n);
    /* The same nesting inside each record type. */
    b.n = 0;
    put_hex(&b, "8200010191");
    for (int i = 0; i < 20; i++) put_hex(&b, "91");
    emit2("gpu", "deep-in-field", b.d, b.n);
}

/* JSON for the CLI's encode command: first byte 0 gpu, 1 offer, 2 request. */
static void gen_cli_json(void)
{
    static const struct { const char *name; char kind; const char *json; } v[] = {
        {"gpu-minimal", 0, "{\"model\":\"x\",\"cc_major\":1}"},
        {"gpu-h100", 0, "{\"type\":\"gpu\",\"model\":\"H100 SXM5 80GB\",\"uuid\":\"00112233445566778899aabbccddeeff\","
                        "\"pci_bus\":27,\"cc_major\":9,\"cc_minor\":0,\"sm_count\":132,\"memory_mib\":81559,"
                        "\"clock_mhz\":1980,\"mem_clock_mhz\":2619,\"bus_width_bits\":5120,\"l2_kib\":51200,"
                        "\"ecc_enabled\":1,\"interface\":2,\"fp32_gflops\":66900,\"cuda_version\":12040}"},
        {"gpu-unknown-field", 0, "{\"model\":\"x\",\"cc_major\":1,\"colour\":\"red\"}"},
        {"gpu-negative", 0, "{\"model\":\"x\",\"cc_major\":-1}"},
        {"gpu-huge-int", 0, "{\"model\":\"x\",\"cc_major\":1,\"memory_mib\":9223372036854775807}"},
        {"gpu-float", 0, "{\"model\":\"x\",\"cc_major\":1.5}"},
        {"gpu-bad-hex", 0, "{\"model\":\"x\",\"cc_major\":1,\"uuid\":\"zz112233445566778899aabbccddeeff\"}"},
        {"gpu-short-hex", 0, "{\"model\":\"x\",\"cc_major\":1,\"uuid\":\"0011\"}"},
        {"gpu-model-int", 0, "{\"model\":5,\"cc_major\":1}"},
        {"gpu-model-long", 0, "{\"model\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\",\"cc_major\":1}"},
        {"gpu-model-utf8", 0, "{\"model\":\"\\u00e9\\ud83d\\ude80\",\"cc_major\":1}"},
        {"gpu-not-object", 0, "[1,2,3]"},
        {"gpu-nested", 0, "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"},
        {"offer-one-node", 1, "{\"provider_key\":\"4242424242424242424242424242424242424242424242424242424242424242\","
                              "\"seq\":1,\"region\":\"eu-west\",\"nodes\":[{\"node_id\":\"a\",\"gpu\":{\"model\":\"x\","
                              "\"cc_major\":8},\"gpu_count\":8,\"gpu_free\":4,\"price_micro_per_gpu_hour\":2000000}]}"},
        {"offer-two-nodes", 1, "{\"region\":\"r\",\"nodes\":[{\"node_id\":\"a\",\"gpu\":{\"model\":\"x\",\"cc_major\":8}},"
                               "{\"node_id\":\"b\",\"gpu\":{\"model\":\"y\",\"cc_major\":9},\"shared\":1}]}"},
        {"offer-dup-node", 1, "{\"region\":\"r\",\"nodes\":[{\"node_id\":\"a\",\"gpu\":{\"model\":\"x\",\"cc_major\":8}},"
                              "{\"node_id\":\"a\",\"gpu\":{\"model\":\"x\",\"cc_major\":8}}]}"},
        {"offer-no-nodes", 1, "{\"region\":\"r\",\"nodes\":[]}"},
        {"offer-nodes-not-objects", 1, "{\"region\":\"r\",\"nodes\":[1,\"a\",null]}"},
        {"request-default", 2, "{\"request_id\":\"r1\"}"},
        {"request-lists", 2, "{\"request_id\":\"r1\",\"gpu_count\":8,\"gang_nodes\":2,\"gang_scope\":1,"
                             "\"models\":[\"b\",\"a\"],\"regions\":[\"eu\"],\"excluded_regions\":[\"us\"],"
                             "\"providers\":[\"" "AB" "ababababababababababababababababababababababababababababababab\"],"
                             "\"excluded_providers\":[\"0000000000000000000000000000000000000000000000000000000000000001\"]}"},
        {"request-dup-models", 2, "{\"request_id\":\"r1\",\"models\":[\"a\",\"a\"]}"},
        {"request-many-models", 2, "{\"request_id\":\"r1\",\"models\":[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"i\"]}"},
        {"request-models-not-strings", 2, "{\"request_id\":\"r1\",\"models\":[1,{}]}"},
        {"request-share", 2, "{\"request_id\":\"s\",\"vram_share_pct\":25}"},
        {"request-type-field", 2, "{\"type\":\"gpu\",\"request_id\":\"r1\"}"},
    };
    static bytes b;
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        b.n = 0;
        put(&b, &v[i].kind, 1);
        put(&b, v[i].json, strlen(v[i].json));
        emit("cli_json", v[i].name, b.d, b.n);
    }
}


/* ---- records of the later modules and signed statements ---- */

static const char *fakecuda_path; /* argv[2]: the fake CUDA driver, for probe reports */

/* GPU reports as the probe writes them, from the fake driver's machines. */
static void gen_gpu_report(void)
{
    static gpurent_gpu_report r;
    static const struct { const char *machine; uint32_t checks; int mutate; } m[] = {
        {"h100", GPURENT_CHECK_ALL, 1}, {"a100x8", 0, 0}, {"rtx4090", GPURENT_CHECK_D2D, 0},
        {"nodevice", 0, 0}, {"stub", 0, 0}, {"midfail", 0, 0}, {"initfail", 0, 0},
        {"wrongoutput", GPURENT_CHECK_FMA, 0}, {"slow", GPURENT_CHECK_ALL, 0}};
    uint8_t nonce[32];
    gpurent_buf b = {0};
    memset(nonce, 0x6e, sizeof nonce);
    for (size_t i = 0; fakecuda_path && i < sizeof m / sizeof m[0]; i++) {
        gpurent_probe_options o = GPURENT_PROBE_OPTIONS_INIT;
        o.driver_path = fakecuda_path;
        o.checks = m[i].checks;
        o.check_ms = 1;
        o.check_max_bytes = 1u << 20;
        o.fma_iterations = 16;
        o.now = FUZZ_NOW;
        setenv("FAKECUDA_MACHINE", m[i].machine, 1);
        if (gpurent_probe_run(&o, nonce, NULL, &r) != GPURENT_OK) die("gpurent_probe_run");
        /* Measured figures vary from run to run, and the fake driver's path
         * and digest from checkout to checkout: keep the seeds stable. */
        snprintf(r.driver_path, sizeof r.driver_path, "%s", "/usr/lib/x86_64-linux-gnu/libcuda.so.1");
        memset(r.driver_digest, 0x5d, sizeof r.driver_digest);
        for (uint32_t d = 0; d < r.device_count; d++) {
            gpurent_probe_device *v = &r.devices[d];
            gpurent_probe_check *c[3] = {&v->d2d, &v->h2d, &v->fma};
            const gpurent_pv *peak[3] = {&v->mem_bw_mbps, &v->h2d_peak_mbps, &v->fp32_gflops};
            for (int j = 0; j < 3; j++)
                if (c[j]->state == GPURENT_PV_OK) {
                    /* 0.9 of the peak where there is one: ratio and verdict as the probe derives them. */
                    int known = peak[j]->state == GPURENT_PV_OK && peak[j]->value >= 10;
                    c[j]->value = known ? peak[j]->value / 10 * 9 : 1000;
                    c[j]->ratio_ppm = known ? (uint32_t)(c[j]->value * 1000000u / peak[j]->value) : 0;
                    c[j]->verdict = known ? gpurent_probe_verdict(c[j]->ratio_ppm) : GPURENT_VERDICT_NONE;
                }
        }
        if (gpurent_gpu_report_encode(&r, &b) != GPURENT_OK) die("gpurent_gpu_report_encode");
        seed_record("gpu_report", m[i].machine, &b, m[i].mutate);
        gpurent_buf_free(&b);
    }
    gpurent_probe_options o = GPURENT_PROBE_OPTIONS_INIT;
    o.driver_path = "/nonexistent/libcuda.so.1";
    o.now = FUZZ_NOW;
    if (gpurent_probe_run(&o, nonce, NULL, &r) != GPURENT_OK) die("gpurent_probe_run");
    if (gpurent_gpu_report_encode(&r, &b) != GPURENT_OK) die("gpurent_gpu_report_encode");
    seed_record("gpu_report", "no-driver", &b, 0);
    gpurent_buf_free(&b);
}

#define FUZZ_ERA (FUZZ_NOW / 86400)
#define ERA_T(s) (FUZZ_ERA * 86400 + (s))

/* Auditor `auditor`'s report on the fixture provider: three passed checks,
 * `challenges` hourly GPU challenges (one in four failed), a few jobs. */
static void audit_report(gpurent_audit_report *r, unsigned auditor, unsigned challenges, unsigned jobs)
{
    gpurent_audit_report_init(r);
    fuzz_pk(FUZZ_KEY_PROVIDER, r->provider_key);
    fuzz_pk(auditor, r->auditor_key);
    r->time_s = ERA_T(40000);
    r->gpu_report = r->integrity = r->security = GPURENT_CHECK_PASSED;
    memset(r->gpu_report_digest, 0x33, sizeof r->gpu_report_digest);
    r->stake_observed = 1;
    r->stake_micro = 5000000000ull;
    for (unsigned c = 0; c < challenges; c++)
        if (gpurent_audit_report_add_challenge(r, ERA_T(c * 1200 + 7), 1 + c % 2, c % 4 != 3)) die("add_challenge");
    for (unsigned j = 0; j < jobs; j++) {
        char id[32];
        snprintf(id, sizeof id, "job-%u", j);
        if (gpurent_audit_report_add_job(r, id, ERA_T(100 + j), 1 + j % 3)) die("add_job");
    }
}

static void encode_audit(const gpurent_audit_report *r, gpurent_buf *b)
{
    if (gpurent_audit_report_encode(r, b) != GPURENT_OK) die("gpurent_audit_report_encode");
}

static void gen_audit_report(void)
{
    gpurent_audit_report r;
    gpurent_buf b = {0};
    audit_report(&r, FUZZ_KEY_AUDITOR1, 5, 3);
    encode_audit(&r, &b); seed_record("audit_report", "checks-challenges-jobs", &b, 1); gpurent_buf_free(&b);
    gpurent_audit_report_clear(&r);
    audit_report(&r, FUZZ_KEY_AUDITOR2, 0, 0);
    encode_audit(&r, &b); seed_record("audit_report", "checks-only", &b, 0); gpurent_buf_free(&b);
    gpurent_audit_report_clear(&r);
    audit_report(&r, FUZZ_KEY_AUDITOR3, 30, 0);
    r.gpu_report = r.integrity = r.security = GPURENT_CHECK_NOT_RUN;
    memset(r.gpu_report_digest, 0, sizeof r.gpu_report_digest);
    r.stake_observed = 0;
    r.stake_micro = 0;
    encode_audit(&r, &b); seed_record("audit_report", "challenges-only", &b, 0); gpurent_buf_free(&b);
    gpurent_audit_report_clear(&r);
}

/* A tier certificate as an engine computes it: the fixture provider audited
 * by auditors 1..3 in one era, evaluated. */
static void tier_cert(gpurent_tier_cert *c)
{
    gpurent_tier_options o = GPURENT_TIER_OPTIONS_INIT;
    o.first_era = FUZZ_ERA;
    o.quorum_auditors = 2;
    o.unverified_evidence = 1;
    gpurent_tier_engine *e = NULL;
    if (gpurent_tier_engine_new(&e, &o) != GPURENT_OK) die("gpurent_tier_engine_new");
    for (unsigned a = FUZZ_KEY_AUDITOR1; a <= FUZZ_KEY_AUDITOR3; a++) {
        gpurent_audit_report r;
        audit_report(&r, a, 24, 2);
        if (gpurent_tier_record_report(e, &r) != GPURENT_OK) die("gpurent_tier_record_report");
        gpurent_audit_report_clear(&r);
    }
    if (gpurent_tier_evaluate(e, FUZZ_ERA, NULL, NULL) != GPURENT_OK) die("gpurent_tier_evaluate");
    uint8_t pk[GPURENT_KEY_BYTES];
    fuzz_pk(FUZZ_KEY_PROVIDER, pk);
    if (gpurent_tier_certificate(e, pk, c) != GPURENT_OK) die("gpurent_tier_certificate");
    gpurent_tier_engine_free(e);
}

static void gen_tier_cert(void)
{
    gpurent_tier_cert c;
    gpurent_buf b = {0};
    tier_cert(&c);
    if (gpurent_tier_cert_encode(&c, &b) != GPURENT_OK) die("gpurent_tier_cert_encode");
    seed_record("tier_cert", "three-auditors", &b, 1);
    gpurent_buf_free(&b);
    c.auditor_count = GPURENT_TIER_CERT_MAX_AUDITORS;
    for (unsigned i = 0; i < c.auditor_count; i++) memset(c.auditors[i], 0x10 + (int)i, GPURENT_KEY_BYTES);
    c.tier = GPURENT_TIER_MAX_TIERS;
    if (gpurent_tier_cert_encode(&c, &b) != GPURENT_OK) die("gpurent_tier_cert_encode (limits)");
    seed_record("tier_cert", "sixteen-auditors", &b, 0);
    gpurent_buf_free(&b);
}

static gpurent_match_placement placement(unsigned provider, const char *node, uint32_t gpus, uint32_t share,
                                         uint32_t index, uint64_t price)
{
    gpurent_match_placement p;
    memset(&p, 0, sizeof p);
    memset(p.provider_key, 0x20 + (int)provider, sizeof p.provider_key);
    snprintf(p.node_id, sizeof p.node_id, "%s", node);
    p.gpus = gpus;
    p.share_pct = share;
    p.gpu_index = index;
    p.price_micro_per_gpu_hour = price;
    return p;
}

static void gen_match_receipt(void)
{
    gpurent_match_placement pl[4] = {
        placement(1, "node-a", 4, 0, 0, 2000000), placement(1, "node-b", 4, 0, 0, 2100000),
        placement(2, "node-a", 0, 25, 3, 900000), placement(3, "n", 1, 0, 0, 1)};
    gpurent_match_assignment as[3];
    memset(as, 0, sizeof as);
    snprintf(as[0].request_id, sizeof as[0].request_id, "req-1");
    as[0].value = 1000;
    as[0].first_placement = 0;
    as[0].placement_count = 2;
    snprintf(as[1].request_id, sizeof as[1].request_id, "req-2");
    as[1].value = 250;
    as[1].first_placement = 2;
    as[1].placement_count = 1;
    snprintf(as[2].request_id, sizeof as[2].request_id, "req-3");
    as[2].value = 0;
    as[2].first_placement = 3;
    as[2].placement_count = 1;
    gpurent_match_receipt r;
    gpurent_match_receipt_init(&r);
    memset(r.seed, 0x11, sizeof r.seed);
    memset(r.policy_digest, 0x22, sizeof r.policy_digest);
    memset(r.offers_digest, 0x33, sizeof r.offers_digest);
    memset(r.requests_digest, 0x44, sizeof r.requests_digest);
    r.matched_at = FUZZ_NOW;
    r.request_count = 5;
    r.assignment_count = 3;
    r.assignments = as;
    r.placement_count = 4;
    r.placements = pl;
    r.total_value = 1250;
    gpurent_buf b = {0};
    if (gpurent_match_receipt_encode(&r, &b) != GPURENT_OK) die("gpurent_match_receipt_encode");
    seed_record("match_receipt", "three-assignments", &b, 1);
    gpurent_buf_free(&b);
    r.assignment_count = 0;
    r.placement_count = 0;
    r.total_value = 0;
    r.request_count = 0;
    if (gpurent_match_receipt_encode(&r, &b) != GPURENT_OK) die("gpurent_match_receipt_encode (empty)");
    seed_record("match_receipt", "empty", &b, 0);
    gpurent_buf_free(&b);
}

/* fuzz_market_apply: what the engine computes on the fixture market (the
 * digests are replaced by the harness anyway), then the same receipt with
 * each assignment alone. */
static void gen_market_apply(void)
{
    gpurent_market *m = fmf_market();
    if (!m) die("fmf_market");
    gpurent_match_receipt r;
    gpurent_match_receipt_init(&r);
    if (gpurent_market_match(m, FMF_NOW, NULL, &r) != GPURENT_OK) die("gpurent_market_match (fixture)");
    if (r.assignment_count == 0) die("the fixture matched nothing");
    gpurent_buf b = {0};
    if (gpurent_match_receipt_encode(&r, &b) != GPURENT_OK) die("gpurent_match_receipt_encode (fixture)");
    seed_record("market_apply", "engine", &b, 1);
    gpurent_buf_free(&b);
    gpurent_match_receipt one = r;
    for (uint32_t i = 0; i < r.assignment_count; i++) {
        gpurent_match_assignment a = r.assignments[i];
        one.assignments = &a;
        one.assignment_count = 1;
        one.placements = &r.placements[a.first_placement];
        one.placement_count = a.placement_count;
        one.total_value = a.value;
        a.first_placement = 0;
        char name[96];
        snprintf(name, sizeof name, "engine-only-%s", a.request_id);
        if (gpurent_match_receipt_encode(&one, &b) != GPURENT_OK) die("gpurent_match_receipt_encode (one)");
        seed_record("market_apply", name, &b, 0);
        gpurent_buf_free(&b);
    }
    gpurent_match_receipt_clear(&r);
    gpurent_market_free(m);
}

static void revocation(gpurent_buf *b, unsigned key, uint32_t reason)
{
    gpurent_revocation r;
    memset(&r, 0, sizeof r);
    fuzz_pk(key, r.key);
    r.revoked_at = FUZZ_NOW - 100;
    r.reason = reason;
    if (gpurent_revocation_encode(&r, b) != GPURENT_OK) die("gpurent_revocation_encode");
}

static void gen_revocation(void)
{
    gpurent_buf b = {0};
    revocation(&b, FUZZ_KEY_AUDITOR3, GPURENT_REVOKE_COMPROMISED);
    seed_record("revocation", "compromised", &b, 1);
    gpurent_buf_free(&b);
    revocation(&b, FUZZ_KEY_PROVIDER, GPURENT_REVOKE_RETIRED);
    seed_record("revocation", "retired", &b, 0);
    gpurent_buf_free(&b);
}

/* One signed statement to `dir`: payload signed by `signer`, co-signed by
 * cosigners[0..n), in the fixture window shifted by `shift` seconds. */
static void signed_seed(const char *dir, const char *name, uint32_t statement, const gpurent_buf *payload,
                        unsigned signer, const unsigned *co, unsigned n, int64_t shift, int mutate)
{
    gpurent_envelope h;
    gpurent_buf b = {0};
    fuzz_fixture_header(&h, statement);
    h.issued_at = (uint64_t)((int64_t)h.issued_at + shift);
    h.expires_at = (uint64_t)((int64_t)h.expires_at + shift);
    if (statement == GPURENT_RECORD_TIER_CERT || statement == GPURENT_RECORD_AUDIT_REPORT) {
        h.subject_len = GPURENT_KEY_BYTES;
        fuzz_pk(FUZZ_KEY_PROVIDER, h.subject);
    }
    if (fuzz_sign(&h, signer, co, n, payload->data, payload->len, &b) != GPURENT_OK) die("fuzz_sign");
    seed_record(dir, name, &b, mutate);
    /* The same statement with its last signature byte changed. */
    char bad[160];
    snprintf(bad, sizeof bad, "%s-bad-signature", name);
    b.data[b.len - 1] ^= 1;
    emit(dir, bad, b.data, b.len);
    gpurent_buf_free(&b);
}

static void gen_envelope(void)
{
    gpurent_buf gpu = {0}, rep = {0}, cert = {0}, rec = {0}, rev = {0};
    gpurent_gpu g;
    h100(&g);
    encode_gpu(&g, &gpu);
    gpurent_audit_report r;
    audit_report(&r, FUZZ_KEY_AUDITOR1, 5, 2);
    encode_audit(&r, &rep);
    gpurent_audit_report_clear(&r);
    gpurent_tier_cert c;
    tier_cert(&c);
    if (gpurent_tier_cert_encode(&c, &cert) != GPURENT_OK) die("gpurent_tier_cert_encode");
    revocation(&rev, FUZZ_KEY_AUDITOR3, GPURENT_REVOKE_SUPERSEDED);
    gpurent_match_receipt mr;
    gpurent_match_receipt_init(&mr);
    mr.matched_at = FUZZ_NOW;
    if (gpurent_match_receipt_encode(&mr, &rec) != GPURENT_OK) die("gpurent_match_receipt_encode");
    const unsigned a2[] = {FUZZ_KEY_AUDITOR2}, a23[] = {FUZZ_KEY_AUDITOR2, FUZZ_KEY_AUDITOR3},
                   revoked[] = {FUZZ_KEY_REVOKED}, stranger[] = {FUZZ_KEY_STRANGER}, prov[] = {FUZZ_KEY_PROVIDER};

    signed_seed("envelope", "gpu-by-provider", GPURENT_RECORD_GPU, &gpu, FUZZ_KEY_PROVIDER, NULL, 0, 0, 1);
    signed_seed("envelope", "audit-by-auditor", GPURENT_RECORD_AUDIT_REPORT, &rep, FUZZ_KEY_AUDITOR1, NULL, 0, 0, 0);
    signed_seed("envelope", "cert-by-two", GPURENT_RECORD_TIER_CERT, &cert, FUZZ_KEY_AUDITOR1, a2, 1, 0, 0);
    signed_seed("envelope", "receipt-by-matcher", GPURENT_RECORD_MATCH_RECEIPT, &rec, FUZZ_KEY_MATCHER, NULL, 0, 0, 0);
    signed_seed("envelope", "revocation-by-revoker", GPURENT_RECORD_REVOCATION, &rev, FUZZ_KEY_REVOKER, NULL, 0, 0, 0);
    signed_seed("envelope", "gpu-by-auditor", GPURENT_RECORD_GPU, &gpu, FUZZ_KEY_AUDITOR1, NULL, 0, 0, 0);
    signed_seed("envelope", "gpu-by-stranger", GPURENT_RECORD_GPU, &gpu, FUZZ_KEY_STRANGER, NULL, 0, 0, 0);
    signed_seed("envelope", "audit-by-revoked", GPURENT_RECORD_AUDIT_REPORT, &rep, FUZZ_KEY_REVOKED, NULL, 0, 0, 0);
    signed_seed("envelope", "gpu-expired", GPURENT_RECORD_GPU, &gpu, FUZZ_KEY_PROVIDER, NULL, 0, -200000, 0);
    signed_seed("envelope", "gpu-future", GPURENT_RECORD_GPU, &gpu, FUZZ_KEY_PROVIDER, NULL, 0, 7200, 0);

    signed_seed("quorum", "two-of-three", GPURENT_RECORD_TIER_CERT, &cert, FUZZ_KEY_AUDITOR1, a2, 1, 0, 1);
    signed_seed("quorum", "three-of-three", GPURENT_RECORD_TIER_CERT, &cert, FUZZ_KEY_AUDITOR1, a23, 2, 0, 0);
    signed_seed("quorum", "one-of-three", GPURENT_RECORD_TIER_CERT, &cert, FUZZ_KEY_AUDITOR2, NULL, 0, 0, 0);
    signed_seed("quorum", "one-and-revoked", GPURENT_RECORD_TIER_CERT, &cert, FUZZ_KEY_AUDITOR1, revoked, 1, 0, 0);
    signed_seed("quorum", "one-and-stranger", GPURENT_RECORD_TIER_CERT, &cert, FUZZ_KEY_AUDITOR1, stranger, 1, 0, 0);
    signed_seed("quorum", "one-and-provider", GPURENT_RECORD_TIER_CERT, &cert, FUZZ_KEY_AUDITOR1, prov, 1, 0, 0);
    signed_seed("quorum", "two-expired", GPURENT_RECORD_TIER_CERT, &cert, FUZZ_KEY_AUDITOR1, a2, 1, -200000, 0);
    signed_seed("quorum", "gpu-by-two", GPURENT_RECORD_GPU, &gpu, FUZZ_KEY_AUDITOR1, a2, 1, 0, 0);

    signed_seed("tier_signed", "report", GPURENT_RECORD_AUDIT_REPORT, &rep, FUZZ_KEY_AUDITOR1, NULL, 0, 0, 1);
    signed_seed("tier_signed", "report-by-revoked", GPURENT_RECORD_AUDIT_REPORT, &rep, FUZZ_KEY_REVOKED, NULL, 0, 0, 0);
    signed_seed("tier_signed", "report-by-provider", GPURENT_RECORD_AUDIT_REPORT, &rep, FUZZ_KEY_PROVIDER, NULL, 0, 0, 0);
    signed_seed("tier_signed", "report-of-another-auditor", GPURENT_RECORD_AUDIT_REPORT, &rep, FUZZ_KEY_AUDITOR2,
                NULL, 0, 0, 0);
    signed_seed("tier_signed", "cert-not-report", GPURENT_RECORD_TIER_CERT, &cert, FUZZ_KEY_AUDITOR1, NULL, 0, 0, 0);
    signed_seed("tier_signed", "report-expired", GPURENT_RECORD_AUDIT_REPORT, &rep, FUZZ_KEY_AUDITOR1, NULL, 0,
                -200000, 0);
    gpurent_buf old = {0};
    audit_report(&r, FUZZ_KEY_AUDITOR1, 3, 0);
    r.time_s -= 3 * 86400;
    for (uint32_t i = 0; i < r.challenge_count; i++) r.challenges[i].time_s -= 3 * 86400;
    encode_audit(&r, &old);
    gpurent_audit_report_clear(&r);
    signed_seed("tier_signed", "report-closed-era", GPURENT_RECORD_AUDIT_REPORT, &old, FUZZ_KEY_AUDITOR1, NULL, 0, 0,
                0);
    gpurent_buf_free(&old);
    gpurent_buf_free(&gpu);
    gpurent_buf_free(&rep);
    gpurent_buf_free(&cert);
    gpurent_buf_free(&rec);
    gpurent_buf_free(&rev);
}

/* Key files built here from the documented layout (docs/attest.md), with a
 * fixed salt and nonce so the seeds are reproducible; that the harness opens
 * them also checks the layout against the library. */
static void keyfile(uint8_t f[176], unsigned key, unsigned recorded, const char *pass, uint32_t ops, uint64_t mem)
{
    uint8_t seed[GPURENT_SEED_BYTES], k[crypto_secretbox_KEYBYTES];
    memset(f, 0, 176);
    memcpy(f, "GPRKEY\0\1", 8);
    f[8] = 2;
    for (int i = 0; i < 4; i++) f[12 + i] = (uint8_t)(ops >> (8 * (3 - i)));
    for (int i = 0; i < 8; i++) f[16 + i] = (uint8_t)(mem >> (8 * (7 - i)));
    memset(f + 24, 0x5a, 16);
    memset(f + 40, 0xa5, 24);
    fuzz_pk(recorded, f + 64);
    fuzz_key_seed(key, seed);
    if (crypto_pwhash(k, sizeof k, pass, strlen(pass), f + 24, ops < 1 ? 1 : ops, mem < 8192 ? 8192 : mem,
                      crypto_pwhash_ALG_ARGON2ID13) != 0)
        die("crypto_pwhash");
    crypto_secretbox_easy(f + 96, seed, sizeof seed, f + 40, k);
    crypto_generichash(f + 144, 32, f, 144, NULL, 0);
}

static void gen_keyfile(void)
{
    uint8_t f[176];
    keyfile(f, FUZZ_KEY_PROVIDER, FUZZ_KEY_PROVIDER, FUZZ_PASSPHRASE, FUZZ_KDF_OPS, FUZZ_KDF_MEM);
    emit("keyfile", "provider-valid", f, sizeof f);
    emit("keyfile", "provider-truncated", f, 175);
    f[100] ^= 1;
    emit("keyfile", "provider-box-flipped", f, sizeof f);
    keyfile(f, FUZZ_KEY_PROVIDER, FUZZ_KEY_PROVIDER, FUZZ_PASSPHRASE, 2, 65536);
    emit("keyfile", "provider-ops2-mem64k", f, sizeof f);
    keyfile(f, FUZZ_KEY_PROVIDER, FUZZ_KEY_PROVIDER, "another passphrase", FUZZ_KDF_OPS, FUZZ_KDF_MEM);
    emit("keyfile", "wrong-passphrase", f, sizeof f);
    keyfile(f, FUZZ_KEY_AUDITOR1, FUZZ_KEY_AUDITOR1, FUZZ_PASSPHRASE, FUZZ_KDF_OPS, FUZZ_KDF_MEM);
    emit("keyfile", "not-the-expected-key", f, sizeof f);
    keyfile(f, FUZZ_KEY_AUDITOR1, FUZZ_KEY_PROVIDER, FUZZ_PASSPHRASE, FUZZ_KDF_OPS, FUZZ_KDF_MEM);
    emit("keyfile", "recorded-key-differs", f, sizeof f);
    keyfile(f, FUZZ_KEY_PROVIDER, FUZZ_KEY_PROVIDER, FUZZ_PASSPHRASE, 0, 4096);
    emit("keyfile", "limits-below", f, sizeof f);
    keyfile(f, FUZZ_KEY_PROVIDER, FUZZ_KEY_PROVIDER, FUZZ_PASSPHRASE, 1, 8192);
    f[8] = 1;
    crypto_generichash(f + 144, 32, f, 144, NULL, 0);
    emit("keyfile", "unknown-kdf", f, sizeof f);
    emit("keyfile", "empty", f, 0);
}

int main(int argc, char **argv)
{
    if (argc != 2 && argc != 3) {
        fprintf(stderr, "usage: gen_seeds OUT_DIR [FAKE_LIBCUDA]\n");
        return 2;
    }
    out_root = argv[1];
    if (mkdir(out_root, 0777) != 0 && errno != EEXIST) die("cannot create the output dir");
    gen_gpu();
    gen_offer();
    gen_request();
    gen_generic();
    gen_cli_json();
    fakecuda_path = argc == 3 ? argv[2] : NULL;
    if (sodium_init() < 0) die("sodium_init");
    gen_gpu_report();
    gen_audit_report();
    gen_tier_cert();
    gen_match_receipt();
    gen_market_apply();
    gen_revocation();
    gen_envelope();
    gen_keyfile();
    printf("gen_seeds: %u files under %s\n", written, out_root);
    return 0;
}
