# The NATS client side of the network layer: the local JetStream cluster harness
# (tests/net/cluster.py), the Python and Go stream subscribers
# (examples/net, examples/go/net/subscribe) and their tests. Every server is
# started by the tests on free loopback ports and stopped at the end.

include bindings/common.mk

NATS_SERVER ?= $(shell command -v nats-server 2>/dev/null || echo /usr/sbin/nats-server)

# TMPDIR under the build tree: every server's config and data folder lands
# there (cluster.py uses tempfile), so a leftover server or folder of this run
# is told apart from anyone else's nats-server on the machine.
NET_TMP := $(CURDIR)/$(BUILD)/net-tmp

# The Go reader, built against this build tree (vetted first).
NET_GO_READER := $(BUILD)/net/subscribe-go
$(NET_GO_READER): $(wildcard examples/go/net/subscribe/*.go) $(GO_WRAP) $(GO_PC) $(SHLIB)
	@mkdir -p $(dir $@)
	cd examples/go && $(GO_ENV) $(GO) vet ./net/subscribe && $(GO_ENV) $(GO) build -o $(CURDIR)/$@ ./net/subscribe

.PHONY: check-net-clients
check-net-clients: lib $(PY_EXT) $(NET_GO_READER) $(BUILD)/bench/net/bench_net
	@test -x "$(NATS_SERVER)" || { echo "check-net-clients: nats-server not found (make deps installs it)"; exit 1; }
	@rm -rf $(NET_TMP) && mkdir -p $(NET_TMP)
	TMPDIR=$(NET_TMP) NATS_SERVER=$(NATS_SERVER) GPURENT_TEST_BUILD=$(CURDIR)/$(BUILD) PYTHONPATH=$(CURDIR)/$(PY_DIR) \
	  $(PYTHON) -m pytest -q -p no:cacheprovider tests/net
	@if pgrep -f -- "$(NET_TMP)/[g]purent-nats-" >/dev/null; then echo "check-net-clients: nats-server left running:"; \
	  pgrep -a -f -- "$(NET_TMP)/[g]purent-nats-"; exit 1; fi
	@if ls -d $(NET_TMP)/gpurent-nats-* >/dev/null 2>&1; then echo "check-net-clients: server folder left behind"; exit 1; fi
	@rm -rf $(NET_TMP)

CHECK_EXTRA += check-net-clients
