/* The canonical GPU model table and the framework build table, both
 * shipped in the library (docs/models.md).
 *
 * A renter's "h100", a provider's "H100 SXM5 80GB" and the driver's
 * "NVIDIA H100 80GB HBM3" name one product; the model table maps every such
 * name to one stable canonical id ("h100-sxm5-80gb") with its PCI ids,
 * family, compute capability, memory and peak figures, each sourced in
 * docs/models.md. The framework table maps framework builds ("torch
 * 2.5+cu124") to the driver CUDA version they need and the compute
 * capabilities they ship kernels for.
 *
 * Both tables are versioned and have a BLAKE2b-256 digest over a canonical
 * encoding; the match policy digest includes both digests, so matchmakers
 * whose tables differ refuse each other's receipts.
 *
 * Names are compared after normalisation: ASCII letters folded to lower
 * case and every character other than a letter or a digit dropped, so
 * "H100 SXM5 80GB", "h100-sxm5-80gb" and "H100_SXM5_80GB" are one name.
 *
 * Everything here is static, immutable data: every call is pure and safe
 * from any thread. Entries are borrowed for the life of the process. */
#ifndef GPURENT_MODELS_H
#define GPURENT_MODELS_H

#include "gpurent/wire.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- GPU models ---- */

/** The model table's version; it grows whenever an entry or a name changes. */
#define GPURENT_MODEL_TABLE_VERSION 1u
#define GPURENT_MODEL_MAX_NAMES 6   /* driver / vendor names of one entry */
#define GPURENT_MODEL_MAX_ALIASES 8 /* common aliases of one entry */
#define GPURENT_MODEL_MAX_PCI 3     /* PCI id sets of one entry */
#define GPURENT_PCI_VENDOR_NVIDIA 0x10deu
#define GPURENT_PCI_VENDOR_AMD 0x1002u

/** A PCI product id. A zero subsystem (vendor and device) matches any
 *  subsystem; entries that share a device id are told apart by it. */
typedef struct gpurent_pci_id {
    uint16_t vendor;
    uint16_t device;
    uint16_t subsys_vendor;
    uint16_t subsys_device;
} gpurent_pci_id;

/** One GPU model. Figures are the vendor's (docs/models.md cites each);
 *  a zero figure means the table does not know it. */
typedef struct gpurent_model {
    const char *id;              /* canonical id, lower case: "h100-sxm5-80gb" */
    const char *family;          /* "h100", "a100", "rtx4090", "mi300x" */
    const char *vendor;          /* "NVIDIA", "AMD" */
    uint32_t interface;          /* gpurent_interface (wire.h): 1 PCIe, 2 SXM/OAM */
    uint32_t cc_major;           /* CUDA compute capability; 0 for AMD */
    uint32_t cc_minor;
    uint32_t sm_count;           /* SMs (NVIDIA) or compute units (AMD) */
    uint32_t boost_clock_mhz;    /* maximum boost clock */
    uint32_t bus_width_bits;     /* memory interface */
    uint64_t memory_mib;         /* datasheet capacity (GB read as GiB); drivers report 1-3% less */
    uint64_t mem_bw_mbps;        /* peak memory bandwidth, MB/s */
    uint64_t fp32_gflops;        /* peak FP32 (non-tensor), GFLOPS */
    uint32_t pci_count;
    gpurent_pci_id pci[GPURENT_MODEL_MAX_PCI];
    uint32_t name_count;         /* the names drivers and vendors print */
    const char *names[GPURENT_MODEL_MAX_NAMES];
    uint32_t alias_count;        /* what people type */
    const char *aliases[GPURENT_MODEL_MAX_ALIASES];
    const char *source;          /* where the figures come from (docs/models.md lists them in full) */
} gpurent_model;

/** How a name resolved (gpurent_model_lookup). */
typedef enum gpurent_name_kind {
    GPURENT_NAME_UNKNOWN = 0, /* not in the table: an exact, opaque name */
    GPURENT_NAME_ID = 1,      /* a canonical id */
    GPURENT_NAME_DRIVER = 2,  /* a name a driver or vendor prints */
    GPURENT_NAME_ALIAS = 3,   /* a common alias */
    GPURENT_NAME_FAMILY = 4   /* a family: every member matches */
} gpurent_name_kind;

/** The table's version (GPURENT_MODEL_TABLE_VERSION of the library that runs). */
GPURENT_API uint32_t gpurent_model_table_version(void);
/** BLAKE2b-256 of the table's canonical encoding (docs/models.md). */
GPURENT_API gpurent_status gpurent_model_table_digest(uint8_t digest[GPURENT_DIGEST_BYTES]);
/** Number of entries. */
GPURENT_API uint32_t gpurent_model_count(void);
/** Entry `index` (0..count-1) in table order (NULL out of range). */
GPURENT_API const gpurent_model *gpurent_model_at(uint32_t index);
/** The entry that `name` (a canonical id, driver name or alias; not a
 *  family) names, or NULL. */
