# Cross-checks of the attest module against implementations that are not
# ours: Go's crypto/ed25519 (tests/go-xcheck) and Python's cryptography +
# msgpack (tests/python/test_attest_xcheck.py). Both use the vector tool.
VECTOOL := $(BUILD)/tests/vectool

$(VECTOOL): tests/vectors/vectool.c tests/vectors/vecparse.h $(BUILD)/libgpurent.so
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Itests/vectors $(LDFLAGS_ALL) -o $@ $< -L$(BUILD) -lgpurent -Wl,-rpath,'$$ORIGIN/..'

# The Python suite calls the tool (check-python builds TEST_TOOLS).
TEST_TOOLS += $(VECTOOL)

CHECK_EXTRA += check-xcheck-go
.PHONY: check-xcheck-go vectors
check-xcheck-go: $(VECTOOL)
	cd tests/go-xcheck && GOFLAGS=-mod=mod GOPROXY=off GOCACHE=$(CURDIR)/build/gocache \
	  VECTOOL=$(CURDIR)/$(VECTOOL) $(GO) test -count=1 ./...

# Regenerate tests/vectors/envelopes_c.txt (commit the result).
vectors: $(VECTOOL)
	$(VECTOOL) gen > tests/vectors/envelopes_c.txt
