# make gpu-check: the real-GPU acceptance run (tests/tools/gpu_check.c,
# docs/probe.md "gpu-check"). It probes the machine's own driver; `make
# check` runs it against the fake driver instead (check-gpu-check).
GPU_CHECK := $(BUILD)/tests/gpu_check
GPU_CHECK_ARGS ?=

# Public API only, linked with the public static library: the binary runs
# as is on any machine with an NVIDIA driver.
$(GPU_CHECK): tests/tools/gpu_check.c $(STLIB) $(PUBLIC_HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $< $(STLIB) $(DEP_LIBS)

.PHONY: gpu-check check-gpu-check
gpu-check: $(GPU_CHECK)
	$(GPU_CHECK) $(GPU_CHECK_ARGS)

# Against the fake driver: the fake H100 and A100s pass; a slow H100 and an
# A100 calling itself an H100 fail (exit 1); no driver and no device are
# reported as such (exit 2).
GC_FAKE := $(BUILD)/tests/libfakecuda.so
GC_LOG := $(BUILD)/tests/gpu_check
CHECK_EXTRA += check-gpu-check
check-gpu-check: $(GPU_CHECK) $(GC_FAKE)
	@echo "== gpu-check against the fake driver"
	@bash tests/check_gpu_check.sh $(GPU_CHECK) $(GC_FAKE) $(GC_LOG)
