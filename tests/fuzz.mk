# Fuzzing. Included by the Makefile; see docs/fuzzing.md.
#
#   make fuzz                 run every harness for FUZZ_SECONDS (default 60), one at a time
#   make fuzz FUZZ_TARGETS=offer FUZZ_SECONDS=600 FUZZ_FLAGS=-jobs=1
#   make fuzz-merge           fold new coverage from build/fuzz/corpus into tests/fuzz/corpus
#   make fuzz-seeds           regenerate the seed corpora with tests/fuzz/gen_seeds.c
#   make check-fuzz           (part of make check) replay every seed and regression input
#
# A harness is tests/fuzz/fuzz_<name>.c; its seeds are tests/fuzz/corpus/<name>/ and the
# inputs that once crashed it tests/fuzz/regress/<name>/. Nothing else needs registering.
#
# Both builds go through a sub-make that re-runs the Makefile's own rules with other
# BUILD/CC/SAN_FLAGS, so every lib/*/*.c (current and future modules) is built and
# linked the same way as the real library:
#   build/fuzz  clang, -fsanitize=fuzzer-no-link,address,undefined; harnesses linked
#               with -fsanitize=fuzzer (libFuzzer's main)
#   build/san   gcc, ASan+UBSan (the check-san objects); harnesses linked with
#               tests/fuzz/replay_main.c, a plain main that runs each file once

FUZZ_NAMES := $(patsubst tests/fuzz/fuzz_%.c,%,$(sort $(wildcard tests/fuzz/fuzz_*.c)))
FUZZ_TARGETS ?= $(FUZZ_NAMES)
FUZZ_SECONDS ?= 60
FUZZ_FLAGS ?=
FUZZ_CC ?= clang
FUZZ_DIR := build/fuzz
FUZZ_DICT := tests/fuzz/msgpack.dict
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_SUBMAKE = $(MAKE) --no-print-directory BUILD=$(FUZZ_DIR) CC=$(FUZZ_CC) SANITIZE= \
               SAN_FLAGS='-fsanitize=fuzzer-no-link $(FUZZ_SAN)' FUZZ_LINK=-fsanitize=fuzzer FUZZ_MAIN=

