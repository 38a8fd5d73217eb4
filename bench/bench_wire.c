/* Wire codec speed: our strict decoder (canonical checks, validation, typed
 * output) against msgpack-c's permissive unpacker on the same bytes, and our
 * encoder against msgpack-c packing the same values into a fresh buffer. */
#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "gpurent.h"
#include "support/gen.h"

#define N 2000

int main(void)
{
    gpurent_init();
    gen_rng r = {1};
    gpurent_offer *offers = calloc(N, sizeof *offers);
    gpurent_buf *enc = calloc(N, sizeof *enc);
    size_t bytes = 0;
    for (int i = 0; i < N; i++) {
        gpurent_offer_init(&offers[i]);
        gen_offer(&r, &offers[i]);
        if (gpurent_offer_encode(&offers[i], &enc[i])) return 1;
        bytes += enc[i].len;
    }
    int reps = 20;
    /* Baseline: msgpack-c unpacks the same bytes into its object tree. */
    double t0 = bench_now();
    for (int k = 0; k < reps; k++)
        for (int i = 0; i < N; i++) {
            msgpack_unpacked u;
            msgpack_unpacked_init(&u);
            size_t off = 0;
            if (msgpack_unpack_next(&u, (const char *)enc[i].data, enc[i].len, &off) != MSGPACK_UNPACK_SUCCESS) return 1;
            msgpack_unpacked_destroy(&u);
        }
    double base = (double)bytes * reps / (bench_now() - t0) / 1e6;
    t0 = bench_now();
    for (int k = 0; k < reps; k++)
        for (int i = 0; i < N; i++) {
            gpurent_offer o;
            gpurent_offer_init(&o);
            if (gpurent_offer_decode(enc[i].data, enc[i].len, &o)) return 1;
            gpurent_offer_clear(&o);
        }
    double ours = (double)bytes * reps / (bench_now() - t0) / 1e6;
    printf("offers: %d records, %zu bytes in all (mean %zu)\n", N, bytes, bytes / N);
    bench_line("wire_offer_decode", ours, "MB/s", "msgpack_c_unpack", base);

    /* Encode: ours (validate + canonical pack). */
    t0 = bench_now();
    for (int k = 0; k < reps; k++)
        for (int i = 0; i < N; i++) {
            gpurent_buf b = {0};
            if (gpurent_offer_encode(&offers[i], &b)) return 1;
            gpurent_buf_free(&b);
        }
    double enc_rate = (double)bytes * reps / (bench_now() - t0) / 1e6;
    /* Baseline: msgpack-c packs the same values (its object tree) into a
     * fresh buffer, with no validation. */
    msgpack_unpacked *trees = calloc(N, sizeof *trees);
    for (int i = 0; i < N; i++) {
        size_t off = 0;
        msgpack_unpacked_init(&trees[i]);
        msgpack_unpack_next(&trees[i], (const char *)enc[i].data, enc[i].len, &off);
    }
    t0 = bench_now();
    for (int k = 0; k < reps; k++)
        for (int i = 0; i < N; i++) {
            msgpack_sbuffer sb;
            msgpack_packer pk;
            msgpack_sbuffer_init(&sb);
            msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
            msgpack_pack_object(&pk, trees[i].data);
            msgpack_sbuffer_destroy(&sb);
        }
    double copy = (double)bytes * reps / (bench_now() - t0) / 1e6;
    for (int i = 0; i < N; i++) msgpack_unpacked_destroy(&trees[i]);
    free(trees);
    bench_line("wire_offer_encode", enc_rate, "MB/s", "msgpack_c_pack_object", copy);
    for (int i = 0; i < N; i++) {
        gpurent_offer_clear(&offers[i]);
        gpurent_buf_free(&enc[i]);
    }
    free(offers);
    free(enc);
    return 0;
}
