package gpurent_test

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"

	"gpurent.dev/gpurent"
	"gpurent.dev/gpurent/capi"
)

func TestInitAndVersion(t *testing.T) {
	if err := gpurent.Init(); err != nil {
		t.Fatal(err)
	}
	if err := gpurent.Init(); err != nil { // idempotent
		t.Fatal(err)
	}
	maj, min, pat := int(capi.VERSION_MAJOR), int(capi.VERSION_MINOR), int(capi.VERSION_PATCH)
	if got := gpurent.VersionNumber(); int(got) != maj*10000+min*100+pat {
		t.Fatalf("VersionNumber %d", got)
	}
	if got := gpurent.VersionString(); got != fmt.Sprintf("%d.%d.%d", maj, min, pat) {
		t.Fatalf("VersionString %q", got)
	}
	if maj != gpurent.VersionMajor || min != gpurent.VersionMinor {
		t.Fatalf("package constants %d.%d, headers %d.%d", gpurent.VersionMajor, gpurent.VersionMinor, maj, min)
	}
}

func TestStrerrorAndStatusName(t *testing.T) {
	if s := gpurent.Strerror(int(capi.E_NONCANONICAL)); s != "non-canonical encoding" {
		t.Fatalf("Strerror %q", s)
	}
	if s := gpurent.Strerror(-9999); s != "unknown status" {
		t.Fatalf("Strerror(unknown) %q", s)
	}
	if s := gpurent.StatusName(int(capi.E_LIMIT)); s != "GPURENT_E_LIMIT" {
		t.Fatalf("StatusName %q", s)
	}
	if s := gpurent.StatusName(4242); s != "GPURENT_E_UNKNOWN" {
		t.Fatalf("StatusName(unknown) %q", s)
	}
}

// Every status the library names has a sentinel with that status.
func TestSentinels(t *testing.T) {
	all := []*gpurent.Error{gpurent.ErrInvalidArg, gpurent.ErrNoMem, gpurent.ErrVersion, gpurent.ErrCancelled,
		gpurent.ErrInternal, gpurent.ErrIO, gpurent.ErrLimit, gpurent.ErrUnsupported, gpurent.ErrNotFound,
		gpurent.ErrExists, gpurent.ErrTimeout, gpurent.ErrInit, gpurent.ErrMalformed, gpurent.ErrTruncated,
		gpurent.ErrNonCanonical, gpurent.ErrOversize, gpurent.ErrInvalidField, gpurent.ErrWrongRecord,
		gpurent.ErrBadSignature, gpurent.ErrExpired, gpurent.ErrNotYetValid, gpurent.ErrUnknownIssuer,
		gpurent.ErrRoleNotAllowed, gpurent.ErrRevoked, gpurent.ErrReplayed, gpurent.ErrQuorumNotMet,
		gpurent.ErrWrongPassphrase, gpurent.ErrKeyfileDamaged, gpurent.ErrKeyMismatch, gpurent.ErrNoDriver,
		gpurent.ErrStubDriver, gpurent.ErrDriverTooOld, gpurent.ErrDriverFailed, gpurent.ErrDriverTimeout,
		gpurent.ErrBenchUnavailable, gpurent.ErrNoDevice, gpurent.ErrDeviceFailed, gpurent.ErrUnknownProvider, gpurent.ErrEvidenceRejected, gpurent.ErrCertMismatch,
		gpurent.ErrInfeasible, gpurent.ErrUnknownOffer, gpurent.ErrUnknownRequest, gpurent.ErrCapacity,
		gpurent.ErrGPUConflict,
		gpurent.ErrSnapshotCorrupt, gpurent.ErrSnapshotTruncated, gpurent.ErrSnapshotKind, gpurent.ErrSnapshotVersion, gpurent.ErrSnapshotParams}
	seen := map[int]bool{}
	for _, e := range all {
		if e.Status >= 0 || seen[e.Status] || !strings.HasPrefix(e.Name, "GPURENT_E_") || e.Name == "GPURENT_E_UNKNOWN" {
			t.Fatalf("bad sentinel %+v", e)
		}
		seen[e.Status] = true
	}
	// The library knows exactly these statuses.
	known := 0
	for code := -1; code > -1000; code-- {
		if gpurent.StatusName(code) != "GPURENT_E_UNKNOWN" {
			known++
			if !seen[code] {
				t.Errorf("status %d (%s) has no sentinel", code, gpurent.StatusName(code))
			}
		}
	}
	if known != len(all) {
		t.Fatalf("library knows %d statuses, %d sentinels", known, len(all))
	}
	if errors.Is(gpurent.ErrLimit, gpurent.ErrNoMem) || !errors.Is(gpurent.ErrLimit, gpurent.ErrLimit) {
		t.Fatal("sentinels must match by status")
	}
}

