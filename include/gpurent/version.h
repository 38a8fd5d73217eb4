/* libgpurent version numbers: the one place they live.
 * The Makefile reads these three lines to name the shared library
 * (libgpurent.so.MAJOR.MINOR.PATCH, soname libgpurent.so.MAJOR). */
#ifndef GPURENT_VERSION_H
#define GPURENT_VERSION_H

#define GPURENT_VERSION_MAJOR 0
#define GPURENT_VERSION_MINOR 4
#define GPURENT_VERSION_PATCH 0

/** The version as one integer, MAJOR*10000 + MINOR*100 + PATCH, for
 *  comparison with gpurent_version_number() at run time. */
#define GPURENT_VERSION_NUMBER \
    (GPURENT_VERSION_MAJOR * 10000 + GPURENT_VERSION_MINOR * 100 + GPURENT_VERSION_PATCH)

#define GPURENT_STR_(x) #x
#define GPURENT_STR(x) GPURENT_STR_(x)
#define GPURENT_VERSION_STRING                                                        \
    GPURENT_STR(GPURENT_VERSION_MAJOR) "." GPURENT_STR(GPURENT_VERSION_MINOR) "." \
        GPURENT_STR(GPURENT_VERSION_PATCH)

#endif
