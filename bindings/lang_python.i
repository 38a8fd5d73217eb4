/* Python part of the interface: statuses, bytes, keys, strings, handles.
 * Included by gpurent.i only; every macro here has a Go twin in lang_go.i. */

%{
/* Raise the exception for a failed call. Runs in the C wrapper right after
 * the call, on the same thread and with the GIL held again, so the
 * per-thread detail belongs to this call. The classes live in
 * gpurent/errors.py; errors._from_status picks one for the status. */
static PyObject *gpurent_py_errors;

static void gpurent_py_raise(int st)
{
    const char *detail = gpurent_last_error_status() == st ? gpurent_last_error_message() : "";
    if (!gpurent_py_errors && !(gpurent_py_errors = PyImport_ImportModule("gpurent.errors"))) return;
    PyObject *d = PyUnicode_DecodeUTF8(detail, (Py_ssize_t)strlen(detail), "replace");
    if (!d) return;
    PyObject *exc = PyObject_CallMethod(gpurent_py_errors, "_from_status", "issN", st, gpurent_status_name(st),
                                        gpurent_strerror(st), d);
    if (!exc) return;
    PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
    Py_DECREF(exc);
}
%}

/* ---- status: None on success, an exception of the status's class otherwise ---- */
%typemap(out) gpurent_status {
  if ((int)$1 < 0) {
    gpurent_py_raise((int)$1);
    SWIG_fail;
  }
  $result = SWIG_Py_Void();
}

/* ---- bytes in: anything with the buffer protocol (bytes, bytearray, memoryview) ---- */
%typemap(in) (const uint8_t *data, size_t len) (Py_buffer view = {0}) {
  if (PyObject_GetBuffer($input, &view, PyBUF_SIMPLE) != 0) SWIG_fail;
  $1 = ($1_ltype)view.buf;
  $2 = (size_t)view.len;
}
%typemap(freearg) (const uint8_t *data, size_t len) {
  if (view$argnum.obj) PyBuffer_Release(&view$argnum);
}
%typemap(typecheck, precedence=SWIG_TYPECHECK_STRING) (const uint8_t *data, size_t len) {
  $1 = PyObject_CheckBuffer($input) ? 1 : 0;
}

/* ---- bytes out: a gpurent_buf filled by the library becomes bytes, then is freed ---- */
%typemap(in, numinputs=0) gpurent_buf *out (gpurent_buf tmp = {0}) {
  $1 = &tmp;
}
%typemap(argout) gpurent_buf *out {
  PyObject *o = PyBytes_FromStringAndSize((const char *)tmp$argnum.data, (Py_ssize_t)tmp$argnum.len);
  gpurent_buf_free(&tmp$argnum);
  if (!o) SWIG_fail;
  $result = SWIG_Python_AppendOutput($result, o);
}
%typemap(freearg) gpurent_buf *out {
  gpurent_buf_free(&tmp$argnum);
}

/* ---- fixed-size keys and digests: bytes of exactly the declared length ---- */
%typemap(in) const uint8_t [ANY] (Py_buffer view = {0}), uint8_t [ANY] (Py_buffer view = {0}) {
  if (PyObject_GetBuffer($input, &view, PyBUF_SIMPLE) != 0) SWIG_fail;
  if (view.len != $1_dim0) {
    PyErr_Format(PyExc_ValueError, "$symname: expected %d bytes, got %zd", (int)$1_dim0, view.len);
    SWIG_fail;
  }
  $1 = ($1_ltype)view.buf;
}
%typemap(freearg) const uint8_t [ANY], uint8_t [ANY] {
  if (view$argnum.obj) PyBuffer_Release(&view$argnum);
}
%typemap(memberin) uint8_t [ANY] {
  memcpy($1, $input, $1_dim0);
}
%typemap(out) uint8_t [ANY] {
  $result = PyBytes_FromStringAndSize((const char *)$1, $1_dim0);
}

/* An output key (uint8_t key_out[32]) is returned as bytes. */
%typemap(in, numinputs=0) uint8_t key_out[ANY] (uint8_t temp[$1_dim0]) {
  memset(temp, 0, sizeof temp);
  $1 = temp;
}
%typemap(argout) uint8_t key_out[ANY] {
  $result = SWIG_Python_AppendOutput($result, PyBytes_FromStringAndSize((const char *)temp$argnum, $1_dim0));
}
%typemap(freearg) uint8_t key_out[ANY] ""

