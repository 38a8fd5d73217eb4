// Package cmem reports how much C heap the process uses, so leak tests can
// watch memory that Go's runtime does not see.
package cmem

// #include <malloc.h>
import "C"

// InUse is the number of bytes malloc has handed out and not taken back
// (glibc's mallinfo2: ordinary chunks plus mmap'ed ones).
func InUse() uint64 {
	m := C.mallinfo2()
	return uint64(m.uordblks) + uint64(m.hblkhd)
}
