# The gpurent command-line tool (bindings/cli): links the shared library; only
# the CLI uses jansson and msgpack-c's object API, never the library.
CLI_SRCS := $(sort $(wildcard bindings/cli/*.c))
CLI_BIN := $(BUILD)/gpurent
CLI_LIBS := $(shell $(PKG_CONFIG) --libs jansson 2>/dev/null || echo -ljansson)
# The network nodes (bindings/cli/node*.c, docs/net.md) use the NATS C client;
# only the CLI links it, never the library.
CLI_LIBS += $(shell $(PKG_CONFIG) --libs libnats 2>/dev/null || echo -lnats)

$(CLI_BIN): $(CLI_SRCS) bindings/cli/cli.h bindings/cli/node.h $(BUILD)/libgpurent.so
	$(CC) $(CFLAGS_ALL) -Ibindings/cli $(LDFLAGS_ALL) -o $@ $(CLI_SRCS) -L$(BUILD) -lgpurent \
	  -Wl,-rpath,'$$ORIGIN' $(CLI_LIBS) $(DEP_LIBS)

# Its own target, not part of `make` (the library alone needs no jansson);
# demo, check (check-cli, check-clang) and install build it.
cli: $(CLI_BIN)
INSTALL_EXTRA += install-cli
CHECK_EXTRA += check-cli

# The CLI in the build tree finds build/libgpurent.so through RUNPATH $ORIGIN;
# the installed one is linked again with RUNPATH $ORIGIN/<LIBDIR from BINDIR>
# ($ORIGIN/../lib by default), so it finds the installed library wherever
# the tree (or DESTDIR) is moved, without LD_LIBRARY_PATH or ldconfig.
CLI_LIBREL = $(shell realpath -m --relative-to='$(BINDIR)' '$(LIBDIR)')
CLI_INSTALL_BIN := $(BUILD)/install/gpurent

install-cli: $(CLI_BIN)
	@mkdir -p $(dir $(CLI_INSTALL_BIN))
	$(CC) $(CFLAGS_ALL) -Ibindings/cli $(LDFLAGS_ALL) -o $(CLI_INSTALL_BIN) $(CLI_SRCS) -L$(BUILD) -lgpurent \
	  -Wl,-rpath,'$$ORIGIN/$(CLI_LIBREL)' $(CLI_LIBS) $(DEP_LIBS)
	install -d $(DESTDIR)$(BINDIR)
	install -m 755 $(CLI_INSTALL_BIN) $(DESTDIR)$(BINDIR)/gpurent

check-cli: $(CLI_BIN) lib $(BUILD)/tests/libfakecuda.so
	GPURENT_CLI=$(CURDIR)/$(CLI_BIN) GPURENT_TEST_BUILD=$(CURDIR)/$(BUILD) \
	  $(PYTHON) -m pytest -q -p no:cacheprovider tests/cli  # test_cli_walkthrough.py runs docs/cli.md
.PHONY: cli install-cli check-cli

# The main job: a simulated market on built-in defaults. Without a GPU here it
# uses the fake CUDA driver of tests/fakecuda (and says so).
demo: deps
	$(MAKE) $(CLI_BIN) $(BUILD)/tests/libfakecuda.so
	$(CLI_BIN) demo --fake-driver $(CURDIR)/$(BUILD)/tests/libfakecuda.so
.PHONY: demo
