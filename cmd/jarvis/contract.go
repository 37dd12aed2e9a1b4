package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/aidawg/jarvis/handlers"
	"github.com/aidawg/jarvis/openapi"
)

func (c *cli) openapiCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "openapi",
		Short: "Print the contract as served, with servers from JARVIS_PUBLIC_URL",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := c.config(cmd)
			if err != nil {
				return err
			}
			yamlDoc, jsonDoc, err := openapi.Served(cfg.PublicURL)
			if err != nil {
				return err
			}
			if asJSON {
				_, err = c.stdout.Write(jsonDoc)
				return err
			}
			_, err = c.stdout.Write(yamlDoc)
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of YAML")
	return cmd
}

func (c *cli) gptCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "gpt",
		Short: "Print the GPT builder settings made from the contract",
		Long: `Print the GPT builder settings made from the contract, as JSON. GET /gpt-config.json on a
running server also leaves out what that server does not carry out.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := c.config(cmd)
			if err != nil {
				return err
			}
			spec, err := openapi.Load()
			if err != nil {
				return err
			}
			out, err := json.MarshalIndent(handlers.NewGPTConfig(spec, cfg.GPTSetup(nil)), "", "  ")
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(c.stdout, string(out))
			return err
		},
	}
}
