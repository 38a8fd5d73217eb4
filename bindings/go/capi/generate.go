package capi

// capi.go and capi_wrap.c, the SWIG-generated part of this package, are
// not committed: they come from bindings/*.i and the C headers. Generate
// them with `make go` at the top of the source tree, or with
// `go generate ./...` in bindings/go, which runs it.
//
// Until they exist this package does not compile, and the compiler's error
// names the fix: "undefined: capi_go_is_missing__run_make_go_at_the_top_of_the_source_tree".
// (The generated capi.go defines it; lang_go.i puts it there.)

//go:generate make -C ../../.. go

var _ = capi_go_is_missing__run_make_go_at_the_top_of_the_source_tree
