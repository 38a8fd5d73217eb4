/* The README's ten-line example: build a request, encode it canonically,
 * decode it back. Build: cc quickstart.c $(pkg-config --cflags --libs gpurent) */
#include <gpurent.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
    gpurent_request req, back;
    gpurent_buf bytes = {0};
    gpurent_request_init(&req);
    strcpy(req.request_id, "train-llama");
    req.gpu_count = 8;                                /* 8 GPUs on one node */
    req.min_vram_mib = 80 * 1024;                     /* at least 80 GiB each */
    req.max_price_micro_per_gpu_hour = 2500000;       /* 2.50 per GPU-hour */
    gpurent_request_allow_region(&req, "eu-west");
    if (gpurent_request_encode(&req, &bytes) != GPURENT_OK ||
        gpurent_request_decode(bytes.data, bytes.len, &back) != GPURENT_OK) {
        fprintf(stderr, "gpurent: %s\n", gpurent_last_error_message());
        return 1;
    }
    printf("request %s: %zu canonical bytes, %u GPUs in %s\n", back.request_id, bytes.len,
           back.gpu_count, back.regions[0]);
    gpurent_buf_free(&bytes);
    return 0;
}
