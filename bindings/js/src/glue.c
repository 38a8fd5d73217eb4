/* Compiled into the WebAssembly build only: the sizes and offsets of the
 * public structs as this compiler lays them out, so the JavaScript binding
 * can check (in its tests and when it loads) that its own description of
 * each struct is the C one. No rule of the library lives here. */
#include <stddef.h>
#include "gpurent.h"

/* The JavaScript side asks by index; keep in step with STRUCTS in gpurent.mjs. */
GPURENT_API size_t gpurent_js_sizeof(unsigned int which);
GPURENT_API size_t gpurent_js_sizeof(unsigned int which)
{
    static const size_t sizes[] = {
        sizeof(gpurent_gpu), sizeof(gpurent_node), sizeof(gpurent_offer), sizeof(gpurent_request),
        sizeof(gpurent_tier_cert), sizeof(gpurent_revocation), sizeof(gpurent_envelope),
        sizeof(gpurent_match_candidate), sizeof(gpurent_match_explain), sizeof(gpurent_match_receipt),
        sizeof(gpurent_match_assignment), sizeof(gpurent_match_placement), sizeof(gpurent_verify_options),
        sizeof(gpurent_match_options), sizeof(gpurent_buf), sizeof(gpurent_pv), sizeof(gpurent_pv_text),
        sizeof(gpurent_pv_uuid), sizeof(gpurent_probe_check), sizeof(gpurent_probe_device),
        sizeof(gpurent_gpu_report), sizeof(gpurent_challenge_result), sizeof(gpurent_job_result),
        sizeof(gpurent_audit_report), sizeof(gpurent_tier_level), sizeof(gpurent_tier_options),
        sizeof(gpurent_tier_era_summary), sizeof(gpurent_tier_slash), sizeof(gpurent_tier_component),
        sizeof(gpurent_tier_explanation), sizeof(gpurent_pci_id), sizeof(gpurent_model), sizeof(gpurent_framework),
        sizeof(gpurent_gpu_owner),
    };
    return which < sizeof sizes / sizeof sizes[0] ? sizes[which] : 0;
}
