package gpurent_test

// Cross-language proof: the shared fixtures (tests/fixtures/wire, format in
// its README) encode to the exact bytes the C encoder produced and decode
// back to the described record.

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	"gpurent"
)

var fixtureDir = filepath.Join("..", "..", "tests", "fixtures", "wire")

// setField sets the field of struct v whose `wire` tag names it.
func setField(v reflect.Value, name, text string) error {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		tag := strings.SplitN(t.Field(i).Tag.Get("wire"), ",", 2)[0]
		if tag != name {
			continue
		}
		f := v.Field(i)
		switch {
		case strings.HasPrefix(text, "hex:"):
			b, err := hex.DecodeString(text[4:])
			if err != nil {
				return err
			}
			if f.Kind() == reflect.Slice { // a list of keys
				k := reflect.New(f.Type().Elem()).Elem()
				reflect.Copy(k, reflect.ValueOf(b))
				f.Set(reflect.Append(f, k))
			} else if f.Len() != len(b) {
				return fmt.Errorf("%s: %d bytes, want %d", name, len(b), f.Len())
			} else {
				reflect.Copy(f, reflect.ValueOf(b))
			}
		case f.Kind() == reflect.String:
			f.SetString(text)
		case f.Kind() == reflect.Slice:
			f.Set(reflect.Append(f, reflect.ValueOf(text)))
		default:
			n, err := strconv.ParseUint(text, 10, 64)
			if err != nil {
				return err
			}
			f.SetUint(n)
		}
		return nil
	}
	return fmt.Errorf("unknown field %s in %s", name, t.Name())
}

type fixture struct {
	name   string
	record interface{} // gpurent.GPU, gpurent.Offer or gpurent.Request
	want   []byte
}

func loadFixture(path string) (fixture, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return fixture{}, err
	}
	var (
		kind  string
		gpu   gpurent.GPU
		offer gpurent.Offer
		req   = gpurent.NewRequest()
	)
	for n, line := range strings.Split(string(text), "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		name, val, _ := strings.Cut(line, " ")
		var err error
		switch {
		case name == "record":
			kind = val
		case kind == "gpu":
			err = setField(reflect.ValueOf(&gpu).Elem(), name, val)
		case kind == "offer" && name == "node":
			offer.Nodes = append(offer.Nodes, gpurent.Node{})
		case kind == "offer" && len(offer.Nodes) > 0 && strings.HasPrefix(name, "gpu."):
			err = setField(reflect.ValueOf(&offer.Nodes[len(offer.Nodes)-1].GPU).Elem(), name[4:], val)
		case kind == "offer" && len(offer.Nodes) > 0:
			err = setField(reflect.ValueOf(&offer.Nodes[len(offer.Nodes)-1]).Elem(), name, val)
		case kind == "offer":
			err = setField(reflect.ValueOf(&offer).Elem(), name, val)
		case kind == "request":
			err = setField(reflect.ValueOf(&req).Elem(), name, val)
		default:
			err = fmt.Errorf("field before `record`")
		}
		if err != nil {
			return fixture{}, fmt.Errorf("%s:%d: %v", path, n+1, err)
		}
	}
	hexText, err := os.ReadFile(strings.TrimSuffix(path, ".rec") + ".hex")
	if err != nil {
		return fixture{}, err
	}
	want, err := hex.DecodeString(strings.TrimSpace(string(hexText)))
	if err != nil {
		return fixture{}, err
	}
	f := fixture{name: filepath.Base(path), want: want}
	switch kind {
	case "gpu":
		f.record = gpu
	case "offer":
		f.record = offer
	case "request":
		f.record = req
	default:
		return fixture{}, fmt.Errorf("%s: no record line", path)
	}
	return f, nil
}

func sortedSets(q gpurent.Request) gpurent.Request {
	for _, l := range [][]string{q.Models, q.Regions, q.ExcludedRegions} {
		sort.Strings(l)
	}
	for _, l := range [][]gpurent.Key{q.Providers, q.ExcludedProviders} {
		sort.Slice(l, func(i, j int) bool { return bytes.Compare(l[i][:], l[j][:]) < 0 })
	}
	return q
}

func TestFixturesMatchC(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join(fixtureDir, "*.rec"))
	if len(paths) < 5 {
		t.Fatalf("only %d fixtures in %s", len(paths), fixtureDir)
	}
	kinds := map[string]bool{}
	for _, p := range paths {
		f, err := loadFixture(p)
		if err != nil {
			t.Fatal(err)
		}
		var got, again []byte
		var back interface{}
		switch r := f.record.(type) {
		case gpurent.GPU:
			kinds["gpu"] = true
			got, err = r.Encode()
			if err == nil {
				var d gpurent.GPU
				d, err = gpurent.DecodeGPU(f.want)
				back, again = d, mustEncode(t, d.Encode)
			}
		case gpurent.Offer:
			kinds["offer"] = true
			got, err = r.Encode()
			if err == nil {
				var d gpurent.Offer
				d, err = gpurent.DecodeOffer(f.want)
				back, again = d, mustEncode(t, d.Encode)
			}
		case gpurent.Request:
			kinds["request"] = true
			f.record = sortedSets(r)
			got, err = r.Encode()
			if err == nil {
				var d gpurent.Request
				d, err = gpurent.DecodeRequest(f.want)
				back, again = d, mustEncode(t, d.Encode)
			}
		}
		if err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
		if !bytes.Equal(got, f.want) {
			t.Errorf("%s: Go encodes\n%x\nC encodes\n%x", f.name, got, f.want)
		}
		if !reflect.DeepEqual(back, f.record) {
			t.Errorf("%s: decodes to\n%+v\nwant\n%+v", f.name, back, f.record)
		}
		if !bytes.Equal(again, f.want) {
			t.Errorf("%s: re-encoding the decoded record differs", f.name)
		}
	}
	if len(kinds) != 3 {
		t.Fatalf("fixtures cover %v, want gpu, offer and request", kinds)
	}
}

func mustEncode(t *testing.T, enc func() ([]byte, error)) []byte {
	t.Helper()
	b, err := enc()
	if err != nil {
		t.Fatal(err)
	}
	return b
}
