// A provider describes a node, encodes its offer to canonical bytes, and a
// matchmaker decodes it and a request: the wire module from Go.
//
// Run from examples/go after `make go`, with pkg-config finding libgpurent
// (installed, or PKG_CONFIG_PATH=../../build/bindings/pkgconfig):
//
//	go run ./wire_roundtrip
package main

import (
	"errors"
	"fmt"
	"log"

	"gpurent.dev/gpurent"
)

func main() {
	if err := gpurent.Init(); err != nil {
		log.Fatal(err)
	}
	fmt.Println("libgpurent", gpurent.VersionString())

	h100 := gpurent.GPU{Model: "H100 SXM5 80GB", CCMajor: 9, SMCount: 132, MemoryMiB: 81559,
		Interface: gpurent.IfaceSXM, FP32GFLOPS: 66908, CUDAVersion: 12040}
	var key gpurent.Key
	for i := range key {
		key[i] = byte(i)
	}
	offer := gpurent.Offer{ProviderKey: key, Seq: 1, Region: "eu-west", Nodes: []gpurent.Node{
		{NodeID: "node-1", GPU: h100, GPUCount: 8, GPUFree: 8, PriceMicroPerGPUHour: 2_100_000}}}
	wire, err := offer.Encode()
	if err != nil {
		log.Fatal(err)
	}
	rt, err := gpurent.RecordTypeOf(wire)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("offer: %d bytes, type %s\n", len(wire), rt)

	back, err := gpurent.DecodeOffer(wire)
	if err != nil {
		log.Fatal(err)
	}
	n := back.Nodes[0]
	fmt.Printf("decoded: %d x %s in %s\n", n.GPUCount, n.GPU.Model, back.Region)

	req := gpurent.NewRequest()
	req.RequestID, req.GPUCount, req.DurationS = "job-42", 8, 7200
	req.Models, req.Regions = []string{"H100 SXM5 80GB"}, []string{"eu-west", "eu-north"}
	rb, err := req.Encode()
	if err != nil {
		log.Fatal(err)
	}
	rq, err := gpurent.DecodeRequest(rb)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("request: %d bytes, regions %v\n", len(rb), rq.Regions)

	if _, err := gpurent.DecodeOffer(wire[:len(wire)-1]); errors.Is(err, gpurent.ErrTruncated) {
		fmt.Println("truncated offer refused:", err)
	} else {
		log.Fatalf("truncated offer: %v", err)
	}
}
