/* The vector tool: `vectool gen` prints the envelopes libgpurent signs for
 * the cross-checks (tests/vectors/envelopes_c.txt); `vectool verify FILE...`
 * checks every vector in the files (the status libgpurent gives must be the
 * one expected, and a vector without mutation must re-sign to the same
 * bytes). The Python and Go cross-checks run it on what they produce. */
#include "vecparse.h"

#define T0 1700000000ull
#define DAY 86400ull
#define NOW (T0 + 100)
#define SKEW 300

/* Seeds are 32 repeated bytes; their public keys follow from them. */
#define SEED(b) b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b b
#define PROV SEED("01")
#define AUD SEED("02")
#define M1 SEED("03")
#define M2 SEED("04")
#define M3 SEED("05")
#define REV SEED("06")
#define OUTSIDER SEED("07")
#define TRUST PROV ":1," AUD ":2," M1 ":4," M2 ":4," M3 ":4," REV ":8"

typedef struct vcase {
    const char *name;
    unsigned statement;
    const char *signers;
    unsigned long long issued, expires, now;
    const char *trust, *revoked;
    unsigned quorum;
    const char *mutation;
    const char *expect;
    unsigned subject_len;
} vcase;

static const vcase cases[] = {
    {"offer-ok", 2, PROV, T0, T0 + DAY, NOW, TRUST, "-", 1, "none", "GPURENT_OK", 7},
    {"gpu-report-ok", 4, PROV, T0, T0 + DAY, NOW, TRUST, "-", 1, "none", "GPURENT_OK", 16},
    {"audit-report-ok", 5, AUD, T0, T0 + DAY, NOW, TRUST, "-", 1, "none", "GPURENT_OK", 32},
    {"tier-cert-ok", 6, AUD, T0, T0 + 30 * DAY, NOW, TRUST, "-", 1, "none", "GPURENT_OK", 32},
    {"receipt-3of3", 7, M1 "," M2 "," M3, T0, T0 + DAY, NOW, TRUST, "-", 3, "none", "GPURENT_OK", 12},
    {"receipt-2of3", 7, M2 "," M1, T0, T0 + DAY, NOW, TRUST, "-", 2, "none", "GPURENT_OK", 12},
    {"receipt-quorum-not-met", 7, M1 "," M2, T0, T0 + DAY, NOW, TRUST, "-", 3, "none",
     "GPURENT_E_QUORUM_NOT_MET", 12},
    {"receipt-outsider-not-counted", 7, M1 "," OUTSIDER, T0, T0 + DAY, NOW, TRUST, "-", 2, "none",
     "GPURENT_E_QUORUM_NOT_MET", 12},
    {"revocation-ok", 8, REV, T0, T0 + DAY, NOW, TRUST, "-", 1, "none", "GPURENT_OK", 32},
    {"subject-max", 2, PROV, T0, T0 + DAY, NOW, TRUST, "-", 1, "none", "GPURENT_OK", 128},
    {"empty-subject", 2, PROV, T0, T0 + DAY, NOW, TRUST, "-", 1, "none", "GPURENT_OK", 0},
    {"expired", 2, PROV, T0, T0 + DAY, T0 + DAY + SKEW + 1, TRUST, "-", 1, "none", "GPURENT_E_EXPIRED", 7},
    {"expires-at-skew-edge", 2, PROV, T0, T0 + DAY, T0 + DAY + SKEW, TRUST, "-", 1, "none", "GPURENT_OK", 7},
    {"not-yet-valid", 2, PROV, T0, T0 + DAY, T0 - SKEW - 1, TRUST, "-", 1, "none", "GPURENT_E_NOT_YET_VALID", 7},
    {"unknown-issuer", 2, OUTSIDER, T0, T0 + DAY, NOW, TRUST, "-", 1, "none", "GPURENT_E_UNKNOWN_ISSUER", 7},
    {"role-not-allowed", 2, AUD, T0, T0 + DAY, NOW, TRUST, "-", 1, "none", "GPURENT_E_ROLE_NOT_ALLOWED", 7},
    {"revoked", 2, PROV, T0, T0 + DAY, NOW, TRUST, PROV, 1, "none", "GPURENT_E_REVOKED", 7},
    {"bad-signature", 2, PROV, T0, T0 + DAY, NOW, TRUST, "-", 1, "sigbit", "GPURENT_E_BAD_SIGNATURE", 7},
    {"noncanonical-int", 2, PROV, T0, T0 + DAY, NOW, TRUST, "-", 1, "issued_u64", "GPURENT_E_NONCANONICAL", 7},
};

/* A synthetic canonical record of `type`: {0: type, 1: "vector <name>", 2: 1024 bytes pattern?}. */
static size_t make_payload(const vcase *c, uint8_t *p)
{
    size_t n = 0, len = strlen(c->name);
    if (c->statement == GPURENT_RECORD_REVOCATION) {
        gpurent_revocation r = {.revoked_at = T0, .reason = GPURENT_REVOKE_COMPROMISED};
        gpurent_buf b = {0};
        vec_seed_pk(PROV, r.key);
        gpurent_revocation_encode(&r, &b);
        memcpy(p, b.data, b.len);
        n = b.len;
        gpurent_buf_free(&b);
        return n;
    }
    p[n++] = 0x83; /* {0: type, 1: name, 2: 4660} */
    p[n++] = 0x00;
    p[n++] = (uint8_t)c->statement;
    p[n++] = 0x01;
    p[n++] = (uint8_t)(0xa0 + len); /* names are under 32 bytes */
    memcpy(p + n, c->name, len);
    n += len;
    p[n++] = 0x02;
    p[n++] = 0xcd;
    p[n++] = 0x12;
    p[n++] = 0x34;
    return n;
}

