# Tools the Python cross-checks drive (built with the test support code).
TEST_TOOLS += $(BUILD)/tests/wire_tool

$(BUILD)/tests/wire_tool: tests/tools/wire_tool.c $(INTERNAL_STLIB) $(TEST_SUPPORT)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Ilib -Itests $(LDFLAGS_ALL) -o $@ $< $(TEST_SUPPORT) $(INTERNAL_STLIB) $(DEP_LIBS)

# Rewrite the verdict table of the wire fixtures' bit mutants
# (tests/fixtures/wire/mutants.txt, checked by tests/test_wire_mutants.c).
.PHONY: wire-mutants
wire-mutants: $(BUILD)/tests/test_wire_mutants
	GPURENT_WRITE_MUTANTS=tests/fixtures/wire/mutants.txt $< || true
	GPURENT_TEST_BUILD=$(BUILD) $<
