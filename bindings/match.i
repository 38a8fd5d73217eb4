/* match: gpurent/match.h — the market (offers, requests, leases), single-
 * request top-k, batch matching into a receipt (the receipt record is in
 * wire.i), explanations. */

%gpurent_handle(gpurent_market)

%apply uint32_t *OUTPUT { uint32_t *count };

/* `from` is a Python keyword. */
%rename(from_value) gpurent_match_relaxation::from;
%rename(to_value) gpurent_match_relaxation::to;

/* Arrays inside the explanation: index accessors (borrowed pointers, valid
 * while the explanation lives). */
%ignore gpurent_match_explain::eliminated;
%ignore gpurent_match_explain::eliminated_only;
%ignore gpurent_match_explain::misses;
%ignore gpurent_match_explain::relax;
%ignore gpurent_match_explain::candidates;
%ignore gpurent_match_explain::unknown_models;
%extend gpurent_match_explain {
    /* Request model i the model table does not know ("" out of range). */
    const char *unknown_model_at(uint32_t i) const {
        return i < $self->unknown_model_count && i < GPURENT_REQUEST_MAX_LIST ? $self->unknown_models[i] : "";
    }
    /* Nodes failing constraint c (0 out of range). */
    uint32_t eliminated_at(uint32_t c) const {
        return c < GPURENT_MC_COUNT ? $self->eliminated[c] : 0;
    }
    /* Nodes failing constraint c alone (0 out of range). */
    uint32_t eliminated_only_at(uint32_t c) const {
        return c < GPURENT_MC_COUNT ? $self->eliminated_only[c] : 0;
    }
    /* Near miss i, relaxation i, candidate i (NULL out of range). */
    const gpurent_match_miss *miss_at(uint32_t i) const {
        return i < $self->miss_count && i < GPURENT_MATCH_MAX_MISSES ? &$self->misses[i] : NULL;
    }
    const gpurent_match_relaxation *relax_at(uint32_t i) const {
        return i < $self->relax_count && i < GPURENT_MATCH_MAX_RELAX ? &$self->relax[i] : NULL;
    }
    const gpurent_match_candidate *candidate_at(uint32_t i) const {
        return i < $self->candidate_count && i < GPURENT_MATCH_MAX_CANDIDATES ? &$self->candidates[i] : NULL;
    }
}

/* Top-k output: a C array of candidates sized by the caller (k), read back
 * with getitem / ref. */
%include <carrays.i>
%array_class(gpurent_match_candidate, match_candidate_array)
%extend match_candidate_array {
    /* Borrowed pointer to item i (no copy). */
    const gpurent_match_candidate *ref(size_t i) const { return &$self[i]; }
}

/* A batch over the whole market, a full scan, re-scoring every node. */
%gpurent_long_call(gpurent_market_match)
%gpurent_long_call(gpurent_market_explain)
%gpurent_long_call(gpurent_market_best)
%gpurent_long_call(gpurent_market_set_options)

/* Snapshots: the stored input sequence comes back (Python int, Go *uint64);
 * saving and loading large markets release the GIL. */
%apply uint64_t *OUTPUT { uint64_t *input_seq };
%gpurent_long_call(gpurent_market_save)
%gpurent_long_call(gpurent_market_load)
%gpurent_long_call(gpurent_market_save_file)
%gpurent_long_call(gpurent_market_load_file)

%include <gpurent/match.h>
