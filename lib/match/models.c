/* The canonical GPU model table: lookups by name, family and PCI id, and
 * the table's digest (docs/models.md).
 *
 * Names are looked up through one sorted index of normalised keys built
 * once per process (pthread_once), so resolving an offer's model costs a
 * binary search, not a scan of every name in the table. */
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "../wire/mp_internal.h"
#include "gpurent/models.h"
#include "models_internal.h"

#include "models_data.inc"

#define N_MODELS ((uint32_t)(sizeof model_table / sizeof model_table[0]))

int ml_name_norm(const char *name, char *out, size_t cap)
{
    size_t n = 0;
    if (!name || cap == 0) return 0;
    for (const char *p = name; *p; p++) {
        char c = *p;
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) continue;
        if (n + 1 >= cap) return 0; /* longer than any name in the tables */
        out[n++] = c;
    }
    out[n] = '\0';
    return n > 0;
}

/* One index entry: a normalised key, what it names (an entry, or a family
 * by its first member) and how. */
typedef struct name_key {
    char key[ML_NORM_MAX];
    uint16_t model;
    uint8_t kind;
} name_key;

#define MAX_KEYS (N_MODELS * (2u + GPURENT_MODEL_MAX_NAMES + GPURENT_MODEL_MAX_ALIASES))
static name_key keys[MAX_KEYS];
static uint32_t key_count;
static uint32_t key_conflicts; /* keys naming two targets (test_models keeps this 0) */
static pthread_once_t keys_once = PTHREAD_ONCE_INIT;

static int key_cmp(const void *a, const void *b)
{
    return strcmp(((const name_key *)a)->key, ((const name_key *)b)->key);
}

/* Two keys name the same target when they are the same entry, or the same
 * family. */
static int same_target(const name_key *a, const name_key *b)
{
    if ((a->kind == GPURENT_NAME_FAMILY) != (b->kind == GPURENT_NAME_FAMILY)) return 0;
    if (a->kind == GPURENT_NAME_FAMILY) return !strcmp(model_table[a->model].family, model_table[b->model].family);
    return a->model == b->model;
}

static void add_key(const char *name, uint32_t model, uint8_t kind)
{
    name_key k;
    if (!ml_name_norm(name, k.key, sizeof k.key) || key_count >= MAX_KEYS) {
        key_conflicts++;
        return;
    }
    k.model = (uint16_t)model;
    k.kind = kind;
    keys[key_count++] = k;
}

static void build_keys(void)
{
    for (uint32_t i = 0; i < N_MODELS; i++) {
        const gpurent_model *e = &model_table[i];
        add_key(e->id, i, GPURENT_NAME_ID);
        for (uint32_t j = 0; j < e->name_count; j++) add_key(e->names[j], i, GPURENT_NAME_DRIVER);
        for (uint32_t j = 0; j < e->alias_count; j++) add_key(e->aliases[j], i, GPURENT_NAME_ALIAS);
        uint32_t first = 0;
        while (strcmp(model_table[first].family, e->family)) first++;
        if (first == i) add_key(e->family, i, GPURENT_NAME_FAMILY); /* a family once, by its first member */
    }
    /* Stable order for equal keys: the table order of insertion decides
     * which kind a repeated key reports (an id before its own aliases). */
    for (uint32_t i = 1; i < key_count; i++) {
        name_key k = keys[i];
        uint32_t j = i;
        while (j > 0 && key_cmp(&keys[j - 1], &k) > 0) {
            keys[j] = keys[j - 1];
            j--;
        }
        keys[j] = k;
    }
    /* Drop repeats of one target (an alias spelling its own id); count
     * repeats naming two targets as conflicts and keep the first. */
    uint32_t w = 0;
    for (uint32_t i = 0; i < key_count; i++) {
        if (w > 0 && !strcmp(keys[w - 1].key, keys[i].key)) {
            if (!same_target(&keys[w - 1], &keys[i])) key_conflicts++;
            continue;
        }
        keys[w++] = keys[i];
    }
    key_count = w;
}

