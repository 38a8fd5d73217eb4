#!/usr/bin/env bash
# Run bench_net against a nats-server of its own (tests/net/cluster.py, one
# server on free loopback ports, data in a temporary folder), stopped and
# removed whatever happens.
#   bench/net/run.sh BUILD/bench/net/bench_net [N]
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=$1; shift
py=${PYTHON:-$(test -x /usr/bin/python3 && echo /usr/bin/python3 || command -v python3)}
dir=$(mktemp -d -t gpurent-nats-bench-XXXXXX)
rmdir "$dir"
trap '"$py" "$top/tests/net/cluster.py" stop --dir "$dir" >/dev/null 2>&1 || rm -rf "$dir"' EXIT
urls=$("$py" "$top/tests/net/cluster.py" start --servers 1 --dir "$dir")
echo "bench_net: nats-server $(nats-server --version 2>/dev/null | awk '{print $2}') at $urls"
"$bin" "$urls" "$@"
