// Command wineprng writes bcryptprimitives.dll for running Go's Windows test
// binaries under Debian bookworm's Wine 8.0, which lacks that DLL: the Go
// runtime (1.24 and later) calls its ProcessPrng for randomness at start-up
// and aborts without it. The DLL holds no code: its one export, ProcessPrng,
// forwards to advapi32's SystemFunction036 (RtlGenRandom), which fills a
// buffer with random bytes the same way (ProcessPrng returns TRUE; Go passes
// lengths below 4 GiB, so the narrower ULONG length is enough).
//
// Usage: go run ./.ci/wineprng DIR (writes DIR/bcryptprimitives.dll)
package main

import (
	"bytes"
	"encoding/binary"
	"log"
	"os"
	"path/filepath"
)

const (
	sectionRVA  = 0x1000
	fileAlign   = 0x200
	headersSize = 0x200
)

func main() {
	if len(os.Args) != 2 {
		log.Fatal("usage: wineprng DIR")
	}
	if err := os.WriteFile(filepath.Join(os.Args[1], "bcryptprimitives.dll"), dll(), 0o644); err != nil {
		log.Fatal(err)
	}
}

// dll builds a PE32+ image with one section holding the export directory
// (PE/COFF specification, "The .edata Section").
func dll() []byte {
	// The export section: directory (40 bytes), then the tables and strings.
	const (
		eat      = 40
		names    = eat + 4
		ordinals = names + 4
		strs     = ordinals + 2
	)
	dllName := "bcryptprimitives.dll\x00"
	fnName := "ProcessPrng\x00"
	forward := "advapi32.SystemFunction036\x00"
	var sec bytes.Buffer
	le := func(v any) { binary.Write(&sec, binary.LittleEndian, v) }
	le([4]uint32{0, 0, 0, sectionRVA + strs}) // flags, time, version, Name
	le([6]uint32{1, 1, 1, sectionRVA + eat, sectionRVA + names, sectionRVA + ordinals})
	// An export address inside the export section is a forwarder string.
	le(uint32(sectionRVA + strs + len(dllName) + len(fnName)))
	le(uint32(sectionRVA + strs + len(dllName)))
	le(uint16(0))
	sec.WriteString(dllName + fnName + forward)
	size := sec.Len()
	sec.Write(make([]byte, fileAlign-size))

	var h bytes.Buffer
	w := func(v any) { binary.Write(&h, binary.LittleEndian, v) }
	h.WriteString("MZ")
	h.Write(make([]byte, 0x3a))
	w(uint32(0x40)) // e_lfanew
	h.WriteString("PE\x00\x00")
	// COFF header: AMD64, one section, optional header of 240 bytes,
	// executable image | large address aware | DLL.
	w(struct {
		Machine, Sections        uint16
		Time, Symtab, Symbols    uint32
		OptSize, Characteristics uint16
	}{0x8664, 1, 0, 0, 0, 240, 0x2022})
	w(struct {
		Magic                                     uint16
		LinkerMajor, LinkerMinor                  uint8
		Code, Data, BSS, Entry, BaseOfCode        uint32
		ImageBase                                 uint64
		SectionAlign, FileAlign                   uint32
		OSMajor, OSMinor, ImgMajor, ImgMinor      uint16
		SubMajor, SubMinor                        uint16
		Win32Version, ImageSize, HeadersSize, Sum uint32
		Subsystem, DllCharacteristics             uint16
		StackReserve, StackCommit                 uint64
		HeapReserve, HeapCommit                   uint64
		LoaderFlags, DataDirs                     uint32
	}{
		Magic: 0x20b, Data: fileAlign, BaseOfCode: sectionRVA,
		ImageBase: 0x7ff7a0000000, SectionAlign: 0x1000, FileAlign: fileAlign,
		OSMajor: 6, SubMajor: 6, ImageSize: 2 * 0x1000, HeadersSize: headersSize,
		Subsystem: 3, DllCharacteristics: 0x100, // NX compatible
		StackReserve: 0x100000, StackCommit: 0x1000, HeapReserve: 0x100000, HeapCommit: 0x1000,
		DataDirs: 16,
	})
	w([2]uint32{sectionRVA, uint32(size)}) // export directory
	h.Write(make([]byte, 15*8))
	h.WriteString(".edata\x00\x00")
	w([6]uint32{uint32(size), sectionRVA, fileAlign, headersSize, 0, 0})
	w([2]uint16{0, 0})
	w(uint32(0x40000040)) // initialized data, readable
	h.Write(make([]byte, headersSize-h.Len()))
	return append(h.Bytes(), sec.Bytes()...)
}
