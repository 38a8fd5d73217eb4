/* Options structs: a zero field means its documented default, or the
 * struct's comment names the exception (the headers in include/gpurent). One test per
 * struct: the value with only `version` set (every other field 0) behaves
 * exactly as the header says. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sodium.h>

#include "gpurent.h"
#include "support/snap.h"

#define T0 1700000000ull
#define DAY 86400ull

static int under_valgrind(void) { return getenv("GPURENT_TEST_VALGRIND") != NULL; }

static uint64_t be(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++) v = v << 8 | p[i];
    return v;
}

/* keyfile: opslimit 0 and memlimit 0 are the defaults (2 passes, 64 MiB),
 * written into the file as such; a zero never reaches Argon2id. */
static void test_keyfile_zero_is_default(void **state)
{
    (void)state;
    gpurent_key *k = NULL, *back = NULL;
    assert_int_equal(gpurent_key_generate(&k), GPURENT_OK);
    gpurent_keyfile_options o = {GPURENT_KEYFILE_OPTIONS_VERSION, 0, 8192};
    gpurent_buf f = {0};
    assert_int_equal(gpurent_key_seal(k, "pw", &o, &f), GPURENT_OK);
    assert_int_equal(be(f.data + 12, 4), 2); /* opslimit: the default */
    assert_int_equal(be(f.data + 16, 8), 8192);
    assert_int_equal(gpurent_key_unseal(&back, f.data, f.len, "pw", NULL), GPURENT_OK);
    gpurent_key_free(back);
    gpurent_buf_free(&f);
    if (!under_valgrind()) { /* 64 MiB of Argon2id is slow under valgrind */
        gpurent_keyfile_options z = {GPURENT_KEYFILE_OPTIONS_VERSION, 0, 0};
        assert_int_equal(gpurent_key_seal(k, "pw", &z, &f), GPURENT_OK);
        assert_int_equal(be(f.data + 12, 4), 2);
        assert_int_equal(be(f.data + 16, 8), 64u << 20);
        gpurent_buf_free(&f);
    }
    gpurent_keyfile_options init = GPURENT_KEYFILE_OPTIONS_INIT;
    assert_int_equal(init.opslimit, 2);
    assert_int_equal(init.memlimit, 64u << 20);
    o.opslimit = 17; /* out of range stays an error */
    assert_int_equal(gpurent_key_seal(k, "pw", &o, &f), GPURENT_E_INVALID_ARG);
    gpurent_key_free(k);
}

/* The trust snapshot header's parameters digest (bytes 16..47) names the
 * replay capacity the store runs with. */
static void trust_params(const gpurent_trust_options *o, uint8_t out[32])
{
    gpurent_trust *t = NULL;
    assert_int_equal(gpurent_trust_new(&t, o), GPURENT_OK);
    gpurent_buf b = {0};
    assert_int_equal(gpurent_trust_save(t, 0, &b), GPURENT_OK);
    memcpy(out, b.data + 16, 32);
    gpurent_buf_free(&b);
    gpurent_trust_free(t);
}

/* trust: replay_capacity 0 is the default, 16384. */
static void test_trust_zero_is_default(void **state)
{
    (void)state;
    gpurent_trust_options zero = {GPURENT_TRUST_OPTIONS_VERSION, 0}, init = GPURENT_TRUST_OPTIONS_INIT,
                          other = {GPURENT_TRUST_OPTIONS_VERSION, 100};
    assert_int_equal(init.replay_capacity, GPURENT_TRUST_REPLAY_CAPACITY_DEFAULT);
    uint8_t a[32], b[32], c[32];
    trust_params(&zero, a);
    trust_params(&init, b);
    trust_params(&other, c);
    assert_memory_equal(a, b, 32);
    assert_memory_not_equal(a, c, 32);
    /* A snapshot saved with the default loads when 0 is expected. */
    gpurent_trust *t = NULL, *back = NULL;
    assert_int_equal(gpurent_trust_new(&t, &zero), GPURENT_OK);
    gpurent_buf s = {0};
    assert_int_equal(gpurent_trust_save(t, 5, &s), GPURENT_OK);
    uint64_t seq = 0;
    assert_int_equal(gpurent_trust_load(&back, s.data, s.len, &zero, &seq), GPURENT_OK);
    assert_int_equal(seq, 5);
    gpurent_trust_free(back);
    /* A snapshot holds the resolved capacity: one whose capacity reads 0
     * (resealed: params digest and checksum made to match) is corrupt, or
     * one store would have two encodings. */
    uint8_t m[16 + 4] = "gpurent trust v1";
    memset(m + 16, 0, 4);
    memset(s.data + 64, 0, 4);
    crypto_generichash(s.data + 16, 32, m, sizeof m, NULL, 0);
    snap_seal_tree(s.data, s.len); /* the tree checksum (docs/wire-format.md) */
    assert_int_equal(gpurent_trust_load(&back, s.data, s.len, NULL, &seq), GPURENT_E_SNAPSHOT_CORRUPT);
    assert_non_null(strstr(gpurent_last_error_message(), "replay capacity 0"));
    gpurent_buf_free(&s);
    gpurent_trust_free(t);
}

