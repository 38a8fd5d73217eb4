/* A provider keeps its key in a passphrase-sealed key file and signs its
 * offer; an auditor verifies it against a trust store, decodes the verified
 * offer (a replay of it is refused) and signs an audit statement: an audit
 * report record about that provider (its checks passed), signed as an
 * AUDIT_REPORT statement whose subject is the offer statement's digest. The
 * provider's side verifies and decodes that in turn; a flipped bit is caught.
 * The Python and Go versions are examples/attest_provider_auditor.py and
 * examples/go/attest_provider_auditor. Public API only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gpurent.h>

#define CHECK(call)                                                                              \
    do {                                                                                         \
        gpurent_status rc_ = (call);                                                             \
        if (rc_ != GPURENT_OK) {                                                                 \
            fprintf(stderr, "%s failed: %s (%s)\n", #call, gpurent_status_name(rc_),             \
                    gpurent_last_error_message());                                               \
            exit(1);                                                                             \
        }                                                                                        \
    } while (0)

static gpurent_buf provider_offer(const gpurent_key *key)
{
    gpurent_offer offer;
    gpurent_node node;
    gpurent_buf bytes = {0}, env = {0};
    gpurent_offer_init(&offer);
    memset(&node, 0, sizeof node);
    gpurent_key_public(key, offer.provider_key);
    offer.seq = 1;
    strcpy(offer.region, "eu-west");
    strcpy(node.node_id, "node-1");
    strcpy(node.gpu.model, "H100 SXM5 80GB");
    node.gpu.cc_major = 9;
    node.gpu.memory_mib = 81559;
    node.gpu_count = node.gpu_free = 8;
    node.price_micro_per_gpu_hour = 2490000;
    CHECK(gpurent_offer_add_node(&offer, &node));
    CHECK(gpurent_offer_encode(&offer, &bytes));
    gpurent_offer_clear(&offer);

    gpurent_envelope h;
    gpurent_envelope_init(&h); /* zero nonce: the library picks a random one */
    h.statement = GPURENT_RECORD_OFFER;
    h.issued_at = 1700000000;
    h.expires_at = h.issued_at + 3600;
    CHECK(gpurent_envelope_set_subject(&h, (const uint8_t *)"node-1", 6));
    CHECK(gpurent_envelope_sign(key, &h, bytes.data, bytes.len, &env));
    gpurent_buf_free(&bytes);
    return env;
}

