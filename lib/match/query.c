/* Single-request queries: the best k placements with their breakdowns. */
#include <string.h>

#include "match_internal.h"

GPURENT_API gpurent_status gpurent_market_best(const gpurent_market *m, const gpurent_request *req, uint32_t k,
                                               gpurent_match_candidate *out, uint32_t *count)
{
    GR_CHECK_ARG(m && req && out && count, "market, request, out or count is NULL");
    *count = 0;
    if (k == 0 || k > GPURENT_MATCH_MAX_K)
        return gr_fail(GPURENT_E_INVALID_ARG, "k: %u, allowed 1..%u", k, GPURENT_MATCH_MAX_K);
    int rc = gpurent_request_validate(req);
    if (rc) return rc;
    mreq q;
    if ((rc = ml_req_prepare(m, req, &q, 0))) return rc;
    msearch s;
    memset(&s, 0, sizeof s);
    rc = ml_search(&s, m, &q, k, ml_strand_min(m));
    if (!rc) {
        for (uint32_t i = 0; i < s.found; i++) ml_fill_candidate(&s, &s.top[i], &out[i]);
        *count = s.found;
    }
    ml_search_free(&s);
    ml_req_release(&q);
    return rc;
}
