/* The slice of the CUDA Driver API the probe uses, declared here so the
 * library builds without the CUDA toolkit. Only types, values and function
 * pointer types: the functions themselves are resolved with dlsym() from
 * the driver loaded at run time (loader.c).
 *
 * Every value and signature is checked against the toolkit's cuda.h by
 * tests/test_probe.c where cuda.h is installed. The names are ours (gr_cu*)
 * so that a translation unit can include both headers; the opaque struct
 * tags are cuda.h's own so that function pointer types stay compatible.
 *
 * Versioned entry points: the unversioned names of cuDeviceTotalMem,
 * cuMemAlloc, cuMemcpy* and friends are the 32-bit API of CUDA 3.x and are
 * never resolved; see GR_CU_SYMBOLS in loader.c for the exact names. */
#ifndef GR_CUDA_MIN_H
#define GR_CUDA_MIN_H

#include <stddef.h>

/* CUresult: an enum in cuda.h whose values are all non-negative, so its
 * compatible integer type is unsigned int (gcc and clang). */
typedef unsigned int gr_curesult;
typedef int gr_cudevice;                      /* CUdevice */
typedef unsigned long long gr_cudeviceptr;    /* CUdeviceptr (v2, 64-bit) */
typedef unsigned int gr_cudevice_attribute;   /* CUdevice_attribute */
typedef struct CUctx_st *gr_cucontext;
typedef struct CUmod_st *gr_cumodule;
typedef struct CUfunc_st *gr_cufunction;
typedef struct CUstream_st *gr_custream;
typedef struct CUevent_st *gr_cuevent;
struct CUuuid_st;                             /* 16 bytes: struct { char bytes[16]; } */
#define GR_CU_UUID_BYTES 16

/* Results (CUresult values). */
#define GR_CUDA_SUCCESS 0u
#define GR_CUDA_ERROR_INVALID_VALUE 1u
#define GR_CUDA_ERROR_OUT_OF_MEMORY 2u
#define GR_CUDA_ERROR_NOT_INITIALIZED 3u
#define GR_CUDA_ERROR_DEINITIALIZED 4u
#define GR_CUDA_ERROR_STUB_LIBRARY 34u
#define GR_CUDA_ERROR_CALL_REQUIRES_NEWER_DRIVER 36u
#define GR_CUDA_ERROR_DEVICE_UNAVAILABLE 46u
#define GR_CUDA_ERROR_NO_DEVICE 100u
#define GR_CUDA_ERROR_INVALID_DEVICE 101u
#define GR_CUDA_ERROR_INVALID_PTX 218u
#define GR_CUDA_ERROR_UNSUPPORTED_PTX_VERSION 222u
#define GR_CUDA_ERROR_JIT_COMPILER_NOT_FOUND 221u
#define GR_CUDA_ERROR_JIT_COMPILATION_DISABLED 223u
#define GR_CUDA_ERROR_SHARED_OBJECT_INIT_FAILED 303u
#define GR_CUDA_ERROR_SYSTEM_DRIVER_MISMATCH 803u
#define GR_CUDA_ERROR_UNKNOWN 999u

/* Device attributes (CUdevice_attribute values). */
#define GR_CU_ATTR_CLOCK_RATE 13u                      /* kHz, max boost */
#define GR_CU_ATTR_MULTIPROCESSOR_COUNT 16u
#define GR_CU_ATTR_INTEGRATED 18u
#define GR_CU_ATTR_ECC_ENABLED 32u
#define GR_CU_ATTR_PCI_BUS_ID 33u
#define GR_CU_ATTR_PCI_DEVICE_ID 34u                   /* slot on the bus */
#define GR_CU_ATTR_MEMORY_CLOCK_RATE 36u               /* kHz */
#define GR_CU_ATTR_GLOBAL_MEMORY_BUS_WIDTH 37u         /* bits */
#define GR_CU_ATTR_L2_CACHE_SIZE 38u                   /* bytes */
#define GR_CU_ATTR_MAX_THREADS_PER_MULTIPROCESSOR 39u
#define GR_CU_ATTR_PCI_DOMAIN_ID 50u
#define GR_CU_ATTR_COMPUTE_CAPABILITY_MAJOR 75u
#define GR_CU_ATTR_COMPUTE_CAPABILITY_MINOR 76u

