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

	"gpurent.dev/gpurent"
)

var fixtureDir = filepath.Join("..", "..", "tests", "fixtures", "wire")

// fieldByTag is the field of struct v whose `wire` tag names it.
func fieldByTag(v reflect.Value, name string) (reflect.Value, bool) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		if strings.SplitN(t.Field(i).Tag.Get("wire"), ",", 2)[0] == name {
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}

// probed sets a probed value from `STATE ERROR VALUE` (a check: `STATE
// ERROR VALUE RATIO_PPM VERDICT`; text and uuid: the rest of the line).
func probed(f reflect.Value, text string) (bool, error) {
	switch f.Addr().Interface().(type) {
	case *gpurent.PV, *gpurent.PVText, *gpurent.PVUUID, *gpurent.ProbeCheck:
	default:
		return false, nil
	}
	parts := strings.SplitN(text, " ", 3)
	for len(parts) < 3 {
		parts = append(parts, "")
	}
	state, err := strconv.ParseUint(parts[0], 10, 32)
	if err != nil {
		return true, err
	}
	code, err := strconv.ParseUint(parts[1], 10, 32)
	if err != nil {
		return true, err
	}
	st, e, rest := gpurent.PVState(state), uint32(code), parts[2]
	switch f.Addr().Interface().(type) {
	case *gpurent.PV:
		n, err := strconv.ParseUint(rest, 10, 64)
		f.Set(reflect.ValueOf(gpurent.PV{State: st, Error: e, Value: n}))
		return true, err
	case *gpurent.PVText:
		f.Set(reflect.ValueOf(gpurent.PVText{State: st, Error: e, Value: rest}))
		return true, nil
	case *gpurent.PVUUID:
		u := gpurent.PVUUID{State: st, Error: e}
		b, err := hex.DecodeString(strings.TrimPrefix(rest, "hex:"))
		if err == nil && len(b) != len(u.Value) {
			err = fmt.Errorf("uuid of %d bytes", len(b))
		}
		copy(u.Value[:], b)
		f.Set(reflect.ValueOf(u))
		return true, err
	case *gpurent.ProbeCheck:
		var n [3]uint64
		x := strings.Split(rest, " ")
		if len(x) != 3 {
			return true, fmt.Errorf("a check is STATE ERROR VALUE RATIO_PPM VERDICT")
		}
		for i := range n {
			if n[i], err = strconv.ParseUint(x[i], 10, 64); err != nil {
				return true, err
			}
		}
		f.Set(reflect.ValueOf(gpurent.ProbeCheck{State: st, Error: e, Value: n[0], RatioPPM: uint32(n[1]),
			Verdict: gpurent.Verdict(n[2])}))
	}
	return true, nil
}

// setField sets the field of struct v whose `wire` tag names it (a dotted
// name, `gpu.model`, a field of a nested record).
func setField(v reflect.Value, name, text string) error {
	if outer, inner, ok := strings.Cut(name, "."); ok {
		f, found := fieldByTag(v, outer)
		if !found || f.Kind() != reflect.Struct {
			return fmt.Errorf("unknown record %s in %s", outer, v.Type().Name())
		}
		return setField(f, inner, text)
	}
	f, found := fieldByTag(v, name)
	if !found {
		return fmt.Errorf("unknown field %s in %s", name, v.Type().Name())
	}
	if done, err := probed(f, text); done {
		return err
	}
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
	case f.Kind() == reflect.Bool: // a C 0/1 flag
		switch text {
		case "0":
			f.SetBool(false)
		case "1":
			f.SetBool(true)
		default:
			return fmt.Errorf("flag %s: %q is not 0 or 1", name, text)
		}
	case f.Kind() >= reflect.Int && f.Kind() <= reflect.Int64:
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			return err
		}
		f.SetInt(n)
	default:
		n, err := strconv.ParseUint(text, 10, 64)
		if err != nil {
			return err
		}
		f.SetUint(n)
	}
	return nil
}

// itemLists: a line naming an item starts a new item of this list.
var itemLists = map[string]string{"node": "nodes", "device": "devices", "challenge": "challenges", "job": "jobs",
	"assignment": "assignments", "placement": "placements"}

// newRecord is the zero record of a `record` line (a request starts from
// its defaults); a match receipt is read as its fields.
func newRecord(kind string) (interface{}, error) {
	switch kind {
	case "gpu":
		return &gpurent.GPU{}, nil
	case "offer":
		return &gpurent.Offer{}, nil
	case "request":
		q := gpurent.NewRequest()
		return &q, nil
	case "gpu_report":
		return &gpurent.GPUReport{}, nil
	case "audit_report":
		return &gpurent.AuditReport{}, nil
	case "tier_cert":
		return &gpurent.TierCert{}, nil
	case "revocation":
		return &gpurent.Revocation{}, nil
	case "match_receipt":
		return &gpurent.ReceiptFields{}, nil
	}
	return nil, fmt.Errorf("unknown record %s", kind)
}

// openItem appends an item to the list named list of the innermost open
// record or item that has one, and makes it the innermost.
func openItem(stack []reflect.Value, list string) ([]reflect.Value, error) {
	for i := len(stack) - 1; i >= 0; i-- {
		if f, ok := fieldByTag(stack[i], list); ok && f.Kind() == reflect.Slice {
			f.Set(reflect.Append(f, reflect.Zero(f.Type().Elem())))
			return append(stack[:i+1], f.Index(f.Len()-1)), nil
		}
	}
	return stack, fmt.Errorf("no list %s here", list)
}

