/* Wire records: the records every module exchanges, and their canonical
 * MessagePack form. docs/wire-format.md specifies the bytes.
 *
 * Every record is a MessagePack map with unsigned integer keys 0..N in
 * ascending order, every key present; key 0 holds the record type. Integers
 * use their shortest form, strings are UTF-8 without NUL, and nothing
 * follows the record. Encoders validate before they write (an invalid
 * record is never encoded); decoders check canonicity, bounds and every
 * field's range, and name the field that failed in
 * gpurent_last_error_message(). Quantities are integers with their unit in
 * the field name. */
#ifndef GPURENT_WIRE_H
#define GPURENT_WIRE_H

#include "gpurent/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Record types: the value under key 0 of every record. Append-only. */
typedef enum gpurent_record_type {
    GPURENT_RECORD_GPU = 1,
    GPURENT_RECORD_OFFER = 2,
    GPURENT_RECORD_REQUEST = 3,
    GPURENT_RECORD_GPU_REPORT = 4,
    GPURENT_RECORD_AUDIT_REPORT = 5,
    GPURENT_RECORD_TIER_CERT = 6,
    GPURENT_RECORD_MATCH_RECEIPT = 7,
    GPURENT_RECORD_REVOCATION = 8,
    GPURENT_RECORD_ENVELOPE = 9
} gpurent_record_type;

/** GPU interconnect form factor. */
typedef enum gpurent_interface {
    GPURENT_IFACE_ANY = 0, /* in a request: either; in a GPU: unknown */
    GPURENT_IFACE_PCIE = 1,
    GPURENT_IFACE_SXM = 2
} gpurent_interface;

/* Limits (bytes include the terminating NUL of the C array). */
#define GPURENT_NAME_MAX 64        /* model names, node and request ids */
#define GPURENT_REGION_MAX 32      /* region codes ("eu-west") */
#define GPURENT_KEY_BYTES 32       /* Ed25519 public key */
#define GPURENT_DIGEST_BYTES 32    /* BLAKE2b-256 */
#define GPURENT_UUID_BYTES 16      /* a GPU's UUID, as the driver reports it */
#define GPURENT_NODE_MAX_GPUS 64
#define GPURENT_OFFER_MAX_NODES 1024
#define GPURENT_REQUEST_MAX_GPUS 1024
#define GPURENT_REQUEST_MAX_LIST 8 /* models, regions, providers in a request */
#define GPURENT_MAX_DURATION_S 31536000u /* one year */
/* Any record, encoded: every decoder refuses longer input with
 * GPURENT_E_OVERSIZE before reading it. An envelope's payload may reach the
 * limit; the envelope itself may exceed it by its header and signatures
 * (at most 4 KiB). */
#define GPURENT_RECORD_MAX_BYTES (16u << 20)

/** A GPU model as offered or probed. 0 in a throughput field means "not
 *  known" (offers) or "not measured" (measured_*). */
typedef struct gpurent_gpu {
    char model[GPURENT_NAME_MAX];   /* key 1: "H100 SXM5 80GB"; non-empty */
    uint8_t uuid[GPURENT_UUID_BYTES];               /* key 2: device UUID (zero if unknown) */
    uint32_t pci_domain;            /* key 3 */
    uint32_t pci_bus;               /* key 4: 0..255 */
    uint32_t pci_device;            /* key 5: 0..31 */
    uint32_t cc_major;              /* key 6: compute capability, 1..99 */
    uint32_t cc_minor;              /* key 7: 0..9 */
    uint32_t sm_count;              /* key 8 */
    uint64_t memory_mib;            /* key 9: total device memory */
    uint32_t clock_mhz;             /* key 10: max boost core clock */
    uint32_t mem_clock_mhz;         /* key 11: memory clock */
    uint32_t bus_width_bits;        /* key 12 */
    uint32_t l2_kib;                /* key 13 */
    uint32_t ecc_enabled;           /* key 14: 0 or 1 */
    uint32_t interface;             /* key 15: gpurent_interface */
    uint64_t fp32_gflops;           /* key 16: derived peak */
    uint64_t fp16_tensor_gflops;    /* key 17: derived peak, dense */
    uint64_t mem_bw_mbps;           /* key 18: derived peak, MB/s */
    uint64_t measured_fp32_gflops;  /* key 19 */
    uint64_t measured_mem_bw_mbps;  /* key 20 */
    uint32_t cuda_version;          /* key 21: highest CUDA the driver supports, 12040 = 12.4 */
    /* The product's PCI ids (keys 22-25, added after 0.3): 0 = not known, and
     * a key whose value is 0 is left out of the encoding, so a record
     * without them has the bytes of a record of 0.3. pci_vendor_id 0 means
     * none is known (the other three must then be 0 too); with a vendor
     * known, a subsystem id of 0 is the device's own 0. */
    uint32_t pci_vendor_id;           /* key 22: 0x10de NVIDIA, 0x1002 AMD; 1..0xfffe */
    uint32_t pci_device_id;           /* key 23: 0x2330 H100 SXM5 80GB; <= 0xffff */
    uint32_t pci_subsystem_vendor_id; /* key 24: the board maker; <= 0xffff */
    uint32_t pci_subsystem_device_id; /* key 25: <= 0xffff */
} gpurent_gpu;