int main(void)
{
    CHECK(gpurent_init());
    gpurent_key *provider = NULL, *auditor = NULL, *reloaded = NULL;
    uint8_t provider_pk[32], auditor_pk[32], digest[32];
    CHECK(gpurent_key_generate(&provider));
    CHECK(gpurent_key_generate(&auditor));
    CHECK(gpurent_key_public(provider, provider_pk));
    CHECK(gpurent_key_public(auditor, auditor_pk));

    /* The provider keeps its key in a passphrase-sealed file. */
    char path[] = "/tmp/gpurent-example-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return 1;
    close(fd);
    gpurent_keyfile_options kopts = GPURENT_KEYFILE_OPTIONS_INIT;
    kopts.memlimit = 8u << 20; /* keep the example quick */
    CHECK(gpurent_key_save(provider, path, "provider passphrase", &kopts));
    CHECK(gpurent_key_load(&reloaded, path, "provider passphrase", provider_pk));
    unlink(path);
    gpurent_key_free(provider);

    gpurent_buf offer_env = provider_offer(reloaded);
    printf("provider: signed offer envelope, %zu bytes\n", offer_env.len);

    /* The auditor trusts the provider as a provider and itself as auditor. */
    gpurent_trust *trust = NULL;
    CHECK(gpurent_trust_new(&trust, NULL));
    CHECK(gpurent_trust_add(trust, provider_pk, GPURENT_ROLE_PROVIDER, 0, 0));
    CHECK(gpurent_trust_add(trust, auditor_pk, GPURENT_ROLE_AUDITOR, 0, 0));
    gpurent_verify_options vo = GPURENT_VERIFY_OPTIONS_INIT;
    vo.statement = GPURENT_RECORD_OFFER;
    gpurent_verified *v = NULL;
    CHECK(gpurent_envelope_verify(trust, offer_env.data, offer_env.len, 1700000100, 60, &vo, &v));
    size_t plen = 0;
    const uint8_t *p = gpurent_verified_payload_data(v, &plen);
    gpurent_offer offer;
    gpurent_offer_init(&offer);
    CHECK(gpurent_offer_decode(p, plen, &offer));
    CHECK(gpurent_verified_digest(v, digest));
    printf("auditor: offer verified: region %s, %u node(s), %s x%u\n", offer.region, offer.node_count,
           offer.nodes[0].gpu.model, offer.nodes[0].gpu_count);
    gpurent_offer_clear(&offer);
    gpurent_verified_free(v);

    /* Replaying the same envelope is refused. */
    gpurent_status again = gpurent_envelope_verify(trust, offer_env.data, offer_env.len, 1700000100, 60, &vo, NULL);
    printf("auditor: second delivery of the same offer: %s\n", gpurent_status_name(again));
    if (again != GPURENT_E_REPLAYED) return 1;

    /* The audit statement: the auditor's report about this provider (the GPU
     * report, integrity and security checks passed), its subject the digest
     * of the offer statement it audited. */
    gpurent_audit_report report;
    gpurent_audit_report_init(&report);
    memcpy(report.provider_key, provider_pk, sizeof provider_pk);
    memcpy(report.auditor_key, auditor_pk, sizeof auditor_pk);
    report.time_s = 1700000200;
    report.gpu_report = GPURENT_CHECK_PASSED;
    report.integrity = GPURENT_CHECK_PASSED;
    report.security = GPURENT_CHECK_PASSED;
    gpurent_buf audit = {0};
    CHECK(gpurent_audit_report_encode(&report, &audit));
    gpurent_audit_report_clear(&report);
    gpurent_envelope h;
    gpurent_envelope_init(&h);
    h.statement = GPURENT_RECORD_AUDIT_REPORT;
    h.issued_at = 1700000200;
    h.expires_at = h.issued_at + 86400;
    CHECK(gpurent_envelope_set_subject(&h, digest, sizeof digest));
    gpurent_buf audit_env = {0};
    CHECK(gpurent_envelope_sign(auditor, &h, audit.data, audit.len, &audit_env));
    gpurent_buf_free(&audit);

    /* The provider's side: an audit report by a trusted auditor, about this
     * provider and this very offer. */
    vo.statement = GPURENT_RECORD_AUDIT_REPORT;
    CHECK(gpurent_envelope_verify(trust, audit_env.data, audit_env.len, 1700000300, 60, &vo, &v));
    gpurent_envelope got;
    CHECK(gpurent_verified_header(v, &got));
    p = gpurent_verified_payload_data(v, &plen);
    gpurent_audit_report_init(&report);
    CHECK(gpurent_audit_report_decode(p, plen, &report));
    int about_us = memcmp(report.provider_key, provider_pk, sizeof provider_pk) == 0 &&
                   memcmp(report.auditor_key, auditor_pk, sizeof auditor_pk) == 0 &&
                   report.gpu_report == GPURENT_CHECK_PASSED && got.subject_len == sizeof digest &&
                   memcmp(got.subject, digest, sizeof digest) == 0;
    gpurent_audit_report_clear(&report);
    printf("provider: audit statement verified, about offer digest %02x%02x%02x%02x...\n", got.subject[0],
           got.subject[1], got.subject[2], got.subject[3]);
    gpurent_verified_free(v);
    if (!about_us) return 1;

    /* A flipped bit anywhere is caught. */
    audit_env.data[audit_env.len / 2] ^= 0x04;
    gpurent_status bad = gpurent_envelope_verify(trust, audit_env.data, audit_env.len, 1700000300, 60, &vo, NULL);
    printf("tampered audit statement: %s\n", gpurent_status_name(bad));
    if (bad == GPURENT_OK) return 1;

    gpurent_buf_free(&offer_env);
    gpurent_buf_free(&audit_env);
    gpurent_trust_free(trust);
    gpurent_key_free(reloaded);
    gpurent_key_free(auditor);
    return 0;
}
