package main

import (
	"strings"

	"github.com/spf13/cobra"
	"github.com/veil-photo/veil/internal/help"
)

// setHelp gives c and every command below it the Long and Example help
// of its file (see package help), so that a command's help is found by its
// name alone.
func setHelp(c *cobra.Command) {
	c.Long, c.Example = help.Text(helpName(c))
	for _, sub := range c.Commands() {
		setHelp(sub)
	}
}

// helpName is the name of c's help file: its command path without "veil",
// with dashes for spaces, or "veil" for veil itself.
func helpName(c *cobra.Command) string {
	if name := strings.Join(strings.Fields(c.CommandPath())[1:], "-"); name != "" {
		return name
	}
	return "veil"
}