/** One provider node: identical GPUs (markets list nodes as N x model). */
typedef struct gpurent_node {
    char node_id[GPURENT_NAME_MAX];         /* key 1: unique within the offer; non-empty */
    gpurent_gpu gpu;                        /* key 2: the node's GPU model (map without key 0) */
    uint32_t gpu_count;                     /* key 3: 1..GPURENT_NODE_MAX_GPUS */
    uint32_t gpu_free;                      /* key 4: <= gpu_count */
    uint32_t shared;                        /* key 5: 1 = community node renting shares of GPU memory */
    uint32_t cpu_millicores;                /* key 6: free CPU, 1000 = one core */
    uint64_t ram_mib;                       /* key 7: free RAM */
    uint64_t disk_gib;                      /* key 8: free disk */
    uint64_t price_micro_per_gpu_hour;      /* key 9: price of one GPU-hour, 1e-6 units */
    uint8_t report_digest[GPURENT_DIGEST_BYTES]; /* key 10: digest of the signed GPU report, zero = none */
} gpurent_node;

/** A provider's offer: its nodes and terms. Decoded offers own `nodes`:
 *  release them with gpurent_offer_clear(). */
typedef struct gpurent_offer {
    uint8_t provider_key[GPURENT_KEY_BYTES]; /* key 1: the provider's Ed25519 public key */
    uint64_t seq;                            /* key 2: a higher seq replaces a lower one */
    char region[GPURENT_REGION_MAX];         /* key 3: non-empty */
    uint64_t stake_micro;                    /* key 4 */
    uint32_t min_duration_s;                 /* key 5 */
    uint32_t max_duration_s;                 /* key 6: 0 = no maximum */
    uint32_t node_count;                     /* key 7 (array length): 1..GPURENT_OFFER_MAX_NODES */
    gpurent_node *nodes;
} gpurent_offer;

/** How a gang request's GPUs must be placed. */
typedef enum gpurent_gang_scope {
    GPURENT_GANG_NODE = 0,     /* all GPUs on one node */
    GPURENT_GANG_PROVIDER = 1, /* gang_nodes nodes x k GPUs, one provider */
    GPURENT_GANG_REGION = 2    /* gang_nodes nodes x k GPUs, one region */
} gpurent_gang_scope;

/** A deployment request. Lists are sets: the encoder writes them sorted and
 *  without repeats, and the decoder refuses any other order. */
typedef struct gpurent_request {
    char request_id[GPURENT_NAME_MAX];    /* key 1: non-empty */
    uint32_t gpu_count;                   /* key 2: total GPUs, 1..GPURENT_REQUEST_MAX_GPUS */
    uint32_t gang_nodes;                  /* key 3: nodes the GPUs span, divides gpu_count */
    uint32_t gang_scope;                  /* key 4: gpurent_gang_scope */
    uint32_t vram_share_pct;              /* key 5: 0 = whole GPUs; 1..100 = a share of one GPU */
    uint64_t min_vram_mib;                /* key 6: per GPU */
    uint32_t min_cc;                      /* key 7: compute capability x10 (86 = 8.6), 0 = any */
    uint64_t min_fp32_gflops;             /* key 8: per GPU, measured if known else peak */
    uint32_t interface;                   /* key 9: gpurent_interface */
    uint32_t min_cuda_version;            /* key 10: 12040 = 12.4, 0 = any */
    uint64_t max_price_micro_per_gpu_hour;/* key 11: 0 = no cap */
    uint32_t allowed_tiers;               /* key 12: bit t set = tier t allowed (t 1..7); 0 = any */
    uint32_t duration_s;                  /* key 13: 1..GPURENT_MAX_DURATION_S */
    uint32_t verified_only;               /* key 14: 1 = nodes with a verified GPU report only */
    uint32_t cpu_millicores;              /* key 15: per node */
    uint64_t ram_mib;                     /* key 16: per node */
    uint64_t disk_gib;                    /* key 17: per node */
    uint64_t submitted_at;                /* key 18: Unix seconds (for aging) */
    uint32_t model_count;                 /* key 19: allowed models, empty = any */
    char models[GPURENT_REQUEST_MAX_LIST][GPURENT_NAME_MAX];
    uint32_t region_count;                /* key 20: allowed regions, empty = any */
    char regions[GPURENT_REQUEST_MAX_LIST][GPURENT_REGION_MAX];
    uint32_t excluded_region_count;       /* key 21 */
    char excluded_regions[GPURENT_REQUEST_MAX_LIST][GPURENT_REGION_MAX];
    uint32_t provider_count;              /* key 22: allowed provider keys, empty = any */
    uint8_t providers[GPURENT_REQUEST_MAX_LIST][GPURENT_KEY_BYTES];
    uint32_t excluded_provider_count;     /* key 23 */
    uint8_t excluded_providers[GPURENT_REQUEST_MAX_LIST][GPURENT_KEY_BYTES];
    /* key 24, present only when non-empty: a framework build ("torch
     * 2.5+cu124", see gpurent/models.h) whose CUDA version and GPU
     * architectures the node must support; "" = none */
    char framework[GPURENT_NAME_MAX];
} gpurent_request;

/* ---- GPU ---- */