type fixture struct {
	name   string
	kind   string
	record interface{} // the record's value (gpurent.GPU, ...; gpurent.ReceiptFields for a receipt)
	want   []byte
}

func loadFixture(path string) (fixture, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return fixture{}, err
	}
	var (
		kind  string
		rec   interface{}
		stack []reflect.Value // the record, then its open items
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
			if rec, err = newRecord(kind); err == nil {
				stack = []reflect.Value{reflect.ValueOf(rec).Elem()}
			}
		case stack == nil:
			err = fmt.Errorf("field before `record`")
		case itemLists[name] != "":
			stack, err = openItem(stack, itemLists[name])
		default:
			err = setField(stack[len(stack)-1], name, val)
		}
		if err != nil {
			return fixture{}, fmt.Errorf("%s:%d: %v", path, n+1, err)
		}
	}
	if rec == nil {
		return fixture{}, fmt.Errorf("%s: no record line", path)
	}
	hexText, err := os.ReadFile(strings.TrimSuffix(path, ".rec") + ".hex")
	if err != nil {
		return fixture{}, err
	}
	want, err := hex.DecodeString(strings.TrimSpace(string(hexText)))
	if err != nil {
		return fixture{}, err
	}
	return fixture{name: filepath.Base(path), kind: kind, record: reflect.ValueOf(rec).Elem().Interface(),
		want: want}, nil
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

// sortedAudit orders an audit report's sets as the encoder writes them.
func sortedAudit(a gpurent.AuditReport) gpurent.AuditReport {
	sort.Slice(a.Challenges, func(i, j int) bool {
		x, y := a.Challenges[i], a.Challenges[j]
		return x.TimeS < y.TimeS || (x.TimeS == y.TimeS && x.Kind < y.Kind)
	})
	sort.Slice(a.Jobs, func(i, j int) bool { return a.Jobs[i].JobID < a.Jobs[j].JobID })
	return a
}

// codec encodes a fixture's record, decodes the C bytes and re-encodes the
// decoded record; want is the record the decoder must give.
func codec(t *testing.T, f fixture) (got, again []byte, back, want interface{}, err error) {
	want = f.record
	switch r := f.record.(type) {
	case gpurent.GPU:
		if got, err = r.Encode(); err == nil {
			var d gpurent.GPU
			d, err = gpurent.DecodeGPU(f.want)
			back, again = d, mustEncode(t, d.Encode)
		}
	case gpurent.Offer:
		if got, err = r.Encode(); err == nil {
			var d gpurent.Offer
			d, err = gpurent.DecodeOffer(f.want)
			back, again = d, mustEncode(t, d.Encode)
		}
	case gpurent.Request:
		want = sortedSets(r)
		if got, err = r.Encode(); err == nil {
			var d gpurent.Request
			d, err = gpurent.DecodeRequest(f.want)
			back, again = d, mustEncode(t, d.Encode)
		}
	case gpurent.GPUReport:
		if r.Devices == nil {
			r.Devices = []gpurent.ProbeDevice{} // the decoder gives an empty list
			want = r
		}
		if got, err = r.Encode(); err == nil {
			var d gpurent.GPUReport
			d, err = gpurent.DecodeGPUReport(f.want)
			back, again = d, mustEncode(t, d.Encode)
		}
	case gpurent.AuditReport:
		if got, err = r.Encode(); err == nil {
			var d gpurent.AuditReport
			d, err = gpurent.DecodeAuditReport(f.want)
			back, again = d, mustEncode(t, d.Encode)
		}
		want = sortedAudit(r) // after Encode: it sorts a copy of the lists, not these
	case gpurent.TierCert:
		if got, err = r.Encode(); err == nil {
			var d gpurent.TierCert
			d, err = gpurent.DecodeTierCert(f.want)
			back, again = d, mustEncode(t, d.Encode)
		}
	case gpurent.Revocation:
		if got, err = r.Encode(); err == nil {
			var d gpurent.Revocation
			d, err = gpurent.DecodeRevocation(f.want)
			back, again = d, mustEncode(t, d.Encode)
		}
	case gpurent.ReceiptFields:
		var built, d *gpurent.Receipt
		if built, err = gpurent.NewReceipt(r); err != nil {
			return
		}
		defer built.Close()
		if got, err = built.Encode(); err == nil {
			if d, err = gpurent.DecodeReceipt(f.want); err == nil {
				defer d.Close()
				again = mustEncode(t, d.Encode)
				back, err = d.Fields()
			}
		}
	default:
		err = fmt.Errorf("no codec for %T", r)
	}
	return
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
		kinds[f.kind] = true
		got, again, back, want, err := codec(t, f)
		if err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
		if !bytes.Equal(got, f.want) {
			t.Errorf("%s: Go encodes\n%x\nC encodes\n%x", f.name, got, f.want)
		}
		if !reflect.DeepEqual(back, want) {
			t.Errorf("%s: decodes to\n%+v\nwant\n%+v", f.name, back, want)
		}
		if !bytes.Equal(again, f.want) {
			t.Errorf("%s: re-encoding the decoded record differs", f.name)
		}
	}
	// Every record with an encoder and a decoder (the envelope is made by
	// signing: tests/vectors holds its cross-language cases).
	all := []string{"gpu", "offer", "request", "gpu_report", "audit_report", "tier_cert", "revocation", "match_receipt"}
	for _, k := range all {
		if !kinds[k] {
			t.Errorf("no fixture of record %s", k)
		}
	}
	if len(kinds) != len(all) {
		t.Errorf("fixtures cover %v, want %v", kinds, all)
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
