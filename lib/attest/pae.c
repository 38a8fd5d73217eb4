/* The signed message: a length-prefixed, domain-separated encoding of the
 * context, the statement type and the unsigned body (docs/wire-format.md). */
#include <sodium.h>
#include <string.h>

#include "attest_internal.h"

#define CTX_LEN (sizeof GR_PAE_CONTEXT - 1)
#define PREFIX_LEN (5 * 8 + CTX_LEN)

static uint8_t *put_le64(uint8_t *p, uint64_t v)
{
    for (unsigned i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
    return p + 8;
}

int gr_msg_build(gr_msg *m, uint32_t statement, const uint8_t *rest, size_t rest_len)
{
    size_t body_len = 1 + rest_len;
    m->len = PREFIX_LEN + body_len;
    m->p = m->len <= sizeof m->stack ? m->stack : gr_malloc(m->len);
    if (!m->p) return gr_fail(GPURENT_E_NOMEM, "signed message of %zu bytes", m->len);
    uint8_t *p = put_le64(m->p, 3);
    p = put_le64(p, CTX_LEN);
    memcpy(p, GR_PAE_CONTEXT, CTX_LEN);
    p = put_le64(p + CTX_LEN, 8);
    p = put_le64(p, statement);
    p = put_le64(p, body_len);
    *p++ = 0x80 + GR_ENV_BODY_FIELDS;
    memcpy(p, rest, rest_len);
    return GPURENT_OK;
}

void gr_msg_free(gr_msg *m)
{
    if (m->p && m->p != m->stack) gr_free(m->p);
    m->p = NULL;
}

int gr_statement_digest(uint32_t statement, const uint8_t *rest, size_t rest_len, uint8_t out[32])
{
    gr_msg m;
    int rc = gr_msg_build(&m, statement, rest, rest_len);
    if (rc) return rc;
    crypto_generichash(out, 32, m.p, m.len, NULL, 0);
    gr_msg_free(&m);
    return GPURENT_OK;
}
