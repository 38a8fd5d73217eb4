/* Fuzz gpurent_audit_report_decode: an auditor's report (owned arrays of
 * challenge results and job outcomes, sets in canonical order). Decoded
 * into an initialised report and cleared on every path, so LeakSanitizer
 * checks the decoder's cleanup; round trip through the encoder. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gpurent_audit_report r, before;
    gpurent_audit_report_init(&r);
    memcpy(&before, &r, sizeof r);
    fuzz_alloc_reset();
    int rc = gpurent_audit_report_decode(data, size, &r);
    fuzz_expect_small_allocations(size, "gpurent_audit_report_decode");
    if (rc != GPURENT_OK) {
        fuzz_expect_clean_failure(rc, "gpurent_audit_report_decode");
        FUZZ_ASSERT(memcmp(&r, &before, sizeof r) == 0, "gpurent_audit_report_decode wrote its output and failed");
        return 0;
    }
    fuzz_expect_record(data, size, GPURENT_RECORD_AUDIT_REPORT, "gpurent_audit_report_decode");
    FUZZ_ASSERT(gpurent_audit_report_validate(&r) == GPURENT_OK, "decoded report does not validate");
    FUZZ_ASSERT(r.challenge_count <= GPURENT_AUDIT_MAX_CHALLENGES && r.job_count <= GPURENT_AUDIT_MAX_JOBS,
                "counts %u/%u", r.challenge_count, r.job_count);
    FUZZ_ASSERT(gpurent_audit_report_challenge(&r, r.challenge_count) == NULL, "challenge past the end");
    FUZZ_ASSERT(gpurent_audit_report_job(&r, r.job_count) == NULL, "job past the end");
    gpurent_buf out = {0};
    rc = gpurent_audit_report_encode(&r, &out);
    fuzz_expect_same_bytes(rc, &out, data, size, "gpurent_audit_report_encode");
    gpurent_buf_free(&out);
    gpurent_audit_report_clear(&r);
    return 0;
}
