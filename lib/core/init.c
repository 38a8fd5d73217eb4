/* Library initialisation and version queries. */
#include <pthread.h>
#include <sodium.h>

#include "core_internal.h"

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_result = GPURENT_E_INIT;

static void init_body(void)
{
    /* sodium_init() returns 0 on first success and 1 when already done. */
    init_result = sodium_init() < 0 ? GPURENT_E_INIT : GPURENT_OK;
}

int gr_ensure_init(void)
{
    pthread_once(&init_once, init_body);
    if (init_result != GPURENT_OK)
        return gr_fail(GPURENT_E_INIT, "libsodium could not be initialised");
    return GPURENT_OK;
}

GPURENT_API gpurent_status gpurent_init(void)
{
    return gr_ensure_init();
}

GPURENT_API unsigned int gpurent_version_number(void)
{
    return GPURENT_VERSION_NUMBER;
}

GPURENT_API const char *gpurent_version_string(void)
{
    return GPURENT_VERSION_STRING;
}

int gr_check_version(unsigned int got, unsigned int known, const char *what)
{
    if (got == 0 || got > known)
        return gr_fail(GPURENT_E_VERSION, "%s: options version %u unknown (this library knows 1..%u)",
                       what, got, known);
    return GPURENT_OK;
}
