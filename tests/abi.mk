# ABI guard (the rules are in docs/abi.md).
#
#   make abi-check    compare the library's ABI with the committed baseline; fails on any
#                     change to existing functions, types or enum values; additions pass.
#                     Part of make check.
#   make abi-update   regenerate abi/libgpurent.abi on purpose (then review and commit it)
#
# The library is built for this in build/abi with fixed flags (gcc, -O2 -g, no sanitizer)
# through a sub-make of the Makefile's own rules, so CFLAGS or SANITIZE of the calling make
# cannot change what is compared.

ABI_BASELINE := abi/libgpurent.abi
ABI_DIR := build/abi
ABI_CC ?= gcc
ABI_LIB := $(ABI_DIR)/libgpurent.so.$(VERSION)
ABI_SUBMAKE = $(MAKE) --no-print-directory BUILD=$(ABI_DIR) CC=$(ABI_CC) SANITIZE= SAN_FLAGS= OPT='-O2 -g' CFLAGS= $(ABI_LIB)

.PHONY: abi-check abi-update abi-lib

abi-lib:
	@$(ABI_SUBMAKE)

abi-check: abi-lib
	@bash abi/abi.sh check $(ABI_LIB) $(ABI_BASELINE) include/gpurent

abi-update: abi-lib
	@bash abi/abi.sh update $(ABI_LIB) $(ABI_BASELINE) include/gpurent

CHECK_EXTRA += abi-check