func TestErrorCarriesStatusAndDetail(t *testing.T) {
	_, err := gpurent.DecodeGPU([]byte{0xde, 0x00, 0x16, 0x00})
	if !errors.Is(err, gpurent.ErrTruncated) || errors.Is(err, gpurent.ErrMalformed) {
		t.Fatalf("got %v", err)
	}
	var ge *gpurent.Error
	if !errors.As(err, &ge) {
		t.Fatalf("not a *gpurent.Error: %T", err)
	}
	if ge.Status != int(capi.E_TRUNCATED) || ge.Name != "GPURENT_E_TRUNCATED" || !strings.HasPrefix(ge.Detail, "gpu") {
		t.Fatalf("error fields %+v", ge)
	}
	if want := "gpurent: GPURENT_E_TRUNCATED: truncated input: " + ge.Detail; err.Error() != want {
		t.Fatalf("Error() %q, want %q", err.Error(), want)
	}
	wrapped := fmt.Errorf("loading offer: %w", err)
	if !errors.Is(wrapped, gpurent.ErrTruncated) {
		t.Fatal("errors.Is through wrapping")
	}
}

// The raw per-thread accessors, on a goroutine locked to its thread.
func TestLastErrorOnLockedThread(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	err := gpurent.CheckCanonical([]byte{0xcc, 0x05})
	var ge *gpurent.Error
	if !errors.As(err, &ge) || !errors.Is(err, gpurent.ErrNonCanonical) {
		t.Fatalf("got %v", err)
	}
	if gpurent.LastErrorStatus() != ge.Status || gpurent.LastErrorMessage() != ge.Detail {
		t.Fatalf("last error %d %q, error %+v", gpurent.LastErrorStatus(), gpurent.LastErrorMessage(), ge)
	}
	gpurent.ErrorClear()
	if gpurent.LastErrorStatus() != 0 || gpurent.LastErrorMessage() != "" {
		t.Fatal("ErrorClear did not clear")
	}
}

// Goroutines hop between OS threads; the detail is read in the C wrapper,
// so each error describes its own call even when many fail at once.
func TestDetailBelongsToTheFailingCall(t *testing.T) {
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				q := gpurent.NewRequest()
				q.RequestID = fmt.Sprintf("g%d", g)
				q.GPUCount, q.GangNodes = uint32(g+2), uint32(g+3)
				err := q.Validate()
				want := fmt.Sprintf("request.gang_nodes: %d does not divide gpu_count %d", g+3, g+2)
				var ge *gpurent.Error
				if !errors.As(err, &ge) || ge.Detail != want {
					errs <- fmt.Errorf("goroutine %d: got %v, want detail %q", g, err, want)
					return
				}
				runtime.Gosched()
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestBufAndFreeLowLevel(t *testing.T) {
	b := capi.NewBuf()
	capi.Buf_free(b) // an empty buffer
	if b.GetLen() != 0 {
		t.Fatal("len")
	}
	capi.DeleteBuf(b)
	capi.Free(0) // NULL is accepted
}

func TestCancel(t *testing.T) {
	c, err := gpurent.NewCancel()
	if err != nil {
		t.Fatal(err)
	}
	if c.Requested() {
		t.Fatal("new token set")
	}
	done := make(chan struct{})
	go func() {
		for !c.Requested() {
			runtime.Gosched()
		}
		close(done)
	}()
	c.Request()
	<-done
	c.Reset()
	if c.Requested() {
		t.Fatal("reset token set")
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil { // twice is harmless
		t.Fatal(err)
	}
	c.Request() // a closed token is NULL to the library: ignored
	if c.Requested() {
		t.Fatal("closed token reads as set")
	}
}

func TestCancelLowLevel(t *testing.T) {
	var p uintptr
	if err := capi.Cancel_new(&p); err != nil || p == 0 {
		t.Fatalf("Cancel_new %v %x", err, p)
	}
	tok := capi.SwigcptrCancel(p)
	capi.Cancel_request(tok)
	if capi.Cancel_requested(tok) != 1 {
		t.Fatal("not set")
	}
	capi.Cancel_reset(tok)
	if capi.Cancel_requested(tok) != 0 {
		t.Fatal("still set")
	}
	capi.Cancel_free(tok)
	capi.Cancel_free(capi.SwigcptrCancel(0))
}

// Every enum type of the binding has a String method; values outside the
// enum are "unknown".
func TestEnumNames(t *testing.T) {
	for _, c := range []struct {
		got  fmt.Stringer
		want string
	}{
		{gpurent.IfaceSXM, "sxm"}, {gpurent.IfaceAny, "any"}, {gpurent.Interface(3), "unknown"},
		{gpurent.GangRegion, "region"}, {gpurent.GangScope(9), "unknown"},
		{gpurent.CheckNotRun, "not_run"}, {gpurent.CheckFailed, "failed"},
		{gpurent.ChallengeCPU, "cpu"}, {gpurent.ChallengeKind(0), "unknown"},
		{gpurent.JobFailedProvider, "failed_provider"}, {gpurent.JobOutcome(0), "unknown"},
		{gpurent.EventStake, "stake"}, {gpurent.EventKind(5), "unknown"},
		{gpurent.RevokeRetired, "retired"}, {gpurent.RevocationReason(4), "unknown"},
		{gpurent.PresetPerformance, "performance"}, {gpurent.Preset(-1), "unknown"},
		{gpurent.BoundWilson, "wilson"}, {gpurent.RecordOffer, "offer"},
	} {
		if s := c.got.String(); s != c.want {
			t.Errorf("%#v: %q, want %q", c.got, s, c.want)
		}
	}
}
