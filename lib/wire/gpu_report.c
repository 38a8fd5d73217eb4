/* The GPU report record: what a probe found, bound to a challenge nonce.
 * One validator serves the encoder (nothing invalid is written) and the
 * decoder (nothing invalid is accepted). */
#include <stdio.h>
#include <string.h>

#include "mp_internal.h"

#define REPORT_FIELDS 14 /* keys 0..13 */
#define DEVICE_FIELDS 24 /* keys 1..24, then the optional ones */

/* Keys 25..28, added after 0.3: written only when not 0. */
#define DO(key, member, max) GR_FIELD(key, GR_U32, gpurent_probe_device, member, max)
static const gr_field device_opt_fields[] = {
    DO(25, pci_vendor_id, 0xfffe),
    DO(26, pci_device_id, 0xffff),
    DO(27, pci_subsystem_vendor_id, 0xffff),
    DO(28, pci_subsystem_device_id, 0xffff),
};
#undef DO
#define N_DEVICE_OPT (sizeof device_opt_fields / sizeof device_opt_fields[0])
#define MAX_DRIVER_ERROR 0xffffu
#define MAX_FIGURE (1ull << 40)
#define MAX_DRIVER_DEVICES ((uint32_t)GPURENT_GPU_REPORT_MAX_DRIVER_DEVICES)

/* ---- field tables ---- */

typedef struct pv_field {
    uint8_t key;
    uint16_t offset;
    uint64_t max;
    const char *name;
} pv_field;

#define PV(key, member, max) {key, (uint16_t)offsetof(gpurent_probe_device, member), max, #member}
static const pv_field pv_fields[] = {
    PV(4, pci_domain, UINT32_MAX),
    PV(5, pci_bus, 255),
    PV(6, pci_device, 31),
    PV(7, cc_major, 99),
    PV(8, cc_minor, 9),
    PV(9, sm_count, 100000),
    PV(10, memory_bytes, 1ull << 50),
    PV(11, clock_khz, 100000000),
    PV(12, mem_clock_khz, 100000000),
    PV(13, bus_width_bits, 65536),
    PV(14, l2_bytes, 1ull << 34),
    PV(15, ecc_enabled, 1),
    PV(16, max_threads_per_sm, 65536),
    PV(17, fp32_gflops, MAX_FIGURE),
    PV(18, fp16_tensor_gflops, MAX_FIGURE),
    PV(19, bf16_tensor_gflops, MAX_FIGURE),
    PV(20, mem_bw_mbps, MAX_FIGURE),
    PV(21, h2d_peak_mbps, MAX_FIGURE),
};
#undef PV
#define N_PV (sizeof pv_fields / sizeof pv_fields[0])

typedef struct check_field {
    uint8_t key;
    uint16_t offset;
    uint32_t bit;         /* GPURENT_CHECK_* */
    uint16_t peak_offset; /* the derived peak its ratio_ppm divides by */
    const char *name;
} check_field;

