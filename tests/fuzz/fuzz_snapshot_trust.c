/* Fuzz the trust store snapshot loader (gpurent_trust_load); oracles in
 * fuzz_snapshot_common.h. */
#include "fuzz_snapshot_common.h"

/* What applying a well-formed signed revocation may give: a verdict on the
 * statement, or a full revoker share. */
static int revocation_status_ok(int rc)
{
    return fuzz_attest_status_ok(rc) || rc == GPURENT_E_LIMIT || rc == GPURENT_E_NOMEM;
}

/* A revocation of `pk` signed by the fixture's revoker, applied (a pending
 * or standing revocation, or a refusal when the store does not trust the
 * revoker); the nonce comes from the input so stored replays rarely match. */
static void revoke_signed(gpurent_trust *t, const uint8_t pk[GPURENT_KEY_BYTES], uint64_t s)
{
    gpurent_revocation r = {{0}, FUZZ_NOW - 10, GPURENT_REVOKE_COMPROMISED};
    memcpy(r.key, pk, GPURENT_KEY_BYTES);
    gpurent_buf p = {0}, env = {0};
    if (gpurent_revocation_encode(&r, &p) != GPURENT_OK) fuzz_die("gpurent_revocation_encode");
    gpurent_envelope h;
    fuzz_fixture_header(&h, GPURENT_RECORD_REVOCATION);
    memcpy(h.nonce, &s, sizeof s);
    if (fuzz_sign(&h, FUZZ_KEY_REVOKER, NULL, 0, p.data, p.len, &env) != GPURENT_OK) fuzz_die("fuzz_sign");
    int rc = gpurent_trust_apply_revocation(t, env.data, env.len, FUZZ_NOW, FUZZ_SKEW, NULL);
    if (rc) fuzz_expect_failure_in(rc, revocation_status_ok, "gpurent_trust_apply_revocation");
    gpurent_buf_free(&p);
    gpurent_buf_free(&env);
}

/* Three calls, each an add, a revoke, a remove or a signed revocation of a
 * fixture key (in the store or not), chosen by the input. */
static void trust_mutate(gpurent_trust *t, const uint8_t *f, size_t size)
{
    uint64_t s = snapshot_mix(f, size);
    for (unsigned i = 0; i < 3; i++, s = s >> 5 | s << 59) {
        unsigned k = (unsigned)(s % FUZZ_KEYS), op = (unsigned)(s >> 3) % 4;
        uint8_t pk[GPURENT_KEY_BYTES];
        fuzz_pk(k, pk);
        uint32_t roles = fuzz_key_roles(k) ? fuzz_key_roles(k) : GPURENT_ROLE_PROVIDER;
        if (op == 0) (void)gpurent_trust_add(t, pk, roles, FUZZ_KEY_FROM, FUZZ_KEY_UNTIL);
        else if (op == 1) (void)gpurent_trust_revoke(t, pk);
        else if (op == 2) (void)gpurent_trust_remove(t, pk);
        else revoke_signed(t, pk, s);
    }
}

SNAPSHOT_FUZZER(gpurent_trust, trust, gpurent_trust_free, trust_mutate)
