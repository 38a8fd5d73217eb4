/* Matchmaking: a market of provider offers and deployment requests, an
 * incremental index over the offered nodes, integer ranking, single-request
 * top-k, batch assignment under capacities, explanations and the match
 * receipt (the receipt record itself is declared in gpurent/wire.h).
 *
 * Everything that decides a match is integer arithmetic on the market's
 * state and a shared 32-byte seed: operators holding the same offers,
 * requests, trust values, options and seed compute byte-identical results,
 * whatever order they learnt them in and however many threads they use.
 * docs/match.md explains the scoring, the batch algorithm and the
 * explanations in full.
 *
 * Threads: one market handle must not be used from two threads at once
 * unless every call is read-only (gpurent_market_best, gpurent_market_explain,
 * gpurent_market_stats, gpurent_market_digests, gpurent_market_gpu_owner); different handles are
 * independent. */
#ifndef GPURENT_MATCH_H
#define GPURENT_MATCH_H

#include "gpurent/wire.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- policy ---- */

/** Named weight presets for gpurent_match_options_preset(). */
typedef enum gpurent_match_preset {
    GPURENT_MATCH_BALANCED = 0,    /* price and performance per price first, trust next */
    GPURENT_MATCH_CHEAPEST = 1,    /* lowest price per GPU-hour above all */
    GPURENT_MATCH_PERFORMANCE = 2, /* throughput per price, then trust */
    GPURENT_MATCH_TRUSTED = 3      /* tier, score and stake first */
} gpurent_match_preset;

#define GPURENT_MATCH_OPTIONS_VERSION 1
#define GPURENT_MATCH_MAX_WEIGHT 1000u

/**
 * The matching policy. Weights are integers 0..GPURENT_MATCH_MAX_WEIGHT;
 * each weighs a component scored 0..1 000 000 (see docs/match.md). The
 * policy's canonical digest goes into every receipt, so operators must agree
 * on every field. A zero cap, threshold or thread count means the documented
 * default. The exception: a zero weight is a weight of zero (that component
 * does not count), not the preset's weight; at least one weight must be
 * non-zero (all zero is refused, GPURENT_E_INVALID_ARG). Start from
 * GPURENT_MATCH_OPTIONS_INIT (the balanced preset) to get the default weights.
 */
typedef struct gpurent_match_options {
    unsigned int version;         /* GPURENT_MATCH_OPTIONS_VERSION */
    uint32_t w_price;             /* cheaper per GPU-hour is better */
    uint32_t w_perf_price;        /* FP32 GFLOPS per unit of price */
    uint32_t w_tier;              /* trust tier 1 (best) .. 7; 0 = unknown scores nothing */
    uint32_t w_score;             /* provider score, ppm */
    uint32_t w_stake;             /* stake, linear up to stake_cap_micro */
    uint32_t w_locality;          /* gang placement on few providers */
    uint32_t w_fit;               /* anti-stranding placement (best fit) */
    uint64_t price_ref_micro;     /* price scoring 500 000 ppm; 0 = 1 000 000 (1 unit/h) */
    uint64_t perf_price_cap;      /* GFLOPS per price unit scoring full; 0 = 250 000 */
    uint64_t stake_cap_micro;     /* stake above this counts as this; 0 = 10^12 */
    uint64_t aging_per_hour;      /* priority points gained per hour waited; 0 = 250 000 */
    uint32_t strand_min_gpus;     /* a node left with 1..this-1 free GPUs is stranded;
                                     0 = derive from the pending demand */
    uint32_t threads;             /* worker threads for batch preparation; 0 or 1 = one */
} gpurent_match_options;

/** The balanced preset (the defaults). */
#define GPURENT_MATCH_OPTIONS_INIT \
    {GPURENT_MATCH_OPTIONS_VERSION, 250, 250, 150, 100, 50, 50, 150, 0, 0, 0, 0, 0, 1}

