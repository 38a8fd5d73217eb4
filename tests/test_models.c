/* The canonical model table and the framework build table (gpurent/models.h,
 * docs/models.md): the tables' own soundness, name resolution, digests, and
 * what the market makes of models and framework builds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "gpurent.h"
#include "match/match_internal.h"
#include "match/models_internal.h"
#include "wire/mp_internal.h"

/* ---- the model table ---- */

static int id_ok(const char *s)
{
    if (!*s) return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-')) return 0;
    return 1;
}

static void test_table_sound(void **state)
{
    (void)state;
    assert_int_equal(gpurent_model_table_version(), GPURENT_MODEL_TABLE_VERSION);
    assert_true(gpurent_model_count() >= 30);
    assert_null(gpurent_model_at(gpurent_model_count()));
    /* No normalised name names two targets (an alias may spell its own id). */
    assert_int_equal(ml_model_key_conflicts(), 0);
    for (uint32_t i = 0; i < gpurent_model_count(); i++) {
        const gpurent_model *e = gpurent_model_at(i);
        assert_true(id_ok(e->id));
        assert_true(id_ok(e->family));
        assert_true(e->source && strlen(e->source) > 10);
        assert_true(e->name_count >= 1 && e->name_count <= GPURENT_MODEL_MAX_NAMES);
        assert_true(e->alias_count <= GPURENT_MODEL_MAX_ALIASES);
        assert_true(e->pci_count <= GPURENT_MODEL_MAX_PCI);
        assert_true(e->interface == GPURENT_IFACE_PCIE || e->interface == GPURENT_IFACE_SXM);
        assert_true(e->sm_count > 0 && e->memory_mib >= 16384 && e->mem_bw_mbps > 0 && e->fp32_gflops > 0);
        int nvidia = !strcmp(e->vendor, "NVIDIA");
        assert_true(nvidia || !strcmp(e->vendor, "AMD"));
        if (nvidia) assert_true(e->cc_major >= 7 && e->cc_minor <= 9);
        else assert_int_equal(e->cc_major, 0);
        for (uint32_t j = 0; j < e->pci_count; j++)
            assert_int_equal(e->pci[j].vendor, nvidia ? GPURENT_PCI_VENDOR_NVIDIA : GPURENT_PCI_VENDOR_AMD);
        /* Where clock and SMs are known, the FP32 peak is SMs x cores x 2 x clock (docs/models.md), to 1 %. */
        if (nvidia && e->boost_clock_mhz) {
            uint32_t cores = (e->cc_major == 7 || (e->cc_major == 8 && e->cc_minor == 0)) ? 64 : 128;
            uint64_t d = (uint64_t)e->sm_count * cores * 2 * e->boost_clock_mhz / 1000;
            uint64_t diff = d > e->fp32_gflops ? d - e->fp32_gflops : e->fp32_gflops - d;
            assert_true(diff * 100 <= e->fp32_gflops);
        }
        /* Ids are unique. */
        for (uint32_t j = 0; j < i; j++) assert_string_not_equal(gpurent_model_at(j)->id, e->id);
    }
}

/* The GPUs the model table must cover: current datacenter and consumer NVIDIA and AMD parts. */
static void test_table_covers(void **state)
{
    (void)state;
    static const char *const want[] = {
        "h200-sxm-141gb", "h100-pcie-80gb", "h100-sxm5-80gb",  "h100-nvl-94gb",   "a100-sxm4-40gb",
        "a100-sxm4-80gb", "a100-pcie-40gb", "a100-pcie-80gb",  "l40s-48gb",       "l40-48gb",
        "l4-24gb",        "a10-24gb",       "a40-48gb",        "rtx-a6000-48gb",  "rtx6000-ada-48gb",
        "rtx5090-32gb",   "rtx4090-24gb",   "rtx4080-16gb",    "rtx3090-24gb",    "v100-sxm2-16gb",
        "t4-16gb",        "b200-sxm-180gb", "mi300x-oam-192gb", "mi250x-oam-128gb", "mi250-oam-128gb"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const gpurent_model *e = gpurent_model_find(want[i]);
        assert_non_null(e);
        assert_string_equal(e->id, want[i]);
    }
}

/* Every id, driver name and alias resolves to its own entry, whatever the
 * case and punctuation. */
