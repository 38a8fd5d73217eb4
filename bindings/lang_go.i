/* Go part of the interface: statuses, bytes, keys, strings, handles.
 * Included by gpurent.i only; every macro here has a Python twin in
 * lang_python.i. Generated with: swig -go -cgo -intgosize 64 -package capi.
 *
 * Go moves goroutines between OS threads, so the detail of a failure must be
 * read before the C wrapper returns: the wrapper packs status, name, message
 * and detail into one C string, and the Go side (newStatusError in
 * capi/status.go) turns it into a *capi.Error. */

%insert(cgo_comment_typedefs) %{
#cgo pkg-config: gpurent
#include <stdlib.h>
#include <gpurent.h>
%}

%{
/* "code\x1fname\x1fmessage\x1fdetail" for a failure, an empty string (no
 * allocation) for success. The Go side copies it and frees it. */
static _gostring_ gpurent_go_status(int st)
{
    _gostring_ r;
    r.p = NULL;
    r.n = 0;
    if (st >= 0) return r;
    const char *detail = gpurent_last_error_status() == st ? gpurent_last_error_message() : "";
    const char *name = gpurent_status_name(st), *msg = gpurent_strerror(st);
    char head[24];
    int h = snprintf(head, sizeof head, "%d", st);
    size_t nn = strlen(name), nm = strlen(msg), nd = strlen(detail);
    size_t total = (size_t)h + 1 + nn + 1 + nm + 1 + nd;
    char *p = (char *)malloc(total);
    if (!p) abort(); /* a few hundred bytes: the process cannot go on anyway */
    char *w = p;
    memcpy(w, head, (size_t)h); w += h; *w++ = '\x1f';
    memcpy(w, name, nn); w += nn; *w++ = '\x1f';
    memcpy(w, msg, nm); w += nm; *w++ = '\x1f';
    memcpy(w, detail, nd);
    r.p = p;
    r.n = (intgo)total;
    return r;
}
%}

/* `interface` is a Go keyword. */
%rename(Iface) gpurent_interface;
%rename(iface) interface;

/* ---- status: nil on success, a *capi.Error otherwise ---- */
%typemap(gotype) gpurent_status "error"
%typemap(imtype) gpurent_status "string"
%typemap(ctype) gpurent_status "_gostring_"
%typemap(out) gpurent_status %{ $result = gpurent_go_status((int)$1); %}
%typemap(goout) gpurent_status %{
	if len($1) == 0 {
		$result = nil
	} else {
		$result = newStatusError(swigTakeString($1))
	}
%}

/* ---- bytes in: a []byte is passed to C without copying (it holds no Go pointers) ---- */
%typemap(gotype) (const uint8_t *data, size_t len) "[]byte"
%typemap(imtype) (const uint8_t *data, size_t len) "[]byte"
%typemap(ctype) (const uint8_t *data, size_t len) "_goslice_"
%typemap(in) (const uint8_t *data, size_t len) %{
  $1 = ($1_ltype)$input.array;
  $2 = (size_t)$input.len;
%}

/* ---- bytes out: the library fills a gpurent_buf that lives in Go memory
 * (swigBuf has its layout and holds only integers); the Go side copies the
 * bytes into a new []byte and frees the C buffer. ---- */
%insert(go_wrapper) %{

// Referenced by generate.go (committed): a checkout without this generated
// file fails to compile with an error that names the fix.
const capi_go_is_missing__run_make_go_at_the_top_of_the_source_tree = true

// swigBuf has the layout of C's gpurent_buf (a pointer and a size_t).
type swigBuf struct {
	data unsafe.Pointer
	n    uint64
}

// swigCloneBytes copies bytes that point into C memory.
func swigCloneBytes(b []byte) []byte {
	return append([]byte(nil), b...)
}

// swigCloneString copies a string that points into C memory.
func swigCloneString(s string) string {
	return string(append([]byte(nil), s...))
}

// swigTakeString copies a string the C wrapper allocated, then frees it.
func swigTakeString(s string) string {
	out := swigCloneString(s)
	C.free(*(*unsafe.Pointer)(unsafe.Pointer(&s)))
	return out
}

// take copies a library-owned buffer into Go memory and frees it.
func (b *swigBuf) take() []byte {
	if b.data == nil {
		return []byte{}
	}
	out := make([]byte, b.n)
	copy(out, unsafe.Slice((*byte)(b.data), b.n))
	C.gpurent_buf_free((*C.gpurent_buf)(unsafe.Pointer(b)))
	return out
}
%}
%typemap(gotype) gpurent_buf *out "*[]byte"
%typemap(imtype) gpurent_buf *out "*swigBuf"
%typemap(goin) gpurent_buf *out %{ $result = new(swigBuf) %}
%typemap(in) gpurent_buf *out %{ $1 = (gpurent_buf *)$input; %}
%typemap(goargout) gpurent_buf *out %{
	if $1 != nil {
		*$1 = $input.take()
	} else {
		$input.take()
	}
%}