static void mutate(const vcase *c, gpurent_buf *e)
{
    if (strcmp(c->mutation, "sigbit") == 0) {
        e->data[e->len - 10] ^= 0x01;
    } else if (strcmp(c->mutation, "issued_u64") == 0) {
        /* key 3, uint32 issued_at -> the same value as uint64 (4 more bytes) */
        for (size_t i = 0; i + 6 <= e->len; i++) {
            if (e->data[i] == 0x03 && e->data[i + 1] == 0xce) {
                uint8_t *d = realloc(e->data, e->len + 4);
                if (!d) return;
                memmove(d + i + 6 + 4, d + i + 6, e->len - i - 6);
                memmove(d + i + 6, d + i + 2, 4);
                memset(d + i + 2, 0, 4);
                d[i + 1] = 0xcf;
                e->data = d;
                e->len += 4;
                return;
            }
        }
    }
}

static int gen(void)
{
    printf("# Envelopes signed by libgpurent (tests/vectors/vectool gen). Format: docs/attest.md.\n");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const vcase *c = &cases[i];
        uint8_t payload[512], subject[128], nonce[16];
        size_t pl = make_payload(c, payload);
        for (unsigned k = 0; k < 16; k++) nonce[k] = (uint8_t)(0xa0 + i + k);
        for (unsigned k = 0; k < c->subject_len; k++) subject[k] = (uint8_t)('a' + (i + k) % 26);
        char line[VEC_LINE_MAX];
        int n = snprintf(line, sizeof line, "name=%s statement=%u signers=%s issued=%llu expires=%llu nonce=",
                         c->name, c->statement, c->signers, c->issued, c->expires);
        for (unsigned k = 0; k < 16; k++) n += snprintf(line + n, sizeof line - n, "%02x", nonce[k]);
        n += snprintf(line + n, sizeof line - n, " subject=");
        for (unsigned k = 0; k < c->subject_len; k++) n += snprintf(line + n, sizeof line - n, "%02x", subject[k]);
        n += snprintf(line + n, sizeof line - n, " payload=");
        for (size_t k = 0; k < pl; k++) n += snprintf(line + n, sizeof line - n, "%02x", payload[k]);
        vec_line v;
        gpurent_buf e = {0};
        if (vec_parse(&v, line) != 1 || vec_sign(&v, &e) != GPURENT_OK) {
            fprintf(stderr, "vectool: cannot sign %s: %s\n", c->name, gpurent_last_error_message());
            return 1;
        }
        mutate(c, &e);
        printf("%s trust=%s revoked=%s now=%llu skew=%u quorum=%u role=0 mutation=%s expect=%s envelope=", line,
               c->trust, c->revoked, c->now, SKEW, c->quorum, c->mutation, c->expect);
        vec_print_hex(stdout, e.data, e.len);
        printf("\n");
        gpurent_buf_free(&e);
    }
    return 0;
}

/* Check one vector; prints a line and returns 0 when it matches. */
static int check(const vec_line *v)
{
    const char *name = vec_get(v, "name"), *expect = vec_get(v, "expect"), *mut = vec_get(v, "mutation");
    int rc = vec_verify(v, NULL), bad = 0;
    if (!expect || strcmp(gpurent_status_name(rc), expect) != 0) {
        printf("FAIL %s: status %s, expected %s (%s)\n", name, gpurent_status_name(rc), expect,
               gpurent_last_error_message());
        bad = 1;
    }
    if (mut && strcmp(mut, "none") == 0) {
        static uint8_t env[VEC_LINE_MAX / 2];
        gpurent_buf e = {0};
        long n = vec_hex(vec_get(v, "envelope"), env, sizeof env);
        if (vec_sign(v, &e) != GPURENT_OK || n < 0 || e.len != (size_t)n || memcmp(e.data, env, e.len) != 0) {
            printf("FAIL %s: libgpurent signs these inputs to other bytes\n", name);
            bad = 1;
        }
        gpurent_buf_free(&e);
    }
    if (!bad) printf("ok %s %s\n", name, gpurent_status_name(rc));
    return bad;
}

static int verify_file(const char *path)
{
    FILE *f = fopen(path, "r");
    static char line[VEC_LINE_MAX];
    static vec_line v;
    int bad = 0, count = 0;
    if (!f) {
        fprintf(stderr, "vectool: cannot open %s\n", path);
        return 1;
    }
    while (fgets(line, sizeof line, f)) {
        int r = vec_parse(&v, line);
        if (r < 0) bad++;
        if (r == 1) bad += check(&v), count++;
    }
    fclose(f);
    printf("%s: %d vectors, %d failed\n", path, count, bad);
    return bad || count == 0;
}

int main(int argc, char **argv)
{
    if (gpurent_init() != GPURENT_OK) return 2;
    if (argc == 2 && strcmp(argv[1], "gen") == 0) return gen();
    if (argc >= 3 && strcmp(argv[1], "verify") == 0) {
        int bad = 0;
        for (int i = 2; i < argc; i++) bad |= verify_file(argv[i]);
        return bad;
    }
    fprintf(stderr, "usage: vectool gen | vectool verify FILE...\n");
    return 2;
}