/** Check a GPU record's fields; GPURENT_E_INVALID_FIELD names the first bad one. */
GPURENT_API gpurent_status gpurent_gpu_validate(const gpurent_gpu *gpu);
/** Encode to canonical bytes (validates first). Free `out` with gpurent_buf_free(). */
GPURENT_API gpurent_status gpurent_gpu_encode(const gpurent_gpu *gpu, gpurent_buf *out);
/** Decode and validate untrusted bytes; `out` is untouched on failure. */
GPURENT_API GPURENT_NODISCARD gpurent_status gpurent_gpu_decode(const uint8_t *data, size_t len, gpurent_gpu *out);

/* ---- offer ---- */

/** Zero an offer (no nodes). */
GPURENT_API void gpurent_offer_init(gpurent_offer *offer);
/** Free the offer's nodes and zero it. Accepts NULL. */
GPURENT_API void gpurent_offer_clear(gpurent_offer *offer);
/** Append a copy of `node` (the library owns the array). */
GPURENT_API gpurent_status gpurent_offer_add_node(gpurent_offer *offer, const gpurent_node *node);
/** Borrow node `index` (NULL when out of range); valid until the offer changes. */
GPURENT_API const gpurent_node *gpurent_offer_node(const gpurent_offer *offer, uint32_t index);
GPURENT_API gpurent_status gpurent_offer_validate(const gpurent_offer *offer);
GPURENT_API gpurent_status gpurent_offer_encode(const gpurent_offer *offer, gpurent_buf *out);
/** Decode into `out`, which must be initialised or cleared (it is overwritten
 *  on success and untouched on failure); clear it when done. */
GPURENT_API GPURENT_NODISCARD gpurent_status gpurent_offer_decode(const uint8_t *data, size_t len, gpurent_offer *out);

/* ---- request ---- */

/** Zero a request and set defaults: gpu_count 1, gang_nodes 1, duration 3600. */
GPURENT_API void gpurent_request_init(gpurent_request *req);
GPURENT_API gpurent_status gpurent_request_validate(const gpurent_request *req);
GPURENT_API gpurent_status gpurent_request_encode(const gpurent_request *req, gpurent_buf *out);
GPURENT_API GPURENT_NODISCARD gpurent_status gpurent_request_decode(const uint8_t *data, size_t len, gpurent_request *out);
/* List helpers (for bindings; C may fill the arrays directly). Each appends
 * one item to one list and fails with GPURENT_E_LIMIT when that list already
 * holds GPURENT_REQUEST_MAX_LIST items, with GPURENT_E_INVALID_ARG when a
 * name is longer than its field allows. Order and repeats do not matter
 * here: the encoder sorts the sets and validation refuses repeats. */
/** Add a model to `models` (key 19: the request accepts only listed models). */
GPURENT_API gpurent_status gpurent_request_add_model(gpurent_request *req, const char *model);
/** Add a region to `regions` (key 20: the request accepts only listed regions). */
GPURENT_API gpurent_status gpurent_request_allow_region(gpurent_request *req, const char *region);
/** Add a region to `excluded_regions` (key 21: never placed there). */
GPURENT_API gpurent_status gpurent_request_exclude_region(gpurent_request *req, const char *region);
/** Add a provider key to `providers` (key 22: the request accepts only listed providers). */
GPURENT_API gpurent_status gpurent_request_allow_provider(gpurent_request *req, const uint8_t key[GPURENT_KEY_BYTES]);
/** Add a provider key to `excluded_providers` (key 23: never placed with it). */
GPURENT_API gpurent_status gpurent_request_exclude_provider(gpurent_request *req, const uint8_t key[GPURENT_KEY_BYTES]);

/* ---- GPU report (written by the probe module) ---- */

/*
 * A GPU report: what the probe found on one machine, bound to a verifier's
 * challenge nonce. Every measured field says whether it holds a value, is
 * unsupported by the driver, or failed with a driver error: a 0 is never a
 * stand-in for "unknown". gpurent_probe_run() (probe.h) fills one; the codec
 * below encodes it canonically and decodes untrusted bytes strictly.
 */
#define GPURENT_GPU_REPORT_MAX_DEVICES 64
#define GPURENT_GPU_REPORT_MAX_DRIVER_DEVICES 65536 /* driver_device_count at most */
#define GPURENT_GPU_REPORT_TEXT_MAX 256   /* device names and the reason, with NUL */
#define GPURENT_GPU_REPORT_PATH_MAX 1024  /* driver path, with NUL */
#define GPURENT_CHALLENGE_BYTES 32

/** What a probed field holds. */
typedef enum gpurent_pv_state {
    GPURENT_PV_OK = 0,          /* `value` holds the answer */
    GPURENT_PV_UNSUPPORTED = 1, /* the driver does not know it (or lacks the entry point) */
    GPURENT_PV_ERROR = 2,       /* the driver call failed: `error` holds its CUresult */
    GPURENT_PV_SKIPPED = 3      /* active checks only: not requested, or not reached */
} gpurent_pv_state;

/** A probed integer. `error` is the driver's CUresult: non-zero for ERROR,
 *  the answer that meant "unsupported" (or 0) for UNSUPPORTED, 0 otherwise.
 *  `value` is 0 unless state is GPURENT_PV_OK. */
typedef struct gpurent_pv {
    uint32_t state;
    uint32_t error;
    uint64_t value;
} gpurent_pv;

