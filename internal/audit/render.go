package audit

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// WriteJSON writes the report as indented JSON.
func WriteJSON(w io.Writer, rep *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")

	if err := enc.Encode(rep); err != nil {
		return fmt.Errorf("write the audit report: %w", err)
	}

	return nil
}

// WriteText writes the report for people: a header, a table with one row
// per finding and its fix below it, and a summary line.
func WriteText(w io.Writer, rep *Report) error {
	var b strings.Builder

	fmt.Fprintf(&b, "Audit of s3://%s (owner %s), mode %s\n", rep.Bucket, rep.BucketOwner, rep.Mode)
	fmt.Fprintf(&b, "Expected roles: %s\n", strings.Join(rep.ExpectedRoles, ", "))
	fmt.Fprintf(&b, "Required actions: %s\n", strings.Join(rep.RequiredActions, ", "))

	if rep.Prefix != "" {
		fmt.Fprintf(&b, "Prefix: %s\n", rep.Prefix)
	}

	if len(rep.AllowedAccounts) > 0 {
		fmt.Fprintf(&b, "Allowed accounts: %s\n", strings.Join(rep.AllowedAccounts, ", "))
	}

	b.WriteByte('\n')

	if len(rep.Findings) == 0 {
		b.WriteString("No findings.\n")
	} else {
		writeTable(&b, rep.Findings)
	}

	b.WriteByte('\n')
	b.WriteString(summaryLine(rep))
	b.WriteByte('\n')

	if e := rep.Enforce; e != nil {
		switch {
		case e.Skipped != "":
			fmt.Fprintf(&b, "Enforce: policy left unchanged: %s\n", e.Skipped)
		case e.Changed:
			fmt.Fprintf(&b, "Enforce: wrote the statements it manages (%s); the findings above are from the audit after the write. The previous policy is in the log and in the JSON report.\n", managedSids(rep.Prefix))
		default:
			fmt.Fprintf(&b, "Enforce: the statements it manages (%s) are up to date; nothing written.\n", managedSids(rep.Prefix))
		}
	}

	_, err := io.WriteString(w, b.String())
	if err != nil {
		return fmt.Errorf("write the audit report: %w", err)
	}

	return nil
}

// writeTable aligns the severity, id and statement columns, then puts the
// message at the end of the row and the fix below it.
func writeTable(b *strings.Builder, findings []Finding) {
	header := [3]string{"SEVERITY", "ID", "STATEMENT"}
	rows := make([][3]string, len(findings))
	widths := [3]int{len(header[0]), len(header[1]), len(header[2])}

	for i, f := range findings {
		rows[i] = [3]string{string(f.Severity), f.ID, statementColumn(f.Statement)}
		for c := range widths {
			widths[c] = max(widths[c], len(rows[i][c]))
		}
	}

	row := func(cells [3]string, message string) {
		for c, cell := range cells {
			fmt.Fprintf(b, "%-*s  ", widths[c], cell)
		}

		b.WriteString(message)
		b.WriteByte('\n')
	}

	row(header, "MESSAGE")

	for i, f := range findings {
		row(rows[i], f.Message)
		fmt.Fprintf(b, "    fix: %s\n", f.Fix.Advice)

		for _, block := range []json.RawMessage{f.Fix.Statement, f.Fix.Policy, f.Fix.Setting} {
			if len(block) == 0 {
				continue
			}

			for _, line := range strings.Split(strings.TrimRight(string(block), "\n"), "\n") {
				fmt.Fprintf(b, "    %s\n", line)
			}
		}
	}
}

func statementColumn(s *StatementRef) string {
	switch {
	case s == nil:
		return "-"
	case s.Sid == "":
		return fmt.Sprintf("%d", s.Index)
	}

	return fmt.Sprintf("%d (%s)", s.Index, s.Sid)
}

// summaryLine counts the findings by severity.
func summaryLine(rep *Report) string {
	parts := make([]string, 0, len(Severities))
	for _, s := range Severities {
		parts = append(parts, fmt.Sprintf("%d %s", rep.Counts[s], s))
	}

	noun := "findings"
	if len(rep.Findings) == 1 {
		noun = "finding"
	}

	return fmt.Sprintf("%d %s: %s", len(rep.Findings), noun, strings.Join(parts, ", "))
}

// managedSids names the statements enforce owns: the list statement exists
// only when a prefix limits listing.
func managedSids(prefix string) string {
	if strings.Trim(prefix, "/") == "" {
		return "Sid " + ManagedSid
	}

	return "Sids " + ManagedSid + " and " + ManagedListSid
}
