package main

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/countersign/countersign/internal/audit"
)

// Metric names, as an alarm refers to them.
const (
	metricNamespace = "Countersign"
	metricName      = "DriftFindings"
)

// emfDocument is one CloudWatch Embedded Metric Format document: the _aws
// metadata object, then the target members it references, at the root.
type emfDocument struct {
	AWS           emfMetadata `json:"_aws"`
	Bucket        string      `json:"Bucket"`
	Severity      string      `json:"Severity"`
	DriftFindings int         `json:"DriftFindings"`
}

type emfMetadata struct {
	// Timestamp is in milliseconds since the Unix epoch.
	Timestamp         int64          `json:"Timestamp"`
	CloudWatchMetrics []emfDirective `json:"CloudWatchMetrics"`
}

type emfDirective struct {
	Namespace  string          `json:"Namespace"`
	Dimensions [][]string      `json:"Dimensions"`
	Metrics    []emfDefinition `json:"Metrics"`
}

type emfDefinition struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

// writeEMF writes one EMF line per severity, zero counts included, so an
// alarm always has a data point. Each line publishes DriftFindings twice:
// by Bucket and Severity, and by Bucket alone, whose Sum over one
// schedule period is the total number of findings.
func writeEMF(w io.Writer, rep *audit.Report, now time.Time) error {
	for _, severity := range audit.Severities {
		doc := emfDocument{
			AWS: emfMetadata{
				Timestamp: now.UnixMilli(),
				CloudWatchMetrics: []emfDirective{{
					Namespace:  metricNamespace,
					Dimensions: [][]string{{"Bucket", "Severity"}, {"Bucket"}},
					Metrics:    []emfDefinition{{Name: metricName, Unit: "Count"}},
				}},
			},
			Bucket:        rep.Bucket,
			Severity:      string(severity),
			DriftFindings: rep.Counts[severity],
		}

		line, err := json.Marshal(doc)
		if err != nil {
			return fmt.Errorf("encode the metric line: %w", err)
		}

		if _, err := w.Write(append(line, '\n')); err != nil {
			return fmt.Errorf("write the metric line: %w", err)
		}
	}

	return nil
}
