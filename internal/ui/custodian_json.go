package ui

import (
	"io"
	"log/slog"
	"time"

	"github.com/veil-photo/veil/custody"
)

// The JSON events of reveal and restore. reveal's output holds patient
// names and inbox paths by nature: it is for the custodian, never for a
// log, and its --help says so. The fields are spelled out here one by one
// so that nothing more reaches the output than the text shows.

// LogLogged is PrintLogged's event: the access is on record.
func LogLogged(w io.Writer, action string, codes int, g *custody.Grant) {
	NewEventLog(w, "").Emit(slog.LevelInfo, "logged",
		slog.String("action", action), slog.Int("codes", codes), slog.Int64("record", int64(g.Record)),
		slog.String("receipt", string(g.Receipt)))
}

// LogRevealed is PrintRevealed's event.
func LogRevealed(w io.Writer, p *custody.Photo, d *custody.Revealed) {
	r := p.Ingest
	dups := make([]string, len(d.Duplicates))
	for i, dup := range d.Duplicates {
		dups[i] = dup.Detail.Path
	}
	NewEventLog(w, "").Emit(slog.LevelInfo, "revealed",
		slog.String("photo", r.Photo), slog.Int64("record", int64(p.Record)),
		slog.String("subject", r.Subject), slog.String("phase", r.Phase),
		slog.String("patient", d.Detail.PatientKey), slog.String("original", d.Detail.Path),
		slog.String("name", d.Detail.Name), slog.String("sha256", d.Detail.SHA256),
		slog.Int64("size", d.Detail.Size), slog.String("modified", d.Detail.ModTime.UTC().Format(time.RFC3339)),
		slog.String("released", r.Released.Path), slog.String("format", r.Format),
		slog.Int("width", r.Released.Width), slog.Int("height", r.Released.Height),
		slog.Any("duplicates", dups))
}

// LogRestored is restore's event for one original written.
func LogRestored(w io.Writer, p *custody.Photo, path string, size int64) {
	NewEventLog(w, "").Emit(slog.LevelInfo, "restored",
		slog.String("photo", p.Ingest.Photo), slog.String("path", path), slog.Int64("bytes", size))
}
