# The fake CUDA driver (tests/fakecuda/): three builds of one source, loaded
# by tests/test_probe.c and examples through GPURENT_CUDA_LIBRARY.
FAKECUDA_SRC := tests/fakecuda/fakecuda.c
# Included before the Makefile names its first target: keep `all` the default.
.DEFAULT_GOAL := all

FAKECUDA_DEPS := $(FAKECUDA_SRC) tests/fakecuda/machines.h
FAKECUDA_LIBS := $(BUILD)/tests/libfakecuda.so $(BUILD)/tests/libfakecuda_old.so $(BUILD)/tests/libfakecuda_ancient.so \
                 $(BUILD)/tests/libfakecuda_iso.so $(BUILD)/tests/libfakecuda_ctorhang.so
FAKECUDA_CFLAGS := $(filter-out -Wmissing-prototypes,$(CFLAGS_ALL)) -fPIC -shared -fvisibility=hidden

$(BUILD)/tests/libfakecuda.so: $(FAKECUDA_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(FAKECUDA_CFLAGS) $(LDFLAGS_ALL) -o $@ $(FAKECUDA_SRC) -lm -lpthread
$(BUILD)/tests/libfakecuda_old.so: $(FAKECUDA_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(FAKECUDA_CFLAGS) -DFAKE_OLD $(LDFLAGS_ALL) -o $@ $(FAKECUDA_SRC) -lm -lpthread
$(BUILD)/tests/libfakecuda_ancient.so: $(FAKECUDA_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(FAKECUDA_CFLAGS) -DFAKE_OLD -DFAKE_ANCIENT $(LDFLAGS_ALL) -o $@ $(FAKECUDA_SRC) -lm -lpthread
# A second copy: the probe suite loads it only in helper processes (a driver
# its own process initialised cannot be probed after a fork).
$(BUILD)/tests/libfakecuda_iso.so: $(FAKECUDA_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(FAKECUDA_CFLAGS) $(LDFLAGS_ALL) -o $@ $(FAKECUDA_SRC) -lm -lpthread
# A driver whose constructor hangs (dlopen does not return for a while).
$(BUILD)/tests/libfakecuda_ctorhang.so: $(FAKECUDA_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(FAKECUDA_CFLAGS) -DFAKE_CTOR_HANG $(LDFLAGS_ALL) -o $@ $(FAKECUDA_SRC) -lm -lpthread

# The probe suite and the examples need the fakes built.
$(BUILD)/tests/test_probe: $(FAKECUDA_LIBS)
tests: $(FAKECUDA_LIBS)
examples: $(FAKECUDA_LIBS)

# The probe suite checks lib/probe/cuda_min.h against the toolkit's cuda.h
# and assembles the embedded PTX with ptxas, where they exist.
CUDA_HOME ?= /usr/local/cuda
PROBE_TEST_FLAGS := $(if $(wildcard $(CUDA_HOME)/include/cuda.h),-DGR_HAVE_CUDA_H -isystem $(CUDA_HOME)/include) \
                    $(if $(wildcard $(CUDA_HOME)/bin/ptxas),-DGR_PTXAS='"$(CUDA_HOME)/bin/ptxas"') \
                    $(if $(wildcard $(CUDA_HOME)/lib64/stubs/libcuda.so),-DGR_CUDA_STUB='"$(CUDA_HOME)/lib64/stubs/libcuda.so"')
# (TEST_LIBS is expanded in the link recipe; CFLAGS_ALL was fixed earlier.)
$(BUILD)/tests/test_probe: TEST_LIBS += $(PROBE_TEST_FLAGS)

# The example, pointed at the fake H100, must print its table.
CHECK_EXTRA += check-probe-example
.PHONY: check-probe-example
check-probe-example: examples
	@echo "== probe example against the fake H100"
	@GPURENT_CUDA_LIBRARY=$(BUILD)/tests/libfakecuda.so FAKECUDA_MACHINE=h100 \
	  $(BUILD)/examples/probe --checks --check-mib 4 > $(BUILD)/examples/probe-h100.log 2>&1 \
	  || { cat $(BUILD)/examples/probe-h100.log; exit 1; }
	@grep -q 'NVIDIA H100 80GB HBM3 *9.0 *132 *81559 *1980 *2619 *5120' $(BUILD)/examples/probe-h100.log \
	  || { echo "probe example: no H100 row"; cat $(BUILD)/examples/probe-h100.log; exit 1; }
	@grep -q 'FP32 66908 GFLOPS' $(BUILD)/examples/probe-h100.log && grep -c plausible $(BUILD)/examples/probe-h100.log | grep -qx 3 \
	  || { echo "probe example: wrong peaks or verdicts"; cat $(BUILD)/examples/probe-h100.log; exit 1; }
	@cat $(BUILD)/examples/probe-h100.log

# The signed report: the example signs with RFC 8032's first test seed and
# verifies the envelope against a trust store holding RFC 8032's public key
# for that seed (an independent value: the key derivation is checked too);
# another key (RFC 8032's second) must be refused.
PROBE_SEED := 9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60
PROBE_PK := d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a
PROBE_OTHER_PK := 3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c
check-probe-example: check-probe-signed
.PHONY: check-probe-signed
check-probe-signed: examples
	@echo "== probe example: signed GPU report"
	@rm -f $(BUILD)/examples/probe-h100.env
	@GPURENT_CUDA_LIBRARY=$(BUILD)/tests/libfakecuda.so FAKECUDA_MACHINE=h100 \
	  $(BUILD)/examples/probe --check-mib 4 --sign $(PROBE_SEED) --out $(BUILD)/examples/probe-h100.env \
	  > $(BUILD)/examples/probe-sign.log 2>&1 || { cat $(BUILD)/examples/probe-sign.log; exit 1; }
	@grep -q 'signed by provider key $(PROBE_PK)' $(BUILD)/examples/probe-sign.log \
	  || { echo "probe example: not signed by the expected key"; cat $(BUILD)/examples/probe-sign.log; exit 1; }
	@$(BUILD)/examples/probe --verify $(BUILD)/examples/probe-h100.env --trust $(PROBE_PK) \
	  > $(BUILD)/examples/probe-verify.log 2>&1 || { cat $(BUILD)/examples/probe-verify.log; exit 1; }
	@grep -q 'signed GPU report verified' $(BUILD)/examples/probe-verify.log \
	  && grep -q 'NVIDIA H100 80GB HBM3 *9.0 *132 *81559 *1980 *2619 *5120' $(BUILD)/examples/probe-verify.log \
	  || { echo "probe example: the verified report is not the H100's"; cat $(BUILD)/examples/probe-verify.log; exit 1; }
	@! $(BUILD)/examples/probe --verify $(BUILD)/examples/probe-h100.env --trust $(PROBE_OTHER_PK) \
	  > $(BUILD)/examples/probe-verify-other.log 2>&1 \
	  || { echo "probe example: a report verified under the wrong key"; exit 1; }
	@grep -q GPURENT_E_UNKNOWN_ISSUER $(BUILD)/examples/probe-verify-other.log \
	  || { cat $(BUILD)/examples/probe-verify-other.log; exit 1; }
	@cat $(BUILD)/examples/probe-verify.log
