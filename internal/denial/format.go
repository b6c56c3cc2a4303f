package denial

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// Format writes the diagnosis as text for a terminal: the summary, what
// denied, the likely causes numbered, each fix with its document and the
// statement indented, then the notes.
func (d Diagnosis) Format(w io.Writer) error {
	bw := bufio.NewWriter(w)

	fmt.Fprintln(bw, d.Summary)
	fmt.Fprintf(bw, "  kind: %s, policy: %s, side: %s", d.Kind, d.PolicyType, d.Side)
	if d.Account != "" {
		fmt.Fprintf(bw, " (account %s)", d.Account)
	}
	fmt.Fprintln(bw)
	writeField(bw, "action", d.Action)
	writeField(bw, "resource", d.Resource)
	writeField(bw, "caller", d.Caller)
	if d.Principal != d.Caller {
		writeField(bw, "principal", d.Principal)
	}
	writeField(bw, "denying policy", d.PolicyARN)

	if len(d.Causes) > 0 {
		fmt.Fprintln(bw, "Likely causes, most likely first:")
		for i, cause := range d.Causes {
			fmt.Fprintf(bw, "  %d. %s\n", i+1, cause)
		}
	}

	if len(d.Fixes) > 0 {
		fmt.Fprintln(bw, "Fixes:")
		for i, fix := range d.Fixes {
			if len(fix.Statement) > 0 {
				fmt.Fprintf(bw, "  %d. In the %s, add this statement:\n", i+1, fix.Document)
			} else {
				fmt.Fprintf(bw, "  %d. In the %s:\n", i+1, fix.Document)
			}
			if len(fix.Statement) > 0 {
				writeIndented(bw, string(fix.Statement), "       ")
			}
			if fix.Advice != "" {
				writeIndented(bw, fix.Advice, "     ")
			}
		}
	}

	if len(d.Notes) > 0 {
		fmt.Fprintln(bw, "Notes:")
		for _, note := range d.Notes {
			fmt.Fprintf(bw, "  - %s\n", note)
		}
	}

	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write diagnosis: %w", err)
	}
	return nil
}

// String returns the text that Format writes.
func (d Diagnosis) String() string {
	var b strings.Builder
	// Format can fail only on write, and strings.Builder writes always
	// return a nil error.
	_ = d.Format(&b)
	return b.String()
}

func writeField(w io.Writer, name, value string) {
	if value != "" {
		fmt.Fprintf(w, "  %s: %s\n", name, value)
	}
}

func writeIndented(w io.Writer, text, indent string) {
	for line := range strings.SplitSeq(strings.TrimRight(text, "\n"), "\n") {
		fmt.Fprintf(w, "%s%s\n", indent, line)
	}
}
