/* Envelope internals shared by lib/wire/envelope.c (the codec) and
 * lib/attest (signing and verification): a parsed, zero-copy view of an
 * envelope, the unsigned body writer and the assembler. */
#ifndef GPURENT_ENVELOPE_INTERNAL_H
#define GPURENT_ENVELOPE_INTERNAL_H

#include "mp_internal.h"

#define GR_ENV_FIELDS 9       /* keys 0..8 */
#define GR_ENV_BODY_FIELDS 8  /* keys 0..7: what the signatures cover */
#define GR_ENV_TIME_MAX (1ull << 40)

typedef struct gr_env_sig {
    const uint8_t *key; /* 32 bytes inside the envelope */
    const uint8_t *sig; /* 64 bytes inside the envelope */
} gr_env_sig;

/* Pointers into the caller's bytes: valid while they are. */
typedef struct gr_env_view {
    gpurent_envelope hdr;
    const uint8_t *body;   /* the envelope after its map header, through key 7 */
    size_t body_len;       /* the signed body is 0x88 followed by these bytes */
    const uint8_t *payload;
    size_t payload_len;
    uint32_t sig_count;
    gr_env_sig sigs[GPURENT_ENVELOPE_MAX_SIGS]; /* ascending by key, distinct */
} gr_env_view;

/* Parse and check an envelope: canonical form, every field's range, the
 * payload canonical and of the statement's record type, signatures sorted
 * and distinct, the issuer among the signers. No cryptography. */
int gr_env_parse(const uint8_t *data, size_t len, gr_env_view *v);

/* Range checks of a header about to be signed (nonce must be set). */
int gr_env_check_header(const gpurent_envelope *h);

/* Check a payload: canonical, and a record whose type is `statement`. */
int gr_env_check_payload(const uint8_t *payload, size_t len, uint32_t statement);

/* Write the unsigned body: an 8-entry map of keys 0..7. */
void gr_env_write_body(gr_writer *w, const gpurent_envelope *h, const uint8_t *payload, size_t len);

/* Assemble an envelope from the body's bytes after its map header (`rest`,
 * as in gr_env_view.body) and `n` signatures already sorted by key. */
int gr_env_assemble(const uint8_t *rest, size_t rest_len, const gr_env_sig *sigs, uint32_t n,
                    gpurent_buf *out);

#endif