GPURENT_API const gpurent_model *gpurent_model_find(const char *name);
/**
 * Classify `name` (gpurent_name_kind). For a single model `*model` receives
 * it; for a family `*model` is NULL (walk it with gpurent_model_family_member);
 * for an unknown name (or NULL) the result is GPURENT_NAME_UNKNOWN. `model`
 * may be NULL.
 */
GPURENT_API uint32_t gpurent_model_lookup(const char *name, const gpurent_model **model);
/** Number of members of the family `name` (0 when it names no family). */
GPURENT_API uint32_t gpurent_model_family_size(const char *name);
/** Member `index` of the family `name`, in table order (NULL out of range). */
GPURENT_API const gpurent_model *gpurent_model_family_member(const char *name, uint32_t index);
/**
 * The entry with this PCI id, or NULL when none or several match (for
 * example AMD's MI250 and MI250X share device 0x740c and are not told apart
 * by subsystem in the table). Subsystem ids 0 mean "not known".
 */
GPURENT_API const gpurent_model *gpurent_model_find_pci(uint32_t vendor, uint32_t device, uint32_t subsys_vendor,
                                                        uint32_t subsys_device);
/** Driver name `index` of `model` (NULL out of range or for a NULL model). */
GPURENT_API const char *gpurent_model_name_at(const gpurent_model *model, uint32_t index);
/** Alias `index` of `model` (NULL out of range or for a NULL model). */
GPURENT_API const char *gpurent_model_alias_at(const gpurent_model *model, uint32_t index);
/** PCI id `index` of `model` (NULL out of range or for a NULL model). */
GPURENT_API const gpurent_pci_id *gpurent_model_pci_at(const gpurent_model *model, uint32_t index);
/** Static name of a gpurent_name_kind ("alias"); "unknown" otherwise. */
GPURENT_API const char *gpurent_name_kind_name(uint32_t kind);

/* ---- framework builds ---- */

/** The framework table's version; it grows whenever an entry changes. */
#define GPURENT_FRAMEWORK_TABLE_VERSION 1u
#define GPURENT_FRAMEWORK_MAX_ARCHS 12
#define GPURENT_FRAMEWORK_MAX_ALIASES 8

/**
 * One framework build: the CUDA version it was built with (the node's
 * driver must support at least that: gpurent_gpu.cuda_version >=
 * cuda_version) and the GPU code it ships. A GPU of compute capability
 * M.m runs the build when the build ships a cubin for M.k with k <= m
 * (cubins run on later minor versions of one major), or PTX for a
 * capability at or below M.m (the driver compiles it). docs/models.md
 * cites the release notes behind every entry.
 */
typedef struct gpurent_framework {
    const char *id;          /* canonical id: "torch-2.5+cu124", "tensorflow-2.17" */
    const char *framework;   /* "torch", "tensorflow" */
    const char *version;     /* "2.5" */
    uint32_t cuda_version;   /* 12040 = CUDA 12.4 */
    uint32_t arch_count;
    uint32_t archs[GPURENT_FRAMEWORK_MAX_ARCHS]; /* cubins, compute capability x 10 (86 = sm_86) */
    uint32_t ptx_cc;         /* PTX shipped for this capability x 10; 0 = none */
    uint32_t alias_count;
    const char *aliases[GPURENT_FRAMEWORK_MAX_ALIASES];
    const char *source;
} gpurent_framework;

/** The framework table's version (GPURENT_FRAMEWORK_TABLE_VERSION of the library that runs). */
GPURENT_API uint32_t gpurent_framework_table_version(void);
/** BLAKE2b-256 of the framework table's canonical encoding (docs/models.md). */
GPURENT_API gpurent_status gpurent_framework_table_digest(uint8_t digest[GPURENT_DIGEST_BYTES]);
/** Number of entries. */
GPURENT_API uint32_t gpurent_framework_count(void);
/** Entry `index` in table order (NULL out of range). */
GPURENT_API const gpurent_framework *gpurent_framework_at(uint32_t index);
/** The build `name` (canonical id or alias, normalised as model names are)
 *  names, or NULL. */
GPURENT_API const gpurent_framework *gpurent_framework_find(const char *name);
/** Alias `index` of `fw` (NULL out of range or for a NULL entry). */
GPURENT_API const char *gpurent_framework_alias_at(const gpurent_framework *fw, uint32_t index);
/** Cubin architecture `index` of `fw`, capability x 10 (0 out of range or for a NULL entry). */
GPURENT_API uint32_t gpurent_framework_arch_at(const gpurent_framework *fw, uint32_t index);
/** 1 when `fw` ships code that runs on compute capability
 *  cc_major.cc_minor (rule above), else 0 (also for a NULL entry). */
GPURENT_API int gpurent_framework_supports_cc(const gpurent_framework *fw, uint32_t cc_major, uint32_t cc_minor);

#ifdef __cplusplus
}
#endif
#endif