#define GR_CU_EVENT_DEFAULT 0u

/* Function pointer types, one per entry point, named after the symbol. */
typedef gr_curesult (*gr_fn_cuInit)(unsigned int flags);
typedef gr_curesult (*gr_fn_cuDriverGetVersion)(int *version);
typedef gr_curesult (*gr_fn_cuDeviceGetCount)(int *count);
typedef gr_curesult (*gr_fn_cuDeviceGet)(gr_cudevice *device, int ordinal);
typedef gr_curesult (*gr_fn_cuDeviceGetName)(char *name, int len, gr_cudevice dev);
typedef gr_curesult (*gr_fn_cuDeviceGetUuid)(struct CUuuid_st *uuid, gr_cudevice dev);
typedef gr_curesult (*gr_fn_cuDeviceTotalMem_v2)(size_t *bytes, gr_cudevice dev);
typedef gr_curesult (*gr_fn_cuDeviceGetAttribute)(int *pi, gr_cudevice_attribute attrib, gr_cudevice dev);
typedef gr_curesult (*gr_fn_cuDevicePrimaryCtxRetain)(gr_cucontext *pctx, gr_cudevice dev);
typedef gr_curesult (*gr_fn_cuDevicePrimaryCtxRelease_v2)(gr_cudevice dev);
typedef gr_curesult (*gr_fn_cuCtxSetCurrent)(gr_cucontext ctx);
typedef gr_curesult (*gr_fn_cuCtxSynchronize)(void);
typedef gr_curesult (*gr_fn_cuMemAlloc_v2)(gr_cudeviceptr *dptr, size_t bytesize);
typedef gr_curesult (*gr_fn_cuMemFree_v2)(gr_cudeviceptr dptr);
typedef gr_curesult (*gr_fn_cuMemAllocHost_v2)(void **pp, size_t bytesize);
typedef gr_curesult (*gr_fn_cuMemFreeHost)(void *p);
typedef gr_curesult (*gr_fn_cuMemcpyHtoD_v2)(gr_cudeviceptr dst, const void *src, size_t bytes);
typedef gr_curesult (*gr_fn_cuMemcpyDtoH_v2)(void *dst, gr_cudeviceptr src, size_t bytes);
typedef gr_curesult (*gr_fn_cuMemcpyDtoD_v2)(gr_cudeviceptr dst, gr_cudeviceptr src, size_t bytes);
typedef gr_curesult (*gr_fn_cuMemsetD32_v2)(gr_cudeviceptr dst, unsigned int value, size_t count);
typedef gr_curesult (*gr_fn_cuModuleLoadData)(gr_cumodule *module, const void *image);
typedef gr_curesult (*gr_fn_cuModuleUnload)(gr_cumodule module);
typedef gr_curesult (*gr_fn_cuModuleGetFunction)(gr_cufunction *fn, gr_cumodule module, const char *name);
typedef gr_curesult (*gr_fn_cuLaunchKernel)(gr_cufunction f, unsigned int gx, unsigned int gy, unsigned int gz,
                                            unsigned int bx, unsigned int by, unsigned int bz,
                                            unsigned int shared_bytes, gr_custream stream, void **params,
                                            void **extra);
typedef gr_curesult (*gr_fn_cuEventCreate)(gr_cuevent *event, unsigned int flags);
typedef gr_curesult (*gr_fn_cuEventRecord)(gr_cuevent event, gr_custream stream);
typedef gr_curesult (*gr_fn_cuEventSynchronize)(gr_cuevent event);
typedef gr_curesult (*gr_fn_cuEventElapsedTime)(float *ms, gr_cuevent start, gr_cuevent end);
typedef gr_curesult (*gr_fn_cuEventDestroy_v2)(gr_cuevent event);

#endif
