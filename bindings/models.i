/* models: gpurent/models.h — the canonical GPU model table and the framework
 * build table. Entries are static data owned by the library: the bindings
 * hand out borrowed, read-only proxies (valid for the life of the process)
 * and read their lists through the index accessors (name_at, alias_at,
 * pci_at, arch_at). */

%immutable;
%ignore gpurent_model::names;
%ignore gpurent_model::aliases;
%ignore gpurent_model::pci;
%ignore gpurent_framework::archs;
%ignore gpurent_framework::aliases;

/* gpurent_model_lookup's second out-parameter is C's convenience: the
 * bindings get the kind, and the entry from gpurent_model_find(). */
%typemap(in, numinputs=0) const gpurent_model **model "$1 = NULL;"

%include <gpurent/models.h>
%mutable;