/** A probed string (device name); empty unless state is GPURENT_PV_OK. */
typedef struct gpurent_pv_text {
    uint32_t state;
    uint32_t error;
    char value[GPURENT_GPU_REPORT_TEXT_MAX];
} gpurent_pv_text;

/** A probed UUID; zero unless state is GPURENT_PV_OK. */
typedef struct gpurent_pv_uuid {
    uint32_t state;
    uint32_t error;
    uint8_t value[GPURENT_UUID_BYTES];
} gpurent_pv_uuid;

/** How an active measurement compares with its derived peak. */
typedef enum gpurent_verdict {
    GPURENT_VERDICT_NONE = 0,         /* not measured */
    GPURENT_VERDICT_PLAUSIBLE = 1,    /* 0.75 <= ratio <= 1.10 */
    GPURENT_VERDICT_LOW = 2,          /* ratio < 0.75: throttled, shared, or a smaller GPU */
    GPURENT_VERDICT_IMPLAUSIBLE = 3,  /* ratio > 1.10: faster than the hardware can be */
    GPURENT_VERDICT_WRONG_OUTPUT = 4  /* the kernel's output failed the CPU check */
} gpurent_verdict;

/* The verdict bounds on ratio_ppm: below the first LOW, above the second
 * IMPLAUSIBLE, between them (inclusive) PLAUSIBLE; ratio 0 (no peak) NONE. */
#define GPURENT_VERDICT_LOW_BELOW_PPM 750000u
#define GPURENT_VERDICT_IMPLAUSIBLE_ABOVE_PPM 1100000u

/** One active check on one device. `value` is MB/s for copies and GFLOPS
 *  for the FMA kernel; `ratio_ppm` is value x 10^6 / derived peak, rounded
 *  down (capped at 2^32-1; 0 without a peak), and `verdict` follows from it
 *  unless it is WRONG_OUTPUT: validation refuses other figures. Not run: state GPURENT_PV_SKIPPED, everything else 0.
 *  Could not run (entry point missing, PTX JIT unavailable): UNSUPPORTED
 *  with the driver's answer in `error`. A driver failure: ERROR. */
typedef struct gpurent_probe_check {
    uint32_t state;
    uint32_t error;
    uint64_t value;
    uint32_t ratio_ppm;
    uint32_t verdict;   /* gpurent_verdict; NONE unless state is OK */
} gpurent_probe_check;

/** One device, as the driver described it. Keys are those of the device map
 *  in docs/wire-format.md. */
typedef struct gpurent_probe_device {
    uint32_t ordinal;              /* key 1: CUDA device ordinal */
    gpurent_pv_text name;          /* key 2 */
    gpurent_pv_uuid uuid;          /* key 3 */
    gpurent_pv pci_domain;         /* key 4 */
    gpurent_pv pci_bus;            /* key 5: 0..255 */
    gpurent_pv pci_device;         /* key 6: 0..31 */
    gpurent_pv cc_major;           /* key 7: 1..99 */
    gpurent_pv cc_minor;           /* key 8: 0..9 */
    gpurent_pv sm_count;           /* key 9 */
    gpurent_pv memory_bytes;       /* key 10: total device memory */
    gpurent_pv clock_khz;          /* key 11: max boost core clock */
    gpurent_pv mem_clock_khz;      /* key 12: peak memory clock */
    gpurent_pv bus_width_bits;     /* key 13 */
    gpurent_pv l2_bytes;           /* key 14 */
    gpurent_pv ecc_enabled;        /* key 15: 0 or 1 */
    gpurent_pv max_threads_per_sm; /* key 16 */
    gpurent_pv fp32_gflops;        /* key 17: derived: SMs x cores/SM x 2 x clock */
    gpurent_pv fp16_tensor_gflops; /* key 18: derived, dense */
    gpurent_pv bf16_tensor_gflops; /* key 19: derived, dense */
    gpurent_pv mem_bw_mbps;        /* key 20: derived: 2 x mem clock x bus width / 8 */
    gpurent_pv h2d_peak_mbps;      /* key 21: derived: PCIe link of the architecture, per direction */
    gpurent_probe_check d2d;       /* key 22: device-to-device copy, MB/s (read + write) */
    gpurent_probe_check h2d;       /* key 23: pinned host-to-device copy, MB/s */
    gpurent_probe_check fma;       /* key 24: FP32 FMA kernel, GFLOPS */
    /* The product's PCI ids, read from sysfs at the device's PCI address
     * (docs/probe.md): keys 25-28, added after 0.3, left out when 0 as in
     * gpurent_gpu. pci_vendor_id 0: not known (no sysfs entry, unreadable,
     * or no PCI address), and the other three are 0 too. */
    uint32_t pci_vendor_id;           /* key 25 */
    uint32_t pci_device_id;           /* key 26 */
    uint32_t pci_subsystem_vendor_id; /* key 27 */
    uint32_t pci_subsystem_device_id; /* key 28 */
} gpurent_probe_device;

/** A whole report. `status` says why it is empty or partial:
 *  GPURENT_OK, GPURENT_E_NO_DRIVER, GPURENT_E_STUB_DRIVER,
 *  GPURENT_E_DRIVER_TOO_OLD, GPURENT_E_DRIVER_FAILED,
 *  GPURENT_E_DRIVER_TIMEOUT, GPURENT_E_NO_DEVICE (no devices listed) or
 *  GPURENT_E_DEVICE_FAILED (devices listed, some fields failed). */
