package main

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	metering "github.com/aidawg/jarvis/services/usage"
)

// usageCommand prints metered usage per caller, operation and day.
func (c *cli) usageCommand() *cobra.Command {
	var from, to, key, op string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "usage [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--key ID] [--operation ID] [--json]",
		Short: "Print usage per caller, operation and day",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			today := time.Now().UTC()
			if from == "" {
				from = today.AddDate(0, 0, -6).Format(metering.DayLayout)
			}
			if to == "" {
				to = today.Format(metering.DayLayout)
			}
			for _, d := range []string{from, to} {
				if _, err := time.Parse(metering.DayLayout, d); err != nil {
					return usagef("usage: %q is not a day such as 2026-11-28", d)
				}
			}
			db, err := c.openDatabase(cmd, readOnly)
			if err != nil {
				return err
			}
			defer db.Close()
			m := metering.NewMeter(db, zerolog.Nop(), 0)
			defer m.Close()
			var rows []metering.Row
			cursor := ""
			for {
				page, next, err := m.Query(cmd.Context(), metering.Filter{From: from, To: to, KeyID: key, Operation: op, Limit: 1000, Cursor: cursor})
				if err != nil {
					return err
				}
				rows = append(rows, page...)
				if next == "" {
					break
				}
				cursor = next
			}
			if asJSON {
				return printJSON(c.stdout, usageJSON(rows))
			}
			tw := tabwriter.NewWriter(c.stdout, 2, 4, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintln(tw, "DAY\tSUBJECT\tOPERATION\tCALLS\tERRORS\tTOTAL MS\tAVG MS\t")
			for _, r := range rows {
				avg := int64(0)
				if r.Calls > 0 {
					avg = r.DurationMs / r.Calls
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t\n", r.Day, r.Subject, r.Operation, r.Calls, r.Errors, r.DurationMs, avg)
			}
			return tw.Flush()
		},
	}
	f := cmd.Flags()
	f.StringVar(&from, "from", "", "first UTC day (default six days before today)")
	f.StringVar(&to, "to", "", "last UTC day (default today)")
	f.StringVar(&key, "key", "", "only this API key's usage")
	f.StringVar(&op, "operation", "", "only this operation's usage")
	f.BoolVar(&asJSON, "json", false, "print JSON, with the field names of getUsage")
	return cmd
}

// usageRow is a row of usage under the names getUsage gives its fields.
type usageRow struct {
	Day             string `json:"day"`
	Subject         string `json:"subject"`
	Method          string `json:"method"`
	KeyID           string `json:"keyId,omitempty"`
	Tenant          string `json:"tenant"`
	User            string `json:"user"`
	Operation       string `json:"operation"`
	Calls           int64  `json:"calls"`
	Errors          int64  `json:"errors"`
	TotalDurationMs int64  `json:"totalDurationMs"`
}

func usageJSON(rows []metering.Row) []usageRow {
	out := make([]usageRow, 0, len(rows))
	for _, r := range rows {
		out = append(out, usageRow{r.Day, r.Subject, r.Method, r.KeyID, r.Tenant, r.User, r.Operation, r.Calls, r.Errors, r.DurationMs})
	}
	return out
}