static const name_key *find_key(const char *name)
{
    name_key k;
    if (!ml_name_norm(name, k.key, sizeof k.key)) return NULL;
    pthread_once(&keys_once, build_keys);
    return bsearch(&k, keys, key_count, sizeof keys[0], key_cmp);
}

uint32_t ml_model_key_conflicts(void)
{
    pthread_once(&keys_once, build_keys);
    return key_conflicts;
}

const char *ml_model_canonical(const char *name)
{
    const gpurent_model *e = gpurent_model_find(name);
    return e ? e->id : NULL;
}

GPURENT_API uint32_t gpurent_model_table_version(void)
{
    return GPURENT_MODEL_TABLE_VERSION;
}

GPURENT_API uint32_t gpurent_model_count(void)
{
    return N_MODELS;
}

GPURENT_API const gpurent_model *gpurent_model_at(uint32_t index)
{
    return index < N_MODELS ? &model_table[index] : NULL;
}

GPURENT_API uint32_t gpurent_model_lookup(const char *name, const gpurent_model **model)
{
    const name_key *k = find_key(name);
    if (model) *model = k && k->kind != GPURENT_NAME_FAMILY ? &model_table[k->model] : NULL;
    return k ? k->kind : GPURENT_NAME_UNKNOWN;
}

/* Member `index` of the family a key names (NULL past the last); `size`
 * (may be NULL) receives the family's size. */
static const gpurent_model *family_member(const name_key *k, uint32_t index, uint32_t *size)
{
    const gpurent_model *found = NULL;
    uint32_t n = 0;
    if (k && k->kind == GPURENT_NAME_FAMILY)
        for (uint32_t i = 0; i < N_MODELS; i++)
            if (!strcmp(model_table[i].family, model_table[k->model].family) && n++ == index) found = &model_table[i];
    if (size) *size = n;
    return found;
}

GPURENT_API uint32_t gpurent_model_family_size(const char *name)
{
    uint32_t n;
    family_member(find_key(name), 0, &n);
    return n;
}

GPURENT_API const gpurent_model *gpurent_model_family_member(const char *name, uint32_t index)
{
    return family_member(find_key(name), index, NULL);
}

/* gpurent_model_find is a pure function of the name (the table is compiled
 * in), and a market asks it for the same few names over and over (every
 * node of every offer, every request's models): each thread keeps its last
 * answers in a small table indexed by a hash of the name, so a repeat costs
 * a hash and a compare, not a normalisation and a binary search. */
#define FIND_MEMO 64
typedef struct find_memo {
    char name[GPURENT_NAME_MAX]; /* "" : empty slot */
    const gpurent_model *model;
} find_memo;
static _Thread_local find_memo memo[FIND_MEMO];

static const gpurent_model *find_uncached(const char *name);

GPURENT_API const gpurent_model *gpurent_model_find(const char *name)
{
    if (!name) return NULL;
    uint32_t h = 2166136261u;
    size_t n = 0;
    for (; name[n] && n < GPURENT_NAME_MAX; n++) h = (h ^ (uint8_t)name[n]) * 16777619u;
    if (n == 0 || n >= GPURENT_NAME_MAX) return find_uncached(name); /* (never cached) */
    find_memo *e = &memo[h % FIND_MEMO];
    if (memcmp(e->name, name, n + 1) == 0) return e->model;
    const gpurent_model *m = find_uncached(name);
    memcpy(e->name, name, n + 1);
    e->model = m;
    return m;
}

static const gpurent_model *find_uncached(const char *name)
{
    const name_key *k = find_key(name);
    if (!k) return NULL;
    if (k->kind != GPURENT_NAME_FAMILY) return &model_table[k->model];
    uint32_t n;
    const gpurent_model *first = family_member(k, 0, &n);
    return n == 1 ? first : NULL; /* a family of one names that model */
}

GPURENT_API const gpurent_model *gpurent_model_find_pci(uint32_t vendor, uint32_t device, uint32_t subsys_vendor,
                                                        uint32_t subsys_device)
{
    const gpurent_model *found = NULL;
    for (uint32_t i = 0; i < N_MODELS; i++)
        for (uint32_t j = 0; j < model_table[i].pci_count; j++) {
            const gpurent_pci_id *p = &model_table[i].pci[j];
            int sub_ok = (!p->subsys_vendor && !p->subsys_device) ||
                         (p->subsys_vendor == subsys_vendor && p->subsys_device == subsys_device);
            if (p->vendor != vendor || p->device != device || !sub_ok) continue;
            if (found && found != &model_table[i]) return NULL; /* ambiguous */
            found = &model_table[i];
        }
    return found;
}