#define CHECK(key, member, bit, peak) \
    {key, (uint16_t)offsetof(gpurent_probe_device, member), bit, (uint16_t)offsetof(gpurent_probe_device, peak), #member}
static const check_field check_fields[] = {
    CHECK(22, d2d, GPURENT_CHECK_D2D, mem_bw_mbps),
    CHECK(23, h2d, GPURENT_CHECK_H2D, h2d_peak_mbps),
    CHECK(24, fma, GPURENT_CHECK_FMA, fp32_gflops),
};
#undef CHECK

static const gpurent_pv *dev_pv(const gpurent_probe_device *d, const pv_field *f)
{
    return (const gpurent_pv *)(const void *)((const char *)d + f->offset);
}

static const gpurent_probe_check *dev_check(const gpurent_probe_device *d, const check_field *f)
{
    return (const gpurent_probe_check *)(const void *)((const char *)d + f->offset);
}

/* ---- validation ---- */

static int bad(const char *what, const char *name, const char *why)
{
    return gr_fail(GPURENT_E_INVALID_FIELD, "%s.%s: %s", what, name, why);
}

/* The state/error/value rules every probed field shares. */
static int state_check(uint32_t state, uint32_t error, int has_value, const char *what, const char *name)
{
    if (state > GPURENT_PV_ERROR) return bad(what, name, "state outside ok/unsupported/error");
    if (error > MAX_DRIVER_ERROR) return bad(what, name, "driver error code above 65535");
    if (state == GPURENT_PV_OK && error) return bad(what, name, "error code set on a value");
    if (state == GPURENT_PV_ERROR && !error) return bad(what, name, "error state without an error code");
    if (state != GPURENT_PV_OK && has_value) return bad(what, name, "value set on an unsupported or failed field");
    return GPURENT_OK;
}

static int pv_check(const gpurent_pv *pv, uint64_t max, const char *what, const char *name)
{
    int rc = state_check(pv->state, pv->error, pv->value != 0, what, name);
    if (rc) return rc;
    if (pv->value > max)
        return gr_fail(GPURENT_E_INVALID_FIELD, "%s.%s: %llu above the limit %llu", what, name,
                       (unsigned long long)pv->value, (unsigned long long)max);
    return GPURENT_OK;
}

static int zero_bytes(const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (b[i]) return 0;
    return 1;
}

/* ratio_ppm and verdict are derived from value and the peak, as the probe
 * computes them: a report whose figures disagree with its own ratio or
 * verdict is refused, so one measurement has one encoding. */
static int check_derived(const gpurent_probe_check *k, const gpurent_pv *peak, const char *what, const char *name)
{
    uint64_t ratio = 0;
    if (peak->state == GPURENT_PV_OK && peak->value) {
        ratio = k->value * 1000000u / peak->value; /* both <= 2^40: no overflow */
        if (ratio > UINT32_MAX) ratio = UINT32_MAX;
    }
    if (k->ratio_ppm != ratio)
        return gr_fail(GPURENT_E_INVALID_FIELD, "%s.%s: ratio_ppm %u, but value x 10^6 / peak gives %llu", what,
                       name, k->ratio_ppm, (unsigned long long)ratio);
    uint32_t verdict = !ratio                                            ? GPURENT_VERDICT_NONE
                       : ratio < GPURENT_VERDICT_LOW_BELOW_PPM            ? GPURENT_VERDICT_LOW
                       : ratio > GPURENT_VERDICT_IMPLAUSIBLE_ABOVE_PPM    ? GPURENT_VERDICT_IMPLAUSIBLE
                                                                          : GPURENT_VERDICT_PLAUSIBLE;
    if (k->verdict != GPURENT_VERDICT_WRONG_OUTPUT && k->verdict != verdict)
        return gr_fail(GPURENT_E_INVALID_FIELD, "%s.%s: verdict %u, but ratio_ppm %llu gives %u", what, name,
                       k->verdict, (unsigned long long)ratio, verdict);
    return GPURENT_OK;
}

static int check_check(const gpurent_probe_check *k, const gpurent_pv *peak, int requested, const char *what,
                       const char *name)
{
    if (k->state == GPURENT_PV_SKIPPED) {
        if (k->error || k->value || k->ratio_ppm || k->verdict)
            return bad(what, name, "a skipped check carries figures");
        return GPURENT_OK;
    }
    if (!requested) return bad(what, name, "check not requested but not skipped");
    int rc = state_check(k->state, k->error, k->value || k->ratio_ppm || k->verdict, what, name);
    if (rc) return rc;
    if (k->value > MAX_FIGURE) return bad(what, name, "measured figure above 2^40");
    if (k->verdict > GPURENT_VERDICT_WRONG_OUTPUT) return bad(what, name, "unknown verdict");
    if (k->state == GPURENT_PV_OK && k->verdict == GPURENT_VERDICT_NONE && k->ratio_ppm)
        return bad(what, name, "a ratio without a verdict");
    if (k->state == GPURENT_PV_OK && k->verdict >= GPURENT_VERDICT_PLAUSIBLE &&
        k->verdict <= GPURENT_VERDICT_IMPLAUSIBLE && !k->ratio_ppm)
        return bad(what, name, "a verdict without a ratio");
    return k->state == GPURENT_PV_OK ? check_derived(k, peak, what, name) : GPURENT_OK;
}

static int device_check(const gpurent_probe_device *d, uint32_t checks, const char *what, int *failed)
{
    const gpurent_pv_text *n = &d->name;
    size_t len = strnlen(n->value, sizeof n->value);
    if (len == sizeof n->value) return bad(what, "name", "not NUL-terminated");
    int rc = state_check(n->state, n->error, len != 0, what, "name");
    if (rc) return rc;
    if (n->state == GPURENT_PV_OK && len == 0) return bad(what, "name", "empty");
    if (!gr_utf8_valid((const uint8_t *)n->value, len)) return bad(what, "name", "not valid UTF-8");
    const gpurent_pv_uuid *u = &d->uuid;
    if ((rc = state_check(u->state, u->error, !zero_bytes(u->value, sizeof u->value), what, "uuid"))) return rc;
    *failed |= n->state == GPURENT_PV_ERROR || u->state == GPURENT_PV_ERROR;
    for (size_t i = 0; i < N_PV; i++) {
        const gpurent_pv *pv = dev_pv(d, &pv_fields[i]);
        if ((rc = pv_check(pv, pv_fields[i].max, what, pv_fields[i].name))) return rc;
        *failed |= pv->state == GPURENT_PV_ERROR;
    }
    for (size_t i = 0; i < 3; i++)
        if ((rc = check_check(dev_check(d, &check_fields[i]),
                              (const gpurent_pv *)(const void *)((const char *)d + check_fields[i].peak_offset),
                              (checks & check_fields[i].bit) != 0, what, check_fields[i].name)))
            return rc;
    if ((rc = gr_pci_ids_check(d->pci_vendor_id, d->pci_device_id, d->pci_subsystem_vendor_id,
                               d->pci_subsystem_device_id, what)))
        return rc;
    /* The ids are read at the device's PCI address: none without one. */
    if (d->pci_vendor_id && !(d->pci_domain.state == GPURENT_PV_OK && d->pci_bus.state == GPURENT_PV_OK &&
                              d->pci_device.state == GPURENT_PV_OK))
        return bad(what, "pci_vendor_id", "PCI ids of a device whose PCI address is not known");
    return GPURENT_OK;
}

static int pci_known(const gpurent_probe_device *d)
{
    return d->pci_domain.state == GPURENT_PV_OK && d->pci_bus.state == GPURENT_PV_OK &&
           d->pci_device.state == GPURENT_PV_OK;
}

/* Devices come in PCI bus id order (domain, bus, device), then the ones
 * whose address is not known, by ordinal. */
static int in_order(const gpurent_probe_device *a, const gpurent_probe_device *b)
{
    int ka = pci_known(a), kb = pci_known(b);
    if (ka != kb) return ka;
    if (ka) {
        uint64_t x[3] = {a->pci_domain.value, a->pci_bus.value, a->pci_device.value};
        uint64_t y[3] = {b->pci_domain.value, b->pci_bus.value, b->pci_device.value};
        for (int i = 0; i < 3; i++)
            if (x[i] != y[i]) return x[i] < y[i];
    }
    return a->ordinal < b->ordinal;
}

/* One device listed twice would count one GPU as several: devices differ
 * in ordinal, in UUID (where both are known) and in PCI address (where both
 * are known). */
static int distinct(const gpurent_probe_device *earlier, const gpurent_probe_device *d, const char *what)
{
    if (earlier->ordinal == d->ordinal) return bad(what, "ordinal", "repeats an earlier device");
    if (earlier->uuid.state == GPURENT_PV_OK && d->uuid.state == GPURENT_PV_OK &&
        memcmp(earlier->uuid.value, d->uuid.value, sizeof d->uuid.value) == 0)
        return bad(what, "uuid", "repeats an earlier device's UUID");
    if (pci_known(earlier) && pci_known(d) && earlier->pci_domain.value == d->pci_domain.value &&
        earlier->pci_bus.value == d->pci_bus.value && earlier->pci_device.value == d->pci_device.value)
        return bad(what, "pci", "repeats an earlier device's PCI address");
    return GPURENT_OK;
}

static int status_known(int32_t s)
{
    return s == GPURENT_OK || (s <= GPURENT_E_NO_DRIVER && s >= GPURENT_E_DRIVER_TIMEOUT) ||
           s == GPURENT_E_NO_DEVICE || s == GPURENT_E_DEVICE_FAILED;
}

static int devices_check(const gpurent_gpu_report *r)
{
    int listed = r->status == GPURENT_OK || r->status == GPURENT_E_DEVICE_FAILED;
    if (!listed && (r->device_count || r->driver_device_count))
        return bad("gpu_report", "devices", "devices listed although the status says there are none");
    if (r->driver_device_count > MAX_DRIVER_DEVICES) return bad("gpu_report", "driver_device_count", "above 65536");
    uint32_t expect = r->driver_device_count < GPURENT_GPU_REPORT_MAX_DEVICES ? r->driver_device_count
                                                                               : GPURENT_GPU_REPORT_MAX_DEVICES;
    if (listed && (r->device_count == 0 || r->device_count != expect))
        return gr_fail(GPURENT_E_INVALID_FIELD, "gpu_report.devices: %u devices, expected %u (driver listed %u)",
                       r->device_count, expect, r->driver_device_count);
    int failed = 0, rc;
    for (uint32_t i = 0; i < r->device_count; i++) {
        char what[48];
        const gpurent_probe_device *d = &r->devices[i];
        gr_path(what, sizeof what, "gpu_report.devices", i, "");
        if (d->ordinal >= r->driver_device_count) return bad(what, "ordinal", "not below driver_device_count");
        if ((rc = device_check(d, r->checks, what, &failed))) return rc;
        for (uint32_t j = 0; j < i; j++)
            if ((rc = distinct(&r->devices[j], d, what))) return rc;
        if (i > 0 && !in_order(&r->devices[i - 1], d)) return bad(what, "pci", "devices not in PCI bus id order");
    }
    if (r->status == GPURENT_E_DEVICE_FAILED && !failed)
        return bad("gpu_report", "status", "device failure without a failed field");
    if (r->status == GPURENT_OK && failed) return bad("gpu_report", "status", "a failed field with status OK");
    return GPURENT_OK;
}

GPURENT_API gpurent_status gpurent_gpu_report_validate(const gpurent_gpu_report *r)
{
    GR_CHECK_ARG(r, "report is NULL");
    int rc;
    if (!status_known(r->status))
        return gr_fail(GPURENT_E_INVALID_FIELD, "gpu_report.status: %d is not a probe outcome", (int)r->status);
    if (r->driver_error > MAX_DRIVER_ERROR) return bad("gpu_report", "driver_error", "above 65535");
    if (r->status == GPURENT_OK && r->driver_error) return bad("gpu_report", "driver_error", "set with status OK");
    if ((rc = gr_check_cstr(r->reason, sizeof r->reason, 1, "gpu_report", "reason"))) return rc;
    if (r->status != GPURENT_OK && !r->reason[0]) return bad("gpu_report", "reason", "empty for a failed probe");
    if ((rc = pv_check(&r->driver_version, 999999, "gpu_report", "driver_version"))) return rc;
    if ((rc = gr_check_cstr(r->driver_path, sizeof r->driver_path, 1, "gpu_report", "driver_path"))) return rc;
    if ((r->status == GPURENT_E_NO_DRIVER) != (r->driver_path[0] == '\0'))
        return bad("gpu_report", "driver_path", "must be empty exactly when no driver was loaded");
    if (!r->driver_path[0] && !zero_bytes(r->driver_digest, sizeof r->driver_digest))
        return bad("gpu_report", "driver_digest", "set without a driver path");
    if (r->ld_preload_set > 1) return bad("gpu_report", "ld_preload_set", "not 0 or 1");
    if (r->cuda_visible_devices_set > 1) return bad("gpu_report", "cuda_visible_devices_set", "not 0 or 1");
    if (r->checks > GPURENT_CHECK_ALL) return bad("gpu_report", "checks", "unknown check bits");
    if (r->device_count > GPURENT_GPU_REPORT_MAX_DEVICES)
        return gr_fail(GPURENT_E_INVALID_FIELD, "gpu_report.devices: %u above the limit %u", r->device_count,
                       GPURENT_GPU_REPORT_MAX_DEVICES);
    return devices_check(r);
}

/* ---- encoding ---- */

static void wr_pv(gr_writer *w, uint64_t key, const gpurent_pv *pv)
{
    gr_wr_uint(w, key);
    gr_wr_array(w, 3);
    gr_wr_uint(w, pv->state);
    gr_wr_uint(w, pv->error);
    gr_wr_uint(w, pv->value);
}

static void wr_device(gr_writer *w, const gpurent_probe_device *d)
{
    gr_wr_map(w, DEVICE_FIELDS + gr_opt_count(d, device_opt_fields, N_DEVICE_OPT));
    gr_wr_uint(w, 1);
    gr_wr_uint(w, d->ordinal);
    gr_wr_uint(w, 2);
    gr_wr_array(w, 3);
    gr_wr_uint(w, d->name.state);
    gr_wr_uint(w, d->name.error);
    gr_wr_cstr(w, d->name.value);
    gr_wr_uint(w, 3);
    gr_wr_array(w, 3);
    gr_wr_uint(w, d->uuid.state);
    gr_wr_uint(w, d->uuid.error);
    gr_wr_bin(w, d->uuid.value, sizeof d->uuid.value);
    for (size_t i = 0; i < N_PV; i++) wr_pv(w, pv_fields[i].key, dev_pv(d, &pv_fields[i]));
    for (size_t i = 0; i < 3; i++) {
        const gpurent_probe_check *k = dev_check(d, &check_fields[i]);
        gr_wr_uint(w, check_fields[i].key);
        gr_wr_array(w, 5);
        gr_wr_uint(w, k->state);
        gr_wr_uint(w, k->error);
        gr_wr_uint(w, k->value);
        gr_wr_uint(w, k->ratio_ppm);
        gr_wr_uint(w, k->verdict);
    }
    gr_wr_opt_fields(w, d, device_opt_fields, N_DEVICE_OPT);
}

GPURENT_API gpurent_status gpurent_gpu_report_encode(const gpurent_gpu_report *r, gpurent_buf *out)
{
    GR_CHECK_ARG(r && out, "report or out is NULL");
    int rc = gpurent_gpu_report_validate(r);
    if (rc) return rc;
    gr_writer w;
    gr_wr_init(&w);
    gr_wr_map(&w, REPORT_FIELDS);
    gr_wr_uint(&w, 0);
    gr_wr_uint(&w, GPURENT_RECORD_GPU_REPORT);
    gr_wr_uint(&w, 1);
    gr_wr_bin(&w, r->nonce, sizeof r->nonce);
    gr_wr_uint(&w, 2);
    gr_wr_uint(&w, r->probed_at);
    gr_wr_uint(&w, 3);
    gr_wr_int(&w, r->status);
    gr_wr_uint(&w, 4);
    gr_wr_uint(&w, r->driver_error);
    gr_wr_uint(&w, 5);
    gr_wr_cstr(&w, r->reason);
    wr_pv(&w, 6, &r->driver_version);
    gr_wr_uint(&w, 7);
    gr_wr_cstr(&w, r->driver_path);
    gr_wr_uint(&w, 8);
    gr_wr_bin(&w, r->driver_digest, sizeof r->driver_digest);
    gr_wr_uint(&w, 9);
    gr_wr_uint(&w, r->ld_preload_set);
    gr_wr_uint(&w, 10);
    gr_wr_uint(&w, r->cuda_visible_devices_set);
    gr_wr_uint(&w, 11);
    gr_wr_uint(&w, r->driver_device_count);
    gr_wr_uint(&w, 12);
    gr_wr_uint(&w, r->checks);
    gr_wr_uint(&w, 13);
    gr_wr_array(&w, r->device_count);
    for (uint32_t i = 0; i < r->device_count; i++) wr_device(&w, &r->devices[i]);
    return gr_wr_finish(&w, out);
}

/* ---- decoding ---- */

static int rd_u32(gr_reader *r, uint32_t *v, const char *name)
{
    uint64_t x;
    int rc = gr_rd_uint(r, &x);
    if (rc) return gr_annotate(rc, name);
    if (x > UINT32_MAX)
        return gr_fail(GPURENT_E_INVALID_FIELD, "%s.%s: %llu above 2^32-1", r->what, name, (unsigned long long)x);
    *v = (uint32_t)x;
    return GPURENT_OK;
}

/* A fixed-size array value: [state, error, ...]. */
static int rd_tuple(gr_reader *r, uint64_t key, const char *name, uint32_t count, uint32_t *state, uint32_t *error)
{
    uint32_t n;
    int rc = gr_rd_key(r, key, name);
    if (!rc && (rc = gr_rd_array(r, &n))) rc = gr_annotate(rc, name);
    if (!rc && n != count)
        rc = gr_fail(GPURENT_E_INVALID_FIELD, "%s.%s: array of %u items, expected %u", r->what, name, n, count);
    if (!rc) rc = rd_u32(r, state, name);
    if (!rc) rc = rd_u32(r, error, name);
    return rc;
}

static int rd_pv(gr_reader *r, uint64_t key, const char *name, gpurent_pv *pv)
{
    int rc = rd_tuple(r, key, name, 3, &pv->state, &pv->error);
    if (!rc && (rc = gr_rd_uint(r, &pv->value))) rc = gr_annotate(rc, name);
    return rc;
}

static int rd_device(gr_reader *r, gpurent_probe_device *d)
{
    uint32_t n;
    const char *s;
    const uint8_t *b;
    uint32_t len;
    int rc = gr_rd_map(r, &n);
    if (rc) return rc;
    if (n < DEVICE_FIELDS || n > DEVICE_FIELDS + N_DEVICE_OPT)
        return gr_fail(GPURENT_E_INVALID_FIELD, "%s: device has %u fields, expected %u..%u", r->what, n, DEVICE_FIELDS,
                       (unsigned)(DEVICE_FIELDS + N_DEVICE_OPT));
    if ((rc = gr_rd_key(r, 1, "ordinal")) || (rc = rd_u32(r, &d->ordinal, "ordinal"))) return rc;
    if ((rc = rd_tuple(r, 2, "name", 3, &d->name.state, &d->name.error))) return rc;
    if ((rc = gr_rd_str(r, &s, &len, GPURENT_GPU_REPORT_TEXT_MAX - 1))) return gr_annotate(rc, "name");
    memcpy(d->name.value, s, len);
    d->name.value[len] = '\0';
    if ((rc = rd_tuple(r, 3, "uuid", 3, &d->uuid.state, &d->uuid.error))) return rc;
    if ((rc = gr_rd_bin(r, &b, &len, sizeof d->uuid.value))) return gr_annotate(rc, "uuid");
    if (len != sizeof d->uuid.value)
        return gr_fail(GPURENT_E_INVALID_FIELD, "%s.uuid: %u bytes, expected 16", r->what, len);
    memcpy(d->uuid.value, b, len);
    for (size_t i = 0; i < N_PV; i++) {
        gpurent_pv *pv = (gpurent_pv *)(void *)((char *)d + pv_fields[i].offset);
        if ((rc = rd_pv(r, pv_fields[i].key, pv_fields[i].name, pv))) return rc;
    }
    for (size_t i = 0; i < 3; i++) {
        gpurent_probe_check *k = (gpurent_probe_check *)(void *)((char *)d + check_fields[i].offset);
        const char *name = check_fields[i].name;
        if ((rc = rd_tuple(r, check_fields[i].key, name, 5, &k->state, &k->error))) return rc;
        if ((rc = gr_rd_uint(r, &k->value))) return gr_annotate(rc, name);
        if ((rc = rd_u32(r, &k->ratio_ppm, name)) || (rc = rd_u32(r, &k->verdict, name))) return rc;
    }
    return gr_rd_opt_fields(r, d, device_opt_fields, N_DEVICE_OPT, n - DEVICE_FIELDS);
}

static int rd_head(gr_reader *r, gpurent_gpu_report *g)
{
    int64_t status;
    int rc = gr_rd_record(r, REPORT_FIELDS, GPURENT_RECORD_GPU_REPORT);
    if (!rc) rc = gr_rd_field_bin(r, 1, "nonce", g->nonce, sizeof g->nonce);
    if (!rc) rc = gr_rd_field_u64(r, 2, "probed_at", UINT64_MAX, &g->probed_at);
    if (!rc && !(rc = gr_rd_key(r, 3, "status")) && (rc = gr_rd_int(r, &status))) rc = gr_annotate(rc, "status");
    if (!rc && (status < -999 || status > 0))
        rc = gr_fail(GPURENT_E_INVALID_FIELD, "gpu_report.status: %lld is not a probe outcome", (long long)status);
    if (!rc) g->status = (int32_t)status;
    if (!rc) rc = gr_rd_field_u32(r, 4, "driver_error", MAX_DRIVER_ERROR, &g->driver_error);
    if (!rc) rc = gr_rd_field_str(r, 5, "reason", g->reason, sizeof g->reason, 1);
    if (!rc) rc = rd_pv(r, 6, "driver_version", &g->driver_version);
    if (!rc) rc = gr_rd_field_str(r, 7, "driver_path", g->driver_path, sizeof g->driver_path, 1);
    if (!rc) rc = gr_rd_field_bin(r, 8, "driver_digest", g->driver_digest, sizeof g->driver_digest);
    if (!rc) rc = gr_rd_field_u32(r, 9, "ld_preload_set", 1, &g->ld_preload_set);
    if (!rc) rc = gr_rd_field_u32(r, 10, "cuda_visible_devices_set", 1, &g->cuda_visible_devices_set);
    if (!rc) rc = gr_rd_field_u32(r, 11, "driver_device_count", MAX_DRIVER_DEVICES, &g->driver_device_count);
    if (!rc) rc = gr_rd_field_u32(r, 12, "checks", GPURENT_CHECK_ALL, &g->checks);
    return rc;
}

GPURENT_API gpurent_status gpurent_gpu_report_decode(const uint8_t *data, size_t len, gpurent_gpu_report *out)
{
    GR_CHECK_ARG(data || len == 0, "data is NULL");
    GR_CHECK_ARG(out, "out is NULL");
    if (len > GPURENT_RECORD_MAX_BYTES)
        return gr_fail(GPURENT_E_OVERSIZE, "gpu_report: %zu bytes above the record limit", len);
    gpurent_gpu_report *g = gr_calloc(1, sizeof *g); /* ~40 KiB: not on the caller's stack */
    if (!g) return gr_fail(GPURENT_E_NOMEM, "gpu_report");
    gr_reader r;
    uint32_t count = 0;
    gr_rd_init(&r, data, len, "gpu_report");
    int rc = rd_head(&r, g);
    if (!rc) rc = gr_rd_key(&r, 13, "devices");
    if (!rc && (rc = gr_rd_array(&r, &count))) rc = gr_annotate(rc, "devices");
    if (!rc && count > GPURENT_GPU_REPORT_MAX_DEVICES)
        rc = gr_fail(GPURENT_E_OVERSIZE, "gpu_report.devices: %u devices above the limit %u", count,
                     GPURENT_GPU_REPORT_MAX_DEVICES);
    for (uint32_t i = 0; !rc && i < count; i++) {
        char what[48];
        gr_path(what, sizeof what, "gpu_report.devices", i, "");
        r.what = what;
        rc = rd_device(&r, &g->devices[i]);
        r.what = "gpu_report";
    }
    g->device_count = count;
    if (!rc) rc = gr_rd_end(&r);
    if (!rc) rc = gpurent_gpu_report_validate(g);
    if (!rc) *out = *g;
    gr_free(g);
    return rc;
}

GPURENT_API void gpurent_gpu_report_init(gpurent_gpu_report *report)
{
    if (report) memset(report, 0, sizeof *report);
}

GPURENT_API const gpurent_probe_device *gpurent_gpu_report_device(const gpurent_gpu_report *report,
                                                                  uint32_t index)
{
    if (!report || index >= report->device_count || index >= GPURENT_GPU_REPORT_MAX_DEVICES) return NULL;
    return &report->devices[index];
}

/* ---- conversion to a GPU record ---- */

/* Copy at most cap-1 bytes of a UTF-8 string without splitting a character. */
static void copy_utf8(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)src[n] & 0xc0) == 0x80) n--;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static uint64_t okv(const gpurent_pv *pv) { return pv->state == GPURENT_PV_OK ? pv->value : 0; }

