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
#define GPURENT_NODE_MAX_GPUS 64
#define GPURENT_OFFER_MAX_NODES 1024
#define GPURENT_REQUEST_MAX_GPUS 1024
#define GPURENT_REQUEST_MAX_LIST 8 /* models, regions, providers in a request */
#define GPURENT_MAX_DURATION_S 31536000u /* one year */
#define GPURENT_RECORD_MAX_BYTES (16u << 20) /* any record, encoded */

/** A GPU model as offered or probed. 0 in a throughput field means "not
 *  known" (offers) or "not measured" (measured_*). */
typedef struct gpurent_gpu {
    char model[GPURENT_NAME_MAX];   /* key 1: "H100 SXM5 80GB"; non-empty */
    uint8_t uuid[16];               /* key 2: device UUID (zero if unknown) */
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
} gpurent_request;

/* ---- GPU ---- */

/** Check a GPU record's fields; GPURENT_E_INVALID_FIELD names the first bad one. */
GPURENT_API gpurent_status gpurent_gpu_validate(const gpurent_gpu *gpu);
/** Encode to canonical bytes (validates first). Free `out` with gpurent_buf_free(). */
GPURENT_API gpurent_status gpurent_gpu_encode(const gpurent_gpu *gpu, gpurent_buf *out);
/** Decode and validate untrusted bytes; `out` is untouched on failure. */
GPURENT_API gpurent_status gpurent_gpu_decode(const uint8_t *data, size_t len, gpurent_gpu *out);

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
GPURENT_API gpurent_status gpurent_offer_decode(const uint8_t *data, size_t len, gpurent_offer *out);

/* ---- request ---- */

/** Zero a request and set defaults: gpu_count 1, gang_nodes 1, duration 3600. */
GPURENT_API void gpurent_request_init(gpurent_request *req);
GPURENT_API gpurent_status gpurent_request_validate(const gpurent_request *req);
GPURENT_API gpurent_status gpurent_request_encode(const gpurent_request *req, gpurent_buf *out);
GPURENT_API gpurent_status gpurent_request_decode(const uint8_t *data, size_t len, gpurent_request *out);
/* List helpers (for bindings; C may fill the arrays directly). Each fails
 * with GPURENT_E_LIMIT when the list is full. */
GPURENT_API gpurent_status gpurent_request_add_model(gpurent_request *req, const char *model);
GPURENT_API gpurent_status gpurent_request_add_region(gpurent_request *req, const char *region, int excluded);
GPURENT_API gpurent_status gpurent_request_add_provider(gpurent_request *req, const uint8_t key[32], int excluded);

/* ---- GPU report (written by the probe module) ---- */


/* ---- envelope and revocation (written by the attest module) ---- */


/* ---- audit report and tier certificate (written by the tier module) ---- */


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
GPURENT_API gpurent_status gpurent_match_receipt_decode(const uint8_t *data, size_t len, gpurent_match_receipt *out);
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
GPURENT_API gpurent_status gpurent_wire_check_canonical(const uint8_t *data, size_t len);

/** Read the record type (key 0) of an encoded record without decoding the
 *  rest; the record must still pass canonical checking. */
GPURENT_API gpurent_status gpurent_wire_record_type(const uint8_t *data, size_t len, uint32_t *type);

/** Name of a record type ("offer"); "unknown" otherwise. Static string. */
GPURENT_API const char *gpurent_record_type_name(uint32_t type);

#ifdef __cplusplus
}
#endif
#endif
