# Go binding: SWIG wrapper, an uninstalled pkg-config file, go vet and go test.

include bindings/common.mk

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
# The probe tests load the fake CUDA driver from $GPURENT_TEST_BUILD/tests.
check-go: lib $(GO_BUILD) $(BUILD)/tests/libfakecuda.so $(BUILD)/tests/libfakecuda_iso.so
	cd $(GO_DIR) && $(GO_ENV) $(GO) vet ./...
	@rm -f $(GO_COVERAGE)
	cd $(GO_DIR) && $(GO_ENV) GPURENT_BINDINGS_COVERAGE=$(CURDIR)/$(GO_COVERAGE) GPURENT_TEST_BUILD=$(CURDIR)/$(BUILD) \
	  $(GO) test -count=1 ./...

	@bash tests/check_go_clean.sh

CHECK_EXTRA += check-go