/* ---- fixed-size keys and digests: []byte of exactly the declared length.
 * A wrong length panics (a programming error); package gpurent checks
 * lengths first and returns an error instead. ---- */
%typemap(gotype) const uint8_t [ANY], uint8_t [ANY] "[]byte"
%typemap(imtype) const uint8_t [ANY], uint8_t [ANY] "[]byte"
%typemap(ctype) const uint8_t [ANY], uint8_t [ANY] "_goslice_"
%typemap(goin) const uint8_t [ANY], uint8_t [ANY] %{
	if len($input) != $1_dim0 {
		panic("gpurent/capi: a key or digest of the wrong length (want $1_dim0 bytes)")
	}
	$result = $input
%}
%typemap(in) const uint8_t [ANY], uint8_t [ANY] %{ $1 = ($1_ltype)$input.array; %}
%typemap(memberin) uint8_t [ANY] %{ memcpy($1, $input, $1_dim0); %}
%typemap(out) uint8_t [ANY] %{
  $result.array = (void *)$1;
  $result.len = $1_dim0;
  $result.cap = $1_dim0;
%}
%typemap(goout) uint8_t [ANY] %{
	$result = swigCloneBytes($1)
%}

/* ---- fixed-size strings in records: a string that does not fit (or holds
 * a NUL) is stored without any NUL, so validation names the field. ---- */
%typemap(gotype) char [ANY] "string"
%typemap(imtype) char [ANY] "string"
%typemap(ctype) char [ANY] "_gostring_"
%typemap(in) char [ANY] (char temp[$1_dim0]) %{
  if ((size_t)$input.n >= $1_dim0 || ($input.n > 0 && memchr($input.p, 0, (size_t)$input.n))) {
    memset(temp, 0xff, $1_dim0);
  } else {
    if ($input.n > 0) memcpy(temp, $input.p, (size_t)$input.n);
    memset(temp + $input.n, 0, $1_dim0 - (size_t)$input.n);
  }
  $1 = temp;
%}
%typemap(freearg) char [ANY] ""
%typemap(memberin) char [ANY] %{ memcpy($1, $input, $1_dim0); %}
%typemap(out) char [ANY] %{
  $result.p = $1;
  $result.n = (intgo)strnlen($1, $1_dim0);
%}
%typemap(goout) char [ANY] %{
	$result = swigCloneString($1)
%}

/* ---- C strings returned by the library: a const char * is borrowed (static,
 * or owned by a record) and copied; a plain char * is the caller's, copied
 * and released with gpurent_free(). ---- */
%typemap(gotype) const char *, char * "string"
%typemap(imtype) const char *, char * "string"
%typemap(ctype) const char *, char * "_gostring_"
%typemap(out) const char *, char * %{
  $result.p = (char *)$1;
  $result.n = $1 ? (intgo)strlen($1) : 0;
%}
%typemap(goout) const char * %{
	$result = swigCloneString($1)
%}
%typemap(goout) char * %{
	$result = swigCloneString($1)
	if p := *(*unsafe.Pointer)(unsafe.Pointer(&$1)); p != nil {
		C.gpurent_free(p)
	}
%}

/* ---- scalar outputs: uint32_t *OUTPUT is a *uint32 the call writes ---- */
%typemap(gotype) uint32_t *OUTPUT "*uint32"
%typemap(imtype) uint32_t *OUTPUT "*uint32"
%typemap(ctype) uint32_t *OUTPUT "uint32_t *"
%typemap(in) uint32_t *OUTPUT %{ $1 = $input; %}

/* uint64_t *OUTPUT (a snapshot's input sequence) is a *uint64. */
%typemap(gotype) uint64_t *OUTPUT "*uint64"
%typemap(imtype) uint64_t *OUTPUT "*uint64"
%typemap(ctype) uint64_t *OUTPUT "uint64_t *"
%typemap(in) uint64_t *OUTPUT %{ $1 = (uint64_t *)$input; %}

/* ---- handles: gpurent_x_new(TYPE **out, ...) writes the pointer into a
 * *uintptr; package gpurent wraps it in a type with Close() and a finalizer. ---- */
%define %gpurent_handle(TYPE)
%nodefaultctor TYPE;
%nodefaultdtor TYPE;
struct TYPE {};
%typemap(gotype) TYPE **out "*uintptr"
%typemap(imtype) TYPE **out "*uintptr"
%typemap(ctype) TYPE **out "TYPE **"
%typemap(in) TYPE **out %{ $1 = $input; %}
%enddef

/* ---- long calls: nothing to do in Go (cgo calls never hold other goroutines) ---- */
%define %gpurent_long_call(FUNC)
%enddef

/* ---- lists of envelopes: (const uint8_t *const *envelopes, const size_t
 * *lens, size_t n) takes a [][]byte. cgo may not pass a slice of slices
 * (Go pointers to Go pointers), so the Go side packs it into one []byte:
 * count, then each length (8 bytes each, native order), then the bytes. The
 * C side points into that buffer (no copy) while the call runs. ---- */