static void test_every_name_resolves(void **state)
{
    (void)state;
    for (uint32_t i = 0; i < gpurent_model_count(); i++) {
        const gpurent_model *e = gpurent_model_at(i), *got = NULL;
        assert_int_equal(gpurent_model_lookup(e->id, &got), GPURENT_NAME_ID);
        assert_ptr_equal(got, e);
        assert_ptr_equal(gpurent_model_find(e->id), e);
        for (uint32_t j = 0; j < e->name_count; j++) {
            uint32_t k = gpurent_model_lookup(gpurent_model_name_at(e, j), &got);
            assert_true(k == GPURENT_NAME_DRIVER || k == GPURENT_NAME_ID);
            assert_ptr_equal(got, e);
        }
        for (uint32_t j = 0; j < e->alias_count; j++) {
            const char *a = gpurent_model_alias_at(e, j);
            uint32_t k = gpurent_model_lookup(a, &got);
            assert_true(k == GPURENT_NAME_ALIAS || k == GPURENT_NAME_ID);
            assert_ptr_equal(got, e);
            /* Upper case, punctuation changed: the same entry. */
            char v[GPURENT_NAME_MAX * 2];
            size_t n = 0;
            for (const char *p = a; *p && n + 3 < sizeof v; p++) {
                char c = *p;
                if (c >= 'a' && c <= 'z') c = (char)(c - 'a' + 'A');
                if (c == ' ' || c == '-') { v[n++] = '_'; v[n++] = '.'; continue; }
                v[n++] = c;
            }
            v[n] = '\0';
            assert_ptr_equal(gpurent_model_find(v), e);
        }
        assert_null(gpurent_model_name_at(e, e->name_count));
        assert_null(gpurent_model_alias_at(e, e->alias_count));
        assert_null(gpurent_model_pci_at(e, e->pci_count));
    }
    const gpurent_model *h = gpurent_model_find("NVIDIA H100 80GB HBM3");
    assert_non_null(h);
    assert_string_equal(h->id, "h100-sxm5-80gb");
    assert_ptr_equal(gpurent_model_find("H100 SXM5 80GB"), h);
    assert_ptr_equal(gpurent_model_find(" h100-SXM5_80gb "), h);
    assert_ptr_equal(gpurent_model_find("NVIDIA GeForce RTX 4090"), gpurent_model_find("rtx4090-24gb"));
    assert_null(gpurent_model_name_at(NULL, 0));
    assert_null(gpurent_model_alias_at(NULL, 0));
    assert_null(gpurent_model_pci_at(NULL, 0));
    assert_string_equal(gpurent_name_kind_name(GPURENT_NAME_FAMILY), "family");
    assert_string_equal(gpurent_name_kind_name(99), "unknown");
}

/* gpurent_model_find remembers its last answers per thread (a table indexed
 * by a hash of the name): asked every id, driver name, alias and variant
 * spelling, then an unknown name for each, three rounds over (the table
 * fills, its slots are shared and overwritten), it answers as the lookup
 * that never remembers does, every time. */