static gpurent_buf signed_offer(gpurent_key *k, uint8_t nonce)
{
    static const uint8_t payload[] = {0x82, 0x00, GPURENT_RECORD_OFFER, 0x01, 0xc4, 0x01, 0x07};
    gpurent_envelope h;
    gpurent_envelope_init(&h);
    h.statement = GPURENT_RECORD_OFFER;
    h.issued_at = T0;
    h.expires_at = T0 + DAY;
    memset(h.nonce, nonce, sizeof h.nonce);
    gpurent_buf out = {0};
    assert_int_equal(gpurent_envelope_sign(k, &h, payload, sizeof payload, &out), GPURENT_OK);
    return out;
}

/* verify: every zero is the strict default: any statement, the statement's
 * default role, a quorum of one, and the replay check ON (a zeroed field
 * never turns it off). */
static void test_verify_zero_is_strict_default(void **state)
{
    (void)state;
    gpurent_key *prov = NULL, *aud = NULL;
    assert_int_equal(gpurent_key_generate(&prov), GPURENT_OK);
    assert_int_equal(gpurent_key_generate(&aud), GPURENT_OK);
    uint8_t pk[32], ak[32];
    gpurent_key_public(prov, pk);
    gpurent_key_public(aud, ak);
    gpurent_trust *t = NULL;
    assert_int_equal(gpurent_trust_new(&t, NULL), GPURENT_OK);
    assert_int_equal(gpurent_trust_add(t, pk, GPURENT_ROLE_PROVIDER, T0 - DAY, 0), GPURENT_OK);
    assert_int_equal(gpurent_trust_add(t, ak, GPURENT_ROLE_AUDITOR, T0 - DAY, 0), GPURENT_OK);
    gpurent_verify_options zero = {GPURENT_VERIFY_OPTIONS_VERSION, 0, 0, 0, 0};
    gpurent_buf e = signed_offer(prov, 1);
    assert_int_equal(gpurent_envelope_verify(t, e.data, e.len, T0 + 10, 0, &zero, NULL), GPURENT_OK);
    /* The same statement again: the default checks replay. */
    assert_int_equal(gpurent_envelope_verify(t, e.data, e.len, T0 + 10, 0, &zero, NULL), GPURENT_E_REPLAYED);
    /* OFF is the only way to turn it off. */
    gpurent_verify_options off = zero;
    off.check_replay = GPURENT_VERIFY_REPLAY_OFF;
    assert_int_equal(gpurent_envelope_verify(t, e.data, e.len, T0 + 10, 0, &off, NULL), GPURENT_OK);
    gpurent_buf_free(&e);
    /* Role 0 is the statement's default: an auditor cannot sign an offer. */
    e = signed_offer(aud, 2);
    assert_int_equal(gpurent_envelope_verify(t, e.data, e.len, T0 + 10, 0, &zero, NULL), GPURENT_E_ROLE_NOT_ALLOWED);
    gpurent_buf_free(&e);
    /* INIT and options_init give the same strict choices. */
    gpurent_verify_options init = GPURENT_VERIFY_OPTIONS_INIT, fn;
    assert_int_equal(gpurent_verify_options_init(&fn, GPURENT_VERIFY_OPTIONS_VERSION), GPURENT_OK);
    assert_memory_equal(&init, &fn, sizeof init);
    assert_int_equal(init.quorum, 1);
    assert_int_equal(init.check_replay, GPURENT_VERIFY_REPLAY_CHECK);
    zero.check_replay = 3;
    e = signed_offer(prov, 3);
    assert_int_equal(gpurent_envelope_verify(t, e.data, e.len, T0 + 10, 0, &zero, NULL), GPURENT_E_INVALID_ARG);
    assert_non_null(strstr(gpurent_last_error_message(), "check_replay"));
    gpurent_buf_free(&e);
    gpurent_trust_free(t);
    gpurent_key_free(prov);
    gpurent_key_free(aud);
}

/* match: zero caps and thresholds are the defaults (the policy digest, which
 * receipts carry, is the same); zero weights are weights of zero (the named
 * exception), and a policy whose weights are all zero is refused. */
