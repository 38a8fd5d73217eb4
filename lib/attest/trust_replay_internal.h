/* The one attest internal another module calls: the tier module's signed
 * ingest (lib/tier/signed.c) runs its own checks between verifying an
 * envelope and recording its nonce, so it takes the replay step alone.
 * Kept apart from attest_internal.h so that caller sees nothing else of
 * attest's insides. */
#ifndef GPURENT_TRUST_REPLAY_INTERNAL_H
#define GPURENT_TRUST_REPLAY_INTERNAL_H

#include <stdint.h>

#include "gpurent/attest.h"

/* The replay step of gpurent_envelope_verify() alone, for a statement whose
 * other checks passed: GPURENT_E_REPLAYED if (issuer, nonce) was accepted by
 * this store before, else remember it and return OK. */
int gr_trust_replay_remember(gpurent_trust *t, const uint8_t issuer[GPURENT_KEY_BYTES],
                             const uint8_t nonce[GPURENT_NONCE_BYTES]);

#endif
