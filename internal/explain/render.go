package explain

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteText writes the report for people: a table with one row per
// action, then each denial with the side at fault, the statements that
// came closest and the statement that fixes it, then notes and findings.
func WriteText(w io.Writer, r *Report) error {
	var b bytes.Buffer

	fmt.Fprintf(&b, "role:      %s\n", r.RoleARN)
	fmt.Fprintf(&b, "principal: %s\n", r.Principal)
	fmt.Fprintf(&b, "bucket:    %s (owner %s", r.Bucket, r.BucketOwner)

	if r.BucketOwnerAssumed {
		b.WriteString(", assumed")
	}

	if r.CrossAccount {
		b.WriteString(", cross-account")
	}

	fmt.Fprintf(&b, ")\nkey:       %s\n", r.Key)

	if r.ProjectARN != "" {
		fmt.Fprintf(&b, "project:   %s\n", r.ProjectARN)
	}

	b.WriteByte('\n')

	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ACTION\tRESOURCE\tDECISION\tALLOWED BY\tDENIED BY")

	for _, res := range r.Results {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", res.Action, res.Resource, res.Decision, dash(res.AllowedBy), dash(res.DeniedBy))
	}

	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write table: %w", err)
	}

	for _, res := range r.Results {
		if res.Fix != nil {
			writeDenial(&b, res)
		}
	}

	if len(r.Notes) > 0 {
		b.WriteString("\nnotes:\n")

		for _, n := range r.Notes {
			fmt.Fprintf(&b, "  - %s\n", n)
		}
	}

	if len(r.Findings) > 0 {
		b.WriteString("\nwarnings from policy validation:\n")

		for _, f := range r.Findings {
			where := "policy"
			if f.Statement >= 0 {
				where = statementLabel(f.Statement, f.Sid)
			}

			fmt.Fprintf(&b, "  - %s (%s): %s: %s: %s: %s [%s]\n", f.Document, f.Kind, f.Severity, where, f.Field, f.Message, f.Code)
		}
	}

	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("write report: %w", err)
	}

	return nil
}

func writeDenial(b *bytes.Buffer, res ActionResult) {
	fmt.Fprintf(b, "\n%s on %s: %s\n", res.Action, res.Resource, strings.ReplaceAll(res.Decision, "_", " "))

	for _, c := range res.Fix.Changes {
		verb := "has no statement that allows it"
		if res.Decision == DecisionExplicitDeny {
			verb = "denies it explicitly"
		}

		fmt.Fprintf(b, "  %s %s", c.Label, verb)

		if c.Document != "" {
			fmt.Fprintf(b, " (%s)", c.Document)
		}

		b.WriteString(".\n")

		if len(c.Closest) > 0 {
			if res.Decision == DecisionExplicitDeny {
				b.WriteString("    statements that deny:\n")
			} else {
				b.WriteString("    closest statements:\n")
			}

			for _, s := range c.Closest {
				fmt.Fprintf(b, "      %s %s in %s", statementLabel(s.Index, s.Sid), s.Effect, s.Policy)

				if s.Reason != "" {
					fmt.Fprintf(b, ": %s", s.Reason)
				}

				if len(s.Conditions) > 0 {
					fmt.Fprintf(b, ": its conditions hold: %s", strings.Join(s.Conditions, ", "))
				}

				b.WriteByte('\n')
			}
		}

		fmt.Fprintf(b, "    fix: %s", c.Advice)

		if len(c.Statement) == 0 {
			b.WriteString("\n")

			continue
		}

		b.WriteString(":\n")
		writeIndented(b, unescapeHTML(string(c.Statement)), "      ")
	}
}

func writeIndented(b *bytes.Buffer, text, indent string) {
	for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		b.WriteString(indent)
		b.WriteString(line)
		b.WriteByte('\n')
	}
}

// unescapeHTML undoes the escaping of <, > and & that encoding/json
// applies, so that placeholders such as <CODEBUILD_PROJECT_ARN> read as
// written.
func unescapeHTML(s string) string {
	return strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(s)
}

func statementLabel(index int, sid string) string {
	if sid != "" {
		return fmt.Sprintf("statement %d (Sid %q)", index, sid)
	}

	return fmt.Sprintf("statement %d", index)
}

func dash(items []string) string {
	if len(items) == 0 {
		return "-"
	}

	return strings.Join(items, ", ")
}

// WriteJSON writes the report as indented JSON.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")

	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("write json: %w", err)
	}

	return nil
}
