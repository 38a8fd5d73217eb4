# The bad-input catalogue (tests/test_errors_catalogue.c, docs/errors.md) probes the
# fake CUDA drivers for its probe rows.
$(BUILD)/tests/test_errors_catalogue: $(BUILD)/tests/libfakecuda.so $(BUILD)/tests/libfakecuda_ancient.so \
                                      $(BUILD)/tests/libfakecuda_iso.so