typedef struct gpurent_gpu_report {
    uint8_t nonce[GPURENT_CHALLENGE_BYTES];      /* key 1: the verifier's challenge */
    uint64_t probed_at;                      /* key 2: Unix seconds */
    int32_t status;                          /* key 3: see above */
    uint32_t driver_error;                   /* key 4: CUresult behind status, 0 = none */
    char reason[GPURENT_GPU_REPORT_TEXT_MAX];/* key 5: human-readable; non-empty unless status is OK */
    gpurent_pv driver_version;               /* key 6: cuDriverGetVersion, 12040 = 12.4 */
    char driver_path[GPURENT_GPU_REPORT_PATH_MAX]; /* key 7: file actually loaded; empty = none */
    uint8_t driver_digest[GPURENT_DIGEST_BYTES];   /* key 8: BLAKE2b-256 of that file; zero = none */
    uint32_t ld_preload_set;                 /* key 9: LD_PRELOAD was set (0/1) */
    uint32_t cuda_visible_devices_set;       /* key 10: CUDA_VISIBLE_DEVICES was set (0/1) */
    uint32_t driver_device_count;            /* key 11: devices the driver listed */
    uint32_t checks;                         /* key 12: active checks requested (GPURENT_CHECK_* bits) */
    uint32_t device_count;                   /* key 13 (array length): <= GPURENT_GPU_REPORT_MAX_DEVICES */
    gpurent_probe_device devices[GPURENT_GPU_REPORT_MAX_DEVICES]; /* in PCI bus id order */
} gpurent_gpu_report;

/* Active check bits (gpurent_gpu_report.checks, gpurent_probe_options.checks). */
#define GPURENT_CHECK_D2D 1u
#define GPURENT_CHECK_H2D 2u
#define GPURENT_CHECK_FMA 4u
#define GPURENT_CHECK_ALL 7u

/** Zero a report (no devices, status GPURENT_OK). */
GPURENT_API void gpurent_gpu_report_init(gpurent_gpu_report *report);
/** Check every field and the cross-field rules (states, ranges, device
 *  order, status against device count); names the first bad field. */
GPURENT_API gpurent_status gpurent_gpu_report_validate(const gpurent_gpu_report *report);
/** Encode to canonical bytes (validates first). Free `out` with gpurent_buf_free(). */
GPURENT_API gpurent_status gpurent_gpu_report_encode(const gpurent_gpu_report *report, gpurent_buf *out);
/** Decode and validate untrusted bytes; `out` is untouched on failure. */
GPURENT_API GPURENT_NODISCARD gpurent_status gpurent_gpu_report_decode(const uint8_t *data, size_t len, gpurent_gpu_report *out);
/** Borrow device `index` (NULL when out of range). */
GPURENT_API const gpurent_probe_device *gpurent_gpu_report_device(const gpurent_gpu_report *report,
                                                                  uint32_t index);
/**
 * Turn device `index` into a GPU record for an offer: the driver's name as
 * the model (cut to GPURENT_NAME_MAX - 1 bytes on a character boundary),
 * sizes in MiB/KiB, clocks in MHz, derived peaks, and measured figures only
 * from checks whose verdict is plausible or low. Unsupported fields become
 * 0 ("not known" in a GPU record). Fails with GPURENT_E_INVALID_FIELD when
 * the name or compute capability is not known, GPURENT_E_NOT_FOUND when
 * `index` is out of range.
 */
GPURENT_API gpurent_status gpurent_gpu_report_to_gpu(const gpurent_gpu_report *report, uint32_t index,
                                                     gpurent_gpu *out);



/* ---- envelope and revocation (written by the attest module) ---- */

/* A signed envelope (GPURENT_RECORD_ENVELOPE) wraps one canonical record,
 * the payload, with who signed it, when, for how long, about what, and one
 * or more Ed25519 signatures. include/gpurent/attest.h signs and verifies
 * envelopes; docs/wire-format.md ("Signed envelopes") gives the bytes. */
#define GPURENT_NONCE_BYTES 16
#define GPURENT_SIGNATURE_BYTES 64
#define GPURENT_SUBJECT_MAX 128          /* bytes in an envelope's subject */
#define GPURENT_ENVELOPE_MAX_SIGS 32     /* signatures in one envelope */

/**
 * An envelope's header: every field but the payload and the signatures.
 * The statement type is the record type of the payload (key 0 of the
 * payload must equal it); any record type but GPURENT_RECORD_ENVELOPE.
 */
typedef struct gpurent_envelope {
    uint32_t statement;                    /* key 1: gpurent_record_type of the payload */
    uint8_t issuer[GPURENT_KEY_BYTES];     /* key 2: the author's Ed25519 public key; it must sign */
    uint64_t issued_at;                    /* key 3: Unix seconds */
    uint64_t expires_at;                   /* key 4: Unix seconds, above issued_at */
    uint8_t nonce[GPURENT_NONCE_BYTES];    /* key 5: not all zero (all zero asks the signer for a random one) */
    uint32_t subject_len;                  /* key 6 (bin): 0..GPURENT_SUBJECT_MAX bytes */
    uint8_t subject[GPURENT_SUBJECT_MAX];  /*   what the statement is about (a node id, a key, a digest) */
    uint32_t payload_len;                  /* key 7 (bin): filled by decode, ignored by sign */
    uint32_t signature_count;              /* key 8 (array): filled by decode, ignored by sign */
} gpurent_envelope;

