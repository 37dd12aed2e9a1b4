package main

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/aidawg/jarvis/app"
)

func (c *cli) healthCommand() *cobra.Command {
	var target string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "health",
		Short: "Ask the server on this machine whether it is alive (GET /health)",
		Long: `Ask the server whether it is alive: GET /health on JARVIS_ADDR (127.0.0.1 when it listens on
every address), over HTTPS when the server serves TLS itself. Exits 0 when it answers 200 and 1
otherwise, so that a container image without curl can use it as its HEALTHCHECK.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			client := &http.Client{Timeout: timeout}
			if target == "" {
				cfg, err := c.config(cmd)
				if err != nil {
					return err
				}
				var tlsConfig *tls.Config
				target, tlsConfig = healthTarget(cfg)
				client.Transport = &http.Transport{TLSClientConfig: tlsConfig}
			}
			resp, err := client.Get(target)
			if err != nil {
				return fmt.Errorf("not healthy: %w", err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("not healthy: %s answered %s: %s", target, resp.Status, body)
			}
			_, err = fmt.Fprintf(c.stdout, "%s: %s\n", target, resp.Status)
			return err
		},
	}
	cmd.Flags().StringVar(&target, "url", "", "`URL` to ask instead of /health on JARVIS_ADDR")
	cmd.Flags().DurationVar(&timeout, "timeout", 5*time.Second, "how long to wait for the answer")
	return cmd
}

// healthTarget is the server's own /health address. Its certificate names the public host,
// not this address, so the probe of this machine's listener does not verify it.
func healthTarget(cfg app.Config) (string, *tls.Config) {
	host, port, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		host, port = "127.0.0.1", "4000"
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	addr := net.JoinHostPort(host, port)
	if !cfg.TLS() {
		return "http://" + addr + "/health", nil
	}
	tc := &tls.Config{InsecureSkipVerify: true}
	if len(cfg.TLSDomains) > 0 {
		tc.ServerName = cfg.TLSDomains[0]
	}
	return "https://" + addr + "/health", tc
}
