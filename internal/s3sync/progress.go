package s3sync

import (
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"github.com/schollz/progressbar/v3"

	"github.com/countersign/countersign/internal/logging"
)

// progress counts work done. Workers only add to the counters; one
// goroutine renders them, so output never interleaves.
type progress struct {
	filesTotal    int64
	bytesTotal    int64
	filesDone     atomic.Int64 // uploaded, skipped or failed
	bytesDone     atomic.Int64 // bytes of files done, plus parts uploaded so far
	bytesUploaded atomic.Int64
	start         time.Time

	stop chan struct{}
	done sync.WaitGroup
}

func newProgress(files int, bytes int64) *progress {
	return &progress{filesTotal: int64(files), bytesTotal: bytes, start: time.Now(), stop: make(chan struct{})}
}

// run starts the renderer that mode selects; Close stops it.
func (p *progress) run(ctx context.Context, opts Options) {
	mode := opts.Progress
	if mode == ProgressAuto {
		mode = ProgressLines
		if opts.ProgressOut != nil && logging.IsTerminal(opts.ProgressOut) {
			mode = ProgressBar
		}
	}

	switch mode {
	case ProgressBar:
		if opts.ProgressOut == nil {
			return
		}
		p.done.Add(1)
		go p.renderBar(opts.ProgressOut)
	case ProgressLines:
		p.done.Add(1)
		go p.renderLines(zerolog.Ctx(ctx), opts.ProgressInterval)
	}
}

// Close stops the renderer and waits for its last output.
func (p *progress) Close() {
	close(p.stop)
	p.done.Wait()
}

func (p *progress) renderBar(out io.Writer) {
	defer p.done.Done()

	// The maximum is one byte more than the total, so the bar completes
	// only through Finish and draws its last line once.
	limit := p.bytesTotal + 1
	bar := progressbar.NewOptions64(limit,
		progressbar.OptionSetWriter(out),
		progressbar.OptionShowBytes(true),
		progressbar.OptionShowCount(),
		progressbar.OptionUseIECUnits(true),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSetRenderBlankState(true),
	)
	update := func() {
		bar.Describe(fmt.Sprintf("files %d/%d", p.filesDone.Load(), p.filesTotal))
		_ = bar.Set64(min(p.bytesDone.Load(), limit-1))
	}

	ticker := time.NewTicker(200 * time.Millisecond)
	defer ticker.Stop()
	for {
		select {
		case <-ticker.C:
			update()
		case <-p.stop:
			// Finish draws the final state once; the newline keeps the
			// summary that follows off the bar's line.
			update()
			_ = bar.Finish()
			fmt.Fprintln(out)
			return
		}
	}
}

func (p *progress) renderLines(log *zerolog.Logger, interval time.Duration) {
	defer p.done.Done()

	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ticker.C:
			elapsed := max(time.Since(p.start).Seconds(), 0.001)
			bytesDone := p.bytesDone.Load()
			rate := int64(math.Round(float64(p.bytesUploaded.Load()) / elapsed))
			log.Info().
				Int64("files_done", p.filesDone.Load()).
				Int64("files_total", p.filesTotal).
				Int64("bytes_done", bytesDone).
				Int64("bytes_total", p.bytesTotal).
				Str("done", formatBytes(bytesDone)+" of "+formatBytes(p.bytesTotal)).
				Int64("upload_bytes_per_s", rate).
				Str("upload_rate", formatBytes(rate)+"/s").
				Msg("progress")
		case <-p.stop:
			return
		}
	}
}

// formatBytes prints n bytes in the largest binary unit (B, KiB, MiB or
// GiB) in which it is at least 1, so a small upload never reads as 0.0 MiB.
func formatBytes(n int64) string {
	switch {
	case n < KiB:
		return fmt.Sprintf("%d B", n)
	case n < MiB:
		return fmt.Sprintf("%.1f KiB", float64(n)/float64(KiB))
	case n < GiB:
		return fmt.Sprintf("%.1f MiB", float64(n)/float64(MiB))
	default:
		return fmt.Sprintf("%.1f GiB", float64(n)/float64(GiB))
	}
}

// lockedWriter serialises writes from concurrent workers.
type lockedWriter struct {
	mu      sync.Mutex
	w       io.Writer
	holding bool
	held    []string
}

func (l *lockedWriter) Printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.holding {
		l.held = append(l.held, fmt.Sprintf(format, args...))
		return
	}
	fmt.Fprintf(l.w, format, args...)
}

// hold keeps lines back until flushSorted, so a plan printed by concurrent
// workers comes out in the same order every run.
func (l *lockedWriter) hold() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.holding = true
}

// flushSorted writes the held lines in sorted order and stops holding.
func (l *lockedWriter) flushSorted() {
	l.mu.Lock()
	defer l.mu.Unlock()
	slices.Sort(l.held)
	for _, line := range l.held {
		io.WriteString(l.w, line)
	}
	l.held, l.holding = nil, false
}