/** Fill `opts` with the defaults for `version` (GPURENT_E_VERSION if unknown). */
GPURENT_API gpurent_status gpurent_match_options_init(gpurent_match_options *opts, unsigned int version);
/** Set the weights of a named preset (other fields are kept); a value outside
 * gpurent_match_preset is GPURENT_E_INVALID_ARG. */
GPURENT_API gpurent_status gpurent_match_options_preset(gpurent_match_options *opts, gpurent_match_preset preset);
/** Check every field's range (weights, at least one non-zero ranking weight). */
GPURENT_API gpurent_status gpurent_match_options_validate(const gpurent_match_options *opts);
/** The policy's digest: BLAKE2b-256 of its canonical encoding (docs/match.md),
 *  which includes the batch algorithm's revision, so matchers on library
 *  versions that would match differently have different digests. Zero caps
 *  are replaced by their defaults first, so equal policies agree. */
GPURENT_API gpurent_status gpurent_match_options_digest(const gpurent_match_options *opts,
                                                        uint8_t digest[GPURENT_DIGEST_BYTES]);

/* ---- the market ---- */

/** A market: offers, their indexed nodes, pending requests and leases. */
typedef struct gpurent_market gpurent_market;

/** Create an empty market with a policy (NULL = defaults) and a seed (NULL =
 *  32 zero bytes). The seed keys the tie-breaking hash. */
GPURENT_API gpurent_status gpurent_market_new(gpurent_market **out, const gpurent_match_options *opts,
                                              const uint8_t seed[GPURENT_DIGEST_BYTES]);
/** Free a market. Accepts NULL. */
GPURENT_API void gpurent_market_free(gpurent_market *m);
/** Replace the seed (for example with the hash of the block that closed bidding). */
GPURENT_API gpurent_status gpurent_market_set_seed(gpurent_market *m, const uint8_t seed[GPURENT_DIGEST_BYTES]);
/** Replace the policy; every node is re-scored (cost in proportion to the market). */
GPURENT_API gpurent_status gpurent_market_set_options(gpurent_market *m, const gpurent_match_options *opts);

/**
 * Add a provider's offer, or replace its previous one when `offer->seq` is
 * higher (GPURENT_E_EXISTS when it is not). The offer is validated. Nodes are
 * matched to the previous offer's by node_id: kept nodes keep their verified
 * flag, new ones start unverified, missing ones leave the market. Capacity is
 * the new offer's gpu_free (the provider's own count, which includes the
 * leases it runs). A GPU UUID already held elsewhere is refused with
 * GPURENT_E_GPU_CONFLICT ("one GPU, one place" below). Cost: in proportion
 * to the offer's nodes.
 */
GPURENT_API gpurent_status gpurent_market_put_offer(gpurent_market *m, const gpurent_offer *offer);
/** Remove a provider and its nodes (GPURENT_E_UNKNOWN_OFFER if absent). */
GPURENT_API gpurent_status gpurent_market_remove_offer(gpurent_market *m, const uint8_t provider_key[GPURENT_KEY_BYTES]);
/**
 * Set a provider's trust tier (1 best .. 7; 0 = unknown) and score (ppm,
 * 0..1 000 000), as its tier certificate states. Providers start at 0/0.
 */
GPURENT_API gpurent_status gpurent_market_set_trust(gpurent_market *m, const uint8_t provider_key[GPURENT_KEY_BYTES],
                                                    uint32_t tier, uint32_t score_ppm);
/** Mark whether a node's GPU report was verified (its report_digest checked
 *  by the caller against a signed report). Requests with verified_only
 *  match verified nodes only. Unverifying drops the node's report binding
 *  (gpurent_market_verify_report binds the report's UUIDs as well). */
GPURENT_API gpurent_status gpurent_market_set_verified(gpurent_market *m, const uint8_t provider_key[GPURENT_KEY_BYTES],
                                                       const char *node_id, int verified);

