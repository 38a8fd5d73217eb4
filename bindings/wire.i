/* wire: gpurent/wire.h — records and their canonical MessagePack form. */

/* The request's lists are two-dimensional arrays: bindings fill them with the
 * list helpers (request_add_model, request_allow_region, request_exclude_region,
 * request_allow_provider, request_exclude_provider) and read them back with
 * the accessors below. */
%ignore gpurent_request::models;
%ignore gpurent_request::regions;
%ignore gpurent_request::excluded_regions;
%ignore gpurent_request::providers;
%ignore gpurent_request::excluded_providers;
/* An offer's nodes are owned by the offer: use offer_add_node / offer_node. */
%ignore gpurent_offer::nodes;

%extend gpurent_request {
    /* Item i of a list, "" (or an all-zero key) when out of range. */
    const char *model_at(uint32_t i) const {
        return i < $self->model_count && i < GPURENT_REQUEST_MAX_LIST ? $self->models[i] : "";
    }
    const char *region_at(uint32_t i) const {
        return i < $self->region_count && i < GPURENT_REQUEST_MAX_LIST ? $self->regions[i] : "";
    }
    const char *excluded_region_at(uint32_t i) const {
        return i < $self->excluded_region_count && i < GPURENT_REQUEST_MAX_LIST ? $self->excluded_regions[i] : "";
    }
    void provider_at(uint32_t i, uint8_t key_out[32]) const {
        if (i < $self->provider_count && i < GPURENT_REQUEST_MAX_LIST) memcpy(key_out, $self->providers[i], 32);
        else memset(key_out, 0, 32);
    }
    void excluded_provider_at(uint32_t i, uint8_t key_out[32]) const {
        if (i < $self->excluded_provider_count && i < GPURENT_REQUEST_MAX_LIST)
            memcpy(key_out, $self->excluded_providers[i], 32);
        else memset(key_out, 0, 32);
    }
}

/* A binding-created offer frees its nodes with the struct. */
%extend gpurent_offer {
    gpurent_offer() {
        gpurent_offer *o = (gpurent_offer *)calloc(1, sizeof *o);
        return o;
    }
    ~gpurent_offer() {
        gpurent_offer_clear($self);
        free($self);
    }
}

/* Audit reports and tier certificates (records of the tier module; their
 * Pythonic/Go layers live with bindings/tier.i). Arrays owned by the record
 * are not exposed raw: audit reports use add_challenge/add_job and the index
 * getters, certificates auditor_at/set_auditor. A binding-created report
 * frees its arrays with the struct. */
%ignore gpurent_audit_report::challenges;
%ignore gpurent_audit_report::jobs;
%ignore gpurent_tier_cert::auditors;
%extend gpurent_audit_report {
    gpurent_audit_report() {
        return (gpurent_audit_report *)calloc(1, sizeof(gpurent_audit_report));
    }
    ~gpurent_audit_report() {
        gpurent_audit_report_clear($self);
        free($self);
    }
}
%extend gpurent_tier_cert {
    /* Auditor i (an all-zero key when out of range). */
    void auditor_at(uint32_t i, uint8_t key_out[32]) const {
        if (i < GPURENT_TIER_CERT_MAX_AUDITORS) memcpy(key_out, $self->auditors[i], 32);
        else memset(key_out, 0, 32);
    }
    /* Set auditor i (ignored when out of range; auditor_count is separate). */
    void set_auditor(uint32_t i, const uint8_t key[32]) {
        if (i < GPURENT_TIER_CERT_MAX_AUDITORS) memcpy($self->auditors[i], key, 32);
    }
}

/* Match receipts (record of the match module, Pythonic/Go layers with
 * bindings/match.i): the arrays are read with the index getters
 * (match_receipt_assignment/_placement). To build a receipt field by field,
 * reserve(n_assignments, n_placements) allocates zeroed arrays (the
 * library's gpurent_match_receipt_clear frees them: the library allocates
 * with the C heap) and assignment_ref/placement_ref give writable items. A
 * binding-created receipt frees its arrays with the struct. */
%ignore gpurent_match_receipt::assignments;
%ignore gpurent_match_receipt::placements;
%extend gpurent_match_receipt {
    gpurent_match_receipt() {
        return (gpurent_match_receipt *)calloc(1, sizeof(gpurent_match_receipt));
    }
    ~gpurent_match_receipt() {
        gpurent_match_receipt_clear($self);
        free($self);
    }
    /* 0, or -1 when the counts exceed the record's limits or memory is short
     * (the receipt is then cleared). */
    int reserve(uint32_t n_assignments, uint32_t n_placements) {
        gpurent_match_receipt_clear($self);
        if (n_assignments > GPURENT_RECEIPT_MAX_ASSIGNMENTS || n_placements > GPURENT_RECEIPT_MAX_PLACEMENTS)
            return -1;
        $self->assignments = (gpurent_match_assignment *)calloc(n_assignments ? n_assignments : 1,
                                                                sizeof(gpurent_match_assignment));
        $self->placements = (gpurent_match_placement *)calloc(n_placements ? n_placements : 1,
                                                              sizeof(gpurent_match_placement));
        if (!$self->assignments || !$self->placements) {
            gpurent_match_receipt_clear($self);
            return -1;
        }
        $self->assignment_count = n_assignments;
        $self->placement_count = n_placements;
        return 0;
    }
    /* Writable item i (NULL when out of range). */
    gpurent_match_assignment *assignment_ref(uint32_t i) {
        return i < $self->assignment_count ? &$self->assignments[i] : NULL;
    }
    gpurent_match_placement *placement_ref(uint32_t i) {
        return i < $self->placement_count ? &$self->placements[i] : NULL;
    }
}

/* GPU reports (probe module). A report's devices: read with gpurent_gpu_report_device(), written with
 * set_device() (the array is not exposed raw). */
%ignore gpurent_gpu_report::devices;
%extend gpurent_gpu_report {
    gpurent_gpu_report() {
        gpurent_gpu_report *r = (gpurent_gpu_report *)calloc(1, sizeof *r);
        if (r) gpurent_gpu_report_init(r);
        return r;
    }
    ~gpurent_gpu_report() {
        free($self);
    }
    /* Copy `dev` into slot i (< GPURENT_GPU_REPORT_MAX_DEVICES); device_count
     * grows to i + 1 if needed. Returns 0, or -1 when i is out of range. */
    int set_device(uint32_t i, const gpurent_probe_device *dev) {
        if (i >= GPURENT_GPU_REPORT_MAX_DEVICES || !dev) return -1;
        $self->devices[i] = *dev;
        if ($self->device_count <= i) $self->device_count = i + 1;
        return 0;
    }
}

%apply uint32_t *OUTPUT { uint32_t *type };

/* An envelope's subject (attest): bytes in. */
%gpurent_bytes_in(const uint8_t *subject, size_t len)

/* Decoding and checking untrusted bytes (up to 16 MiB) and whole offers
 * (up to 1024 nodes) can take a while. */
%gpurent_long_call(gpurent_offer_validate)
%gpurent_long_call(gpurent_offer_encode)
%gpurent_long_call(gpurent_offer_decode)
%gpurent_long_call(gpurent_wire_check_canonical)
%gpurent_long_call(gpurent_wire_record_type)

%include <gpurent/wire.h>
