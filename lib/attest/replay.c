/* The replay cache: the ids of the last `cap` statements accepted, in a FIFO
 * ring (the oldest is evicted first, so what is remembered depends only on
 * the order statements were accepted in), indexed by a linear-probing hash
 * table for O(1) lookups. */
#include <sodium.h>
#include <string.h>

#include "attest_internal.h"

int gr_replay_init(gr_replay *r, uint32_t cap)
{
    memset(r, 0, sizeof *r);
    uint32_t size = 2;
    while (size < 2 * (uint64_t)cap) size *= 2; /* load factor <= 1/2 */
    r->ring = gr_calloc(cap, sizeof *r->ring);
    r->table = gr_calloc(size, sizeof *r->table);
    if (!r->ring || !r->table || pthread_mutex_init(&r->mu, NULL) != 0) {
        gr_free(r->ring);
        gr_free(r->table);
        return gr_fail(GPURENT_E_NOMEM, "replay cache of %u entries", cap);
    }
    r->cap = cap;
    r->mask = size - 1;
    randombytes_buf(r->key, sizeof r->key);
    return GPURENT_OK;
}

void gr_replay_free(gr_replay *r)
{
    if (!r->ring) return;
    pthread_mutex_destroy(&r->mu);
    gr_free(r->ring);
    gr_free(r->table);
    memset(r, 0, sizeof *r);
}

int gr_replay_copy(gr_replay *dst, gr_replay *src)
{
    gr_replay n;
    int rc = gr_replay_init(&n, src->cap); /* cap never changes after init */
    if (rc) return rc;
    pthread_mutex_lock(&src->mu);
    memcpy(n.key, src->key, sizeof n.key);
    memcpy(n.ring, src->ring, (size_t)src->cap * sizeof *n.ring);
    memcpy(n.table, src->table, ((size_t)src->mask + 1) * sizeof *n.table);
    n.count = src->count;
    n.head = src->head;
    pthread_mutex_unlock(&src->mu);
    /* Swap everything but the mutex, then free dst's old window with n. */
    pthread_mutex_lock(&dst->mu);
    gr_replay old = *dst;
    dst->cap = n.cap, dst->count = n.count, dst->head = n.head, dst->mask = n.mask;
    dst->ring = n.ring, dst->table = n.table;
    memcpy(dst->key, n.key, sizeof dst->key);
    pthread_mutex_unlock(&dst->mu);
    n.ring = old.ring, n.table = old.table;
    sodium_memzero(n.key, sizeof n.key);
    gr_replay_free(&n);
    return GPURENT_OK;
}

void gr_replay_clear(gr_replay *r)
{
    pthread_mutex_lock(&r->mu);
    memset(r->table, 0, ((size_t)r->mask + 1) * sizeof *r->table);
    r->count = r->head = 0;
    pthread_mutex_unlock(&r->mu);
}

/* The id is keyed with the store's random key: ids are only compared with
 * each other, and the key keeps anyone from aiming at one probe chain. */
void gr_replay_id(const gr_replay *r, const uint8_t issuer[32], const uint8_t nonce[16], uint8_t id[32])
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, r->key, sizeof r->key, 32);
    crypto_generichash_update(&st, issuer, 32);
    crypto_generichash_update(&st, nonce, 16);
    crypto_generichash_final(&st, id, 32);
}

static uint32_t home(const gr_replay *r, const uint8_t *id)
{
    uint32_t h;
    memcpy(&h, id, sizeof h);
    return h & r->mask;
}

/* The table slot holding `id`, or the empty slot where it would go. */
static uint32_t probe(const gr_replay *r, const uint8_t *id, int *found)
{
    uint32_t i = home(r, id);
    while (r->table[i]) {
        if (memcmp(r->ring[r->table[i] - 1], id, 32) == 0) {
            *found = 1;
            return i;
        }
        i = (i + 1) & r->mask;
    }
    *found = 0;
    return i;
}

/* Remove the entry at table slot i, shifting later entries of the same
 * probe chains back so lookups never stop at a false hole. */
static void table_delete(gr_replay *r, uint32_t i)
{
    uint32_t j = i;
    for (;;) {
        j = (j + 1) & r->mask;
        if (!r->table[j]) break;
        uint32_t k = home(r, r->ring[r->table[j] - 1]);
        /* Move j into the hole at i unless its home lies cyclically in (i, j]. */
        int stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
        if (!stays) {
            r->table[i] = r->table[j];
            i = j;
        }
    }
    r->table[i] = 0;
}

static void evict_oldest(gr_replay *r)
{
    int found;
    uint32_t i = probe(r, r->ring[r->head], &found);
    if (found) table_delete(r, i);
}

int gr_replay_seen_locked(const gr_replay *r, const uint8_t id[32])
{
    int found;
    probe(r, id, &found);
    return found ? gr_fail(GPURENT_E_REPLAYED, "statement already accepted (same issuer and nonce)") : GPURENT_OK;
}

void gr_replay_insert_locked(gr_replay *r, const uint8_t id[32])
{
    int found;
    if (r->count == r->cap) evict_oldest(r); /* head is the oldest when full */
    memcpy(r->ring[r->head], id, 32);
    uint32_t slot = probe(r, id, &found);
    r->table[slot] = r->head + 1;
    r->head = (r->head + 1) % r->cap;
    if (r->count < r->cap) r->count++;
}

int gr_replay_check_insert(gr_replay *r, const uint8_t id[32])
{
    pthread_mutex_lock(&r->mu);
    int rc = gr_replay_seen_locked(r, id);
    if (!rc) gr_replay_insert_locked(r, id);
    pthread_mutex_unlock(&r->mu);
    return rc;
}