/** Zero an envelope header. Accepts NULL. */
GPURENT_API void gpurent_envelope_init(gpurent_envelope *env);
/** Copy `len` bytes (at most GPURENT_SUBJECT_MAX, else GPURENT_E_LIMIT) into
 *  the subject. A convenience for bindings; C may fill the array directly. */
GPURENT_API gpurent_status gpurent_envelope_set_subject(gpurent_envelope *env, const uint8_t *subject,
                                                        size_t len);
/**
 * Decode an envelope's header from untrusted bytes WITHOUT checking any
 * signature, time or trust: for routing and display only (which issuer,
 * which statement). The whole envelope, payload included, must still be
 * canonical and well formed. Use gpurent_envelope_verify() (attest.h) before
 * trusting anything in it; the payload is only handed out by verification.
 */
GPURENT_API GPURENT_NODISCARD gpurent_status gpurent_envelope_decode(const uint8_t *data, size_t len, gpurent_envelope *out);

/** Why a key was revoked (informational). */
typedef enum gpurent_revocation_reason {
    GPURENT_REVOKE_UNSPECIFIED = 0,
    GPURENT_REVOKE_COMPROMISED = 1,
    GPURENT_REVOKE_SUPERSEDED = 2,
    GPURENT_REVOKE_RETIRED = 3
} gpurent_revocation_reason;

/** A revocation record (GPURENT_RECORD_REVOCATION): the payload of a signed
 *  revocation statement (attest.h, gpurent_trust_apply_revocation). */
typedef struct gpurent_revocation {
    uint8_t key[GPURENT_KEY_BYTES]; /* key 1: the revoked Ed25519 public key */
    uint64_t revoked_at;            /* key 2: Unix seconds */
    uint32_t reason;                /* key 3: gpurent_revocation_reason */
} gpurent_revocation;

GPURENT_API gpurent_status gpurent_revocation_validate(const gpurent_revocation *rev);
GPURENT_API gpurent_status gpurent_revocation_encode(const gpurent_revocation *rev, gpurent_buf *out);
GPURENT_API GPURENT_NODISCARD gpurent_status gpurent_revocation_decode(const uint8_t *data, size_t len, gpurent_revocation *out);


/* ---- audit report and tier certificate (written by the tier module) ---- */

/* Limits of the tier module's records. */
#define GPURENT_AUDIT_MAX_CHALLENGES 4096 /* challenge results in one audit report */
#define GPURENT_AUDIT_MAX_JOBS 1024       /* job outcomes in one audit report */
#define GPURENT_TIER_CERT_MAX_AUDITORS 16 /* auditors named in one tier certificate */
#define GPURENT_TIER_MAX_TIERS 16         /* tiers in a tier table */
#define GPURENT_TIME_MAX_S (1ull << 40)   /* largest Unix second a tier record accepts */

/** Outcome of one audit check. */
typedef enum gpurent_check_result {
    GPURENT_CHECK_NOT_RUN = 0,
    GPURENT_CHECK_PASSED = 1,
    GPURENT_CHECK_FAILED = 2
} gpurent_check_result;

/** Kind of liveness challenge. */
typedef enum gpurent_challenge_kind {
    GPURENT_CHALLENGE_GPU = 1,
    GPURENT_CHALLENGE_CPU = 2
} gpurent_challenge_kind;

/** How a job ended. Only GPURENT_JOB_FAILED_PROVIDER counts against the provider. */
typedef enum gpurent_job_outcome {
    GPURENT_JOB_COMPLETED = 1,
    GPURENT_JOB_FAILED_PROVIDER = 2,
    GPURENT_JOB_FAILED_USER = 3
} gpurent_job_outcome;

/** One liveness challenge an auditor sent, and its result. */
typedef struct gpurent_challenge_result {
    uint64_t time_s;  /* key 1: Unix second the challenge was sent; <= the report's time_s */
    uint32_t kind;    /* key 2: gpurent_challenge_kind */
    uint32_t passed;  /* key 3: 1 = answered correctly in time, 0 = failed */
} gpurent_challenge_result;

/** One job's outcome as the auditor observed it. */
typedef struct gpurent_job_result {
    char job_id[GPURENT_NAME_MAX]; /* key 1: non-empty, unique within the report */
    uint64_t end_s;                /* key 2: Unix second the job ended; <= the report's time_s */
    uint32_t outcome;              /* key 3: gpurent_job_outcome */
} gpurent_job_result;

/**
 * An auditor's report about one provider: the checks it ran (GPU report
 * re-verified against the provider's claim, data integrity, security), the
 * stake it observed, and batches of liveness challenge results and job
 * outcomes. Signed by the auditor (attest), it is the only evidence the tier
 * module accepts. Lists are sets: the encoder writes challenges sorted by
 * (time_s, kind) and jobs by job_id, the decoder refuses any other order,
 * and repeats are invalid. Decoded reports own their arrays: release them
 * with gpurent_audit_report_clear().
 */
