# libgpurent — build, test, install.
#
#   make            build build/libgpurent.so.X.Y.Z (+ symlinks) and build/libgpurent.a
#   make cli        build the gpurent command-line tool (needs jansson)
#   make check      install missing packages, then run every suite
#   make demo       run the simulated market
#   make bench      run every benchmark under bench/
#   make install    PREFIX=/usr/local LIBDIR=$(PREFIX)/lib INCLUDEDIR=$(PREFIX)/include DESTDIR=
#   make help       list every target with one line each
#
# Modules are discovered: every lib/<module>/*.c is part of the library,
# every tests/test_*.c is a cmocka suite, every bench/bench_*.c a benchmark.

VERSION_H := include/gpurent/version.h
version_of = $(shell sed -n 's/^\#define GPURENT_VERSION_$(1) \([0-9][0-9]*\).*/\1/p' $(VERSION_H))
VMAJOR := $(call version_of,MAJOR)
VMINOR := $(call version_of,MINOR)
VPATCH := $(call version_of,PATCH)
VERSION := $(VMAJOR).$(VMINOR).$(VPATCH)

PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
BINDIR ?= $(PREFIX)/bin
DESTDIR ?=

CC ?= cc
OBJCOPY ?= objcopy
PKG_CONFIG ?= pkg-config
# Debian's own interpreter has pytest, msgpack and cryptography; the first
# python3 on PATH may be a separate build without them.
PYTHON ?= $(shell test -x /usr/bin/python3 && echo /usr/bin/python3 || command -v python3)
GO ?= go

MSGPACK_PC := $(shell $(PKG_CONFIG) --exists msgpack-c 2>/dev/null && echo msgpack-c || echo msgpack)
DEP_CFLAGS := $(shell $(PKG_CONFIG) --cflags libsodium $(MSGPACK_PC) 2>/dev/null)
# -lm: the probe's CPU reference for its FMA kernel calls fmaf().
DEP_LIBS := $(shell $(PKG_CONFIG) --libs libsodium $(MSGPACK_PC) 2>/dev/null || echo -lsodium -lmsgpackc) -ldl -lpthread -lm

SANITIZE ?=
ifeq ($(SANITIZE),1)
BUILD ?= build/san
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
else
BUILD ?= build
SAN_FLAGS :=
endif

OPT ?= -O2 -g
WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
WERROR ?= -Werror
CFLAGS_ALL := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $(OPT) $(WARN) $(WERROR) $(SAN_FLAGS) -Iinclude $(DEP_CFLAGS) $(CFLAGS)
LIB_CFLAGS := $(CFLAGS_ALL) -fPIC -fvisibility=hidden -DGPURENT_BUILDING
# Each object records the headers it includes (build/lib/<module>/<file>.d).
DEPFLAGS = -MMD -MP -MF $(@:.o=.d)
LDFLAGS_ALL := $(SAN_FLAGS) $(LDFLAGS)

