/* The framework build table: lookups, the compute capability rule and the
 * table's digest (docs/models.md, "Framework builds"). */
#include <sodium.h>
#include <string.h>

#include "../wire/mp_internal.h"
#include "gpurent/models.h"
#include "models_internal.h"

#include "frameworks_data.inc"

#define N_FW ((uint32_t)(sizeof framework_table / sizeof framework_table[0]))

GPURENT_API uint32_t gpurent_framework_table_version(void)
{
    return GPURENT_FRAMEWORK_TABLE_VERSION;
}

GPURENT_API uint32_t gpurent_framework_count(void)
{
    return N_FW;
}

GPURENT_API const gpurent_framework *gpurent_framework_at(uint32_t index)
{
    return index < N_FW ? &framework_table[index] : NULL;
}

/* The table is small (tens of entries): a scan normalising each name is
 * cheaper than an index, and runs once per request entering a market. */
GPURENT_API const gpurent_framework *gpurent_framework_find(const char *name)
{
    char key[ML_NORM_MAX], k2[ML_NORM_MAX];
    if (!ml_name_norm(name, key, sizeof key)) return NULL;
    for (uint32_t i = 0; i < N_FW; i++) {
        const gpurent_framework *f = &framework_table[i];
        if (ml_name_norm(f->id, k2, sizeof k2) && !strcmp(k2, key)) return f;
        for (uint32_t j = 0; j < f->alias_count; j++)
            if (ml_name_norm(f->aliases[j], k2, sizeof k2) && !strcmp(k2, key)) return f;
    }
    return NULL;
}

GPURENT_API const char *gpurent_framework_alias_at(const gpurent_framework *fw, uint32_t index)
{
    return fw && index < fw->alias_count && index < GPURENT_FRAMEWORK_MAX_ALIASES ? fw->aliases[index] : NULL;
}

GPURENT_API uint32_t gpurent_framework_arch_at(const gpurent_framework *fw, uint32_t index)
{
    return fw && index < fw->arch_count && index < GPURENT_FRAMEWORK_MAX_ARCHS ? fw->archs[index] : 0;
}

int ml_framework_supports(const gpurent_framework *fw, uint32_t cc)
{
    for (uint32_t i = 0; i < fw->arch_count && i < GPURENT_FRAMEWORK_MAX_ARCHS; i++)
        if (fw->archs[i] / 10 == cc / 10 && fw->archs[i] <= cc) return 1; /* a cubin of this major, not newer */
    return fw->ptx_cc && cc >= fw->ptx_cc;                                /* PTX compiles for any later GPU */
}

GPURENT_API int gpurent_framework_supports_cc(const gpurent_framework *fw, uint32_t cc_major, uint32_t cc_minor)
{
    if (!fw || cc_major == 0 || cc_major > 99 || cc_minor > 9) return 0;
    return ml_framework_supports(fw, cc_major * 10 + cc_minor);
}

/* [version, [[id, framework, version, cuda_version, [archs], ptx_cc, [aliases]]...]];
 * the source text stays out. */
int ml_framework_table_encode(gpurent_buf *out)
{
    gr_writer w;
    gr_wr_init(&w);
    gr_wr_array(&w, 2);
    gr_wr_uint(&w, GPURENT_FRAMEWORK_TABLE_VERSION);
    gr_wr_array(&w, N_FW);
    for (uint32_t i = 0; i < N_FW; i++) {
        const gpurent_framework *f = &framework_table[i];
        gr_wr_array(&w, 7);
        gr_wr_cstr(&w, f->id);
        gr_wr_cstr(&w, f->framework);
        gr_wr_cstr(&w, f->version);
        gr_wr_uint(&w, f->cuda_version);
        gr_wr_array(&w, f->arch_count);
        for (uint32_t j = 0; j < f->arch_count; j++) gr_wr_uint(&w, f->archs[j]);
        gr_wr_uint(&w, f->ptx_cc);
        gr_wr_array(&w, f->alias_count);
        for (uint32_t j = 0; j < f->alias_count; j++) gr_wr_cstr(&w, f->aliases[j]);
    }
    return gr_wr_finish(&w, out);
}

GPURENT_API gpurent_status gpurent_framework_table_digest(uint8_t digest[GPURENT_DIGEST_BYTES])
{
    GR_CHECK_ARG(digest, "digest is NULL");
    int rc = gr_ensure_init();
    gpurent_buf b = {NULL, 0};
    if (!rc) rc = ml_framework_table_encode(&b);
    if (rc) return rc;
    crypto_generichash(digest, GPURENT_DIGEST_BYTES, b.data, b.len, NULL, 0);
    gpurent_buf_free(&b);
    return GPURENT_OK;
}