/* ---- one GPU, one place (docs/match.md) ----
 *
 * A GPU is known by its UUID (gpurent_gpu.uuid of a node; all zero =
 * unknown, never a conflict) and by the UUIDs of a node's verified GPU
 * report. Each UUID belongs to at most one node of the market, and
 * gpurent_market_put_offer refuses with GPURENT_E_GPU_CONFLICT (nothing
 * changes) an offer that
 *  - lists one UUID on two of its nodes;
 *  - lists a UUID that a node of another provider holds (offered or bound
 *    by a verified report): first come, first served, whatever the seq;
 *  - lists, on a node whose verified report the market holds (see
 *    gpurent_market_verify_report) and keeps (same report_digest), a UUID
 *    that report does not list.
 * A provider's own newer offer may move a GPU between its nodes: the node
 * that lists it now takes it, and a node of the same provider whose
 * verified report listed it loses that verification (it is unverified
 * until a new report is verified). Only the key that holds a GPU can move
 * it, so another provider can never take a GPU this way. The detail of a
 * refusal names the holder (provider key in hex and node id), which
 * gpurent_market_gpu_owner() also answers. */

/** How a node holds a GPU (bits of gpurent_gpu_owner.how). */
#define GPURENT_GPU_HELD_OFFER 1u  /* the node's offer lists its UUID */
#define GPURENT_GPU_HELD_REPORT 2u /* the node's verified GPU report lists it */

/** Who holds a GPU. */
typedef struct gpurent_gpu_owner {
    uint8_t provider_key[GPURENT_KEY_BYTES];
    char node_id[GPURENT_NAME_MAX];
    uint32_t how; /* GPURENT_GPU_HELD_* bits, at least one */
} gpurent_gpu_owner;

/** The node holding the GPU `uuid`, into `out`: GPURENT_E_NOT_FOUND when no
 *  node does, GPURENT_E_INVALID_ARG for the all-zero UUID. Read-only. */
GPURENT_API gpurent_status gpurent_market_gpu_owner(const gpurent_market *m, const uint8_t uuid[GPURENT_UUID_BYTES],
                                                    gpurent_gpu_owner *out);

/**
 * Mark a node verified by its GPU report, and bind the node's GPUs to the
 * UUIDs the report lists. The caller has verified the signed report
 * (attest); the market checks that it is the one the node names: the
 * BLAKE2b-256 of its canonical encoding must begin with the node's
 * report_digest as the market keeps it (its first 8 bytes, as for
 * gpurent_market_set_verified), else GPURENT_E_INVALID_ARG, as for a report
 * whose status is not GPURENT_OK or that identifies (by UUID) fewer GPUs
 * than the node offers. Refused with GPURENT_E_GPU_CONFLICT
 * (nothing changes) when the node's offer lists a UUID the report does not,
 * when a UUID of the report is held by another provider's node, or is
 * offered on another node of this provider. A UUID of the report held only
 * by another node's verified report of the same provider moves here (that
 * node loses its verification). The binding holds while the node keeps
 * this report_digest and offers at most as many GPUs as the report
 * identifies; gpurent_market_set_verified(.., 0) drops it.
 */
GPURENT_API gpurent_status gpurent_market_verify_report(gpurent_market *m,
                                                        const uint8_t provider_key[GPURENT_KEY_BYTES],
                                                        const char *node_id, const gpurent_gpu_report *report);

/** Add a pending request (validated; GPURENT_E_EXISTS if its id is pending or leased). */
GPURENT_API gpurent_status gpurent_market_add_request(gpurent_market *m, const gpurent_request *req);
/** Remove a pending request (GPURENT_E_UNKNOWN_REQUEST if not pending). */
GPURENT_API gpurent_status gpurent_market_remove_request(gpurent_market *m, const char *request_id);
/** End the lease a receipt created for `request_id`: its GPUs return to the
 *  nodes that still exist (capped at their gpu_count). */
GPURENT_API gpurent_status gpurent_market_end_lease(gpurent_market *m, const char *request_id);

/** Counts and memory of a market. */
typedef struct gpurent_market_stats {
    uint32_t providers;
    uint32_t nodes;
    uint32_t requests;        /* pending */
    uint32_t leases;
    uint64_t gpus_total;
    uint64_t gpus_free;       /* GPUs with nothing leased (a shared GPU with any share is not free) */
    uint64_t node_bytes;      /* memory held for nodes and their index */
    uint64_t request_bytes;   /* memory held for pending requests */
    uint64_t other_bytes;     /* providers, interned names, leases */
} gpurent_market_stats;

