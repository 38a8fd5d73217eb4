/* attest: gpurent/attest.h — keys, signed envelopes, the trust store,
 * verification (one, many, batches). The envelope header and revocation
 * records themselves are in wire.h (wrapped by wire.i).
 *
 * Secret key material never crosses: a gpurent_key is an opaque handle
 * (generate, derive from a seed, seal/unseal, save/load); only its public
 * key comes out. */

%gpurent_handle(gpurent_key)
%gpurent_handle(gpurent_trust)
%gpurent_handle(gpurent_verified)
%gpurent_handle(gpurent_verify_batch)

/* Password hashing (Argon2id, 64 MiB by default), bulk verification and
 * verification of large statements run long: Python releases the GIL. */
%gpurent_long_call(gpurent_key_seal)
%gpurent_long_call(gpurent_key_unseal)
%gpurent_long_call(gpurent_key_save)
%gpurent_long_call(gpurent_key_save_new)
%gpurent_long_call(gpurent_key_load)
%gpurent_long_call(gpurent_envelope_sign)
%gpurent_long_call(gpurent_envelope_cosign)
%gpurent_long_call(gpurent_envelope_verify)
%gpurent_long_call(gpurent_trust_apply_revocation)
%gpurent_long_call(gpurent_envelope_verify_many)
%gpurent_long_call(gpurent_verify_batch_run)

/* Bytes in, under the parameter names attest.h and wire.h use. */
%gpurent_bytes_in(const uint8_t *envelope, size_t len)
%gpurent_bytes_in(const uint8_t *payload, size_t payload_len)

/* Public keys and digests out: bytes (Python); a []byte of the right length
 * the call fills (Go). */
%apply uint8_t key_out[ANY] { uint8_t pk[GPURENT_KEY_BYTES], uint8_t digest[GPURENT_DIGEST_BYTES] };
/* ... but an input key stays an input (SWIG would otherwise fall back from
 * `const uint8_t pk[32]` to the output's argout). */
%typemap(argout) const uint8_t pk[ANY], const uint8_t expected_pk[ANY] ""

/* key_unseal / key_load: the expected public key is optional. */
%gpurent_optional_key(expected_pk)

/* Scalar outputs. */
%apply uint32_t *OUTPUT { uint32_t *roles };
%apply uint64_t *OUTPUT { uint64_t *input_seq };
%gpurent_long_call(gpurent_trust_save)
%gpurent_long_call(gpurent_trust_load)
%gpurent_long_call(gpurent_trust_save_file)
%gpurent_long_call(gpurent_trust_load_file)

/* gpurent_envelope_verify_many: a list of envelopes in (bytes objects /
 * [][]byte), one status per envelope out; n is its 4th argument. */
%gpurent_statuses_out(4)

/* gpurent_verified_payload_data borrows the payload: the binding copies it
 * into bytes / []byte (len is filled by the call). */
%gpurent_borrowed_bytes(gpurent_verified_payload_data, 2)

/* gpurent_verify_batch_status returns one envelope's answer, a value to
 * read rather than the failure of the call: an int to both languages. */
%apply int { gpurent_status gpurent_verify_batch_status };
#ifdef SWIGGO
/* (Go's int maps leave these to the gotype, which gpurent_status sets.) */
%typemap(imtype) gpurent_status gpurent_verify_batch_status "int"
%typemap(ctype) gpurent_status gpurent_verify_batch_status "intgo"
%typemap(goout) gpurent_status gpurent_verify_batch_status ""
#endif

%include <gpurent/attest.h>

%clear int32_t *statuses;
%clear size_t *len;
%clear const uint8_t expected_pk[ANY];
%clear const uint8_t pk[ANY];
%clear uint8_t pk[GPURENT_KEY_BYTES], uint8_t digest[GPURENT_DIGEST_BYTES];