LIB_SRCS := $(sort $(wildcard lib/*/*.c))
LIB_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(LIB_SRCS))
PUBLIC_HEADERS := $(sort $(wildcard include/gpurent/*.h)) include/gpurent.h

SONAME := libgpurent.so.$(VMAJOR)
SHLIB := $(BUILD)/libgpurent.so.$(VERSION)
STLIB := $(BUILD)/libgpurent.a
# The same objects with every symbol left global: only the in-tree tests,
# benchmarks, fuzzers and tools link it (they call internals, -Ilib).
INTERNAL_STLIB := $(BUILD)/internal/libgpurent.a

TEST_SRCS := $(sort $(wildcard tests/test_*.c))
TEST_BINS := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRCS))
# Helpers a test may need (fakes, fixtures); tests/support/*.c are linked into every test.
TEST_SUPPORT := $(wildcard tests/support/*.c)
BENCH_SRCS := $(sort $(wildcard bench/bench_*.c))
BENCH_BINS := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRCS))
EXAMPLE_SRCS := $(sort $(wildcard examples/*.c))
EXAMPLE_BINS := $(patsubst examples/%.c,$(BUILD)/examples/%,$(EXAMPLE_SRCS))

# Included .mk files must not steal the default goal.
.DEFAULT_GOAL := all

# Extra rules per module (fake drivers, generated files) live beside them.
# A .mk file adds a suite to `make check` with: CHECK_EXTRA += check-<name>
-include $(wildcard lib/*/module.mk tests/*.mk tests/net/*.mk bench/*.mk bindings/*.mk examples/*.mk)

.PHONY: all lib deps check check-c check-san check-clang check-valgrind check-symbols check-install \
        check-python check-examples check-headers bench bench-deps demo install uninstall clean \
        tests examples help

all: lib

lib: $(BUILD)/libgpurent.so $(STLIB)

# An object without its .d (a build tree from before dependency files, or a
# deleted .d) is rebuilt: its missing .d counts as changed.
$(BUILD)/lib/%.o: lib/%.c $(BUILD)/lib/%.d
	@mkdir -p $(dir $@)
	$(CC) $(LIB_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(BUILD)/lib/%.d: ;
.PRECIOUS: $(BUILD)/lib/%.d

-include $(LIB_OBJS:.o=.d)

$(SHLIB): $(LIB_OBJS) lib/libgpurent.map
	$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--version-script=lib/libgpurent.map -Wl,--no-undefined \
	  $(LDFLAGS_ALL) -o $@ $(LIB_OBJS) $(DEP_LIBS)

$(BUILD)/$(SONAME): $(SHLIB)
	ln -sf $(notdir $(SHLIB)) $@

$(BUILD)/libgpurent.so: $(BUILD)/$(SONAME)
	ln -sf $(SONAME) $@

# The installed archive holds one relocatable object in which every hidden
# symbol is made local: like the shared library, it exposes only gpurent_*
# (internals cannot clash with an embedder's names; check-symbols checks it).
$(STLIB): $(LIB_OBJS)
	rm -f $@ $(BUILD)/libgpurent.o
	$(LD) -r -o $(BUILD)/libgpurent.o $(LIB_OBJS)
	$(OBJCOPY) --localize-hidden $(BUILD)/libgpurent.o
	ar rcs $@ $(BUILD)/libgpurent.o
	rm -f $(BUILD)/libgpurent.o

$(INTERNAL_STLIB): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $(LIB_OBJS)

# Tests link the internal archive so they may also call internals (-Ilib).
$(BUILD)/tests/%: tests/%.c $(INTERNAL_STLIB) $(TEST_SUPPORT) $(wildcard tests/*.h tests/support/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Ilib -Itests $(LDFLAGS_ALL) -o $@ $< $(TEST_SUPPORT) $(INTERNAL_STLIB) -lcmocka $(DEP_LIBS) $(TEST_LIBS)

$(BUILD)/bench/%: bench/%.c $(INTERNAL_STLIB) $(TEST_SUPPORT) $(wildcard bench/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Ilib -Ibench -Itests $(LDFLAGS_ALL) -o $@ $< $(TEST_SUPPORT) $(INTERNAL_STLIB) $(DEP_LIBS)

# Examples use only the public API, against the shared library.
$(BUILD)/examples/%: examples/%.c $(BUILD)/libgpurent.so
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $< -L$(BUILD) -lgpurent -Wl,-rpath,'$$ORIGIN/..'

tests: $(TEST_BINS)
examples: $(EXAMPLE_BINS)

deps:
	@bash .ci/deps.sh

# The benchmarks also need SciPy (bench/match_exact.py, the exact solver the
# matching quality is measured against; never linked into the library).
bench-deps:
	@bash .ci/deps.sh --bench

# ---- the suites ----

check: deps
	$(MAKE) check-c
	$(MAKE) check-symbols
	$(MAKE) check-headers
	$(MAKE) check-examples
	$(MAKE) check-clang
	$(MAKE) check-san
	$(MAKE) check-valgrind
	$(MAKE) check-python
	@set -e; for t in $(CHECK_EXTRA); do $(MAKE) $$t; done
	$(MAKE) check-install
	@echo "make check: all suites passed"

check-c: tests lib
	@set -e; for t in $(TEST_BINS); do echo "== $$t"; GPURENT_TEST_BUILD=$(BUILD) $$t; done

check-san:
	$(MAKE) SANITIZE=1 check-c

# The same sources must build warning-free (-Werror) with clang too.
check-clang:
	$(MAKE) CC=clang BUILD=build/clang lib tests examples cli

VALGRIND := valgrind --quiet --leak-check=full --show-leak-kinds=definite,indirect,possible \
            --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99 --track-fds=no
check-valgrind: tests
	@set -e; for t in $(TEST_BINS); do echo "== valgrind $$t"; \
	  GPURENT_TEST_BUILD=$(BUILD) GPURENT_TEST_VALGRIND=1 $(VALGRIND) $$t > $$t.valgrind.log 2>&1 \
	  || { cat $$t.valgrind.log; exit 1; }; done

check-symbols: lib
	@bash tests/check_symbols.sh $(BUILD) $(SONAME)

check-headers:
	@bash tests/check_headers.sh "$(CC)" "$(DEP_CFLAGS)"

# Last in `make check`: installs into temporary prefixes (after the tests
# have built everything, as a user would) and runs what was installed.
check-install: lib
	@bash tests/check_install.sh "$(MAKE)" "$(CC)" "$(PYTHON)"

check-examples: examples
	@set -e; for e in $(EXAMPLE_BINS); do echo "== $$e"; $$e > $$e.log 2>&1 || { cat $$e.log; exit 1; }; done

# bindings/*.mk add their build targets to PYTHON_BUILD / GO_BUILD.
check-python: lib tests $(TEST_TOOLS) $(PYTHON_BUILD)
	GPURENT_TEST_BUILD=$(CURDIR)/$(BUILD) $(PYTHON) -m pytest -q -p no:cacheprovider tests/python $(PYTHON_TESTS)

bench: bench-deps $(BENCH_BINS)
	@set -e; for b in $(BENCH_BINS); do echo "== $$b"; $$b; done

# ---- install ----

# The .pc names the PREFIX, LIBDIR and INCLUDEDIR of the install that writes
# it: it is written again by every install (a file target would keep the
# PREFIX of whichever install or test made it first).
PC_FILE := $(BUILD)/gpurent.pc
.PHONY: $(PC_FILE)
$(PC_FILE): pkgconfig/gpurent.pc.in $(VERSION_H)
	@mkdir -p $(dir $@)
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' \
	    -e 's|@VERSION@|$(VERSION)|' -e 's|@MSGPACK_PC@|$(MSGPACK_PC)|' $< > $@

install: lib $(PC_FILE) $(INSTALL_EXTRA)
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR)/gpurent
	install -m 644 include/gpurent.h $(DESTDIR)$(INCLUDEDIR)/
	install -m 644 $(wildcard include/gpurent/*.h) $(DESTDIR)$(INCLUDEDIR)/gpurent/
	install -m 755 $(SHLIB) $(DESTDIR)$(LIBDIR)/
	ln -sf $(notdir $(SHLIB)) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libgpurent.so
	install -m 644 $(STLIB) $(DESTDIR)$(LIBDIR)/
	install -m 644 $(PC_FILE) $(DESTDIR)$(LIBDIR)/pkgconfig/

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libgpurent.so $(DESTDIR)$(LIBDIR)/$(SONAME) $(DESTDIR)$(LIBDIR)/$(notdir $(SHLIB))
	rm -f $(DESTDIR)$(LIBDIR)/libgpurent.a $(DESTDIR)$(LIBDIR)/pkgconfig/gpurent.pc
	rm -f $(DESTDIR)$(INCLUDEDIR)/gpurent.h $(DESTDIR)$(BINDIR)/gpurent
	rm -rf $(DESTDIR)$(INCLUDEDIR)/gpurent

# Everything a build writes: the build folder (whatever BUILD names) and what
# SWIG and setup.py generate beside the bindings' sources.
clean:
	rm -rf $(sort build $(BUILD)) bindings/python/build bindings/python/*.egg-info
	rm -f $(PY_PKG)/capi_wrap.c $(PY_PKG)/capi.py $(PY_PKG)/_capi*.so $(GO_CAPI)/capi_wrap.c $(GO_CAPI)/capi.go

# One line per target a user runs (the .mk files' internal steps are left out).
help:
	@echo 'make                  build the library: build/libgpurent.so.$(VERSION) (+ symlinks) and build/libgpurent.a'
	@echo 'make cli              build the gpurent command-line tool (build/gpurent; needs jansson)'
	@echo 'make demo             install missing packages, then run the simulated market'
	@echo 'make check            install missing packages, then run every suite below'
	@echo 'make check-c          the C suites (cmocka)'
	@echo 'make check-san        the C suites built with ASan and UBSan'
	@echo 'make check-clang      build library, tests, examples and CLI with clang (-Werror)'
	@echo 'make check-valgrind   the C suites under valgrind'
	@echo 'make check-tsan       the ThreadSanitizer programs (tests/tsan)'
	@echo 'make check-symbols    the shared library and the archive export only gpurent_*'
	@echo 'make check-headers    every public header compiles on its own'
	@echo 'make check-examples   run the C examples'
	@echo 'make check-python     the Python suites (pytest)'
	@echo 'make check-go         the Go binding: go vet and go test'
	@echo 'make check-cli        the CLI suite (tests/cli)'
	@echo 'make check-bindings   cross-language checks of the bindings, fixtures and examples'
	@echo 'make check-fuzz       replay every fuzz seed and regression input'
	@echo 'make check-install    install into temporary prefixes and run what was installed'
	@echo 'make abi-check        compare the ABI with abi/libgpurent.abi (abi-update rewrites it)'
	@echo 'make tests            build the C suites without running them'
	@echo 'make examples         build the C examples'
	@echo 'make python           build the Python extension in place'
	@echo 'make go               build the Go binding'
	@echo 'make bench            run every benchmark under bench/ (bench-bindings: the bindings overhead)'
	@echo 'make fuzz             run every libFuzzer harness (FUZZ_SECONDS, FUZZ_TARGETS)'
	@echo 'make install          install library, headers, pkg-config file and CLI (PREFIX, DESTDIR)'
	@echo 'make uninstall        remove what make install wrote'
	@echo 'make clean            remove the build folder and the generated binding sources'
	@echo 'make deps             install missing packages (.ci/deps.sh)'