GPURENT_API gpurent_status gpurent_market_stats_get(const gpurent_market *m, gpurent_market_stats *out);

/**
 * Digests of the market's inputs as they go into a receipt: the offers (with
 * trust values, verified flags and current free capacity), the pending
 * requests, the policy. Any argument may be NULL.
 */
GPURENT_API gpurent_status gpurent_market_digests(const gpurent_market *m, uint8_t offers[GPURENT_DIGEST_BYTES],
                                                  uint8_t requests[GPURENT_DIGEST_BYTES],
                                                  uint8_t policy[GPURENT_DIGEST_BYTES]);

/* ---- single request ---- */

/** A candidate's score, component by component (each already weighted). */
typedef struct gpurent_match_breakdown {
    uint64_t price;
    uint64_t perf_price;
    uint64_t tier;
    uint64_t score;
    uint64_t stake;
    uint64_t locality;
    uint64_t fit;
    uint64_t total;         /* sum of the above */
    uint64_t tie_hash;      /* keyed hash that breaks equal totals (higher wins) */
} gpurent_match_breakdown;

/** One candidate placement. For a gang, the node is the first of its nodes
 *  and the breakdown is the gang's (the sum over its nodes). */
typedef struct gpurent_match_candidate {
    uint8_t provider_key[GPURENT_KEY_BYTES];
    char node_id[GPURENT_NAME_MAX];
    char region[GPURENT_REGION_MAX];
    char model[GPURENT_NAME_MAX];
    uint32_t node_count;                  /* nodes the placement uses */
    uint32_t provider_count;              /* distinct providers it uses */
    uint64_t price_micro_per_gpu_hour;    /* of the first node */
    gpurent_match_breakdown breakdown;
} gpurent_match_candidate;

#define GPURENT_MATCH_MAX_K 64

/**
 * The best `k` (1..GPURENT_MATCH_MAX_K) placements for `req` among the free
 * capacity, best first, into `out[0..*count)`. The request need not be in the
 * market. `*count` is 0 (and the call succeeds) when nothing is feasible.
 * Read-only.
 */
GPURENT_API gpurent_status gpurent_market_best(const gpurent_market *m, const gpurent_request *req, uint32_t k,
                                               gpurent_match_candidate *out, uint32_t *count);

/* ---- batch ---- */

/**
 * Assign the pending requests to the free capacity: gangs all-or-nothing,
 * best-fit placement against stranding, priorities that age with waiting
 * time (`now`, Unix seconds, is the batch's clock). The market is left as
 * it was (the batch works on the live index and restores it, so it is not a
 * read-only call): the result is a receipt (initialise it with
 * gpurent_match_receipt_init, release with gpurent_match_receipt_clear),
 * which gpurent_market_apply() then applies. `cancel` may be NULL.
 */
GPURENT_API gpurent_status gpurent_market_match(gpurent_market *m, uint64_t now, const gpurent_cancel *cancel,
                                                gpurent_match_receipt *out);
/**
 * Apply a receipt: its requests leave the pending set and become leases,
 * their GPUs leave the free capacity. The receipt's offers, requests and
 * policy digests and seed must equal the market's (GPURENT_E_INVALID_ARG
 * otherwise), so only a receipt computed on this very state is applied.
 * Each assignment must also be one the engine could make: a pending request
 * (GPURENT_E_UNKNOWN_REQUEST), placements of the request's shape and gang
 * scope and at each node's offered price (GPURENT_E_INVALID_ARG), nodes that
 * meet its hard constraints (GPURENT_E_INFEASIBLE) and have the free
 * capacity (GPURENT_E_CAPACITY). Nothing changes on failure.
 */
GPURENT_API GPURENT_NODISCARD gpurent_status gpurent_market_apply(gpurent_market *m, const gpurent_match_receipt *receipt);

/* ---- explanations ---- */

