package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/aidawg/jarvis/app"
)

func (c *cli) configCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Print the settings: environment variable, config file key, default and meaning",
		Args:  noArgs,
		RunE: func(*cobra.Command, []string) error {
			if asJSON {
				type settingJSON struct {
					Name    string `json:"name"`
					Key     string `json:"key"`
					Default string `json:"default"`
					Help    string `json:"help"`
				}
				out := make([]settingJSON, 0, len(app.Settings))
				for _, s := range app.Settings {
					out = append(out, settingJSON{s.Name, s.Key(), s.Default, s.Help})
				}
				return printJSON(c.stdout, out)
			}
			tw := tabwriter.NewWriter(c.stdout, 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "VARIABLE\tFILE KEY\tDEFAULT\tMEANING")
			for _, s := range app.Settings {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.Name, s.Key(), dash(s.Default), s.Help)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// printJSON writes v as indented JSON; every --json output goes through it.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
