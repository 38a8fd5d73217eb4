# The fake CUDA driver (tests/fakecuda/): three builds of one source, loaded
# by tests/test_probe.c and examples through GPURENT_CUDA_LIBRARY.
FAKECUDA_SRC := tests/fakecuda/fakecuda.c
# Included before the Makefile names its first target: keep `all` the default.
.DEFAULT_GOAL := all

FAKECUDA_DEPS := $(FAKECUDA_SRC) tests/fakecuda/machines.h
FAKECUDA_LIBS := $(BUILD)/tests/libfakecuda.so $(BUILD)/tests/libfakecuda_old.so $(BUILD)/tests/libfakecuda_ancient.so
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
