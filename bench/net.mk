# The NATS JetStream benchmark (bench/net/bench_net.c): built
# against the public API and libnats, run by bench/net/run.sh on a server of
# its own. `make bench` runs it too (bench-net).

NET_BENCH := $(BUILD)/bench/net/bench_net
NATS_PC_CFLAGS := $(shell $(PKG_CONFIG) --cflags libnats 2>/dev/null)
NATS_PC_LIBS := $(shell $(PKG_CONFIG) --libs libnats 2>/dev/null || echo -lnats)

$(NET_BENCH): bench/net/bench_net.c bench/bench_util.h $(STLIB) $(PUBLIC_HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(NATS_PC_CFLAGS) -Ibench $(LDFLAGS_ALL) -o $@ $< $(STLIB) $(NATS_PC_LIBS) $(DEP_LIBS)

.PHONY: bench-net
# BENCH_NET_N: envelopes of each kind (offers, requests); default 100000.
bench-net: $(NET_BENCH)
	bash bench/net/run.sh $(NET_BENCH) $(BENCH_NET_N)

bench: bench-net