GPURENT_API const char *gpurent_model_name_at(const gpurent_model *model, uint32_t index)
{
    return model && index < model->name_count && index < GPURENT_MODEL_MAX_NAMES ? model->names[index] : NULL;
}

GPURENT_API const char *gpurent_model_alias_at(const gpurent_model *model, uint32_t index)
{
    return model && index < model->alias_count && index < GPURENT_MODEL_MAX_ALIASES ? model->aliases[index] : NULL;
}

GPURENT_API const gpurent_pci_id *gpurent_model_pci_at(const gpurent_model *model, uint32_t index)
{
    return model && index < model->pci_count && index < GPURENT_MODEL_MAX_PCI ? &model->pci[index] : NULL;
}

GPURENT_API const char *gpurent_name_kind_name(uint32_t kind)
{
    static const char *const names[] = {"unknown", "id", "driver name", "alias", "family"};
    return kind < sizeof names / sizeof names[0] ? names[kind] : "unknown";
}

/* ---- digest ---- */

static void wr_strs(gr_writer *w, const char *const *s, uint32_t n)
{
    gr_wr_array(w, n);
    for (uint32_t i = 0; i < n; i++) gr_wr_cstr(w, s[i]);
}

/* The canonical encoding (docs/models.md): [version, [entry...]] with each
 * entry [id, family, vendor, interface, cc_major, cc_minor, sm_count,
 * boost_clock_mhz, bus_width_bits, memory_mib, mem_bw_mbps, fp32_gflops,
 * [[vendor, device, subsys_vendor, subsys_device]...], [names], [aliases]].
 * The source text is documentation and stays out. */
int ml_model_table_encode(gpurent_buf *out)
{
    gr_writer w;
    gr_wr_init(&w);
    gr_wr_array(&w, 2);
    gr_wr_uint(&w, GPURENT_MODEL_TABLE_VERSION);
    gr_wr_array(&w, N_MODELS);
    for (uint32_t i = 0; i < N_MODELS; i++) {
        const gpurent_model *e = &model_table[i];
        gr_wr_array(&w, 15);
        gr_wr_cstr(&w, e->id);
        gr_wr_cstr(&w, e->family);
        gr_wr_cstr(&w, e->vendor);
        const uint64_t nums[] = {e->interface,      e->cc_major,    e->cc_minor,    e->sm_count,
                                 e->boost_clock_mhz, e->bus_width_bits, e->memory_mib, e->mem_bw_mbps,
                                 e->fp32_gflops};
        for (size_t j = 0; j < sizeof nums / sizeof nums[0]; j++) gr_wr_uint(&w, nums[j]);
        gr_wr_array(&w, e->pci_count);
        for (uint32_t j = 0; j < e->pci_count; j++) {
            gr_wr_array(&w, 4);
            gr_wr_uint(&w, e->pci[j].vendor);
            gr_wr_uint(&w, e->pci[j].device);
            gr_wr_uint(&w, e->pci[j].subsys_vendor);
            gr_wr_uint(&w, e->pci[j].subsys_device);
        }
        wr_strs(&w, e->names, e->name_count);
        wr_strs(&w, e->aliases, e->alias_count);
    }
    return gr_wr_finish(&w, out);
}

GPURENT_API gpurent_status gpurent_model_table_digest(uint8_t digest[GPURENT_DIGEST_BYTES])
{
    GR_CHECK_ARG(digest, "digest is NULL");
    int rc = gr_ensure_init();
    gpurent_buf b = {NULL, 0};
    if (!rc) rc = ml_model_table_encode(&b);
    if (rc) return rc;
    crypto_generichash(digest, GPURENT_DIGEST_BYTES, b.data, b.len, NULL, 0);
    gpurent_buf_free(&b);
    return GPURENT_OK;
}
