# ThreadSanitizer suite: every tests/tsan/tsan_*.c is a program that runs
# library calls from many threads; it is linked with a -fsanitize=thread build of the
# library (clang, build/tsan, through a sub-make that reuses the Makefile's rules, so
# every lib/*/*.c is included) and must exit 0 with no TSan report.
#
#   make check-tsan                       (part of make check)
#   make check-tsan TSAN_TESTS=tsan_wire  (one program)
#
# A new module adds tests/tsan/tsan_<module>.c; nothing else needs registering.

TSAN_SRCS := $(sort $(wildcard tests/tsan/tsan_*.c))
TSAN_TESTS ?= $(patsubst tests/tsan/%.c,%,$(TSAN_SRCS))
TSAN_CC ?= clang
TSAN_DIR := build/tsan
# history_size=7 (4M accesses per thread): clang 14's TSan drops a race whose earlier
# access has left the history, and the defaults lose races between calls that do real work.
TSAN_ENV := TSAN_OPTIONS='halt_on_error=1 exitcode=66 second_deadlock_stack=1 history_size=7'

.PHONY: check-tsan tsan-bins

tsan-bins: $(patsubst tests/tsan/%.c,$(BUILD)/tsan-bin/%,$(TSAN_SRCS))

$(BUILD)/tsan-bin/%: tests/tsan/%.c $(INTERNAL_STLIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Ilib -Itests $(LDFLAGS_ALL) -o $@ $< $(INTERNAL_STLIB) $(DEP_LIBS)

# tsan_probe loads the fake CUDA driver, built with the same flags.
$(BUILD)/tsan-bin/tsan_probe: $(BUILD)/tests/libfakecuda.so

check-tsan:
	@$(MAKE) --no-print-directory BUILD=$(TSAN_DIR) CC=$(TSAN_CC) SANITIZE= OPT='-O1 -g' \
	  SAN_FLAGS='-fsanitize=thread -fno-omit-frame-pointer' tsan-bins
	@set -e; for t in $(TSAN_TESTS); do echo "== tsan $$t"; \
	  $(TSAN_ENV) $(TSAN_DIR)/tsan-bin/$$t > $(TSAN_DIR)/tsan-bin/$$t.log 2>&1 \
	  || { cat $(TSAN_DIR)/tsan-bin/$$t.log; echo "check-tsan: $$t failed"; exit 1; }; \
	  tail -n 1 $(TSAN_DIR)/tsan-bin/$$t.log; done

CHECK_EXTRA += check-tsan