/** The constraints a node can fail, in the order they are checked. */
typedef enum gpurent_match_constraint {
    GPURENT_MC_KIND = 0,       /* shared vs dedicated node for a share / whole-GPU request */
    GPURENT_MC_MODEL,          /* not an allowed model */
    GPURENT_MC_VRAM,           /* GPU memory below the minimum */
    GPURENT_MC_CC,             /* compute capability below the minimum */
    GPURENT_MC_FP32,           /* throughput below the minimum */
    GPURENT_MC_INTERFACE,      /* PCIe/SXM mismatch */
    GPURENT_MC_CUDA,           /* driver's CUDA version below the minimum */
    GPURENT_MC_PRICE,          /* price above the cap */
    GPURENT_MC_TIER,           /* provider tier not allowed */
    GPURENT_MC_VERIFIED,       /* node's GPU report not verified */
    GPURENT_MC_REGION,         /* region not included, or excluded */
    GPURENT_MC_PROVIDER,       /* provider not included, or excluded */
    GPURENT_MC_DURATION,       /* outside the provider's min/max duration */
    GPURENT_MC_CPU,
    GPURENT_MC_RAM,
    GPURENT_MC_DISK,
    GPURENT_MC_GPUS,           /* node has fewer GPUs than one placement needs */
    GPURENT_MC_BUSY,           /* enough GPUs, but not enough free now */
    GPURENT_MC_GANG,           /* no provider/region has enough feasible nodes */
    GPURENT_MC_COUNT
} gpurent_match_constraint;

/** Static name of a constraint ("vram"); "unknown" otherwise. */
GPURENT_API const char *gpurent_match_constraint_name(int constraint);

/** A node that failed few constraints. */
typedef struct gpurent_match_miss {
    uint8_t provider_key[GPURENT_KEY_BYTES];
    char node_id[GPURENT_NAME_MAX];
    uint32_t failed_mask;   /* bit c = gpurent_match_constraint c failed */
    uint32_t failed_count;
    uint64_t total;         /* its score, as if feasible */
} gpurent_match_miss;

/** A change to one constraint of the request that makes it feasible. */
typedef struct gpurent_match_relaxation {
    uint32_t constraint;       /* gpurent_match_constraint */
    uint64_t from;             /* the request's value (price, MiB, cc x10, ...) */
    uint64_t to;               /* the relaxed value (for lists: 0) */
    uint32_t change_pct;       /* |to - from| as a percentage of from, rounded up; 0 if n/a */
    char item[GPURENT_NAME_MAX]; /* the region/model/tier to add, when a list is relaxed */
    uint32_t nodes_added;      /* nodes that become feasible */
    uint32_t providers_added;  /* distinct providers among them */
} gpurent_match_relaxation;

#define GPURENT_MATCH_MAX_MISSES 5
#define GPURENT_MATCH_MAX_RELAX 8
#define GPURENT_MATCH_MAX_CANDIDATES 2 /* the winner and the runner-up */

/** What the market makes of a request: feasibility counts, the nearest misses
 *  and relaxations when nothing fits, the winner and runner-up when it does. */
