/* Cancel tokens: an atomic flag shared between a caller and long calls. */
#include <stdatomic.h>

#include "core_internal.h"

struct gpurent_cancel {
    atomic_int flag;
};

GPURENT_API gpurent_status gpurent_cancel_new(gpurent_cancel **out)
{
    GR_CHECK_ARG(out, "out is NULL");
    *out = NULL;
    gpurent_cancel *c = gr_malloc(sizeof *c);
    if (!c) return gr_fail(GPURENT_E_NOMEM, "cancel token");
    atomic_init(&c->flag, 0);
    *out = c;
    return GPURENT_OK;
}

GPURENT_API void gpurent_cancel_request(gpurent_cancel *token)
{
    if (token) atomic_store(&token->flag, 1);
}

GPURENT_API int gpurent_cancel_requested(const gpurent_cancel *token)
{
    return token ? atomic_load(&((gpurent_cancel *)token)->flag) : 0;
}

GPURENT_API void gpurent_cancel_reset(gpurent_cancel *token)
{
    if (token) atomic_store(&token->flag, 0);
}

GPURENT_API void gpurent_cancel_free(gpurent_cancel *token) { gr_free(token); }