static void test_find_memo(void **state)
{
    (void)state;
    for (int round = 0; round < 3; round++)
        for (uint32_t i = 0; i < gpurent_model_count(); i++) {
            const gpurent_model *e = gpurent_model_at(i), *got = NULL;
            const char *names[2 + GPURENT_MODEL_MAX_NAMES + GPURENT_MODEL_MAX_ALIASES];
            uint32_t n = 0;
            names[n++] = e->id;
            names[n++] = e->family;
            for (uint32_t j = 0; j < e->name_count; j++) names[n++] = gpurent_model_name_at(e, j);
            for (uint32_t j = 0; j < e->alias_count; j++) names[n++] = gpurent_model_alias_at(e, j);
            for (uint32_t j = 0; j < n; j++) {
                uint32_t kind = gpurent_model_lookup(names[j], &got);
                const gpurent_model *want = kind == GPURENT_NAME_FAMILY && gpurent_model_family_size(names[j]) == 1
                                                ? gpurent_model_family_member(names[j], 0)
                                                : got;
                assert_ptr_equal(gpurent_model_find(names[j]), want);
                char unknown[GPURENT_NAME_MAX];
                snprintf(unknown, sizeof unknown, "%.40s zz%u", names[j], round);
                assert_int_equal(gpurent_model_lookup(unknown, NULL), GPURENT_NAME_UNKNOWN);
                assert_null(gpurent_model_find(unknown));
            }
        }
    /* names no slot holds: empty, NULL, and one longer than any slot */
    char long_name[GPURENT_NAME_MAX + 8];
    memset(long_name, 'a', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = 0;
    assert_null(gpurent_model_find(""));
    assert_null(gpurent_model_find(NULL));
    assert_null(gpurent_model_find(long_name));
    assert_null(gpurent_model_find(long_name));
}

/* A family names all its members and nothing else. */
static void test_families(void **state)
{
    (void)state;
    for (uint32_t i = 0; i < gpurent_model_count(); i++) {
        const gpurent_model *e = gpurent_model_at(i);
        assert_int_equal(gpurent_model_lookup(e->family, NULL), GPURENT_NAME_FAMILY);
        uint32_t want = 0;
        for (uint32_t j = 0; j < gpurent_model_count(); j++) want += !strcmp(gpurent_model_at(j)->family, e->family);
        assert_int_equal(gpurent_model_family_size(e->family), want);
        int seen = 0;
        for (uint32_t j = 0; j < want; j++) {
            const gpurent_model *mm = gpurent_model_family_member(e->family, j);
            assert_non_null(mm);
            assert_string_equal(mm->family, e->family);
            seen += mm == e;
        }
        assert_int_equal(seen, 1);
        assert_null(gpurent_model_family_member(e->family, want));
    }
    assert_int_equal(gpurent_model_family_size("H100"), 3);
    assert_int_equal(gpurent_model_family_size("a100"), 4);
    assert_int_equal(gpurent_model_family_size("h100-sxm5-80gb"), 0); /* an id, not a family */
    const gpurent_model *e = NULL;
    assert_int_equal(gpurent_model_lookup("h100", &e), GPURENT_NAME_FAMILY);
    assert_null(e);
    assert_null(gpurent_model_find("h100"));                       /* three models: no single one */
    assert_ptr_equal(gpurent_model_find("RTX 4090"), gpurent_model_find("rtx4090-24gb")); /* one member */
}

static void test_unknown_names(void **state)
{
    (void)state;
    const gpurent_model *e = (const gpurent_model *)1;
    assert_int_equal(gpurent_model_lookup("foo", &e), GPURENT_NAME_UNKNOWN);
    assert_null(e);
    assert_int_equal(gpurent_model_lookup(NULL, NULL), GPURENT_NAME_UNKNOWN);
    assert_int_equal(gpurent_model_lookup("", NULL), GPURENT_NAME_UNKNOWN);
    assert_int_equal(gpurent_model_lookup("--- ", NULL), GPURENT_NAME_UNKNOWN);
    assert_null(gpurent_model_find("H100 SXM5 80GB extra"));
    assert_null(gpurent_model_find("A1000"));
    char longname[600];
    memset(longname, 'h', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    assert_null(gpurent_model_find(longname));
    assert_int_equal(gpurent_model_family_size(NULL), 0);
    assert_null(gpurent_model_family_member("foo", 0));
}

static void test_pci(void **state)
{
    (void)state;
    const gpurent_model *e = gpurent_model_find_pci(0x10de, 0x2330, 0x10de, 0x16c1);
    assert_non_null(e);
    assert_string_equal(e->id, "h100-sxm5-80gb");
    assert_string_equal(gpurent_model_find_pci(0x10de, 0x2684, 0, 0)->id, "rtx4090-24gb");
    assert_null(gpurent_model_find_pci(0x1002, 0x740c, 0, 0)); /* MI250 and MI250X share it */
    assert_null(gpurent_model_find_pci(0x10de, 0xffff, 0, 0));
    assert_null(gpurent_model_find_pci(0x8086, 0x2330, 0, 0));
    const gpurent_pci_id *p = gpurent_model_pci_at(e, 0);
    assert_int_equal(p->vendor, 0x10de);
    assert_int_equal(p->device, 0x2330);
    /* Every PCI id that only one entry holds finds that entry. */
    for (uint32_t i = 0; i < gpurent_model_count(); i++) {
        const gpurent_model *m = gpurent_model_at(i);
        for (uint32_t j = 0; j < m->pci_count; j++) {
            const gpurent_model *f = gpurent_model_find_pci(m->pci[j].vendor, m->pci[j].device, 0, 0);
            assert_true(f == m || f == NULL);
            if (m->pci[j].device != 0x740c) assert_ptr_equal(f, m);
        }
    }
}

static void hex(const uint8_t *d, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* The digests are BLAKE2b-256 of the documented encodings, and are pinned:
 * an edit of a table without a new version (and a new pinned digest) fails
 * here. */
#define MODEL_TABLE_V1_DIGEST "9a7d4dbfc938e70b90e091376c7653bef426fc3ac531e64905732383f3cc8070"
#define FRAMEWORK_TABLE_V1_DIGEST "a8bfaa26dcacd346e9019fd82aa5f03d8c1717115503d47735a1102bb4a867b3"
static void test_digests(void **state)
{
    (void)state;
    uint8_t d[32], e[32];
    char h[65];
    gpurent_buf b = {NULL, 0};
    assert_int_equal(gpurent_model_table_digest(d), GPURENT_OK);
    assert_int_equal(ml_model_table_encode(&b), GPURENT_OK);
    assert_int_equal(gpurent_wire_check_canonical(b.data, b.len), GPURENT_OK);
    crypto_generichash(e, 32, b.data, b.len, NULL, 0);
    assert_memory_equal(d, e, 32);
    gpurent_buf_free(&b);
    hex(d, 32, h);
    if (GPURENT_MODEL_TABLE_VERSION == 1) assert_string_equal(h, MODEL_TABLE_V1_DIGEST);
    assert_int_equal(gpurent_framework_table_digest(d), GPURENT_OK);
    assert_int_equal(ml_framework_table_encode(&b), GPURENT_OK);
    crypto_generichash(e, 32, b.data, b.len, NULL, 0);
    assert_memory_equal(d, e, 32);
    gpurent_buf_free(&b);
    hex(d, 32, h);
    if (GPURENT_FRAMEWORK_TABLE_VERSION == 1) assert_string_equal(h, FRAMEWORK_TABLE_V1_DIGEST);
    assert_int_equal(gpurent_model_table_digest(NULL), GPURENT_E_INVALID_ARG);
    assert_int_equal(gpurent_framework_table_digest(NULL), GPURENT_E_INVALID_ARG);
}

/* The policy digest covers both tables' digests (docs/match.md, keys 14 and 15). */
static void test_policy_digest_has_tables(void **state)
{
    (void)state;
    gpurent_match_options o = GPURENT_MATCH_OPTIONS_INIT;
    uint8_t got[32], want[32], md[32], fd[32];
    assert_int_equal(gpurent_match_options_digest(&o, got), GPURENT_OK);
    assert_int_equal(gpurent_model_table_digest(md), GPURENT_OK);
    assert_int_equal(gpurent_framework_table_digest(fd), GPURENT_OK);
    const uint64_t v[14] = {1, 250, 250, 150, 100, 50, 50, 150, 1000000, 250000, 1000000000000ull, 250000, 0, 6};
    gr_writer w;
    gpurent_buf b = {NULL, 0};
    gr_wr_init(&w);
    gr_wr_map(&w, 16);
    for (uint32_t i = 0; i < 14; i++) {
        gr_wr_uint(&w, i);
        gr_wr_uint(&w, v[i]);
    }
    gr_wr_uint(&w, 14);
    gr_wr_bin(&w, md, 32);
    gr_wr_uint(&w, 15);
    gr_wr_bin(&w, fd, 32);
    assert_int_equal(gr_wr_finish(&w, &b), GPURENT_OK);
    crypto_generichash(want, 32, b.data, b.len, NULL, 0);
    gpurent_buf_free(&b);
    assert_memory_equal(got, want, 32);
}

/* ---- frameworks ---- */

static void test_frameworks(void **state)
{
    (void)state;
    assert_int_equal(gpurent_framework_table_version(), GPURENT_FRAMEWORK_TABLE_VERSION);
    assert_true(gpurent_framework_count() >= 20);
    assert_null(gpurent_framework_at(gpurent_framework_count()));
    char k1[64], k2[64];
    for (uint32_t i = 0; i < gpurent_framework_count(); i++) {
        const gpurent_framework *f = gpurent_framework_at(i);
        assert_ptr_equal(gpurent_framework_find(f->id), f);
        assert_true(f->source && strlen(f->source) > 10);
        assert_true(f->cuda_version >= 11000 && f->arch_count >= 1);
        for (uint32_t j = 0; j < f->alias_count; j++) assert_ptr_equal(gpurent_framework_find(gpurent_framework_alias_at(f, j)), f);
        assert_null(gpurent_framework_alias_at(f, f->alias_count));
        assert_int_equal(gpurent_framework_arch_at(f, f->arch_count), 0);
        /* No two entries share a normalised name. */
        for (uint32_t j = 0; j < i; j++) {
            const gpurent_framework *g = gpurent_framework_at(j);
            assert_true(ml_name_norm(f->id, k1, sizeof k1) && ml_name_norm(g->id, k2, sizeof k2));
            assert_string_not_equal(k1, k2);
            for (uint32_t a = 0; a < g->alias_count; a++) {
                assert_true(ml_name_norm(g->aliases[a], k2, sizeof k2));
                assert_string_not_equal(k1, k2);
                for (uint32_t c = 0; c < f->alias_count; c++) {
                    assert_true(ml_name_norm(f->aliases[c], k1, sizeof k1));
                    assert_string_not_equal(k1, k2);
                }
                assert_true(ml_name_norm(f->id, k1, sizeof k1));
            }
        }
    }
    const gpurent_framework *t = gpurent_framework_find("torch 2.5+cu124");
    assert_non_null(t);
    assert_string_equal(t->id, "torch-2.5+cu124");
    assert_int_equal(t->cuda_version, 12040);
    assert_ptr_equal(gpurent_framework_find("torch==2.5.1+cu124"), t);
    assert_ptr_equal(gpurent_framework_find("Torch 2.5"), t); /* the PyPI default build */
    assert_string_equal(gpurent_framework_find("tf 2.17")->id, "tensorflow-2.17");
    assert_null(gpurent_framework_find("torch 9.9"));
    assert_null(gpurent_framework_find(NULL));
    /* Kernels: a cubin runs on later minors of its major; PTX compiles forward. */
    assert_true(gpurent_framework_supports_cc(t, 8, 9));   /* sm_86 cubin on Ada */
    assert_true(gpurent_framework_supports_cc(t, 9, 0));
    assert_true(gpurent_framework_supports_cc(t, 7, 5));
    assert_false(gpurent_framework_supports_cc(t, 12, 0)); /* RTX 5090: no sm_120, no PTX */
    assert_false(gpurent_framework_supports_cc(t, 10, 0)); /* B200 */
    assert_false(gpurent_framework_supports_cc(t, 3, 7));
    const gpurent_framework *n = gpurent_framework_find("torch 2.7+cu128");
    assert_true(gpurent_framework_supports_cc(n, 12, 0));
    assert_true(gpurent_framework_supports_cc(n, 10, 0));
    assert_false(gpurent_framework_supports_cc(n, 7, 0));
    const gpurent_framework *tf = gpurent_framework_find("tensorflow 2.17.0");
    assert_true(gpurent_framework_supports_cc(tf, 12, 0)); /* PTX for 9.0 */
    assert_true(gpurent_framework_supports_cc(tf, 8, 6));  /* sm_80 cubin */
    assert_false(gpurent_framework_supports_cc(tf, 5, 0));
    assert_false(gpurent_framework_supports_cc(NULL, 8, 0));
    assert_false(gpurent_framework_supports_cc(t, 8, 10));
    assert_int_equal(gpurent_framework_arch_at(NULL, 0), 0);
    assert_null(gpurent_framework_alias_at(NULL, 0));
}

/* ---- the request record's framework (key 24) ---- */

static void test_request_framework_wire(void **state)
{
    (void)state;
    gpurent_request q, d;
    gpurent_request_init(&q);
    strcpy(q.request_id, "r1");
    gpurent_buf b = {NULL, 0};
    /* Without a framework: 24 entries, as before. */
    assert_int_equal(gpurent_request_encode(&q, &b), GPURENT_OK);
    assert_int_equal(b.data[0], 0xde);
    assert_int_equal(b.data[2], 24);
    gpurent_buf_free(&b);
    strcpy(q.framework, "torch 2.5+cu124");
    assert_int_equal(gpurent_request_encode(&q, &b), GPURENT_OK);
    assert_int_equal(b.data[2], 25);
    memset(&d, 0x55, sizeof d);
    assert_int_equal(gpurent_request_decode(b.data, b.len, &d), GPURENT_OK);
    assert_string_equal(d.framework, "torch 2.5+cu124");
    /* An empty framework written out is not canonical (it must be left out). */
    size_t n = b.len - strlen("torch 2.5+cu124");
    uint8_t *bad = malloc(b.len);
    memcpy(bad, b.data, b.len);
    bad[n - 1] = 0xa0; /* fixstr of length 0 */
    assert_int_equal(gpurent_request_decode(bad, n, &d), GPURENT_E_INVALID_FIELD);
    /* 26 entries: refused. */
    bad[2] = 26;
    assert_int_not_equal(gpurent_request_decode(bad, b.len, &d), GPURENT_OK);
    free(bad);
    gpurent_buf_free(&b);
}

/* ---- the market ---- */

static void key_of(uint32_t id, uint8_t key[32])
{
    memset(key, 0, 32);
    key[0] = (uint8_t)id;
    key[31] = 0x77;
}

/* One provider `id` with one 8-GPU node of `model`. */
static void put_node(gpurent_market *m, uint32_t id, const char *model, uint32_t cc, uint32_t cuda)
{
    gpurent_offer o;
    gpurent_node n;
    gpurent_offer_init(&o);
    key_of(id, o.provider_key);
    o.seq = 1;
    strcpy(o.region, "eu-west");
    memset(&n, 0, sizeof n);
    snprintf(n.node_id, sizeof n.node_id, "n%u", id);
    snprintf(n.gpu.model, sizeof n.gpu.model, "%s", model);
    n.gpu.cc_major = cc / 10;
    n.gpu.cc_minor = cc % 10;
    n.gpu.memory_mib = 81920;
    n.gpu.fp32_gflops = 50000;
    n.gpu.cuda_version = cuda;
    n.gpu_count = 8;
    n.gpu_free = 8;
    n.cpu_millicores = 32000;
    n.ram_mib = 1 << 20;
    n.disk_gib = 1000;
    n.price_micro_per_gpu_hour = 1000000 + id;
    assert_int_equal(gpurent_offer_add_node(&o, &n), GPURENT_OK);
    assert_int_equal(gpurent_market_put_offer(m, &o), GPURENT_OK);
    gpurent_offer_clear(&o);
}

static gpurent_market *market(void)
{
    gpurent_market *m = NULL;
    uint8_t seed[32] = {7};
    assert_int_equal(gpurent_market_new(&m, NULL, seed), GPURENT_OK);
    /* Offers name their models every way a provider might. */
    put_node(m, 1, "NVIDIA H100 80GB HBM3", 90, 12040); /* driver name */
    put_node(m, 2, "H100 SXM5 80GB", 90, 12040);        /* vendor spelling of the id */
    put_node(m, 3, "h100 pcie", 90, 12020);              /* alias */
    put_node(m, 4, "h100-nvl-94gb", 90, 12040);          /* id */
    put_node(m, 5, "NVIDIA A100-SXM4-80GB", 80, 12020);
    put_node(m, 6, "NVIDIA H200", 90, 12040);
    put_node(m, 7, "foo", 80, 12020);                    /* not in the table */
    put_node(m, 8, "NVIDIA GeForce RTX 5090", 120, 12080);
    return m;
}

/* Names of the models the request matches, sorted, joined by spaces. */
static void matched(gpurent_market *m, const gpurent_request *q, char *out, size_t cap)
{
    gpurent_match_candidate c[16];
    uint32_t n = 0;
    assert_int_equal(gpurent_market_best(m, q, 16, c, &n), GPURENT_OK);
    const char *v[16];
    for (uint32_t i = 0; i < n; i++) {
        uint32_t j = i;
        while (j > 0 && strcmp(v[j - 1], c[i].model) > 0) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = c[i].model;
    }
    out[0] = '\0';
    for (uint32_t i = 0; i < n; i++) {
        if (i) strncat(out, " ", cap - strlen(out) - 1);
        strncat(out, v[i], cap - strlen(out) - 1);
    }
}

static void req(gpurent_request *q, const char *model)
{
    gpurent_request_init(q);
    strcpy(q->request_id, "q");
    if (model) assert_int_equal(gpurent_request_add_model(q, model), GPURENT_OK);
}

static void test_market_resolves(void **state)
{
    (void)state;
    gpurent_market *m = market();
    gpurent_request q;
    char got[512];
    gpurent_market_stats st;
    assert_int_equal(gpurent_market_stats_get(m, &st), GPURENT_OK);
    assert_int_equal(st.nodes, 8);
    /* The family: every H100 however the offer spelt it, nothing else. */
    req(&q, "H100");
    matched(m, &q, got, sizeof got);
    assert_string_equal(got, "h100-nvl-94gb h100-pcie-80gb h100-sxm5-80gb h100-sxm5-80gb");
    /* An id, an alias, a driver name: the one model. */
    req(&q, "h100-sxm5-80gb");
    matched(m, &q, got, sizeof got);
    assert_string_equal(got, "h100-sxm5-80gb h100-sxm5-80gb");
    req(&q, "H100 SXM");
    matched(m, &q, got, sizeof got);
    assert_string_equal(got, "h100-sxm5-80gb h100-sxm5-80gb");
    req(&q, "NVIDIA H100 PCIe");
    matched(m, &q, got, sizeof got);
    assert_string_equal(got, "h100-pcie-80gb");
    /* An old-style exact request still matches its offer. */
    req(&q, "H100 SXM5 80GB");
    matched(m, &q, got, sizeof got);
    assert_string_equal(got, "h100-sxm5-80gb h100-sxm5-80gb");
    /* Two names, a family and a model, overlap without repeats. */
    req(&q, "a100");
    assert_int_equal(gpurent_request_add_model(&q, "rtx 5090"), GPURENT_OK);
    matched(m, &q, got, sizeof got);
    assert_string_equal(got, "a100-sxm4-80gb rtx5090-32gb");
    /* Unknown names stay exact. */
    req(&q, "foo");
    matched(m, &q, got, sizeof got);
    assert_string_equal(got, "foo");
    req(&q, "FOO");
    matched(m, &q, got, sizeof got);
    assert_string_equal(got, "");
    /* The same requests queued and batched: the same answer (the lists are the batch's too). */
    req(&q, "h100");
    q.gpu_count = 8;
    assert_int_equal(gpurent_market_add_request(m, &q), GPURENT_OK);
    gpurent_match_receipt r;
    gpurent_match_receipt_init(&r);
    assert_int_equal(gpurent_market_match(m, 1700000000, NULL, &r), GPURENT_OK);
    assert_int_equal(r.assignment_count, 1);
    assert_int_equal(gpurent_market_apply(m, &r), GPURENT_OK);
    gpurent_match_receipt_clear(&r);
    gpurent_market_free(m);
}

static char *explain_text(gpurent_market *m, const gpurent_request *q, gpurent_match_explain *ex)
{
    gpurent_buf b = {NULL, 0};
    assert_int_equal(gpurent_market_explain(m, q, ex), GPURENT_OK);
    assert_int_equal(gpurent_match_explain_text(ex, &b), GPURENT_OK);
    char *s = malloc(b.len + 1);
    memcpy(s, b.data, b.len);
    s[b.len] = '\0';
    gpurent_buf_free(&b);
    return s;
}

static void test_explain_unknown_model(void **state)
{
    (void)state;
    gpurent_market *m = market();
    gpurent_request q;
    gpurent_match_explain ex;
    req(&q, "foo");
    assert_int_equal(gpurent_request_add_model(&q, "h100"), GPURENT_OK);
    assert_int_equal(gpurent_request_add_model(&q, "bar"), GPURENT_OK);
    char *s = explain_text(m, &q, &ex);
    assert_int_equal(ex.unknown_model_count, 2);
    assert_int_equal(ex.model_table_version, GPURENT_MODEL_TABLE_VERSION);
    assert_non_null(strstr(s, "model 'foo' is not in the model table v1; matched as an exact name\n"));
    assert_non_null(strstr(s, "model 'bar' is not in the model table v1; matched as an exact name\n"));
    assert_null(strstr(s, "'h100' is not"));
    free(s);
    req(&q, "h100");
    s = explain_text(m, &q, &ex);
    assert_int_equal(ex.unknown_model_count, 0);
    assert_null(strstr(s, "is not in the model table"));
    free(s);
    gpurent_market_free(m);
}

static void test_market_framework(void **state)
{
    (void)state;
    gpurent_market *m = market();
    gpurent_request q;
    gpurent_match_explain ex;
    char got[512];
    /* torch 2.5+cu124: CUDA 12.4 and no code for 12.0: H100s with 12.4 and the NVL/H200. */
    req(&q, NULL);
    strcpy(q.framework, "torch 2.5+cu124");
    matched(m, &q, got, sizeof got);
    assert_string_equal(got, "h100-nvl-94gb h100-sxm5-80gb h100-sxm5-80gb h200-sxm-141gb");
    /* torch 2.7+cu128: CUDA 12.8, only the 5090's driver has it. */
    strcpy(q.framework, "torch-2.7+cu128");
    matched(m, &q, got, sizeof got);
    assert_string_equal(got, "rtx5090-32gb");
    /* The request's own minimum still counts when higher than the build's. */
    strcpy(q.framework, "tensorflow 2.15");
    q.min_cuda_version = 12080;
    matched(m, &q, got, sizeof got);
    assert_string_equal(got, "rtx5090-32gb");
    /* Explain speaks of the build by name. */
    req(&q, "h100 pcie");
    assert_int_equal(gpurent_request_add_model(&q, "a100-sxm4-80gb"), GPURENT_OK);
    strcpy(q.framework, "torch 2.5+cu124");
    char *s = explain_text(m, &q, &ex);
    assert_string_equal(ex.framework, "torch-2.5+cu124");
    assert_int_equal(ex.framework_cuda, 12040);
    assert_int_equal(ex.framework_cuda_nodes, 2);
    assert_int_equal(ex.framework_cuda_best, 12020);
    assert_string_equal(ex.framework_alt, "torch-2.5+cu121");
    assert_non_null(strstr(s, "torch-2.5+cu124 needs CUDA 12.4; 2 nodes have less (at most 12.2); torch-2.5+cu121 would run there\n"));
    assert_null(strstr(s, "lowering the CUDA minimum"));
    free(s);
    req(&q, "rtx5090");
    strcpy(q.framework, "torch 2.5+cu124");
    s = explain_text(m, &q, &ex);
    assert_int_equal(ex.framework_cc_nodes, 1);
    assert_int_equal(ex.framework_cc_lowest, 120);
    assert_non_null(strstr(s, "torch-2.5+cu124 ships no code for compute capability 12.0 (1 node)\n"));
    free(s);
    /* One node below: "node has". */
    gpurent_market_free(m);
    uint8_t seed[32] = {7};
    assert_int_equal(gpurent_market_new(&m, NULL, seed), GPURENT_OK);
    put_node(m, 1, "NVIDIA H100 PCIe", 90, 12020);
    req(&q, "h100");
    strcpy(q.framework, "torch 2.5+cu124");
    s = explain_text(m, &q, &ex);
    assert_non_null(strstr(s, "torch-2.5+cu124 needs CUDA 12.4; node has 12.2; torch-2.5+cu121 would run there\n"));
    free(s);
    /* An unknown build is refused, never matched as if absent. */
    strcpy(q.framework, "torch 9.9");
    assert_int_equal(gpurent_market_add_request(m, &q), GPURENT_E_INVALID_ARG);
    assert_non_null(strstr(gpurent_last_error_message(), "framework 'torch 9.9' is not in the framework table v1"));
    uint32_t n = 9;
    gpurent_match_candidate c;
    assert_int_equal(gpurent_market_best(m, &q, 1, &c, &n), GPURENT_E_INVALID_ARG);
    /* Known build queued: pending, then matched by a batch on a node that runs it. */
    strcpy(q.framework, "torch 2.5+cu121");
    assert_int_equal(gpurent_market_add_request(m, &q), GPURENT_OK);
    gpurent_market_free(m);
}

/* Requests whose names the tables rewrote save and load as they came: the
 * snapshot holds their records, so the digests must survive. */
static void test_snapshot_keeps_names(void **state)
{
    (void)state;
    gpurent_market *m = market(), *l = NULL;
    gpurent_request q;
    req(&q, "H100");
    assert_int_equal(gpurent_request_add_model(&q, "NVIDIA A100-SXM4-80GB"), GPURENT_OK);
    assert_int_equal(gpurent_request_add_model(&q, "foo"), GPURENT_OK);
    strcpy(q.framework, "torch 2.5.1+cu121");
    q.min_cuda_version = 11080;
    assert_int_equal(gpurent_market_add_request(m, &q), GPURENT_OK);
    req(&q, NULL);
    strcpy(q.request_id, "q2");
    strcpy(q.framework, "tf 2.17");
    q.min_cuda_version = 12080;
    assert_int_equal(gpurent_market_add_request(m, &q), GPURENT_OK);
    /* The names as written hold references like any request name (the invariant check counts them). */
    assert_int_equal(ml_market_check(m), GPURENT_OK);
    gpurent_market_stats st;
    assert_int_equal(gpurent_market_stats_get(m, &st), GPURENT_OK);
    gpurent_buf b = {NULL, 0}, b2 = {NULL, 0};
    assert_int_equal(gpurent_market_save(m, 5, &b), GPURENT_OK);
    assert_int_equal(gpurent_market_load(&l, b.data, b.len, NULL, NULL), GPURENT_OK);
    uint8_t o1[32], r1[32], p1[32], o2[32], r2[32], p2[32];
    assert_int_equal(gpurent_market_digests(m, o1, r1, p1), GPURENT_OK);
    assert_int_equal(gpurent_market_digests(l, o2, r2, p2), GPURENT_OK);
    assert_memory_equal(o1, o2, 32);
    assert_memory_equal(r1, r2, 32);
    assert_memory_equal(p1, p2, 32);
    assert_int_equal(gpurent_market_save(l, 5, &b2), GPURENT_OK);
    assert_int_equal(b.len, b2.len);
    assert_memory_equal(b.data, b2.data, b.len);
    assert_int_equal(ml_market_check(l), GPURENT_OK);
    /* Removing the requests releases every name they held. */
    assert_int_equal(gpurent_market_remove_request(m, "q"), GPURENT_OK);
    assert_int_equal(gpurent_market_remove_request(m, "q2"), GPURENT_OK);
    assert_int_equal(ml_market_check(m), GPURENT_OK);
    assert_int_equal(m->models.req_only, 0);
    gpurent_buf_free(&b);
    gpurent_buf_free(&b2);
    gpurent_market_free(l);
    gpurent_market_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_sound),
        cmocka_unit_test(test_table_covers),
        cmocka_unit_test(test_every_name_resolves),
        cmocka_unit_test(test_find_memo),
        cmocka_unit_test(test_families),
        cmocka_unit_test(test_unknown_names),
        cmocka_unit_test(test_pci),
        cmocka_unit_test(test_digests),
        cmocka_unit_test(test_policy_digest_has_tables),
        cmocka_unit_test(test_frameworks),
        cmocka_unit_test(test_request_framework_wire),
        cmocka_unit_test(test_market_resolves),
        cmocka_unit_test(test_explain_unknown_model),
        cmocka_unit_test(test_market_framework),
        cmocka_unit_test(test_snapshot_keeps_names),
    };
    if (gpurent_init() != GPURENT_OK) return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
