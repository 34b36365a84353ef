// Package ui renders what veil's commands print: text lines for a person
// and JSON events for a log. Every renderer writes to the io.Writer its
// caller hands in; none chooses stdout or stderr, exits, or reads flags or
// the environment. What a log may carry about a patient is decided here
// (see redact.go), in one place for every command.
package ui
