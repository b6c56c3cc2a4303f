// Package logging builds the zerolog logger that every command attaches to
// its context.
//
// Levels:
//   - error: a failure the run reports.
//   - warn: something skipped or degraded that the run survives, such as a
//     special file.
//   - info: each step and the final summary.
//   - debug: each request, retry and decision.
//   - trace: per-part transfer detail.
package logging

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/term"
)

// Formats accepted by New.
const (
	FormatAuto    = "auto"
	FormatJSON    = "json"
	FormatConsole = "console"
)

// New returns a logger writing to w. FormatAuto picks the console writer
// when w is a terminal and JSON otherwise, so CodeBuild logs get JSON.
func New(w io.Writer, format, level string) (zerolog.Logger, error) {
	lvl, err := zerolog.ParseLevel(level)
	if err != nil || level == "" {
		return zerolog.Nop(), fmt.Errorf("invalid log level %q: use trace, debug, info, warn or error", level)
	}

	switch format {
	case FormatAuto:
		if IsTerminal(w) {
			w = zerolog.ConsoleWriter{Out: lineClearer{w}, TimeFormat: time.TimeOnly}
		}
	case FormatConsole:
		out := w
		if IsTerminal(w) {
			out = lineClearer{w}
		}
		w = zerolog.ConsoleWriter{Out: out, TimeFormat: time.TimeOnly, NoColor: !IsTerminal(w)}
	case FormatJSON:
	default:
		return zerolog.Nop(), fmt.Errorf("invalid log format %q: use auto, json or console", format)
	}

	return zerolog.New(w).Level(lvl).With().Timestamp().Logger(), nil
}

// IsTerminal reports whether w is a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// lineClearer erases the terminal's current line before each log line. A
// log line written while a progress bar is drawn then replaces the bar
// instead of running into it, and the bar redraws on its next tick.
type lineClearer struct {
	w io.Writer
}

func (c lineClearer) Write(p []byte) (int, error) {
	if _, err := io.WriteString(c.w, "\r\x1b[K"); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}
