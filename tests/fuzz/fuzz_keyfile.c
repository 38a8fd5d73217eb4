/* Fuzz key files: gpurent_key_unseal with the fixture's passphrase and the
 * fixture provider key as the expected public key (fuzz_fixture.h).
 *
 * Each input is opened twice: as it is (the fuzzer rarely gets past the
 * BLAKE2b checksum by itself), and with its first 144 bytes followed by
 * their correct checksum, so the checks behind it (magic, KDF, limits,
 * the box, the recorded and expected public keys) are fuzzed as well.
 * A file that asks for more than the cheapest Argon2id work (opslimit 2,
 * memlimit 64 KiB) is not opened: the fuzzer would measure Argon2 instead of
 * the parser (the limit checks themselves still run: out-of-range limits
 * are refused before any key derivation).
 *
 * Oracles: refusals are KEYFILE_DAMAGED, WRONG_PASSPHRASE or KEY_MISMATCH
 * with a detail that holds no secret (no fixture seed, in hex or raw); *out
 * stays NULL on failure; an opened key is the expected one and survives a
 * seal/unseal round trip. */
#include <sodium.h>

#include "fuzz_attest_common.h"

#define KF_BYTES 176
#define KF_SUM 144

static int keyfile_status_ok(int rc)
{
    return rc == GPURENT_E_KEYFILE_DAMAGED || rc == GPURENT_E_WRONG_PASSPHRASE || rc == GPURENT_E_KEY_MISMATCH;
}

static uint64_t be(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++) v = (v << 8) | p[i];
    return v;
}

/* In range but costly: skip (out of range is refused cheaply, so keep it). */
static int too_costly(const uint8_t *f, size_t size)
{
    if (size != KF_BYTES) return 0;
    uint64_t ops = be(f + 12, 4), mem = be(f + 16, 8);
    int in_range = ops >= 1 && ops <= 16 && mem >= 8192 && mem <= (1ull << 30);
    return in_range && (ops > 2 || mem > 65536);
}

static void no_secret_in_detail(void)
{
    const char *msg = gpurent_last_error_message();
    for (unsigned i = 0; i < FUZZ_KEYS; i++) {
        uint8_t seed[GPURENT_SEED_BYTES];
        char hex[2 * 8 + 1], raw[9];
        fuzz_key_seed(i, seed);
        for (unsigned j = 0; j < 8; j++) snprintf(hex + 2 * j, 3, "%02x", seed[j]);
        memcpy(raw, seed, 8);
        raw[8] = '\0';
        FUZZ_ASSERT(strstr(msg, hex) == NULL && strstr(msg, raw) == NULL, "detail shows seed %u: %s", i, msg);
    }
}

static void open_file(const uint8_t *f, size_t size, const uint8_t expected[GPURENT_KEY_BYTES])
{
    if (too_costly(f, size)) return;
    gpurent_key *k = (gpurent_key *)&k;
    int rc = gpurent_key_unseal(&k, f, size, FUZZ_PASSPHRASE, expected);
    if (rc != GPURENT_OK) {
        fuzz_expect_failure_in(rc, keyfile_status_ok, "gpurent_key_unseal");
        FUZZ_ASSERT(k == NULL, "gpurent_key_unseal failed and left *out set");
        no_secret_in_detail();
        return;
    }
    FUZZ_ASSERT(size == KF_BYTES, "a %zu-byte key file opened", size);
    uint8_t pk[GPURENT_KEY_BYTES];
    FUZZ_ASSERT(gpurent_key_public(k, pk) == GPURENT_OK && memcmp(pk, expected, sizeof pk) == 0,
                "opened a key other than the expected one");
    FUZZ_ASSERT(memcmp(f + 64, pk, sizeof pk) == 0, "opened a file whose recorded public key differs");
    gpurent_keyfile_options o = GPURENT_KEYFILE_OPTIONS_INIT;
    o.opslimit = FUZZ_KDF_OPS;
    o.memlimit = FUZZ_KDF_MEM;
    gpurent_buf again = {0};
    FUZZ_ASSERT(gpurent_key_seal(k, FUZZ_PASSPHRASE, &o, &again) == GPURENT_OK, "re-sealing an opened key");
    gpurent_key *k2 = NULL;
    FUZZ_ASSERT(gpurent_key_unseal(&k2, again.data, again.len, FUZZ_PASSPHRASE, pk) == GPURENT_OK,
                "a re-sealed key does not open");
    gpurent_buf_free(&again);
    gpurent_key_free(k2);
    gpurent_key_free(k);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t expected[GPURENT_KEY_BYTES];
    static int ready;
    if (!ready) {
        if (sodium_init() < 0) abort();
        fuzz_pk(FUZZ_KEY_PROVIDER, expected);
        ready = 1;
    }
    open_file(data, size, expected);
    if (size >= KF_SUM) {
        uint8_t f[KF_BYTES];
        memcpy(f, data, KF_SUM);
        crypto_generichash(f + KF_SUM, KF_BYTES - KF_SUM, f, KF_SUM, NULL, 0);
        open_file(f, sizeof f, expected);
    }
    return 0;
}