/* ---- fixed-size strings in records: a str that does not fit (or holds a
 * NUL) is stored without any NUL, so validation refuses it and names the
 * field, as in Go. ---- */
%typemap(in) char [ANY] (char temp[$1_dim0]) {
  Py_ssize_t n = 0;
  const char *s = PyUnicode_Check($input) ? PyUnicode_AsUTF8AndSize($input, &n) : NULL;
  if (!s) {
    if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "$symname: expected str");
    SWIG_fail;
  }
  if ((size_t)n >= $1_dim0 || memchr(s, 0, (size_t)n)) {
    memset(temp, 0xff, $1_dim0);
  } else {
    memcpy(temp, s, (size_t)n);
    memset(temp + n, 0, $1_dim0 - (size_t)n);
  }
  $1 = temp;
}
%typemap(freearg) char [ANY] ""
%typemap(memberin) char [ANY] {
  memcpy($1, $input, $1_dim0);
}
%typemap(out) char [ANY] {
  $result = PyUnicode_DecodeUTF8($1, (Py_ssize_t)strnlen($1, $1_dim0), "replace");
}

/* ---- C strings returned by the library: a const char * is borrowed (static
 * or owned by a record) and copied into a str; a plain char * belongs to the
 * caller: copied, then released with gpurent_free(). ---- */
%typemap(out) char * {
  $result = $1 ? PyUnicode_DecodeUTF8($1, (Py_ssize_t)strlen($1), "replace") : SWIG_Py_Void();
  gpurent_free($1);
  if (!$result) SWIG_fail;
}

/* ---- scalar outputs: uint32_t *OUTPUT becomes a returned int ---- */
%typemap(in, numinputs=0) uint32_t *OUTPUT (uint32_t temp = 0) {
  $1 = &temp;
}
%typemap(argout) uint32_t *OUTPUT {
  $result = SWIG_Python_AppendOutput($result, PyLong_FromUnsignedLong((unsigned long)temp$argnum));
}

/* uint64_t *OUTPUT (a snapshot's input sequence) the same way. */
%typemap(in, numinputs=0) uint64_t *OUTPUT (uint64_t temp = 0) {
  $1 = &temp;
}
%typemap(argout) uint64_t *OUTPUT {
  $result = SWIG_Python_AppendOutput($result, PyLong_FromUnsignedLongLong((unsigned long long)temp$argnum));
}

/* ---- handles: gpurent_x_new(TYPE **out, ...) returns the new pointer ----
 * The pointer is not owned by the SWIG object; the hand-written class in
 * gpurent/ (a _Handle subclass) owns it and frees it on close(). */
%define %gpurent_handle(TYPE)
%nodefaultctor TYPE;
%nodefaultdtor TYPE;
struct TYPE {};
%typemap(in, numinputs=0) TYPE **out (TYPE *tmp = NULL) {
  $1 = &tmp;
}
%typemap(argout) TYPE **out {
  $result = SWIG_Python_AppendOutput($result, SWIG_NewPointerObj(tmp$argnum, $descriptor(TYPE *), 0));
}
%enddef

/* ---- long calls release the GIL ---- */
%define %gpurent_long_call(FUNC)
%thread FUNC;
%enddef

/* ---- lists of envelopes: (const uint8_t *const *envelopes, const size_t
 * *lens, size_t n) takes a sequence of bytes-like objects (no copies; the
 * buffers are held until the call returns). ---- */