typedef struct gpurent_audit_report {
    uint8_t provider_key[GPURENT_KEY_BYTES]; /* key 1: the provider audited */
    uint8_t auditor_key[GPURENT_KEY_BYTES];  /* key 2: the auditor; differs from provider_key */
    uint64_t time_s;                         /* key 3: Unix second of the report (the audit's era) */
    uint32_t gpu_report;                     /* key 4: gpurent_check_result */
    uint32_t integrity;                      /* key 5: gpurent_check_result */
    uint32_t security;                       /* key 6: gpurent_check_result */
    uint8_t gpu_report_digest[GPURENT_DIGEST_BYTES]; /* key 7: the GPU report re-verified, zero = none */
    uint32_t stake_observed;                 /* key 8: 1 = stake_micro holds the stake seen at time_s */
    uint64_t stake_micro;                    /* key 9: 0 when stake_observed is 0 */
    uint32_t challenge_count;                /* key 10 (array length) */
    gpurent_challenge_result *challenges;
    uint32_t job_count;                      /* key 11 (array length) */
    gpurent_job_result *jobs;
} gpurent_audit_report;

/**
 * A tier certificate: the tier and score the tier engine computed for one
 * provider at the end of one era, and a digest of the evidence it used.
 * Any auditor that evaluated the same evidence with the same parameters
 * produces byte-identical encodings, so k of them can sign the same bytes.
 */
typedef struct gpurent_tier_cert {
    uint8_t provider_key[GPURENT_KEY_BYTES];    /* key 1 */
    uint64_t era;                               /* key 2: the era evaluated */
    uint32_t tier;                              /* key 3: 1 (most trusted) .. GPURENT_TIER_MAX_TIERS */
    uint32_t incubating;                        /* key 4: 1 = has not yet left incubation */
    uint32_t score_ppm;                         /* key 5: lower-bound score, 0..1000000 */
    uint32_t mean_ppm;                          /* key 6: point-estimate score, >= score_ppm */
    uint32_t confidence_ppm;                    /* key 7: floor(score_ppm x 10^6 / mean_ppm), 0 when mean is 0 */
    uint32_t uptime_ppm;                        /* key 8: weighted challenge pass rate of the era */
    uint32_t eras_in_tier;                      /* key 9: eras served in this tier so far */
    uint32_t points_ppm;                        /* key 10: the tier's points multiplier x 1e6 */
    uint8_t evidence_digest[GPURENT_DIGEST_BYTES]; /* key 11: BLAKE2b-256 of the evidence (docs/tiers.md) */
    uint8_t params_digest[GPURENT_DIGEST_BYTES];   /* key 12: BLAKE2b-256 of the engine parameters */
    uint32_t auditor_count;                     /* key 13 (array length): 1..GPURENT_TIER_CERT_MAX_AUDITORS */
    uint8_t auditors[GPURENT_TIER_CERT_MAX_AUDITORS][GPURENT_KEY_BYTES]; /* ascending, unique */
} gpurent_tier_cert;

/** Zero a report (no challenges, no jobs). */
GPURENT_API void gpurent_audit_report_init(gpurent_audit_report *report);
/** Free the report's arrays and zero it. Accepts NULL. */
GPURENT_API void gpurent_audit_report_clear(gpurent_audit_report *report);
/** Append a challenge result (GPURENT_E_LIMIT when full). Order does not matter.
 * `kind` is stored as given: a kind outside the enum is refused by
 * gpurent_audit_report_validate (and so by encode), as a decoded one would be. */
GPURENT_API gpurent_status gpurent_audit_report_add_challenge(gpurent_audit_report *report, uint64_t time_s,
                                                              gpurent_challenge_kind kind, uint32_t passed);
/** Append a job outcome (GPURENT_E_LIMIT when full). Order does not matter.
 * `outcome` is stored as given, like a challenge's kind. */
GPURENT_API gpurent_status gpurent_audit_report_add_job(gpurent_audit_report *report, const char *job_id,
                                                        uint64_t end_s, gpurent_job_outcome outcome);
/** Borrow challenge `index` (NULL when out of range); valid until the report changes. */
GPURENT_API const gpurent_challenge_result *gpurent_audit_report_challenge(const gpurent_audit_report *report,
                                                                           uint32_t index);
/** Borrow job `index` (NULL when out of range); valid until the report changes. */
GPURENT_API const gpurent_job_result *gpurent_audit_report_job(const gpurent_audit_report *report, uint32_t index);
/** Check every field and cross-field rule (repeats, times after time_s, a
 *  report carrying no evidence); GPURENT_E_INVALID_FIELD names the field. */
GPURENT_API gpurent_status gpurent_audit_report_validate(const gpurent_audit_report *report);
/** Encode to canonical bytes (validates first; lists are written sorted). */
GPURENT_API gpurent_status gpurent_audit_report_encode(const gpurent_audit_report *report, gpurent_buf *out);
/** Decode untrusted bytes into `out` (initialised or cleared; overwritten on
 *  success, untouched on failure). Clear it when done. */
GPURENT_API GPURENT_NODISCARD gpurent_status gpurent_audit_report_decode(const uint8_t *data, size_t len, gpurent_audit_report *out);

