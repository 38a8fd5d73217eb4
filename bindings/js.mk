# The JavaScript binding: libgpurent compiled to WebAssembly with Debian's
# emscripten (make wasm), its ES module in bindings/js, the marketplace page
# in examples/web (make web) and their tests (make check-js).
#
#   make wasm        libsodium + msgpack-c (Debian sources, cached under
#                    build/wasm/deps), then lib/ without lib/probe ->
#                    bindings/js/dist/gpurent_wasm.mjs (wasm inlined)
#   make check-js    the wasm field arithmetic against libsodium's (check-js-fe),
#                    node --test on bindings/js/test, then the chromium test
#   make web         build, export the demo market, serve examples/web on loopback
#   make bench-js    BENCH js_bundle_gz / js_envelope_verify / js_best_10k

EMCC ?= emcc
WASM_BUILD := build/wasm
WASM_DEPS := $(WASM_BUILD)/deps
JS_DIR := bindings/js
JS_DIST := $(JS_DIR)/dist
WASM_MJS := $(JS_DIST)/gpurent_wasm.mjs
# Debian's emcc 3.1.6 finds acorn only through NODE_PATH with Node 20.
EM_ENV := NODE_PATH=/usr/share/nodejs
WASM_SRCS := $(filter-out lib/probe/%,$(LIB_SRCS)) $(JS_DIR)/src/glue.c
WASM_OBJS := $(patsubst %.c,$(WASM_BUILD)/obj/%.o,$(WASM_SRCS))
# The optimisation level of lib/ and of the link (-O3 measured the same as
# -O2 in make bench-js; objects are not rebuilt when it changes).
WASM_OPT ?= -O2
WASM_CFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $(WASM_OPT) $(WARN) $(WERROR) -Iinclude \
  -I$(WASM_DEPS)/include -DGPURENT_BUILDING
# Every public call except the probe's, plus malloc/free for the glue.
WASM_EXPORTS := $(WASM_BUILD)/exports.txt

.PHONY: wasm wasm-deps check-js check-js-node check-js-fe check-js-browser web bench-js js-pack

wasm: $(WASM_MJS)

$(WASM_DEPS)/deps.stamp: $(JS_DIR)/wasm_deps.sh $(JS_DIR)/wasm/fe25519_wasm_simd.h
	$(EM_ENV) bash $(JS_DIR)/wasm_deps.sh $(WASM_DEPS)
wasm-deps: $(WASM_DEPS)/deps.stamp

