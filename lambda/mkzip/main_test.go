package main

import (
	"archive/zip"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteZipLayout(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "bin")
	content := []byte("#!/bin/sh\necho bootstrap\n")

	if err := os.WriteFile(src, content, 0o600); err != nil {
		t.Fatal(err)
	}

	dst := filepath.Join(dir, "function.zip")
	if err := writeZip(dst, src); err != nil {
		t.Fatalf("writeZip: %v", err)
	}

	r, err := zip.OpenReader(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	if len(r.File) != 1 {
		t.Fatalf("zip has %d entries, want 1", len(r.File))
	}

	entry := r.File[0]
	if entry.Name != "bootstrap" {
		t.Errorf("entry name = %q, want bootstrap at the root", entry.Name)
	}

	if got := entry.Mode().Perm(); got != 0o755 {
		t.Errorf("entry mode = %o, want 755 whatever the source's mode", got)
	}

	rc, err := entry.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()

	got, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}

	if !bytes.Equal(got, content) {
		t.Errorf("entry content = %q, want %q", got, content)
	}
}

func TestWriteZipReproducible(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "bin")

	if err := os.WriteFile(src, []byte("binary"), 0o755); err != nil {
		t.Fatal(err)
	}

	var zips [][]byte
	for _, name := range []string{"a.zip", "b.zip"} {
		dst := filepath.Join(dir, name)
		if err := writeZip(dst, src); err != nil {
			t.Fatal(err)
		}

		data, err := os.ReadFile(dst)
		if err != nil {
			t.Fatal(err)
		}

		zips = append(zips, data)
	}

	if !bytes.Equal(zips[0], zips[1]) {
		t.Error("two zips of the same binary differ")
	}
}

func TestWriteZipMissingSource(t *testing.T) {
	err := writeZip(filepath.Join(t.TempDir(), "x.zip"), filepath.Join(t.TempDir(), "missing"))
	if err == nil {
		t.Fatal("got no error for a missing binary")
	}
}
