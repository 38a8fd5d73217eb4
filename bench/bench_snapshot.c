/* Snapshot save and load of a tier engine of N providers (default 100 000)
 * with a 30-era window of evidence and three audit entries each, against
 * plain write()+fsync() / read() of the same number of bytes in the same
 * folder, measured beside it (median of 5).
 *
 * The plain read reads into freshly mapped memory (mmap(MAP_PRIVATE|
 * MAP_ANONYMOUS) per run, munmap after), the same for both engines: a loader
 * must populate fresh memory for what it loads, as a save is timed to the
 * disk (fsync). Reading into malloc'd memory was not consistent: an 84 MiB
 * buffer is above glibc's mmap threshold (fresh pages, faulted in while
 * read), a 22 MiB one is recycled heap (no faults at all), so the two
 * engines were measured against different baselines. That warm-heap read
 * is still printed, as a '#' line after each load's BENCH line.
 *
 *   build/bench/bench_snapshot [providers] [folder] [market_nodes]
 *
 * The engine is filled through the internal tables (the state a real run
 * of 30 eras leaves, with random counts), so the benchmark measures the
 * snapshot, not the evidence intake (bench_tier measures that).
 *
 * The market (default 100 000 nodes, 4 per provider, and as many pending
 * requests, some with lists) is filled through the public calls, then
 * saved and loaded the same way against plain I/O of the same bytes. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench_util.h"
#include "gpurent.h"
#include "tier/tier_internal.h"

#define ERA0 20000u
#define RUNS 5

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static int fill(gpurent_tier_engine *e, uint32_t np)
{
    uint8_t k[32] = {0};
    uint32_t aud[3];
    for (uint32_t j = 0; j < 3; j++) {
        k[0] = 0xA0;
        k[1] = (uint8_t)j;
        if (gr_auditor_index(e, k, &aud[j])) return 1;
    }
    if (gr_tier_reserve(e, np)) return 1;
    e->next_era = ERA0 + 30;
    for (uint32_t i = 0; i < np; i++) {
        memset(k, 0, 32);
        k[0] = 0x50;
        memcpy(k + 1, &i, 4);
        uint32_t p = gr_tier_get_or_add(e, k);
        gr_prov *pr = &e->prov[p];
        pr->first_era = ERA0;
        pr->evaluated = 1;
        pr->last_era = ERA0 + 29;
        pr->st.tier = 1 + (uint32_t)(rnd() % e->o.tier_count);
        pr->prev_tier = pr->st.tier;
        pr->rule = GPURENT_TIER_RULE_HELD;
        pr->score_ppm = (uint32_t)(rnd() % 1000001);
        pr->uptime_ppm = 990000;
        for (uint32_t s = 0; s < e->ring; s++) {
            gr_slot *sl = &e->slots[(size_t)p * e->ring + s];
            uint64_t r = rnd();
            sl->gpu_pass = (uint16_t)(20 + r % 5);
            sl->gpu_fail = (uint16_t)(r >> 8) % 3;
            sl->cpu_pass = 6;
            sl->cpu_fail = 0;
            sl->job_ok = (uint16_t)(r >> 16) % 4;
            sl->job_fail = sl->job_user = sl->unused = 0;
        }
        pr->audits = gr_calloc(3, sizeof *pr->audits);
        if (!pr->audits) return 1;
        pr->naudits = pr->audit_cap = 3;
        for (uint32_t j = 0; j < 3; j++) { /* the auditors' keys sort as their indices */
            gr_audit *a = &pr->audits[j];
            a->era = ERA0 + 27 + j;
            a->auditor = aud[j];
            a->gpu_pass = 24;
            a->gpu = a->integrity = a->security = GPURENT_CHECK_PASSED;
        }
    }
    return 0;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v)
{
    qsort(v, RUNS, sizeof *v, cmp);
    return v[RUNS / 2];
}

static int plain_write(const char *path, const uint8_t *d, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) return 1;
    for (size_t off = 0; off < n;) {
        ssize_t w = write(fd, d + off, n - off);
        if (w <= 0) return 1;
        off += (size_t)w;
    }
    int rc = fsync(fd);
    return close(fd) || rc;
}

static int plain_read(const char *path, uint8_t *d, size_t n)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) return 1;
    for (size_t off = 0; off < n;) {
        ssize_t r = read(fd, d + off, n - off);
        if (r <= 0) return 1;
        off += (size_t)r;
    }
    return close(fd);
}