%typemap(in) (const uint8_t *const *envelopes, const size_t *lens, size_t n)
    (Py_buffer *views = NULL, Py_ssize_t nviews = 0, PyObject *seq = NULL, const uint8_t **ptrs = NULL,
     size_t *lens = NULL) {
  seq = PySequence_Fast($input, "$symname: expected a sequence of bytes-like objects");
  if (!seq) SWIG_fail;
  Py_ssize_t count = PySequence_Fast_GET_SIZE(seq);
  views = (Py_buffer *)calloc((size_t)count + 1, sizeof(Py_buffer));
  ptrs = (const uint8_t **)calloc((size_t)count + 1, sizeof(uint8_t *));
  lens = (size_t *)calloc((size_t)count + 1, sizeof(size_t));
  if (!views || !ptrs || !lens) {
    PyErr_NoMemory();
    SWIG_fail;
  }
  for (Py_ssize_t i = 0; i < count; i++) {
    if (PyObject_GetBuffer(PySequence_Fast_GET_ITEM(seq, i), &views[i], PyBUF_SIMPLE) != 0) SWIG_fail;
    nviews = i + 1;
    ptrs[i] = (const uint8_t *)views[i].buf;
    lens[i] = (size_t)views[i].len;
  }
  $1 = ($1_ltype)ptrs;
  $2 = lens;
  $3 = (size_t)count;
}
%typemap(freearg) (const uint8_t *const *envelopes, const size_t *lens, size_t n) {
  for (Py_ssize_t i = 0; i < nviews$argnum; i++) PyBuffer_Release(&views$argnum[i]);
  free(views$argnum);
  free((void *)ptrs$argnum);
  free(lens$argnum);
  Py_XDECREF(seq$argnum);
}

/* ---- one status per input: int32_t *statuses becomes a returned list of
 * ints. NARG is the position of the count (size_t n) in the C function;
 * apply before %include-ing the header, %clear after. ---- */
%define %gpurent_statuses_out(NARG)
%typemap(in, numinputs=0) int32_t *statuses (int32_t *st = NULL) {
  $1 = NULL;
}
/* Sized once every input is converted (numinputs=0 typemaps run first). */
%typemap(check) int32_t *statuses {
  st$argnum = (int32_t *)calloc(arg ## NARG ? arg ## NARG : 1, sizeof(int32_t));
  if (!st$argnum) {
    PyErr_NoMemory();
    SWIG_fail;
  }
  $1 = st$argnum;
}
%typemap(argout) int32_t *statuses {
  PyObject *list = PyList_New((Py_ssize_t)arg ## NARG);
  if (!list) SWIG_fail;
  for (size_t i = 0; i < arg ## NARG; i++) PyList_SET_ITEM(list, (Py_ssize_t)i, PyLong_FromLong(st$argnum[i]));
  $result = SWIG_Python_AppendOutput($result, list);
}
%typemap(freearg) int32_t *statuses {
  free(st$argnum);
}
%enddef

/* ---- borrowed bytes: `const uint8_t *FUNC(..., size_t *len)` returns a
 * pointer the library owns; the binding copies it into bytes. LENARG is the
 * position of `len`; %clear size_t *len after the header. ---- */
%define %gpurent_borrowed_bytes(FUNC, LENARG)
%typemap(in, numinputs=0) size_t *len (size_t borrowed = 0) {
  $1 = &borrowed;
}
%typemap(out) const uint8_t *FUNC {
  $result = PyBytes_FromStringAndSize($1 ? (const char *)$1 : "", $1 ? (Py_ssize_t)*arg ## LENARG : 0);
  if (!$result) SWIG_fail;
}
%enddef

/* ---- bytes in under other parameter names: %gpurent_bytes_in(const uint8_t
 * *envelope, size_t len) gives (envelope, len) the (data, len) typemaps. ---- */
%define %gpurent_bytes_in(PTR, LEN)
%typemap(in) (PTR, LEN) = (const uint8_t *data, size_t len);
%typemap(freearg) (PTR, LEN) = (const uint8_t *data, size_t len);
%typemap(typecheck) (PTR, LEN) = (const uint8_t *data, size_t len);
%enddef

/* ---- an optional key (NULL allowed): None or bytes of exactly the length ---- */
%define %gpurent_optional_key(NAME)
%typemap(in) const uint8_t NAME[ANY] (Py_buffer view = {0}) {
  if ($input == Py_None) {
    $1 = NULL;
  } else {
    if (PyObject_GetBuffer($input, &view, PyBUF_SIMPLE) != 0) SWIG_fail;
    if (view.len != $1_dim0) {
      PyErr_Format(PyExc_ValueError, "$symname: expected %d bytes or None, got %zd", (int)$1_dim0, view.len);
      SWIG_fail;
    }
    $1 = ($1_ltype)view.buf;
  }
}
%enddef