%insert(go_wrapper) %{

// swigPackByteSlices lays out [][]byte for the C wrapper (see lang_go.i).
func swigPackByteSlices(in [][]byte) []byte {
	total := 8 * (1 + len(in))
	for _, b := range in {
		total += len(b)
	}
	out := make([]byte, 8*(1+len(in)), total)
	*(*uint64)(unsafe.Pointer(&out[0])) = uint64(len(in))
	for i, b := range in {
		*(*uint64)(unsafe.Pointer(&out[8*(1+i)])) = uint64(len(b))
	}
	for _, b := range in {
		out = append(out, b...)
	}
	return out
}
%}
%typemap(gotype) (const uint8_t *const *envelopes, const size_t *lens, size_t n) "[][]byte"
%typemap(imtype) (const uint8_t *const *envelopes, const size_t *lens, size_t n) "[]byte"
%typemap(ctype) (const uint8_t *const *envelopes, const size_t *lens, size_t n) "_goslice_"
%typemap(goin) (const uint8_t *const *envelopes, const size_t *lens, size_t n) %{
	$result = swigPackByteSlices($input)
%}
%typemap(in) (const uint8_t *const *envelopes, const size_t *lens, size_t n)
    (const uint8_t **ptrs = NULL, size_t *lens = NULL) %{
  {
    const uint8_t *packed = (const uint8_t *)$input.array;
    uint64_t count = 0;
    memcpy(&count, packed, 8);
    ptrs = (const uint8_t **)calloc((size_t)count + 1, sizeof(uint8_t *));
    lens = (size_t *)calloc((size_t)count + 1, sizeof(size_t));
    if (!ptrs || !lens) abort(); /* as the status string: nothing sane to do */
    size_t off = 8 * ((size_t)count + 1);
    for (uint64_t i = 0; i < count; i++) {
      uint64_t l = 0;
      memcpy(&l, packed + 8 * (i + 1), 8);
      ptrs[i] = packed + off;
      lens[i] = (size_t)l;
      off += (size_t)l;
    }
    $1 = ($1_ltype)ptrs;
    $2 = lens;
    $3 = (size_t)count;
  }
%}
%typemap(freearg) (const uint8_t *const *envelopes, const size_t *lens, size_t n) %{
  free((void *)ptrs$argnum);
  free(lens$argnum);
%}

/* ---- one status per input: int32_t *statuses is a []int32 the caller
 * sizes (package gpurent does); a shorter one limits the count (argument
 * NARG of the C function), so C never writes past it. ---- */
%define %gpurent_statuses_out(NARG)
%typemap(gotype) int32_t *statuses "[]int32"
%typemap(imtype) int32_t *statuses "[]int32"
%typemap(ctype) int32_t *statuses "_goslice_"
%typemap(in) int32_t *statuses %{
  $1 = (int32_t *)$input.array;
  if ((size_t)$input.len < arg ## NARG) arg ## NARG = (size_t)$input.len;
%}
%enddef

/* ---- borrowed bytes: `const uint8_t *FUNC(..., size_t *len)` returns a
 * pointer the library owns; Go gets a copy. LENARG is the position of `len`;
 * %clear size_t *len after the header. ---- */
%define %gpurent_borrowed_bytes(FUNC, LENARG)
%typemap(in, numinputs=0) size_t *len (size_t borrowed = 0) %{
  $1 = &borrowed;
%}
%typemap(gotype) const uint8_t *FUNC "[]byte"
%typemap(imtype) const uint8_t *FUNC "[]byte"
%typemap(ctype) const uint8_t *FUNC "_goslice_"
%typemap(out) const uint8_t *FUNC %{
  $result.array = (void *)$1;
  $result.len = $1 ? (intgo)*arg ## LENARG : 0;
  $result.cap = $result.len;
%}
%typemap(goout) const uint8_t *FUNC %{
	$result = swigCloneBytes($1)
%}
%enddef

/* ---- bytes in under other parameter names: %gpurent_bytes_in(const uint8_t
 * *envelope, size_t len) gives (envelope, len) the (data, len) typemaps. ---- */
%define %gpurent_bytes_in(PTR, LEN)
%typemap(gotype) (PTR, LEN) "[]byte"
%typemap(imtype) (PTR, LEN) "[]byte"
%typemap(ctype) (PTR, LEN) "_goslice_"
%typemap(in) (PTR, LEN) %{
  $1 = ($1_ltype)$input.array;
  $2 = (size_t)$input.len;
%}
%enddef

/* ---- output keys: a []byte of the right length the call fills ---- */
%apply uint8_t [ANY] { uint8_t key_out[ANY] };

/* ---- an optional key (NULL allowed): nil/empty or exactly the length ---- */
%define %gpurent_optional_key(NAME)
%typemap(goin) const uint8_t NAME[ANY] %{
	if len($input) != 0 && len($input) != $1_dim0 {
		panic("gpurent/capi: a key of the wrong length (want $1_dim0 bytes or none)")
	}
	$result = $input
%}
%typemap(in) const uint8_t NAME[ANY] %{ $1 = $input.len ? ($1_ltype)$input.array : NULL; %}
%enddef