$(WASM_BUILD)/obj/%.o: %.c $(PUBLIC_HEADERS) $(wildcard lib/*/*.h) $(WASM_DEPS)/deps.stamp
	@mkdir -p $(dir $@)
	$(EM_ENV) $(EMCC) $(WASM_CFLAGS) -c $< -o $@

$(WASM_EXPORTS): $(filter-out include/gpurent/probe.h,$(PUBLIC_HEADERS)) $(JS_DIR)/src/glue.c
	@mkdir -p $(dir $@)
	cat $^ | tr '\n' ' ' | grep -oE 'GPURENT_API[^(;{]*\b(gpurent_[a-z0-9_]+) *\(' \
	  | sed -E 's/.*\b(gpurent_[a-z0-9_]+) *\($$/_\1/' | sort -u > $@.tmp
	printf '_malloc\n_free\n' >> $@.tmp
	mv $@.tmp $@

$(WASM_MJS): $(WASM_OBJS) $(WASM_EXPORTS) bindings/js.mk
	@mkdir -p $(dir $@)
	$(EM_ENV) $(EMCC) $(WASM_OPT) -o $@ $(WASM_OBJS) $(WASM_DEPS)/lib/libsodium.a $(WASM_DEPS)/lib/libmsgpackc.a \
	  -sMODULARIZE=1 -sEXPORT_ES6=1 -sEXPORT_NAME=createGpurentModule -sSINGLE_FILE=1 \
	  -sALLOW_MEMORY_GROWTH=1 -sWASM_BIGINT=1 -sNODEJS_CATCH_EXIT=0 -sNODEJS_CATCH_REJECTION=0 -sENVIRONMENT=web,worker,node -sFILESYSTEM=0 \
	  -sEXPORTED_FUNCTIONS=@$(WASM_EXPORTS) -sEXPORTED_RUNTIME_METHODS=HEAPU8,UTF8ToString,stringToUTF8

check-js-node: $(WASM_MJS) check-js-fe
	cd $(JS_DIR) && node --test test/

# The SIMD field multiplication of the wasm libsodium (bindings/js/wasm):
# limb for limb against libsodium's own in WebAssembly, then the same
# Ed25519 sign/verify cases in WebAssembly and natively (the system's
# libsodium), whose lines must be equal. A few seconds.
FE_CHECK_WASM := $(WASM_BUILD)/fe_check.cjs
FE_CHECK_NATIVE := $(BUILD)/bindings/js/fe_check_native
FE_CHECK_CASES := 3000
$(FE_CHECK_WASM): $(JS_DIR)/wasm/fe_check.c $(WASM_DEPS)/deps.stamp
	@mkdir -p $(dir $@)
	$(EM_ENV) $(EMCC) -O2 -msimd128 -fno-vectorize -fno-slp-vectorize $(WARN) -Wno-unused-function -Wno-missing-prototypes $(WERROR) \
	  -DSODIUM_STATIC -DNATIVE_LITTLE_ENDIAN -DCONFIGURED=1 \
	  -I$(WASM_DEPS)/include -I$(WASM_DEPS)/include/sodium -o $@ $< $(WASM_DEPS)/lib/libsodium.a \
	  -sSINGLE_FILE=1 -sENVIRONMENT=node
$(FE_CHECK_NATIVE): $(JS_DIR)/wasm/fe_check.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $< $(DEP_LIBS)
check-js-fe: $(FE_CHECK_WASM) $(FE_CHECK_NATIVE)
	@w="$$(node $(FE_CHECK_WASM) $(FE_CHECK_CASES))" || { echo "$$w"; echo "check-js-fe: FAILED (wasm)"; exit 1; }; \
	n="$$($(FE_CHECK_NATIVE) $(FE_CHECK_CASES))" || { echo "check-js-fe: FAILED (native)"; exit 1; }; \
	echo "$$w"; echo "native: $$n"; \
	if [ "$$(echo "$$w" | grep '^verify ')" = "$$n" ]; then echo "check-js-fe: ok"; \
	else echo "check-js-fe: FAILED, wasm and native Ed25519 differ"; exit 1; fi

# The browser test runs when chromium is installed (make deps installs it);
# it leaves build/web-test/marketplace.png.
check-js-browser: web-build
	@if command -v chromium >/dev/null 2>&1 || [ -n "$$CHROMIUM" ]; then \
	  node --test examples/web/browser.test.mjs; \
	else echo "check-js-browser: chromium not installed, skipped"; fi

check-js: check-js-node check-js-browser

# The page: static files, the module, and two markets, in build/web: market/
# (what the page loads by default) exported by `gpurent demo --export` on a
# small fixed-seed market, and curated/ (index.html?market=curated), the
# hand-made market of export_demo.mjs whose named providers the browser test
# checks one by one.
WEB_OUT := build/web
WEB_SRC := $(wildcard examples/web/*.html examples/web/*.css examples/web/app.mjs)
WEB_DEMO_ARGS := --providers 40 --requests 60 --eras 6 --seed 2026
.PHONY: web-build
web-build: $(WASM_MJS) $(WEB_SRC) examples/web/export_demo.mjs $(BUILD)/gpurent $(BUILD)/tests/libfakecuda.so
	@mkdir -p $(WEB_OUT)/dist
	cp $(WEB_SRC) $(WEB_OUT)/
	cp $(JS_DIR)/gpurent.mjs $(WEB_OUT)/
	cp $(WASM_MJS) $(WEB_OUT)/dist/
	$(BUILD)/gpurent demo $(WEB_DEMO_ARGS) --fake-driver $(CURDIR)/$(BUILD)/tests/libfakecuda.so \
	  --export $(WEB_OUT)/market > $(WEB_OUT)/demo.log
	node examples/web/export_demo.mjs $(WEB_OUT)/curated

web: web-build
	node examples/web/serve.mjs $(WEB_OUT) $(or $(WEB_PORT),0)

# Size and speed beside native C, measured in the same run (make bench runs it too).
JS_BENCH_NATIVE := $(BUILD)/bindings/js/bench_native
$(JS_BENCH_NATIVE): $(JS_DIR)/bench/bench_native.c $(STLIB) $(PUBLIC_HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Ibench $(LDFLAGS_ALL) -o $@ $< $(STLIB) $(DEP_LIBS)

bench-js: $(WASM_MJS) $(JS_BENCH_NATIVE)
	node $(JS_DIR)/bench/bench.mjs $(JS_BENCH_NATIVE) $(BUILD)/bindings/js

# make bench runs the JavaScript figures too when emscripten is installed.
ifneq ($(shell command -v $(EMCC) 2>/dev/null),)
bench: bench-js
endif

# In make check (make deps installs emscripten, node and chromium first).
CHECK_EXTRA += check-js

.PHONY: clean-js
clean-js:
	rm -rf $(JS_DIST) $(JS_DIR)/*.tgz
clean: clean-js

# The npm package (bindings/js, with the built module) as a tarball in build/wasm.
js-pack: $(WASM_MJS)
	cd $(JS_DIR) && npm pack --pack-destination $(CURDIR)/$(WASM_BUILD)

# tests/cli/test_cli_demo.py checks `gpurent demo --export` with this binding:
# build it first, so the test neither skips nor loads a stale module.
check-cli: $(WASM_MJS)
