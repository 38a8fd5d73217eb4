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