/* The plain read into freshly mapped memory (the baseline of the loads). */
static int plain_read_fresh(const char *path, size_t n)
{
    void *d = mmap(NULL, n ? n : 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (d == MAP_FAILED) return 1;
    int rc = plain_read(path, d, n);
    munmap(d, n ? n : 1);
    return rc;
}

/* The plain read into malloc'd memory (recycled heap below glibc's mmap
 * threshold): the baseline before, printed as a '#' line. */
static int plain_read_heap(const char *path, size_t n)
{
    uint8_t *d = malloc(n ? n : 1);
    int rc = !d || plain_read(path, d, n);
    free(d);
    return rc;
}

static const char *const MODELS[] = {"H100 SXM5 80GB", "A100 SXM4 80GB", "RTX 4090", "L40S", "T4"};
static const char *const REGIONS[] = {"eu-west", "eu-central", "us-east", "us-west", "ap-south"};

static gpurent_market *market_fill(uint32_t nodes)
{
    uint8_t seed[32] = {1};
    gpurent_market *m = NULL;
    if (gpurent_market_new(&m, NULL, seed)) return NULL;
    gpurent_node nd[4];
    gpurent_offer o;
    for (uint32_t p = 0; p < (nodes + 3) / 4; p++) {
        gpurent_offer_init(&o);
        memset(o.provider_key, 0, 32);
        o.provider_key[0] = 0x70;
        memcpy(o.provider_key + 1, &p, 4);
        o.seq = 1;
        snprintf(o.region, sizeof o.region, "%s", REGIONS[p % 5]);
        o.stake_micro = (rnd() % 4) * 500000000000ull;
        uint32_t n = nodes - p * 4 < 4 ? nodes - p * 4 : 4;
        for (uint32_t i = 0; i < n; i++) {
            gpurent_node *x = &nd[i];
            memset(x, 0, sizeof *x);
            snprintf(x->node_id, sizeof x->node_id, "node-%u", i);
            uint32_t g = (uint32_t)(rnd() % 5);
            snprintf(x->gpu.model, sizeof x->gpu.model, "%s", MODELS[g]);
            x->gpu.cc_major = 8 + g % 2;
            x->gpu.memory_mib = 16384u << (g % 3);
            x->gpu.fp32_gflops = 20000 + 10000 * g;
            x->gpu.interface = GPURENT_IFACE_PCIE;
            x->gpu.cuda_version = 12040;
            x->gpu_count = 1u << (rnd() % 4);
            x->gpu_free = (uint32_t)(rnd() % (x->gpu_count + 1));
            x->shared = rnd() % 8 == 0;
            x->cpu_millicores = 32000;
            x->ram_mib = 256 * 1024;
            x->disk_gib = 2000;
            x->price_micro_per_gpu_hour = 500000 + 1000 * (rnd() % 2000);
            if (gpurent_offer_add_node(&o, x)) return NULL;
        }
        int rc = gpurent_market_put_offer(m, &o);
        gpurent_offer_clear(&o);
        if (rc) return NULL;
    }
    gpurent_request *q = malloc(sizeof *q);
    for (uint32_t i = 0; q && i < nodes; i++) {
        gpurent_request_init(q);
        snprintf(q->request_id, sizeof q->request_id, "req-%08u", i);
        q->gpu_count = 1u << (rnd() % 3);
        q->duration_s = 3600;
        q->min_vram_mib = rnd() % 3 == 0 ? 40000 : 0;
        if (rnd() % 5 == 0) gpurent_request_allow_region(q, REGIONS[rnd() % 5]);
        if (rnd() % 7 == 0) gpurent_request_add_model(q, MODELS[rnd() % 5]);
        q->submitted_at = 1700000000 + rnd() % 7200;
        if (gpurent_market_add_request(m, q)) return NULL;
    }
    free(q);
    return m;
}

static int bench_market(uint32_t nodes, const char *snap, const char *plain, const char *dir)
{
    gpurent_market *m = market_fill(nodes);
    if (!m) {
        fprintf(stderr, "market fill: %s\n", gpurent_last_error_message());
        return 1;
    }
    gpurent_buf b = {0};
    if (gpurent_market_save(m, 1, &b)) return 1;
    double save_t[RUNS], save_b[RUNS], load_t[RUNS], load_b[RUNS], load_h[RUNS], mem_save[RUNS], mem_load[RUNS];
    for (int r = 0; r < RUNS; r++) {
        double t = bench_now();
        if (plain_write(plain, b.data, b.len)) return 1;
        save_b[r] = bench_now() - t;
        t = bench_now();
        if (gpurent_market_save_file(m, 1, snap)) return 1;
        save_t[r] = bench_now() - t;
        t = bench_now();
        if (plain_read_fresh(plain, b.len)) return 1;
        load_b[r] = bench_now() - t;
        t = bench_now();
        if (plain_read_heap(plain, b.len)) return 1;
        load_h[r] = bench_now() - t;
        gpurent_market *l = NULL;
        t = bench_now();
        if (gpurent_market_load_file(&l, snap, NULL, NULL)) {
            fprintf(stderr, "market load: %s\n", gpurent_last_error_message());
            return 1;
        }
        load_t[r] = bench_now() - t;
        gpurent_market_free(l);
        gpurent_buf x = {0};
        t = bench_now();
        if (gpurent_market_save(m, 1, &x)) return 1;
        mem_save[r] = bench_now() - t;
        t = bench_now();
        if (gpurent_market_load(&l, x.data, x.len, NULL, NULL)) return 1;
        mem_load[r] = bench_now() - t;
        gpurent_market_free(l);
        gpurent_buf_free(&x);
    }
    gpurent_market_stats st;
    gpurent_market_stats_get(m, &st);
    printf("market: %u nodes of %u providers, %u requests, snapshot %.1f MiB, market memory %.1f MiB\n", st.nodes,
           st.providers, st.requests, b.len / 1048576.0,
           (st.node_bytes + st.request_bytes + st.other_bytes) / 1048576.0);
    printf("in memory (no file): save %.1f ms, load %.1f ms; folder %s\n", median(mem_save) * 1e3,
           median(mem_load) * 1e3, dir);
    bench_line("snapshot_market_save", median(save_t) * 1e3, "ms", "write_fsync_same_bytes", median(save_b) * 1e3);
    bench_line("snapshot_market_load", median(load_t) * 1e3, "ms", "read_fresh_same_bytes", median(load_b) * 1e3);
    printf("# snapshot_market_load against a read into warm heap (malloc, the old baseline): %.1f ms, ratio %.2f\n",
           median(load_h) * 1e3, median(load_t) / median(load_h));
    gpurent_buf_free(&b);
    gpurent_market_free(m);
    return 0;
}

int main(int argc, char **argv)
{
    uint32_t np = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 100000;
    const char *dir = argc > 2 ? argv[2] : "/tmp";
    char snap[512], plain[512];
    snprintf(snap, sizeof snap, "%s/bench_snapshot.%d.snap", dir, (int)getpid());
    snprintf(plain, sizeof plain, "%s/bench_snapshot.%d.plain", dir, (int)getpid());
    gpurent_tier_options o = GPURENT_TIER_OPTIONS_INIT;
    o.first_era = ERA0;
    gpurent_tier_engine *e = NULL;
    if (gpurent_tier_engine_new(&e, &o) || fill(e, np)) return 1;
    gpurent_buf b = {0};
    if (gpurent_tier_save(e, 1, &b)) {
        fprintf(stderr, "save: %s\n", gpurent_last_error_message());
        return 1;
    }
    double save_t[RUNS], save_b[RUNS], load_t[RUNS], load_b[RUNS], load_h[RUNS], mem_save[RUNS], mem_load[RUNS];
    for (int r = 0; r < RUNS; r++) {
        double t = bench_now();
        if (plain_write(plain, b.data, b.len)) return 1;
        save_b[r] = bench_now() - t;
        t = bench_now();
        if (gpurent_tier_save_file(e, 1, snap)) return 1;
        save_t[r] = bench_now() - t;
        t = bench_now();
        if (plain_read_fresh(plain, b.len)) return 1;
        load_b[r] = bench_now() - t;
        t = bench_now();
        if (plain_read_heap(plain, b.len)) return 1;
        load_h[r] = bench_now() - t;
        gpurent_tier_engine *l = NULL;
        t = bench_now();
        if (gpurent_tier_load_file(&l, snap, &o, NULL)) {
            fprintf(stderr, "load: %s\n", gpurent_last_error_message());
            return 1;
        }
        load_t[r] = bench_now() - t;
        gpurent_tier_engine_free(l);
        gpurent_buf m = {0};
        t = bench_now();
        if (gpurent_tier_save(e, 1, &m)) return 1;
        mem_save[r] = bench_now() - t;
        t = bench_now();
        if (gpurent_tier_load(&l, m.data, m.len, &o, NULL)) return 1;
        mem_load[r] = bench_now() - t;
        gpurent_tier_engine_free(l);
        gpurent_buf_free(&m);
    }
    const void *slots, *prov;
    size_t sb, pb;
    gr_tier_memory(e, &slots, &sb, &prov, &pb);
    size_t mem = sb + pb + (size_t)np * (32 + 3 * sizeof(gr_audit) + 8); /* + keys, audits, table */
    printf("tier engine: %u providers x %u-era window, snapshot %.1f MiB, engine memory >= %.1f MiB\n", np,
           o.window_eras, b.len / 1048576.0, mem / 1048576.0);
    printf("in memory (no file): save %.1f ms, load %.1f ms; folder %s\n", median(mem_save) * 1e3,
           median(mem_load) * 1e3, dir);
    bench_line("snapshot_tier_save", median(save_t) * 1e3, "ms", "write_fsync_same_bytes", median(save_b) * 1e3);
    bench_line("snapshot_tier_load", median(load_t) * 1e3, "ms", "read_fresh_same_bytes", median(load_b) * 1e3);
    printf("# snapshot_tier_load against a read into warm heap (malloc, the old baseline): %.1f ms, ratio %.2f\n",
           median(load_h) * 1e3, median(load_t) / median(load_h));
    gpurent_buf_free(&b);
    gpurent_tier_engine_free(e);
    uint32_t mn = argc > 3 ? (uint32_t)strtoul(argv[3], NULL, 10) : 100000;
    int rc = mn ? bench_market(mn, snap, plain, dir) : 0;
    unlink(snap);
    unlink(plain);
    return rc;
}
