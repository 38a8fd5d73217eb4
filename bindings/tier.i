/* tier: gpurent/tier.h — the tier engine (providers' evidence, eras, tiers,
 * slash events, explanations, certificates). The records it reads and
 * writes (audit report, tier certificate) are in wire.i.
 *
 * The signed entry points take attest's handles (gpurent_trust,
 * gpurent_key, wrapped by attest.i, included before this file) and envelope
 * bytes through attest.i's (envelope, len) and envelope-list typemaps. */

%gpurent_handle(gpurent_tier_engine)

/* Arrays of structs inside records: index accessors instead of raw members.
 * The returned pointers are borrowed from the record (valid while it lives)
 * and writable, so a binding fills a table row in place. */
%ignore gpurent_tier_options::tiers;
%ignore gpurent_tier_era_summary::tier_counts;
%ignore gpurent_tier_explanation::components;
%extend gpurent_tier_options {
    /* Row i of the tier table ([0] = tier 1), NULL out of range. */
    gpurent_tier_level *tier_at(uint32_t i) {
        return i < GPURENT_TIER_MAX_TIERS ? &$self->tiers[i] : NULL;
    }
}
%extend gpurent_tier_era_summary {
    /* Providers in tier i+1 after the era (0 out of range). */
    uint32_t tier_count_at(uint32_t i) const {
        return i < GPURENT_TIER_MAX_TIERS ? $self->tier_counts[i] : 0;
    }
}
%extend gpurent_tier_explanation {
    /* Component i (GPURENT_TIER_COMP_*), NULL out of range. */
    gpurent_tier_component *component_at(uint32_t i) {
        return i < GPURENT_TIER_COMPONENTS ? &$self->components[i] : NULL;
    }
}

/* Events for gpurent_tier_record: a C array the binding fills, one call per
 * event (set), then passes with cast(). */
%include <carrays.i>
%array_class(gpurent_tier_event, tier_event_array)
%extend tier_event_array {
    /* Set event i (no bounds check beyond the caller's: the layer sizes the array). */
    void set(size_t i, const uint8_t key[32], uint64_t time_s, uint32_t kind, uint64_t value) {
        gpurent_tier_event *e = &$self[i];
        memcpy(e->provider_key, key, 32);
        e->time_s = time_s;
        e->kind = kind;
        e->reserved = 0;
        e->value = value;
    }
}

/* Whole eras, large batches of evidence and reports (up to 4096 challenges),
 * and everything that checks or makes signatures. */
%gpurent_long_call(gpurent_tier_evaluate)
%gpurent_long_call(gpurent_tier_record)
%gpurent_long_call(gpurent_tier_record_report)
%gpurent_long_call(gpurent_tier_record_signed)
%gpurent_long_call(gpurent_tier_record_signed_many)
%gpurent_long_call(gpurent_tier_certificate_sign)
%gpurent_long_call(gpurent_tier_certificate_cosign)
%gpurent_long_call(gpurent_tier_certificate_verify)

/* gpurent_tier_record_signed_many: envelopes in, one status per envelope
 * out; n is its 5th argument. */
%gpurent_statuses_out(5)

/* gpurent_tier_auditor_contradicted: the count comes back (Python int,
 * Go *uint32). */
%apply uint32_t *OUTPUT { uint32_t *contradicted };

/* Snapshots: the stored input sequence comes back (Python int, Go *uint64);
 * saving and loading large engines release the GIL. */
%apply uint64_t *OUTPUT { uint64_t *input_seq };
%gpurent_long_call(gpurent_tier_save)
%gpurent_long_call(gpurent_tier_load)
%gpurent_long_call(gpurent_tier_save_file)
%gpurent_long_call(gpurent_tier_load_file)

%include <gpurent/tier.h>

%clear int32_t *statuses;

/* record_report of an encoded report (Python TierEngine.record_report(bytes),
 * Go RecordReportBytes): decode into a report on the C stack and record it
 * in one crossing. Through the public calls it takes four (new report,
 * decode, record, free): on 900 reports an era, Go's cgo calls then cost
 * ~15% of the era's CPU time (docs/bindings.md, "Performance"). A binding
 * helper, not part of the C API. */
%gpurent_long_call(tier_record_report_bytes)
%inline %{
gpurent_status tier_record_report_bytes(gpurent_tier_engine *engine, const uint8_t *data, size_t len)
{
    gpurent_audit_report r;
    gpurent_audit_report_init(&r);
    gpurent_status rc = gpurent_audit_report_decode(data, len, &r);
    if (rc == GPURENT_OK) rc = gpurent_tier_record_report(engine, &r);
    gpurent_audit_report_clear(&r);
    return rc;
}
%}
