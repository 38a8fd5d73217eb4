# Python binding: SWIG wrapper, in-place build and its pytest suite.
# Included by the top Makefile; check-python (in the Makefile) builds
# $(PYTHON_BUILD) and runs pytest on $(PYTHON_TESTS).

include bindings/common.mk

# SWIG writes capi.py and capi_wrap.c together.
$(PY_WRAP): $(PY_IFACES) $(PUBLIC_HEADERS)
	$(SWIG) -python -Iinclude -I$(BIND_DIR) -o $@ -outdir $(PY_PKG) $(BIND_DIR)/gpurent.i

# Built in place by setup.py, statically linked with this build's libgpurent.a.
$(PY_EXT): $(PY_WRAP) $(STLIB) $(PY_DIR)/setup.py
	cd $(PY_DIR) && GPURENT_BUILD_DIR=$(CURDIR)/$(BUILD) $(PYTHON) setup.py -q build_ext --inplace --force

.PHONY: python
python: $(PY_EXT)

# check-python also names tests/python (Python tests of the core suites);
# until that folder exists an empty one keeps pytest from refusing the path.
tests/python:
	mkdir -p $@

PYTHON_BUILD += $(PY_EXT) tests/python
PYTHON_TESTS += $(PY_DIR)/tests

# The Python suite against an AddressSanitizer + UBSan build of the library
# and the extension (tests/check_python_san.sh). Not in `make check`.
.PHONY: check-python-san
check-python-san: $(PY_WRAP) lib tests/python
	$(MAKE) SANITIZE=1 lib
	$(MAKE) $(BUILD)/tests/libfakecuda.so
	bash tests/check_python_san.sh $(PYTHON) build/san
