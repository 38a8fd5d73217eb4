# Variables shared by bindings/python.mk, go.mk and xlang.mk. Each of them
# includes this file first, so the top Makefile may include them in any order.
ifndef GPURENT_BINDINGS_COMMON
GPURENT_BINDINGS_COMMON := 1

SWIG ?= swig
BIND_DIR := bindings
BIND_BUILD := $(BUILD)/bindings

# Python
PY_DIR := $(BIND_DIR)/python
PY_PKG := $(PY_DIR)/gpurent
PY_WRAP := $(PY_PKG)/capi_wrap.c
PY_IFACES := $(filter-out $(BIND_DIR)/lang_go.i,$(wildcard $(BIND_DIR)/*.i))
PY_EXT_SUFFIX := $(shell $(PYTHON) -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))' 2>/dev/null)
PY_EXT := $(PY_PKG)/_capi$(PY_EXT_SUFFIX)

# Go
GO_DIR := $(BIND_DIR)/go
GO_CAPI := $(GO_DIR)/capi
GO_WRAP := $(GO_CAPI)/capi_wrap.c
GO_IFACES := $(filter-out $(BIND_DIR)/lang_python.i,$(wildcard $(BIND_DIR)/*.i))
GO_PC := $(BIND_BUILD)/pkgconfig/gpurent.pc
# The Go module has no dependencies: never reach for a proxy.
# Go's build cache does not notice a change of PKG_CONFIG_PATH (it keys a
# cgo package on its CGO_* flags, not on what pkg-config answered), so a
# program later built against an installed libgpurent would silently reuse
# the capi package built here, linked to this build tree. The marker in
# CGO_CPPFLAGS keys every build made here apart from any other.
GO_ENV := PKG_CONFIG_PATH=$(CURDIR)/$(BIND_BUILD)/pkgconfig GOPROXY=off GOFLAGS=-mod=mod CGO_ENABLED=1 \
          CGO_CPPFLAGS=-DGPURENT_UNINSTALLED_BUILD
GO_COVERAGE := $(BIND_BUILD)/coverage-go.txt

endif

# The top Makefile includes the .mk files before its own `all` rule: keep
# `make` with no target building the library, not the first rule above.
.DEFAULT_GOAL := all
