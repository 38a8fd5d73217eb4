/* The one export macro. The library is built with -fvisibility=hidden, so
 * only declarations marked GPURENT_API are visible outside it. */
#ifndef GPURENT_EXPORT_H
#define GPURENT_EXPORT_H

#if defined(GPURENT_BUILDING) && defined(__GNUC__)
#define GPURENT_API __attribute__((visibility("default")))
#else
#define GPURENT_API
#endif

/* On calls whose result decides whether data may be trusted or used (verify,
 * decode, unseal, load, apply): ignoring it is a compile-time warning, as
 * libsodium marks its verify functions. */
#if defined(__GNUC__) || defined(__clang__)
#define GPURENT_NODISCARD __attribute__((warn_unused_result))
#else
#define GPURENT_NODISCARD
#endif

#endif