static void test_match_zero_caps_are_defaults(void **state)
{
    (void)state;
    gpurent_match_options zero, expl;
    memset(&zero, 0, sizeof zero);
    zero.version = GPURENT_MATCH_OPTIONS_VERSION;
    gpurent_market *m = NULL;
    assert_int_equal(gpurent_market_new(&m, &zero, NULL), GPURENT_E_INVALID_ARG);
    assert_null(m);
    assert_non_null(strstr(gpurent_last_error_message(), "every weight is 0"));
    zero.w_fit = 1; /* one weight; every other field 0 */
    expl = zero;
    expl.price_ref_micro = 1000000;
    expl.perf_price_cap = 250000;
    expl.stake_cap_micro = 1000000000000ull;
    expl.aging_per_hour = 250000;
    uint8_t a[32], b[32];
    assert_int_equal(gpurent_match_options_digest(&zero, a), GPURENT_OK);
    assert_int_equal(gpurent_match_options_digest(&expl, b), GPURENT_OK);
    assert_memory_equal(a, b, 32);
    expl.aging_per_hour = 1;
    assert_int_equal(gpurent_match_options_digest(&expl, b), GPURENT_OK);
    assert_memory_not_equal(a, b, 32);
    assert_int_equal(gpurent_market_new(&m, &zero, NULL), GPURENT_OK);
    gpurent_market_free(m);
    gpurent_match_options init = GPURENT_MATCH_OPTIONS_INIT, fn;
    assert_int_equal(gpurent_match_options_init(&fn, GPURENT_MATCH_OPTIONS_VERSION), GPURENT_OK);
    assert_memory_equal(&init, &fn, sizeof init);
    assert_true(init.w_price > 0); /* the default weights are not zero */
}

static void expect_probe_zero(const gpurent_probe_options *o)
{
    assert_int_equal(o->version, GPURENT_PROBE_OPTIONS_VERSION);
    assert_null(o->driver_path);
    assert_int_equal(o->timeout_ms, 0);
    assert_int_equal(o->checks, 0);
    assert_int_equal(o->check_ms, 0);
    assert_int_equal(o->check_max_bytes, 0);
    assert_int_equal(o->fma_iterations, 0);
    assert_int_equal(o->fma_samples, 0);
    assert_int_equal(o->now, 0);
}

/* probe: every zero field is its default, so INIT and options_init give the
 * zero value (the defaults are applied when the probe runs). */
static void test_probe_zero_is_init(void **state)
{
    (void)state;
    gpurent_probe_options init = GPURENT_PROBE_OPTIONS_INIT, fn;
    expect_probe_zero(&init);
    memset(&fn, 0xa5, sizeof fn);
    assert_int_equal(gpurent_probe_options_init(&fn, GPURENT_PROBE_OPTIONS_VERSION), GPURENT_OK);
    expect_probe_zero(&fn);
}

/* tier: the named exception. Zero fields are not defaults (each parameter
 * is signed into certificates): an all-zero value is refused with a clear
 * error, and so is each zero that would be unsafe on its own. */
static void test_tier_zero_is_refused(void **state)
{
    (void)state;
    gpurent_tier_options zero;
    memset(&zero, 0, sizeof zero);
    zero.version = GPURENT_TIER_OPTIONS_VERSION;
    gpurent_tier_engine *e = NULL;
    assert_int_equal(gpurent_tier_engine_new(&e, &zero), GPURENT_E_INVALID_ARG);
    assert_null(e);
    assert_non_null(strstr(gpurent_last_error_message(), "tier_count"));
    static const struct {
        size_t offset, size;
        const char *name;
    } unsafe[] = {
#define F(m) {offsetof(gpurent_tier_options, m), sizeof(((gpurent_tier_options *)0)->m), #m}
        F(tier_count), F(incubation_tiers), F(quorum_auditors), F(era_s),          F(window_eras),
        F(z_milli),    F(stake_full_micro), F(tenure_full_eras), F(max_providers),
#undef F
    };
    for (size_t i = 0; i < sizeof unsafe / sizeof unsafe[0]; i++) {
        gpurent_tier_options o = GPURENT_TIER_OPTIONS_INIT;
        memset((char *)&o + unsafe[i].offset, 0, unsafe[i].size);
        if (gpurent_tier_options_validate(&o) != GPURENT_E_INVALID_ARG)
            fail_msg("tier_options.%s = 0 accepted", unsafe[i].name);
        if (!strstr(gpurent_last_error_message(), unsafe[i].name))
            fail_msg("tier_options.%s = 0: detail \"%s\" does not name it", unsafe[i].name,
                     gpurent_last_error_message());
    }
    gpurent_tier_options init = GPURENT_TIER_OPTIONS_INIT;
    assert_int_equal(gpurent_tier_engine_new(&e, &init), GPURENT_OK);
    gpurent_tier_engine_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keyfile_zero_is_default),       cmocka_unit_test(test_trust_zero_is_default),
        cmocka_unit_test(test_verify_zero_is_strict_default), cmocka_unit_test(test_match_zero_caps_are_defaults),
        cmocka_unit_test(test_probe_zero_is_init),            cmocka_unit_test(test_tier_zero_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
