# Go binding: SWIG wrapper, an uninstalled pkg-config file, go vet and go test.

GO_DIR := bindings/go
GO_CAPI := $(GO_DIR)/capi
GO_WRAP := $(GO_CAPI)/capi_wrap.c
GO_IFACES := $(filter-out $(BIND_DIR)/lang_python.i,$(wildcard $(BIND_DIR)/*.i))
BIND_BUILD := $(BUILD)/bindings
GO_PC := $(BIND_BUILD)/pkgconfig/gpurent.pc
# The Go module has no dependencies: never reach for a proxy.
GO_ENV := PKG_CONFIG_PATH=$(CURDIR)/$(BIND_BUILD)/pkgconfig GOPROXY=off GOFLAGS=-mod=mod CGO_ENABLED=1
GO_COVERAGE := $(BIND_BUILD)/coverage-go.txt

$(GO_WRAP): $(GO_IFACES) $(PUBLIC_HEADERS)
	$(SWIG) -go -cgo -intgosize 64 -package capi -Iinclude -I$(BIND_DIR) -o $@ -outdir $(GO_CAPI) $(BIND_DIR)/gpurent.i

# pkg-config file for the library in this build directory (rpath included,
# so test binaries find it without LD_LIBRARY_PATH).
$(GO_PC): pkgconfig/gpurent.pc.in $(VERSION_H)
	@mkdir -p $(dir $@)
	sed -e 's|@PREFIX@|$(CURDIR)|' -e 's|@LIBDIR@|$(CURDIR)/$(BUILD)|' -e 's|@INCLUDEDIR@|$(CURDIR)/include|' \
	    -e 's|@VERSION@|$(VERSION)|' -e 's|@MSGPACK_PC@|$(MSGPACK_PC)|' \
	    -e 's|^Libs: .*|Libs: -L$${libdir} -Wl,-rpath,$${libdir} -lgpurent|' $< > $@

GO_BUILD += $(GO_WRAP) $(GO_PC)

.PHONY: go check-go
go: lib $(GO_BUILD)
	cd $(GO_DIR) && $(GO_ENV) $(GO) build ./...

# go test -count=1: results must not come from the cache (coverage is
# recorded by the C wrappers while the tests run).
check-go: lib $(GO_BUILD)
	cd $(GO_DIR) && $(GO_ENV) $(GO) vet ./...
	@rm -f $(GO_COVERAGE)
	cd $(GO_DIR) && $(GO_ENV) GPURENT_BINDINGS_COVERAGE=$(CURDIR)/$(GO_COVERAGE) $(GO) test -count=1 ./...

CHECK_EXTRA += check-go
