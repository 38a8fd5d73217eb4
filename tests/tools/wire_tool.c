/* wire_tool: emit generated records as hex, or decode hex from another
 * implementation and print the status and our canonical re-encoding.
 *   wire_tool gen <gpu|offer|request> <seed>      -> hex
 *   wire_tool decode <gpu|offer|request> <hex>    -> STATUS_NAME [hex of re-encoding]
 * Used by tests/python to cross-check against Python's msgpack. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpurent.h"
#include "support/gen.h"

static void print_hex(const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++) printf("%02x", b[i]);
}

static int kind_of(const char *s)
{
    if (!strcmp(s, "gpu")) return GPURENT_RECORD_GPU;
    if (!strcmp(s, "offer")) return GPURENT_RECORD_OFFER;
    if (!strcmp(s, "request")) return GPURENT_RECORD_REQUEST;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 4 || !kind_of(argv[2])) {
        fprintf(stderr, "usage: wire_tool gen|decode gpu|offer|request <seed|hex>\n");
        return 2;
    }
    int kind = kind_of(argv[2]);
    gpurent_buf out = {0};
    int rc;
    if (!strcmp(argv[1], "gen")) {
        gen_rng r = {strtoull(argv[3], NULL, 10)};
        gpurent_gpu g;
        gpurent_offer o;
        gpurent_request q;
        gpurent_offer_init(&o);
        if (kind == GPURENT_RECORD_GPU) { gen_gpu(&r, &g); rc = gpurent_gpu_encode(&g, &out); }
        else if (kind == GPURENT_RECORD_OFFER) { gen_offer(&r, &o); rc = gpurent_offer_encode(&o, &out); }
        else { gen_request(&r, &q); rc = gpurent_request_encode(&q, &out); }
        gpurent_offer_clear(&o);
        if (rc) { fprintf(stderr, "%s\n", gpurent_last_error_message()); return 1; }
        print_hex(out.data, out.len);
        printf("\n");
        gpurent_buf_free(&out);
        return 0;
    }
    size_t n = strlen(argv[3]) / 2;
    uint8_t *b = malloc(n + 1);
    for (size_t i = 0; i < n; i++) sscanf(argv[3] + 2 * i, "%2hhx", &b[i]);
    gpurent_gpu g;
    gpurent_offer o;
    gpurent_request q;
    gpurent_offer_init(&o);
    if (kind == GPURENT_RECORD_GPU) { rc = gpurent_gpu_decode(b, n, &g); if (!rc) rc = gpurent_gpu_encode(&g, &out); }
    else if (kind == GPURENT_RECORD_OFFER) { rc = gpurent_offer_decode(b, n, &o); if (!rc) rc = gpurent_offer_encode(&o, &out); }
    else { rc = gpurent_request_decode(b, n, &q); if (!rc) rc = gpurent_request_encode(&q, &out); }
    gpurent_offer_clear(&o);
    free(b);
    printf("%s", gpurent_status_name(rc));
    if (!rc) { printf(" "); print_hex(out.data, out.len); }
    else printf(" %s", gpurent_last_error_message());
    printf("\n");
    gpurent_buf_free(&out);
    return 0;
}
