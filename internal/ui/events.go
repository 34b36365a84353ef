package ui

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"time"
)

// EventLog writes what --json prints, for every command: one object per
// line, {"time","level","event", ...fields}, through log/slog's JSON handler
// so that log shippers see the shape they already parse.
type EventLog struct {
	h     slog.Handler
	event string // the event of an object without an "event" field
}

// NewEventLog returns an EventLog writing to w; event names objects that
// carry no "event" field of their own (scan's per-file reports).
func NewEventLog(w io.Writer, event string) *EventLog {
	h := slog.NewJSONHandler(w, &slog.HandlerOptions{
		Level: slog.LevelDebug,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) > 0 {
				return a
			}
			switch a.Key {
			case slog.MessageKey:
				a.Key = "event"
			case slog.LevelKey:
				a.Value = slog.StringValue(strings.ToLower(a.Value.Any().(slog.Level).String()))
			}
			return a
		},
	})
	return &EventLog{h: h, event: event}
}

// warnEvents are the events that someone should act on.
var warnEvents = map[string]bool{
	"quarantined": true, "left": true, "unremoved": true, "refused": true, "failed": true,
	"finding": true, "waiting": true, "warning": true, "unreadable": true,
}

// Encode writes v, a struct or map that marshals to a JSON object, as one
// event. Its "event" field names the event; an object without one whose
// first field is an object (verify's {"summary": {...}}) is named by that
// field, whose fields come first. The level is "error" when the object has
// a non-empty "error", "warn" for warnEvents, else "info".
func (l *EventLog) Encode(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	fields, err := objectFields(b)
	if err != nil {
		return err
	}
	event, level := l.event, slog.LevelInfo
	var attrs []slog.Attr
	for i, f := range fields {
		switch {
		case f.key == "event":
			json.Unmarshal(f.raw, &event)
			continue
		case i == 0 && l.event == "" && len(f.raw) > 0 && f.raw[0] == '{':
			inner, err := objectFields(f.raw)
			if err != nil {
				return err
			}
			event = f.key
			for _, g := range inner {
				attrs = append(attrs, slog.Any(g.key, g.raw))
			}
			continue
		case f.key == "error" && string(f.raw) != `""`:
			level = slog.LevelError
		}
		attrs = append(attrs, slog.Any(f.key, f.raw))
	}
	if level == slog.LevelInfo && warnEvents[event] {
		level = slog.LevelWarn
	}
	l.Emit(level, event, attrs...)
	return nil
}

// field is one field of a JSON object, in the object's order.
type field struct {
	key string
	raw json.RawMessage
}

// objectFields returns the fields of the JSON object b in their order.
func objectFields(b []byte) ([]field, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if _, err := dec.Token(); err != nil { // {
		return nil, err
	}
	var fields []field
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		fields = append(fields, field{key: t.(string), raw: raw})
	}
	return fields, nil
}

// Emit writes one event with the given fields, in their order.
func (l *EventLog) Emit(level slog.Level, event string, attrs ...slog.Attr) {
	r := slog.NewRecord(time.Now(), level, event, 0)
	r.AddAttrs(attrs...)
	l.h.Handle(context.Background(), r)
}
