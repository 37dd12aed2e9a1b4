// Package standin serves the embedded AI Dawg modules on a loopback port behind a wrapper that
// injects faults: the stand-in for the backend that tests of the router and of Jarvis call.
package standin

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/aidawg/jarvis/handlers/aidawgapi"
	"github.com/aidawg/jarvis/services/modules"
)

// Kind is a kind of fault.
type Kind int

const (
	Pass        Kind = iota // answer normally
	Delay                   // wait Fault.Delay (or until the caller gives up), then answer normally
	Drop                    // close the connection without answering
	Status                  // answer Fault.Status; 429 and 503 with the contract's body, others with text
	Malformed               // 200 with truncated JSON
	Oversize                // 200 with a valid answer of about Fault.Size bytes
	Failure                 // 200 with success false and Fault.Code
	OffContract             // 200 with success true and a result that is not the command's
)

// Fault is what the stand-in does with one request.
type Fault struct {
	Kind       Kind
	Delay      time.Duration
	Status     int
	RetryAfter string // Retry-After header for Status
	Code       string // AI Dawg error code for Failure
	Size       int    // bytes for Oversize
}

// StandIn is a running stand-in.
type StandIn struct {
	URL string

	srv      *httptest.Server
	next     http.Handler
	mu       sync.Mutex
	queue    []Fault
	always   Fault
	executes atomic.Int64
	healths  atomic.Int64
}

// Start serves rt's modules on 127.0.0.1 until the test ends.
func Start(t testing.TB, rt *modules.Runtime) *StandIn {
	t.Helper()
	s := &StandIn{next: aidawgapi.Handler(rt, zerolog.Nop(), aidawgapi.DefaultBodyLimit)}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	t.Cleanup(s.srv.Close)
	return s
}

// Next makes the next requests meet these faults, one each, in order; then Always applies.
func (s *StandIn) Next(faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue = append(s.queue, faults...)
}

// Always makes every request meet f once the faults given to Next are used up.
func (s *StandIn) Always(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.always = f
}

// Reset clears every fault: requests are answered normally.
func (s *StandIn) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue, s.always = nil, Fault{}
}

// Executes counts the execute requests received, whatever their fate.
func (s *StandIn) Executes() int { return int(s.executes.Load()) }

// HealthCalls counts the health requests received.
func (s *StandIn) HealthCalls() int { return int(s.healths.Load()) }

func (s *StandIn) fault() Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.queue) > 0 {
		f := s.queue[0]
		s.queue = s.queue[1:]
		return f
	}
	return s.always
}

func (s *StandIn) serve(w http.ResponseWriter, r *http.Request) {
	if strings.HasSuffix(r.URL.Path, "/execute") {
		s.executes.Add(1)
	} else {
		s.healths.Add(1)
	}
	// Reading the body first lets the server notice a caller that gives up and hangs up.
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	f := s.fault()
	switch f.Kind {
	case Delay:
		t := time.NewTimer(f.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return
		}
	case Drop:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				if tc, ok := conn.(*net.TCPConn); ok {
					_ = tc.SetLinger(0) // a reset, as a crashed backend gives
				}
				conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	case Status:
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		switch f.Status {
		case http.StatusTooManyRequests:
			writeJSON(w, f.Status, failureBody("RATE_LIMIT_EXCEEDED", "injected rate limit"))
		case http.StatusServiceUnavailable:
			writeJSON(w, f.Status, failureBody("SERVICE_UNAVAILABLE", "injected outage"))
		default:
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(f.Status)
			fmt.Fprintln(w, "injected", f.Status)
		}
		return
	case Malformed:
		writeJSON(w, http.StatusOK, `{"success": true, "data": {"validation": `)
		return
	case Oversize:
		writeJSON(w, http.StatusOK, `{"success": true, "timestamp": "2026-11-28T18:00:00Z", "data": {"pad": "`+
			strings.Repeat("x", f.Size)+`"}}`)
		return
	case Failure:
		body := failureBody(f.Code, "injected "+f.Code)
		if f.Code == "INVALID_PARAMS" {
			body = `{"success": false, "code": "INVALID_PARAMS", "error": "injected: the prompt is empty",` +
				` "details": {"fields": [{"field": "/prompt", "message": "must not be empty"}]}, "timestamp": "2026-11-28T18:00:00Z"}`
		}
		writeJSON(w, http.StatusOK, body)
		return
	case OffContract:
		writeJSON(w, http.StatusOK, `{"success": true, "data": {"unexpected": true}, "timestamp": "2026-11-28T18:00:00Z"}`)
		return
	}
	s.next.ServeHTTP(w, r)
}

func failureBody(code, msg string) string {
	return `{"success": false, "code": ` + strconv.Quote(code) + `, "error": ` + strconv.Quote(msg) +
		`, "timestamp": "2026-11-28T18:00:00Z"}`
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// ClosedURL is an address on 127.0.0.1 where nothing listens: connections to it are refused.
func ClosedURL(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}
