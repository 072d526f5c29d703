package atlassiantest_test

import (
	"bytes"
	"regexp"
	"strconv"
	"testing"
)

// checkPDF checks the structure a PDF reader relies on: header, trailer, and
// a cross-reference table whose offsets point at their objects.
func checkPDF(t *testing.T, pdf []byte) {
	t.Helper()
	if !bytes.HasPrefix(pdf, []byte("%PDF-1.")) || !bytes.HasSuffix(bytes.TrimSpace(pdf), []byte("%%EOF")) {
		t.Fatalf("not a PDF: %.40q…", pdf)
	}
	m := regexp.MustCompile(`startxref\n(\d+)\n%%EOF`).FindSubmatch(pdf)
	if m == nil {
		t.Fatal("no startxref")
	}
	xref, _ := strconv.Atoi(string(m[1]))
	if !bytes.HasPrefix(pdf[xref:], []byte("xref\n")) {
		t.Fatalf("startxref %d does not point at the xref table", xref)
	}
	entries := regexp.MustCompile(`(\d{10}) 00000 n `).FindAllSubmatch(pdf[xref:], -1)
	if len(entries) == 0 {
		t.Fatal("empty xref table")
	}
	for i, e := range entries {
		off, _ := strconv.Atoi(string(e[1]))
		want := strconv.Itoa(i+1) + " 0 obj"
		if !bytes.HasPrefix(pdf[off:], []byte(want)) {
			t.Fatalf("xref entry %d points at %.20q, want %q", i+1, pdf[off:], want)
		}
	}
	if !bytes.Contains(pdf, []byte("/Type /Catalog")) || !bytes.Contains(pdf, []byte("Quote ")) {
		t.Fatal("the PDF lacks its catalog or the quote text")
	}
}