static uint64_t measured(const gpurent_probe_check *k)
{
    int usable = k->state == GPURENT_PV_OK &&
                 (k->verdict == GPURENT_VERDICT_PLAUSIBLE || k->verdict == GPURENT_VERDICT_LOW);
    return usable ? k->value : 0;
}

GPURENT_API gpurent_status gpurent_gpu_report_to_gpu(const gpurent_gpu_report *report, uint32_t index,
                                                     gpurent_gpu *out)
{
    GR_CHECK_ARG(report && out, "report or out is NULL");
    const gpurent_probe_device *d = gpurent_gpu_report_device(report, index);
    if (!d) return gr_fail(GPURENT_E_NOT_FOUND, "gpu_report.devices[%u]: no such device", index);
    if (d->name.state != GPURENT_PV_OK) return bad("gpu_report.device", "name", "not known");
    if (d->cc_major.state != GPURENT_PV_OK || d->cc_minor.state != GPURENT_PV_OK || d->cc_major.value == 0)
        return bad("gpu_report.device", "cc_major", "compute capability not known");
    gpurent_gpu g;
    memset(&g, 0, sizeof g);
    copy_utf8(g.model, sizeof g.model, d->name.value);
    if (d->uuid.state == GPURENT_PV_OK) memcpy(g.uuid, d->uuid.value, sizeof g.uuid);
    g.pci_domain = (uint32_t)okv(&d->pci_domain);
    g.pci_bus = (uint32_t)okv(&d->pci_bus);
    g.pci_device = (uint32_t)okv(&d->pci_device);
    g.cc_major = (uint32_t)d->cc_major.value;
    g.cc_minor = (uint32_t)d->cc_minor.value;
    g.sm_count = (uint32_t)okv(&d->sm_count);
    g.memory_mib = okv(&d->memory_bytes) >> 20;
    g.clock_mhz = (uint32_t)(okv(&d->clock_khz) / 1000);
    g.mem_clock_mhz = (uint32_t)(okv(&d->mem_clock_khz) / 1000);
    g.bus_width_bits = (uint32_t)okv(&d->bus_width_bits);
    g.l2_kib = (uint32_t)(okv(&d->l2_bytes) >> 10);
    g.ecc_enabled = (uint32_t)okv(&d->ecc_enabled);
    /* The driver does not say SXM or PCIe; a name that does is believed. */
    g.interface = strstr(g.model, "SXM") ? GPURENT_IFACE_SXM
                  : strstr(g.model, "PCIe") ? GPURENT_IFACE_PCIE
                                            : GPURENT_IFACE_ANY;
    g.fp32_gflops = okv(&d->fp32_gflops);
    g.fp16_tensor_gflops = okv(&d->fp16_tensor_gflops);
    g.mem_bw_mbps = okv(&d->mem_bw_mbps);
    g.measured_fp32_gflops = measured(&d->fma);
    g.measured_mem_bw_mbps = measured(&d->d2d);
    g.cuda_version = (uint32_t)okv(&report->driver_version);
    g.pci_vendor_id = d->pci_vendor_id;
    g.pci_device_id = d->pci_device_id;
    g.pci_subsystem_vendor_id = d->pci_subsystem_vendor_id;
    g.pci_subsystem_device_id = d->pci_subsystem_device_id;
    int rc = gpurent_gpu_validate(&g);
    if (rc) return rc;
    *out = g;
    return GPURENT_OK;
}