# Set by the sub-makes: how a harness gets its main().
FUZZ_LINK ?=
FUZZ_MAIN ?= tests/fuzz/replay_main.c
FUZZ_HDRS := $(wildcard tests/fuzz/*.h)

.PHONY: fuzz fuzz-build fuzz-bins fuzz-merge fuzz-seeds check-fuzz fuzz-replay

# One binary per harness under $(BUILD)/fuzz-bin, in whichever build the sub-make chose.
fuzz-bins: $(patsubst %,$(BUILD)/fuzz-bin/fuzz_%,$(FUZZ_NAMES))

$(BUILD)/fuzz-bin/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_MAIN) $(FUZZ_HDRS) $(INTERNAL_STLIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Ilib -Itests/fuzz $(FUZZ_CFLAGS_$*) $(FUZZ_LINK) $(LDFLAGS_ALL) -o $@ $< $(FUZZ_MAIN) \
	  $(FUZZ_SRCS_$*) $(INTERNAL_STLIB) $(DEP_LIBS) $(FUZZ_LIBS_$*)

# A harness that needs code outside lib/ (the CLI, later a tool) names it here:
# FUZZ_SRCS_<name> (extra sources, also listed as prerequisites), FUZZ_CFLAGS_<name>,
# FUZZ_LIBS_<name>.
FUZZ_CLI_SRCS := bindings/cli/json.c bindings/cli/args.c
FUZZ_CLI_LIBS := $(shell $(PKG_CONFIG) --libs jansson 2>/dev/null || echo -ljansson)
FUZZ_SRCS_cli_json := $(FUZZ_CLI_SRCS)
FUZZ_CFLAGS_cli_json := -Ibindings/cli
FUZZ_LIBS_cli_json := $(FUZZ_CLI_LIBS)
FUZZ_SRCS_cli_inspect := $(FUZZ_CLI_SRCS)
FUZZ_CFLAGS_cli_inspect := -Ibindings/cli
FUZZ_LIBS_cli_inspect := $(FUZZ_CLI_LIBS)
$(BUILD)/fuzz-bin/fuzz_cli_json $(BUILD)/fuzz-bin/fuzz_cli_inspect: $(FUZZ_CLI_SRCS) bindings/cli/cli.h
# The network nodes' cut codec (no libnats in it; node.h only declares).
FUZZ_SRCS_node_cut := bindings/cli/node_cut.c
FUZZ_CFLAGS_node_cut := -Ibindings/cli
$(BUILD)/fuzz-bin/fuzz_node_cut: bindings/cli/node_cut.c bindings/cli/node.h bindings/cli/cli.h

fuzz-build:
	@$(FUZZ_SUBMAKE) fuzz-bins

# One fuzzer at a time: new inputs go to build/fuzz/corpus/<name> (the committed seeds are
# read, never written), crashes to build/fuzz/artifacts/<name>/, logs to build/fuzz/logs/.
fuzz: fuzz-build
	@set -e; for n in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ_DIR)/corpus/$$n $(FUZZ_DIR)/artifacts/$$n $(FUZZ_DIR)/logs; \
	  regress=; [ -d tests/fuzz/regress/$$n ] && regress=tests/fuzz/regress/$$n; \
	  echo "== fuzz $$n for $(FUZZ_SECONDS) s"; \
	  $(FUZZ_DIR)/fuzz-bin/fuzz_$$n -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    -dict=$(FUZZ_DICT) -artifact_prefix=$(FUZZ_DIR)/artifacts/$$n/ $(FUZZ_FLAGS) \
	    $(FUZZ_DIR)/corpus/$$n tests/fuzz/corpus/$$n $$regress > $(FUZZ_DIR)/logs/$$n.log 2>&1 \
	  || { tail -n 60 $(FUZZ_DIR)/logs/$$n.log; \
	       echo "fuzz $$n: FAILED; the input is in $(FUZZ_DIR)/artifacts/$$n/ (copy it to tests/fuzz/regress/$$n/)"; \
	       exit 1; }; \
	  grep -E '^#[0-9]+[[:space:]]+DONE' $(FUZZ_DIR)/logs/$$n.log | tail -1 | sed "s/^/fuzz $$n: /"; \
	  grep -E '^stat::number_of_executed_units' $(FUZZ_DIR)/logs/$$n.log | sed "s/^/fuzz $$n: /"; \
	done

# Keep only inputs that add coverage, named by content; run after `make fuzz`, then commit.
fuzz-merge: fuzz-build
	@set -e; for n in $(FUZZ_TARGETS); do \
	  [ -d $(FUZZ_DIR)/corpus/$$n ] || continue; \
	  $(FUZZ_DIR)/fuzz-bin/fuzz_$$n -merge=1 tests/fuzz/corpus/$$n $(FUZZ_DIR)/corpus/$$n \
	    > $(FUZZ_DIR)/logs/$$n.merge.log 2>&1 || { cat $(FUZZ_DIR)/logs/$$n.merge.log; exit 1; }; \
	  grep -E 'MERGE-OUTER: [0-9]+ new files' $(FUZZ_DIR)/logs/$$n.merge.log | sed "s/^/fuzz-merge $$n: /"; \
	done

$(BUILD)/fuzz-gen/gen_seeds: tests/fuzz/gen_seeds.c tests/fuzz/fuzz_fixture.h tests/fuzz/fuzz_market_fixture.h $(INTERNAL_STLIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Ilib -Itests/fuzz $(LDFLAGS_ALL) -o $@ $< $(INTERNAL_STLIB) $(DEP_LIBS)

# Writes the generated seeds over tests/fuzz/corpus (fuzzer-found files stay).
# GPU reports come from the probe run on the fake CUDA driver's machines.
fuzz-seeds: $(BUILD)/fuzz-gen/gen_seeds $(BUILD)/tests/libfakecuda.so
	$(BUILD)/fuzz-gen/gen_seeds tests/fuzz/corpus $(BUILD)/tests/libfakecuda.so
	$(PYTHON) tests/fuzz/gen_market_ops_seeds.py tests/fuzz/corpus/market_ops

# The replay for `make check`: gcc + ASan/UBSan, every seed and regression input once.
fuzz-replay: fuzz-bins
	@set -e; for n in $(FUZZ_NAMES); do \
	  [ -d tests/fuzz/corpus/$$n ] || { echo "check-fuzz: harness $$n has no tests/fuzz/corpus/$$n"; exit 1; }; \
	  regress=; [ -d tests/fuzz/regress/$$n ] && regress=tests/fuzz/regress/$$n; \
	  $(BUILD)/fuzz-bin/fuzz_$$n tests/fuzz/corpus/$$n $$regress; \
	done

check-fuzz:
	@$(MAKE) --no-print-directory SANITIZE=1 fuzz-replay
	@if command -v $(FUZZ_CC) >/dev/null 2>&1; then \
	  $(FUZZ_SUBMAKE) fuzz-bins && echo "check-fuzz: libFuzzer harnesses build ($(FUZZ_DIR)/fuzz-bin)"; \
	else echo "check-fuzz: $(FUZZ_CC) not found, libFuzzer build skipped"; fi

CHECK_EXTRA += check-fuzz
