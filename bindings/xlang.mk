# Cross-language checks of the bindings, wire fixtures, examples and the
# bindings benchmark. (python.mk and go.mk build and test each language.)

include bindings/common.mk

BIND_COV_PY := $(BIND_BUILD)/coverage-python.txt
FIXTURE_TOOL := $(BIND_BUILD)/wire_fixture
SCENARIO_TOOL := $(BIND_BUILD)/scenario_fixture
BIND_PY_SRC := $(wildcard $(PY_DIR)/tests/*.py $(PY_PKG)/*.py)
BIND_GO_SRC := $(wildcard $(GO_DIR)/*.go $(GO_DIR)/*/*.go $(GO_DIR)/internal/*/*.go)

$(FIXTURE_TOOL): bindings/fixtures/wire_fixture.c $(STLIB) $(PUBLIC_HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $< $(STLIB) $(DEP_LIBS)

$(SCENARIO_TOOL): bindings/fixtures/scenario_fixture.c $(STLIB) $(PUBLIC_HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $< $(STLIB) $(DEP_LIBS)

# The coverage files come from the suites; they are rerun only when stale
# (in `make check` they have just run).
$(BIND_COV_PY): $(PY_EXT) $(BIND_PY_SRC)
	$(MAKE) check-python
$(GO_COVERAGE): $(GO_WRAP) $(GO_PC) $(STLIB) $(BIND_GO_SRC)
	$(MAKE) check-go

.PHONY: check-bindings check-bindings-examples wire-fixtures scenario-fixtures bench-bindings
check-bindings: lib $(PY_WRAP) $(GO_WRAP) $(BIND_COV_PY) $(GO_COVERAGE) $(FIXTURE_TOOL) $(SCENARIO_TOOL)
	@bash tests/check_bindings.sh $(PY_WRAP) $(GO_WRAP) $(BIND_COV_PY) $(GO_COVERAGE) $(FIXTURE_TOOL) $(SCENARIO_TOOL)
	$(MAKE) check-bindings-examples check-bindings-xsign
	@bash $(PY_DIR)/check_pip.sh $(PYTHON) $(BUILD)

# Envelopes signed through one binding, verified by the other language's own
# Ed25519 (the suites leave them in $(BIND_BUILD)/xlang).
.PHONY: check-bindings-xsign
# Then signed tier certificates: each language co-signs the one the other
# signed, which it does only if its own engine computed the same bytes.
check-bindings-xsign: $(BIND_COV_PY) $(GO_COVERAGE)
	$(PYTHON) $(PY_DIR)/tests/xsign.py $(BIND_BUILD)/xlang/go-signed.txt
	cd $(GO_DIR) && $(GO_ENV) GPURENT_XSIGN_PYTHON=$(CURDIR)/$(BIND_BUILD)/xlang/python-signed.txt \
	  GPURENT_XSIGN_PYTHON_CERT=$(CURDIR)/$(BIND_BUILD)/xlang/python-tier-cert.txt \
	  $(GO) test -count=1 -v -run 'TestStdlibVerifiesWhatPythonSigned|TestGoCosignsWhatPythonSigned' .
	GPURENT_XSIGN_GO_CERT=$(CURDIR)/$(BIND_BUILD)/xlang/go-tier-cert.txt $(PYTHON) -m pytest -q -rs \
	  -p no:cacheprovider $(PY_DIR)/tests/test_gpurent_scenarios.py -k cosigns_what_go_signed

# Python and Go examples (the C ones run in check-examples).
PY_EXAMPLES := $(sort $(wildcard examples/*.py))
GO_EXAMPLES := $(sort $(dir $(wildcard examples/go/*/main.go)))
# (provider_node probes the fake CUDA driver on a machine without a GPU.)
check-bindings-examples: $(PY_EXT) $(GO_BUILD) $(BUILD)/tests/libfakecuda.so
	@set -e; for e in $(PY_EXAMPLES); do echo "== $$e"; \
	  PYTHONPATH=$(CURDIR)/$(PY_DIR) GPURENT_FAKE_CUDA=$(CURDIR)/$(BUILD)/tests/libfakecuda.so $(PYTHON) $$e > $(BIND_BUILD)/$$(basename $$e).log 2>&1 \
	  || { cat $(BIND_BUILD)/$$(basename $$e).log; exit 1; }; done
	@set -e; for e in $(GO_EXAMPLES); do echo "== $$e"; \
	  (cd examples/go && $(GO_ENV) $(GO) vet ./$$(basename $$e) && \
	   $(GO_ENV) GPURENT_FAKE_CUDA=$(CURDIR)/$(BUILD)/tests/libfakecuda.so $(GO) run ./$$(basename $$e)) \
	  > $(BIND_BUILD)/go-$$(basename $$e).log 2>&1 || { cat $(BIND_BUILD)/go-$$(basename $$e).log; exit 1; }; done

# Rewrite the expected bytes of every wire fixture from the C encoder (after
# a deliberate format change; review the diff).
wire-fixtures: $(FIXTURE_TOOL)
	@set -e; for r in tests/fixtures/wire/*.rec; do $(FIXTURE_TOOL) $$r > $${r%.rec}.hex; echo "wrote $${r%.rec}.hex"; done

# Rewrite the expected records of every scenario (tests/fixtures/scenario)
# from the C library (after a deliberate change; review the diff).
scenario-fixtures: $(SCENARIO_TOOL)
	@set -e; for s in tests/fixtures/scenario/*.scn; do $(SCENARIO_TOOL) $$s > $${s%.scn}.hex; echo "wrote $${s%.scn}.hex"; done

# Bindings overhead against C: not part of `make check`.
BENCH_BIND := bench/bench_bindings
$(BIND_BUILD)/bench_bindings_c: $(BENCH_BIND)/baseline.c $(STLIB) $(PUBLIC_HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $< $(STLIB) $(DEP_LIBS)
bench-bindings: $(PY_EXT) $(GO_BUILD) $(BIND_BUILD)/bench_bindings_c
	PYTHONPATH=$(CURDIR)/$(PY_DIR) $(PYTHON) $(BENCH_BIND)/bench.py $(CURDIR)/$(BIND_BUILD)/bench_bindings_c
	cd $(BENCH_BIND)/go && $(GO_ENV) $(GO) run . $(CURDIR)/$(BIND_BUILD)/bench_bindings_c

CHECK_EXTRA += check-bindings
