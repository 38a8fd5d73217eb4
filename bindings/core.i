/* core: gpurent/common.h, status.h, version.h.
 * Everything here is reachable from Python as gpurent.capi.<name> and from
 * Go as capi.<Name>; the hand-written layers build on it. */

/* The cancel token is an opaque handle: capi.cancel_new() returns it, the
 * language layer owns it (gpurent.Cancel / gpurent.Cancel in Go). */
%gpurent_handle(gpurent_cancel)

/* Only the version constants are useful at run time; the string-building
 * macros are C preprocessor plumbing. */
%ignore GPURENT_VERSION_STRING;

%include <gpurent/version.h>
%include <gpurent/status.h>
%include <gpurent/common.h>
