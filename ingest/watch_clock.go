package ingest

import "time"

// Clock is the time Watch schedules its passes by. Tests give Watch a clock
// they move by hand, so that settle, debounce and rescans are tested without
// waiting for them.
type Clock interface {
	Now() time.Time
	// NewTimer returns a timer that delivers the time on its channel once
	// d has passed (at once for d <= 0).
	NewTimer(d time.Duration) Timer
}

// Timer is a time.Timer behind an interface, for Clock.
type Timer interface {
	C() <-chan time.Time
	// Reset makes the timer deliver once d has passed from now. As with a
	// time.Timer, a tick already on its way may still arrive.
	Reset(d time.Duration)
	Stop()
}

// wallClock is the Clock of the time package.
type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

func (wallClock) NewTimer(d time.Duration) Timer { return wallTimer{time.NewTimer(d)} }

type wallTimer struct{ t *time.Timer }

func (t wallTimer) C() <-chan time.Time   { return t.t.C }
func (t wallTimer) Reset(d time.Duration) { t.t.Reset(d) }
func (t wallTimer) Stop()                 { t.t.Stop() }
