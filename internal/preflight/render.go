package preflight

import (
	"fmt"
	"io"
	"strings"
)

// WriteText prints the result as a table, one row per step, with each
// denial's diagnosis under its row.
func WriteText(w io.Writer, res *Result) {
	dest := "s3://" + res.Bucket + "/"
	if res.Prefix != "" {
		dest += res.Prefix + "/"
	}
	fmt.Fprintf(w, "preflight for %s", dest)
	if res.BucketOwner != "" {
		fmt.Fprintf(w, " (owner %s)", res.BucketOwner)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w)

	for _, s := range res.Steps {
		detail := s.Detail
		if s.Error != "" && s.Status != StatusOK {
			detail = strings.TrimSpace(detail + " " + s.Error)
		}
		fmt.Fprintf(w, "  %-14s %-8s %s\n", s.Name, s.Status, detail)

		if s.Diagnosis != nil {
			fmt.Fprintln(w)
			fmt.Fprint(w, indent(s.Diagnosis.String(), "      "))
			fmt.Fprintln(w)
		}
	}
	fmt.Fprintln(w)

	if res.CanaryLeft {
		fmt.Fprintf(w, "canary left behind: s3://%s/%s\n", res.Bucket, res.CanaryKey)
	}
	if res.Passed {
		fmt.Fprintf(w, "preflight passed: sync can list, write, read and delete under %s\n", dest)
	} else {
		fmt.Fprintln(w, "preflight FAILED: fix the steps above before syncing")
	}
}

func indent(text, prefix string) string {
	var b strings.Builder
	for line := range strings.Lines(strings.TrimRight(text, "\n") + "\n") {
		if strings.TrimSpace(line) == "" {
			b.WriteString("\n")
			continue
		}
		b.WriteString(prefix + line)
	}
	return b.String()
}