typedef struct gpurent_match_explain {
    char request_id[GPURENT_NAME_MAX];
    uint32_t nodes_total;
    uint32_t providers_total;
    uint32_t nodes_feasible;                  /* nodes passing every per-node constraint */
    uint32_t providers_feasible;
    uint32_t matched;                         /* 1 when a placement exists now */
    uint32_t eliminated[GPURENT_MC_COUNT];    /* nodes failing each constraint */
    uint32_t eliminated_only[GPURENT_MC_COUNT]; /* nodes failing that one constraint alone */
    uint32_t miss_count;
    gpurent_match_miss misses[GPURENT_MATCH_MAX_MISSES];
    uint32_t relax_count;
    gpurent_match_relaxation relax[GPURENT_MATCH_MAX_RELAX];
    uint32_t candidate_count;                 /* 0, 1 (winner) or 2 (winner, runner-up) */
    gpurent_match_candidate candidates[GPURENT_MATCH_MAX_CANDIDATES];
    /* Names (gpurent/models.h): */
    uint32_t model_table_version;             /* the table the names resolved through */
    uint32_t unknown_model_count;             /* request models the table does not know: matched as exact names */
    char unknown_models[GPURENT_REQUEST_MAX_LIST][GPURENT_NAME_MAX];
    char framework[GPURENT_NAME_MAX];         /* the request's framework build, canonical id; "" = none */
    uint32_t framework_cuda;                  /* the CUDA version it needs (12040 = 12.4) */
    uint32_t framework_cuda_nodes;            /* nodes of the requested models and kind whose driver supports less */
    uint32_t framework_cuda_best;             /* the highest CUDA version among those nodes */
    uint32_t framework_cc_nodes;              /* nodes of the requested models and kind it ships no code for */
    uint32_t framework_cc_lowest;             /* the lowest compute capability x10 among those nodes */
    char framework_alt[GPURENT_NAME_MAX];     /* the newest build of the same release whose CUDA version
                                                 framework_cuda_best supports; "" = none */
} gpurent_match_explain;

/** Explain `req` against the market's free capacity (a full scan; read-only). */
GPURENT_API gpurent_status gpurent_market_explain(const gpurent_market *m, const gpurent_request *req,
                                                  gpurent_match_explain *out);
/** Render an explanation as UTF-8 text lines into `out` (free with gpurent_buf_free). */
GPURENT_API gpurent_status gpurent_match_explain_text(const gpurent_match_explain *ex, gpurent_buf *out);

/* ---- snapshots (docs/wire-format.md, "Snapshots"; docs/snapshots.md) ---- */

/**
 * Save the market (policy, seed, live offers with their nodes' trust, free
 * capacity and verification, pending requests, leases) as a snapshot into
 * `out` (free with gpurent_buf_free()). `input_seq` is the embedder's number
 * of the last input the state reflects, returned by gpurent_market_load().
 * A market loaded from the snapshot gives byte-identical receipts,
 * explanations and digests to the saved one. Read-only on the market.
 */
GPURENT_API gpurent_status gpurent_market_save(const gpurent_market *m, uint64_t input_seq, gpurent_buf *out);
/**
 * Rebuild a market from a snapshot of gpurent_market_save(). Nothing in the
 * bytes is trusted: the container is checked, the market is rebuilt through
 * its own calls and every invariant of its index is checked. Refusals load
 * nothing (`*out` is NULL): GPURENT_E_SNAPSHOT_CORRUPT (bad checksum or
 * contents), GPURENT_E_SNAPSHOT_TRUNCATED, GPURENT_E_SNAPSHOT_KIND (a tier or
 * trust store snapshot), GPURENT_E_SNAPSHOT_VERSION (a newer format),
 * GPURENT_E_SNAPSHOT_PARAMS (when `expect` is not NULL and the snapshot's
 * policy digest is not that of `expect`). With `expect` NULL the market
 * takes the policy stored in the snapshot. `input_seq` (may be NULL)
 * receives the snapshot's input sequence. Free the market with
 * gpurent_market_free().
 */
GPURENT_API GPURENT_NODISCARD gpurent_status gpurent_market_load(gpurent_market **out, const uint8_t *data, size_t len,
                                                                 const gpurent_match_options *expect,
                                                                 uint64_t *input_seq);
/** gpurent_market_save() into the file `path`, written crash-safely (a fresh
 *  temporary file in the same folder, fsynced and renamed over `path`, the
 *  folder fsynced): `path` holds the old snapshot or the new one
 *  (GPURENT_E_IO on failure, `path` unchanged). */
GPURENT_API gpurent_status gpurent_market_save_file(const gpurent_market *m, uint64_t input_seq, const char *path);
/** gpurent_market_load() from the file `path` (GPURENT_E_IO when it cannot be read). */
GPURENT_API gpurent_status gpurent_market_load_file(gpurent_market **out, const char *path,
                                                    const gpurent_match_options *expect, uint64_t *input_seq);

#ifdef __cplusplus
}
#endif
#endif
