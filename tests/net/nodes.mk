# The network nodes (bindings/cli/node*.c, docs/net.md):
#  check-net  the short run of tests/net/test_nodes.py (its own nats-server on
#             free loopback ports, stopped whatever happens; ~35 s);
#  demo-net   a 3-server cluster, 20 providers, 5 auditors, 3 matchmakers and
#             requesters as separate processes for a few compressed eras
#             (examples/net/demo_net.py).
# Prerequisites name build/gpurent by path: bindings/cli.mk (CLI_BIN) is read
# after this file.

NET_NODES_TMP := $(CURDIR)/$(BUILD)/net-nodes-tmp
NATS_SERVER ?= $(shell command -v nats-server 2>/dev/null || echo /usr/sbin/nats-server)

.PHONY: check-net demo-net
check-net: lib $(BUILD)/gpurent $(BUILD)/tests/libfakecuda.so
	@test -x "$(NATS_SERVER)" || { echo "check-net: nats-server not found (make deps installs it)"; exit 1; }
	@rm -rf $(NET_NODES_TMP) && mkdir -p $(NET_NODES_TMP)
	TMPDIR=$(NET_NODES_TMP) NATS_SERVER=$(NATS_SERVER) GPURENT_NET_NODES=1 GPURENT_CLI=$(CURDIR)/$(BUILD)/gpurent \
	  GPURENT_TEST_BUILD=$(CURDIR)/$(BUILD) $(PYTHON) -m pytest -q -p no:cacheprovider tests/net/test_nodes.py
	@if pgrep -f -- "$(NET_NODES_TMP)/[g]purent-nats-" >/dev/null; then echo "check-net: nats-server left running"; exit 1; fi
	@rm -rf $(NET_NODES_TMP)

CHECK_EXTRA += check-net

demo-net: deps
	$(MAKE) $(BUILD)/gpurent $(BUILD)/tests/libfakecuda.so
	NATS_SERVER=$(NATS_SERVER) $(PYTHON) examples/net/demo_net.py --cli $(CURDIR)/$(BUILD)/gpurent \
	  --fake-driver $(CURDIR)/$(BUILD)/tests/libfakecuda.so