/** Check a certificate's fields (ranges, auditors ascending and unique). */
GPURENT_API gpurent_status gpurent_tier_cert_validate(const gpurent_tier_cert *cert);
/** Encode to canonical bytes (validates first). */
GPURENT_API gpurent_status gpurent_tier_cert_encode(const gpurent_tier_cert *cert, gpurent_buf *out);
/** Decode and validate untrusted bytes; `out` is untouched on failure. */
GPURENT_API GPURENT_NODISCARD gpurent_status gpurent_tier_cert_decode(const uint8_t *data, size_t len, gpurent_tier_cert *out);



/* ---- match receipt (written by the match module) ---- */

/** One node's part of an assignment. */
typedef struct gpurent_match_placement {
    uint8_t provider_key[GPURENT_KEY_BYTES]; /* key 1 */
    char node_id[GPURENT_NAME_MAX];          /* key 2: non-empty */
    uint32_t gpus;                           /* key 3: whole GPUs, 0 for a share */
    uint32_t share_pct;                      /* key 4: share of one GPU's memory, 0 for whole GPUs */
    uint32_t gpu_index;                      /* key 5: for a share, the GPU (0-based) it is on; else 0 */
    uint64_t price_micro_per_gpu_hour;       /* key 6: accepted price (the node's offered price) */
} gpurent_match_placement;

/** One matched request: placements[first_placement .. +placement_count). */
typedef struct gpurent_match_assignment {
    char request_id[GPURENT_NAME_MAX];       /* key 1: non-empty */
    uint64_t value;                          /* key 2: the assignment's value (docs/match.md) */
    uint32_t first_placement;                /* (position of key 3's items in `placements`) */
    uint32_t placement_count;                /* key 3 (array length): 1..GPURENT_REQUEST_MAX_GPUS */
} gpurent_match_assignment;

#define GPURENT_RECEIPT_MAX_ASSIGNMENTS 1000000u
#define GPURENT_RECEIPT_MAX_PLACEMENTS 4000000u

/**
 * The result of a batch match. Assignments are sorted by request_id (bytes),
 * placements within an assignment by (provider_key, node_id); the decoder
 * refuses any other order, and total_value must be the sum of the values.
 * Decoded and computed receipts own their arrays: gpurent_match_receipt_clear().
 */
typedef struct gpurent_match_receipt {
    uint8_t seed[GPURENT_DIGEST_BYTES];            /* key 1: tie-breaking seed */
    uint8_t policy_digest[GPURENT_DIGEST_BYTES];   /* key 2 */
    uint8_t offers_digest[GPURENT_DIGEST_BYTES];   /* key 3 */
    uint8_t requests_digest[GPURENT_DIGEST_BYTES]; /* key 4 */
    uint64_t matched_at;                           /* key 5: the batch clock, Unix seconds */
    uint64_t total_value;                          /* key 6 */
    uint32_t request_count;                        /* key 7: pending requests considered */
    uint32_t assignment_count;                     /* key 8 (array length) */
    gpurent_match_assignment *assignments;
    uint32_t placement_count;                      /* (sum of the assignments' placements) */
    gpurent_match_placement *placements;
} gpurent_match_receipt;

/** Zero a receipt (no arrays). */
GPURENT_API void gpurent_match_receipt_init(gpurent_match_receipt *r);
/** Free a receipt's arrays and zero it. Accepts NULL. */
GPURENT_API void gpurent_match_receipt_clear(gpurent_match_receipt *r);
/** Check ranges, order, placement ranges and the total. */
GPURENT_API gpurent_status gpurent_match_receipt_validate(const gpurent_match_receipt *r);
GPURENT_API gpurent_status gpurent_match_receipt_encode(const gpurent_match_receipt *r, gpurent_buf *out);
/** Decode into an initialised or cleared receipt (untouched on failure). */
GPURENT_API GPURENT_NODISCARD gpurent_status gpurent_match_receipt_decode(const uint8_t *data, size_t len, gpurent_match_receipt *out);
/** BLAKE2b-256 of the receipt's canonical encoding. */
GPURENT_API gpurent_status gpurent_match_receipt_digest(const gpurent_match_receipt *r,
                                                        uint8_t digest[GPURENT_DIGEST_BYTES]);
/** Borrow assignment `index` (NULL when out of range). */
GPURENT_API const gpurent_match_assignment *gpurent_match_receipt_assignment(const gpurent_match_receipt *r,
                                                                             uint32_t index);
/** Borrow placement `index` of the flat placements array (NULL when out of range). */
GPURENT_API const gpurent_match_placement *gpurent_match_receipt_placement(const gpurent_match_receipt *r,
                                                                           uint32_t index);


/* ---- any record ---- */

/**
 * Check that `data` is exactly one value in the canonical MessagePack subset
 * (shortest forms, sorted unique map keys, no floats or extension types,
 * UTF-8 strings, depth at most 16, nothing after it). Used on payloads of
 * signed envelopes before they are trusted.
 */
GPURENT_API GPURENT_NODISCARD gpurent_status gpurent_wire_check_canonical(const uint8_t *data, size_t len);

/** Read the record type (key 0) of an encoded record without decoding the
 *  rest; the record must still pass canonical checking. */
GPURENT_API gpurent_status gpurent_wire_record_type(const uint8_t *data, size_t len, uint32_t *type);

/** Name of a record type ("offer"); "unknown" otherwise. Static string. */
GPURENT_API const char *gpurent_record_type_name(uint32_t type);

#ifdef __cplusplus
}
#endif
#endif
