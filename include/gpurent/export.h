/* The one export macro. The library is built with -fvisibility=hidden, so
 * only declarations marked GPURENT_API are visible outside it. */
#ifndef GPURENT_EXPORT_H
#define GPURENT_EXPORT_H

#if defined(GPURENT_BUILDING) && defined(__GNUC__)
#define GPURENT_API __attribute__((visibility("default")))
#else
#define GPURENT_API
#endif

#endif
