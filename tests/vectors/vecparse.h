/* Envelope cross-check vectors: one vector a line of `key=value` tokens
 * (docs/attest.md, "Cross-check vectors"). Shared by tests/test_attest.c and
 * the vector tool (vectool.c). Public API only, plus libc. */
#ifndef GPURENT_VECPARSE_H
#define GPURENT_VECPARSE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpurent.h"

#define VEC_MAX_TOK 24
#define VEC_LINE_MAX 65536

typedef struct vec_line {
    char buf[VEC_LINE_MAX];
    int n;
    char *key[VEC_MAX_TOK];
    char *val[VEC_MAX_TOK];
} vec_line;

/* Split a line in place; returns 0 for blank/comment lines, 1 for a vector, -1 if malformed. */
static inline int vec_parse(vec_line *v, const char *line)
{
    snprintf(v->buf, sizeof v->buf, "%s", line);
    v->n = 0;
    char *save = NULL;
    for (char *t = strtok_r(v->buf, " \t\r\n", &save); t; t = strtok_r(NULL, " \t\r\n", &save)) {
        if (t[0] == '#' && v->n == 0) return 0;
        char *eq = strchr(t, '=');
        if (!eq || v->n == VEC_MAX_TOK) return -1;
        *eq = '\0';
        v->key[v->n] = t;
        v->val[v->n++] = eq + 1;
    }
    return v->n ? 1 : 0;
}

static inline const char *vec_get(const vec_line *v, const char *key)
{
    for (int i = 0; i < v->n; i++)
        if (strcmp(v->key[i], key) == 0) return v->val[i];
    return NULL;
}

static inline unsigned long long vec_num(const vec_line *v, const char *key, unsigned long long dflt)
{
    const char *s = vec_get(v, key);
    return s ? strtoull(s, NULL, 10) : dflt;
}

/* Decode hex into out (at most cap bytes); returns the length or -1. */
static inline long vec_hex(const char *s, uint8_t *out, size_t cap)
{
    size_t n = s ? strlen(s) : 0;
    if (n % 2 || n / 2 > cap) return -1;
    for (size_t i = 0; i < n / 2; i++) {
        unsigned b;
        if (sscanf(s + 2 * i, "%2x", &b) != 1) return -1;
        out[i] = (uint8_t)b;
    }
    return (long)(n / 2);
}

static inline void vec_print_hex(FILE *f, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) fprintf(f, "%02x", p[i]);
}

/* The public key of a hex seed. */
static inline int vec_seed_pk(const char *seed_hex, uint8_t pk[32])
{
    uint8_t seed[32];
    gpurent_key *k = NULL;
    if (vec_hex(seed_hex, seed, 32) != 32 || gpurent_key_from_seed(&k, seed)) return -1;
    gpurent_key_public(k, pk);
    gpurent_key_free(k);
    return 0;
}

/* Build the trust store a vector describes: trust=<seed>:<roles>[:<not_before>:<not_after>],...
 * and revoked=<seed>,... (or "-"). */
static inline int vec_trust(const vec_line *v, gpurent_trust **out)
{
    char list[4096];
    uint8_t pk[32];
    if (gpurent_trust_new(out, NULL)) return -1;
    snprintf(list, sizeof list, "%s", vec_get(v, "trust") ? vec_get(v, "trust") : "-");
    char *save = NULL;
    for (char *e = strtok_r(list, ",", &save); e && strcmp(e, "-"); e = strtok_r(NULL, ",", &save)) {
        char seed[65] = {0};
        unsigned roles = 0;
        unsigned long long nb = 0, na = 0;
        if (sscanf(e, "%64[0-9a-f]:%u:%llu:%llu", seed, &roles, &nb, &na) < 2) return -1;
        if (vec_seed_pk(seed, pk) || gpurent_trust_add(*out, pk, roles, nb, na)) return -1;
    }
    snprintf(list, sizeof list, "%s", vec_get(v, "revoked") ? vec_get(v, "revoked") : "-");
    for (char *e = strtok_r(list, ",", &save); e && strcmp(e, "-"); e = strtok_r(NULL, ",", &save))
        if (vec_seed_pk(e, pk) || gpurent_trust_revoke(*out, pk)) return -1;
    return 0;
}

/* Verify the vector's envelope as it describes; returns the status. */
static inline int vec_verify(const vec_line *v, gpurent_verified **res)
{
    static uint8_t env[VEC_LINE_MAX / 2];
    gpurent_trust *t = NULL;
    gpurent_verify_options o = GPURENT_VERIFY_OPTIONS_INIT;
    long n = vec_hex(vec_get(v, "envelope"), env, sizeof env);
    if (n < 0 || vec_trust(v, &t)) {
        gpurent_trust_free(t);
        return GPURENT_E_INTERNAL;
    }
    o.quorum = (uint32_t)vec_num(v, "quorum", 1);
    o.required_role = (uint32_t)vec_num(v, "role", 0);
    int rc = gpurent_envelope_verify(t, env, (size_t)n, vec_num(v, "now", 0), (uint32_t)vec_num(v, "skew", 0), &o,
                                     res);
    gpurent_trust_free(t);
    return rc;
}

/* Sign the vector's inputs (statement, signers, issued, expires, nonce,
 * subject, payload) into an envelope. */
static inline int vec_sign(const vec_line *v, gpurent_buf *out)
{
    static uint8_t payload[VEC_LINE_MAX / 2];
    gpurent_envelope h;
    char list[4096];
    gpurent_envelope_init(&h);
    h.statement = (uint32_t)vec_num(v, "statement", 0);
    h.issued_at = vec_num(v, "issued", 0);
    h.expires_at = vec_num(v, "expires", 0);
    long sl = vec_hex(vec_get(v, "subject"), h.subject, sizeof h.subject);
    long pl = vec_hex(vec_get(v, "payload"), payload, sizeof payload);
    if (sl < 0 || pl < 0 || vec_hex(vec_get(v, "nonce"), h.nonce, 16) != 16) return GPURENT_E_INVALID_ARG;
    h.subject_len = (uint32_t)sl;
    snprintf(list, sizeof list, "%s", vec_get(v, "signers") ? vec_get(v, "signers") : "");
    char *save = NULL;
    int rc = GPURENT_E_INVALID_ARG, first = 1;
    gpurent_buf cur = {0};
    for (char *s = strtok_r(list, ",", &save); s; s = strtok_r(NULL, ",", &save), first = 0) {
        uint8_t seed[32];
        gpurent_key *k = NULL;
        gpurent_buf next = {0};
        if (vec_hex(s, seed, 32) != 32 || (rc = gpurent_key_from_seed(&k, seed))) break;
        rc = first ? gpurent_envelope_sign(k, &h, payload, (size_t)pl, &next)
                   : gpurent_envelope_cosign(k, cur.data, cur.len, &next);
        gpurent_key_free(k);
        gpurent_buf_free(&cur);
        cur = next;
        if (rc) break;
    }
    if (rc) gpurent_buf_free(&cur);
    *out = cur;
    return rc;
}

#endif
