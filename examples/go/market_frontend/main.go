// A market front end in Go: providers' offers build a market, the best
// candidates for one request are listed, a batch of requests is matched, the
// receipt's digest is printed (the bytes operators compare and sign), a
// request that could not be placed is explained, and a lease ends.
//
//	cd examples/go && go run ./market_frontend     (after make go)
//
// Exits 0 when every step gives the expected answer.
package main

import (
	"encoding/hex"
	"fmt"
	"log"
	"os"

	"gpurent.dev/gpurent"
)

type listing struct {
	region, model     string
	cc, vram, gflops  uint64
	iface             gpurent.Interface
	nodes, gpus, free uint32
	price             uint64
	tier              uint32
}

var listings = []listing{
	{"eu-west", "H100 SXM5 80GB", 90, 81559, 66900, gpurent.IfaceSXM, 2, 8, 8, 2490000, 2},
	{"eu-west", "A100 SXM4 80GB", 80, 81920, 19500, gpurent.IfaceSXM, 3, 8, 6, 1390000, 3},
	{"us-east", "H100 SXM5 80GB", 90, 81559, 66900, gpurent.IfaceSXM, 1, 8, 8, 2190000, 5},
	{"us-east", "RTX 4090", 89, 24564, 82600, gpurent.IfacePCIe, 4, 2, 2, 440000, 4},
}

const now = 1760000000

// providerKey: a real front end takes these from signed offers.
func providerKey(i int) gpurent.Key {
	var k gpurent.Key
	for b := range k {
		k[b] = byte(i*37 + b*11 + 1)
	}
	return k
}

func request(id string, gpus uint32, model string, maxPrice uint64) gpurent.Request {
	q := gpurent.NewRequest()
	q.RequestID, q.GPUCount, q.MaxPriceMicroPerGPUHour, q.SubmittedAt = id, gpus, maxPrice, now
	if model != "" {
		q.Models = []string{model}
	}
	return q
}

func run() (bool, error) {
	if err := gpurent.Init(); err != nil {
		return false, err
	}
	var seed gpurent.Digest
	copy(seed[:], "block 19000000 hash (example)") // operators share this
	opts := gpurent.DefaultMatchOptions()
	m, err := gpurent.NewMarket(&opts, &seed)
	if err != nil {
		return false, err
	}
	defer m.Close()
	for i, l := range listings {
		o := gpurent.Offer{ProviderKey: providerKey(i), Seq: 1, Region: l.region, StakeMicro: 250000000000 * uint64(i+1)}
		gpu := gpurent.GPU{Model: l.model, CCMajor: uint32(l.cc / 10), CCMinor: uint32(l.cc % 10), MemoryMiB: l.vram,
			FP32GFLOPS: l.gflops, Interface: l.iface, CUDAVersion: 12040}
		for n := uint32(0); n < l.nodes; n++ {
			o.Nodes = append(o.Nodes, gpurent.Node{NodeID: fmt.Sprintf("node-%d", n), GPU: gpu, GPUCount: l.gpus,
				GPUFree: l.free, CPUMillicores: 64000, RAMMiB: 512 * 1024, DiskGiB: 4000, PriceMicroPerGPUHour: l.price})
		}
		if err := m.PutOffer(o); err != nil {
			return false, err
		}
		if err := m.SetTrust(providerKey(i), l.tier, 900000-100000*l.tier); err != nil {
			return false, err
		}
	}

	q := request("train-llm", 8, "", 2600000)
	q.MinVRAMMiB, q.MinCUDAVersion = 80000, 12040
	best, err := m.Best(q, 3)
	if err != nil {
		return false, err
	}
	fmt.Printf("best candidates for %s:\n", q.RequestID)
	for i, c := range best {
		fmt.Printf("  %d. %s in %s, node %s, %.2f per GPU-hour, score %d\n", i+1, c.Model, c.Region, c.NodeID,
			float64(c.PriceMicroPerGPUHour)/1e6, c.Breakdown.Total)
	}

	gang := request("pretrain-gang", 16, "A100 SXM4 80GB", 1500000)
	gang.GangNodes, gang.GangScope = 4, gpurent.GangProvider
	for _, r := range []gpurent.Request{q, request("finetune", 4, "A100 SXM4 80GB", 1500000),
		request("render", 2, "RTX 4090", 500000), gang, request("cheap-h100", 8, "H100 SXM5 80GB", 1900000)} {
		if err := m.AddRequest(r); err != nil {
			return false, err
		}
	}
	receipt, err := m.Match(now+600, nil)
	if err != nil {
		return false, err
	}
	defer receipt.Close()
	f, err := receipt.Fields()
	if err != nil {
		return false, err
	}
	fmt.Printf("batch: %d of %d requests matched, total value %d\n", len(f.Assignments), f.RequestCount, f.TotalValue)
	for _, a := range f.Assignments {
		fmt.Printf("  %s:", a.RequestID)
		for _, p := range a.Placements {
			fmt.Printf(" %d GPUs on %s at %.2f", p.GPUs, p.NodeID, float64(p.PriceMicroPerGPUHour)/1e6)
		}
		fmt.Println()
	}
	data, err := receipt.Encode()
	if err != nil {
		return false, err
	}
	digest, err := receipt.Digest()
	if err != nil {
		return false, err
	}
	fmt.Printf("receipt: %d bytes, digest %s\n", len(data), hex.EncodeToString(digest[:]))
	if err := m.Apply(receipt); err != nil {
		return false, err
	}

	ex, err := m.Explain(request("cheap-h100", 8, "H100 SXM5 80GB", 1900000))
	if err != nil {
		return false, err
	}
	fmt.Printf("why not cheap-h100?\n%s", ex.Text)
	for _, r := range ex.Relaxations {
		fmt.Printf("  -> relax %s: %d -> %d (+%d%%), %d node(s)\n", r.Constraint, r.From, r.To, r.ChangePct, r.NodesAdded)
	}

	if err := m.EndLease("finetune"); err != nil {
		return false, err
	}
	st, err := m.Stats()
	if err != nil {
		return false, err
	}
	fmt.Printf("after the lease ended: %d of %d GPUs free, %d leases, %d pending\n", st.GPUsFree, st.GPUsTotal,
		st.Leases, st.Requests)
	return !ex.Matched, nil // the explained request must have been a miss
}

func main() {
	ok, err := run()
	if err != nil {
		log.Fatal(err)
	}
	if !ok {
		os.Exit(1)
	}
}
