// Bindings benchmark, Go side: the work of baseline.c through package
// gpurent, against the C baseline measured in the same run.
//
//	go run . PATH/TO/bench_bindings_c     (make bench-bindings)
package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"log"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"gpurent"
)

func timed(fn func() error, n int) float64 {
	if err := fn(); err != nil {
		log.Fatal(err)
	}
	best := 0.0
	for r := 0; r < 3; r++ {
		t0 := time.Now()
		for i := 0; i < n; i++ {
			if err := fn(); err != nil {
				log.Fatal(err)
			}
		}
		ns := float64(time.Since(t0).Nanoseconds()) / float64(n)
		if r == 0 || ns < best {
			best = ns
		}
	}
	return best
}

func main() {
	out, err := exec.Command(os.Args[1]).Output()
	if err != nil {
		log.Fatal(err)
	}
	c := map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		v, _ := strconv.ParseFloat(f[2], 64)
		c[f[1]] = v
	}
	g := gpurent.GPU{Model: "H100 SXM5 80GB", CCMajor: 9, SMCount: 132, MemoryMiB: 81559,
		Interface: gpurent.IfaceSXM, FP32GFLOPS: 66908, CUDAVersion: 12040}
	o := gpurent.Offer{Region: "eu-west"}
	for i := range o.ProviderKey {
		o.ProviderKey[i] = 7
	}
	for i := 0; i < 16; i++ {
		o.Nodes = append(o.Nodes, gpurent.Node{NodeID: fmt.Sprintf("node-%d", i), GPU: g, GPUCount: 8, GPUFree: 8})
	}
	// Bulk verification: the same 1000 envelopes as baseline.c, one call.
	var seed [gpurent.SeedBytes]byte
	for i := range seed {
		seed[i] = 1
	}
	key, err := gpurent.KeyFromSeed(seed)
	if err != nil {
		log.Fatal(err)
	}
	pk, _ := key.PublicKey()
	trust, err := gpurent.NewTrustStore(0)
	if err != nil {
		log.Fatal(err)
	}
	if err := trust.Add(pk, gpurent.RoleProvider, 0, 0); err != nil {
		log.Fatal(err)
	}
	gb, _ := g.Encode()
	envs := make([][]byte, 1000)
	for i := range envs {
		h := gpurent.Envelope{Statement: gpurent.RecordGPU, IssuedAt: 1700000000, ExpiresAt: 1700000000 + 86400}
		binary.LittleEndian.PutUint32(h.Nonce[:], uint32(i+1))
		if envs[i], err = key.Sign(h, gb); err != nil {
			log.Fatal(err)
		}
	}
	noReplay := &gpurent.VerifyOptions{NoReplay: true}
	big := append([]byte{0xdd, 0x00, 0x10, 0x00, 0x00}, make([]byte, 1<<20)...)
	work := []struct {
		name string
		fn   func() error
		n    int
	}{
		{"gpu_roundtrip", func() error {
			b, err := g.Encode()
			if err == nil {
				_, err = gpurent.DecodeGPU(b)
			}
			return err
		}, 50000},
		{"offer16_roundtrip", func() error {
			b, err := o.Encode()
			if err == nil {
				_, err = gpurent.DecodeOffer(b)
			}
			return err
		}, 2000},
		{"check_canonical_1MiB", func() error { return gpurent.CheckCanonical(big) }, 200},
		{"verify_many_1000", func() error {
			st, err := trust.VerifyMany(envs, 1700000100, 0, noReplay, 1, nil)
			for _, s := range st {
				if err == nil && s != 0 {
					err = gpurent.StatusError(int(s))
				}
			}
			return err
		}, 5},
	}
	for _, w := range work {
		ns := timed(w.fn, w.n)
		fmt.Printf("BENCH go_%s %.0f ns/op baseline=c_%s:%.0f ratio=%.2f\n", w.name, ns, w.name, c[w.name], ns/c[w.name])
	}
}
