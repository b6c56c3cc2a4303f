// Command mkzip packages a Lambda bootstrap binary as a deployment zip:
// the file at the zip root under the name bootstrap, with mode 0755, as
// the provided.al2023 runtime runs it. The entry's time is fixed, so the
// same binary always gives the same zip.
package main

import (
	"archive/zip"
	"flag"
	"fmt"
	"io"
	"os"
	"time"
)

// entryTime is the modification time written for the entry: the earliest
// that the zip format's DOS timestamps can hold.
var entryTime = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

func main() {
	out := flag.String("o", "", "zip file to write")
	flag.Parse()

	if *out == "" || flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: mkzip -o FILE.zip BOOTSTRAP")
		os.Exit(2)
	}

	if err := writeZip(*out, flag.Arg(0)); err != nil {
		fmt.Fprintf(os.Stderr, "mkzip: %v\n", err)
		os.Exit(1)
	}
}

// writeZip writes the binary at src into a new zip at dst as bootstrap.
func writeZip(dst, src string) (err error) {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("open the bootstrap binary: %w", err)
	}
	defer in.Close()

	f, err := os.Create(dst)
	if err != nil {
		return fmt.Errorf("create %s: %w", dst, err)
	}

	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("close %s: %w", dst, cerr)
		}
	}()

	zw := zip.NewWriter(f)

	header := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate, Modified: entryTime}
	header.SetMode(0o755)

	w, err := zw.CreateHeader(header)
	if err != nil {
		return fmt.Errorf("add bootstrap to %s: %w", dst, err)
	}

	if _, err := io.Copy(w, in); err != nil {
		return fmt.Errorf("write bootstrap into %s: %w", dst, err)
	}

	if err := zw.Close(); err != nil {
		return fmt.Errorf("finish %s: %w", dst, err)
	}

	return nil
}
