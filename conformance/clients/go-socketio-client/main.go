// Client fixture (conformance/CLIENT-FIXTURE.md) for the Go client github.com/zishang520/socket.io/clients/socket/v3.
// The scripted server holds the scenario: this program connects as configured, obeys do-* events,
// answers every server ack by echoing the arguments, and prints one JSON line per thing it saw.
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/zishang520/socket.io/clients/engine/v3/transports"
	"github.com/zishang520/socket.io/clients/socket/v3"
	serversocket "github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

type action map[string]any

// How long do-disconnect lets the close packets leave before the process exits. The client runs its
// GETs and POSTs one after another: its DISCONNECT leaves once the parked GET returned, its close packet
// once the next one did. The scripted server holds a GET for its ping interval (1 s at most where a
// case disconnects), so two of them, with room to spare on a loaded machine.
const leaveGrace = 3 * time.Second

type config struct {
	URL          string         `json:"url"`
	Path         string         `json:"path"`
	Transports   []string       `json:"transports"`
	Upgrade      *bool          `json:"upgrade"`
	Namespaces   []string       `json:"namespaces"`
	Auth         map[string]any `json:"auth"`
	Query        map[string]any `json:"query"`
	TimeoutMs    *float64       `json:"timeoutMs"`
	TryAll       bool           `json:"tryAllTransports"`
	OnConnect    []action       `json:"on_connect"`
	OnDisconnect []action       `json:"on_disconnect"`
	Reconnection struct {
		Enabled    *bool    `json:"enabled"`
		DelayMs    *float64 `json:"delayMs"`
		DelayMaxMs *float64 `json:"delayMaxMs"`
		Jitter     *float64 `json:"jitter"`
		Attempts   *float64 `json:"attempts"`
	} `json:"reconnection"`
}

var out sync.Mutex

func say(v map[string]any) {
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(map[string]any{"ev": "error", "message": err.Error()})
	}
	out.Lock()
	defer out.Unlock()
	_, _ = os.Stdout.Write(append(b, '\n'))
}

// {"$bin": base64} stands for bytes, both ways.
func toNative(v any) any {
	switch t := v.(type) {
	case []any:
		r := make([]any, len(t))
		for i, x := range t {
			r[i] = toNative(x)
		}
		return r
	case map[string]any:
		if b, ok := t["$bin"].(string); ok && len(t) == 1 {
			raw, _ := base64.StdEncoding.DecodeString(b)
			return raw
		}
		r := map[string]any{}
		for k, x := range t {
			r[k] = toNative(x)
		}
		return r
	}
	return v
}

func toWire(v any) any {
	switch t := v.(type) {
	case []byte:
		return map[string]any{"$bin": base64.StdEncoding.EncodeToString(t)}
	case interface{ Bytes() []byte }:
		return map[string]any{"$bin": base64.StdEncoding.EncodeToString(t.Bytes())}
	case io.Reader:
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(t)
		return map[string]any{"$bin": base64.StdEncoding.EncodeToString(buf.Bytes())}
	case []any:
		r := make([]any, len(t))
		for i, x := range t {
			r[i] = toWire(x)
		}
		return r
	case map[string]any:
		r := map[string]any{}
		for k, x := range t {
			r[k] = toWire(x)
		}
		return r
	}
	return v
}

var features = []string{"multiplex", "dynamic-join", "auth-object", "binary", "ack-answer", "volatile", "buffer",
	"recovery", "ws-only", "polling-only", "upgrade", "leave", "attempts", "timeout"}

type fixture struct {
	cfg     config
	manager *socket.Manager
	mu      sync.Mutex
	sockets map[string]*socket.Socket
	leaving bool
}

func (f *fixture) perform(a action, where string) {
	kind, _ := a["do"].(string)
	nsp, _ := a["nsp"].(string)
	if nsp == "" {
		nsp = "/"
	}
	defer func() {
		if r := recover(); r != nil {
			say(map[string]any{"ev": "error", "message": fmt.Sprint(r), "command": kind})
		}
	}()
	switch kind {
	case "emit", "emit-ack":
		f.mu.Lock()
		s := f.sockets[nsp]
		f.mu.Unlock()
		if s == nil {
			say(map[string]any{"ev": "error", "message": "not joined: " + nsp, "command": kind})
			return
		}
		count := 1
		c, counted := a["count"].(float64)
		if counted {
			count = int(c)
		}
		event, _ := a["event"].(string)
		for i := 0; i < count; i++ {
			args, _ := toNative(a["args"]).([]any)
			if args == nil {
				args = []any{}
			}
			if counted {
				args = append(args, i)
			}
			target := s
			if v, _ := a["volatile"].(bool); v {
				target = s.Volatile()
			}
			if kind == "emit-ack" {
				tag := a["tag"]
				args = append(args, serversocket.Ack(func(res []any, err error) {
					say(map[string]any{"ev": "ack", "nsp": nsp, "tag": tag, "args": toWire(res)})
				}))
			}
			if err := target.Emit(event, args...); err != nil {
				say(map[string]any{"ev": "error", "message": err.Error(), "command": kind})
			}
		}
	case "join":
		auth, _ := a["auth"].(map[string]any)
		f.join(nsp, auth)
	case "leave":
		f.mu.Lock()
		s := f.sockets[nsp]
		f.mu.Unlock()
		if s != nil {
			s.Disconnect()
		}
	case "disconnect":
		f.mu.Lock()
		f.leaving = true
		all := []*socket.Socket{}
		for _, s := range f.sockets {
			all = append(all, s)
		}
		f.mu.Unlock()
		for _, s := range all {
			s.Disconnect()
		}
		// Let the close packets leave before the process ends (see leaveGrace).
		time.AfterFunc(leaveGrace, func() { os.Exit(0) })
	default:
		say(map[string]any{"ev": "unsupported", "command": kind, "where": where})
	}
}

func (f *fixture) join(nsp string, auth map[string]any) {
	opts := socket.DefaultOptions()
	if auth != nil {
		opts.SetAuth(auth)
	}
	s := f.manager.Socket(nsp, opts)
	f.mu.Lock()
	f.sockets[nsp] = s
	f.mu.Unlock()
	_ = s.On("connect", func(...any) {
		say(map[string]any{"ev": "connect", "nsp": nsp, "id": s.Id(), "recovered": s.Recovered()})
		for _, a := range f.cfg.OnConnect {
			if n, _ := a["nsp"].(string); n == nsp || (n == "" && nsp == "/") {
				f.perform(a, "on_connect")
			}
		}
	})
	_ = s.On("connect_error", func(errs ...any) {
		line := map[string]any{"ev": "connect_error", "nsp": nsp, "message": nil, "data": nil}
		if len(errs) > 0 {
			if e, ok := errs[0].(*types.ExtendedError); ok {
				line["message"], line["data"] = e.Message, toWire(e.Data)
			} else {
				line["message"] = fmt.Sprint(errs[0])
			}
		}
		say(line)
	})
	_ = s.On("disconnect", func(reason ...any) {
		var r any
		if len(reason) > 0 {
			r = fmt.Sprint(reason[0])
		}
		say(map[string]any{"ev": "disconnect", "nsp": nsp, "reason": r})
		f.mu.Lock()
		leaving := f.leaving
		f.mu.Unlock()
		if !leaving {
			for _, a := range f.cfg.OnDisconnect {
				if n, _ := a["on"].(string); n == nsp || (n == "" && nsp == "/") {
					f.perform(a, "on_disconnect")
				}
			}
		}
	})
	s.OnAny(func(args ...any) {
		if len(args) == 0 {
			return
		}
		name := args[0]
		rest := args[1:]
		var ack serversocket.Ack
		if n := len(rest); n > 0 {
			if a, ok := rest[n-1].(serversocket.Ack); ok {
				ack, rest = a, rest[:n-1]
			}
		}
		say(map[string]any{"ev": "event", "nsp": nsp, "name": name, "args": toWire(rest), "ack": ack != nil})
		if ack != nil {
			ack(rest, nil)
		}
		if n, ok := name.(string); ok && len(n) > 3 && n[:3] == "do-" {
			cmd := action{}
			if len(rest) > 0 {
				if m, ok := rest[0].(map[string]any); ok {
					for k, v := range m {
						cmd[k] = v
					}
				}
			}
			cmd["do"] = n[3:]
			go f.perform(cmd, "command")
		}
	})
	s.Connect()
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "--capabilities" {
		b, _ := json.Marshal(map[string]any{"agent": agent(),
			"features": features})
		fmt.Println(string(b))
		return
	}
	var cfg config
	if err := json.Unmarshal([]byte(os.Args[1]), &cfg); err != nil {
		fmt.Fprintln(os.Stderr, "bad config:", err)
		os.Exit(2)
	}
	opts := socket.DefaultOptions()
	if cfg.Path != "" {
		opts.SetPath(cfg.Path)
	}
	set := types.NewSet[transports.TransportCtor]()
	for _, t := range cfg.Transports {
		switch t {
		case "polling":
			set.Add(transports.Polling)
		case "websocket":
			set.Add(transports.WebSocket)
		}
	}
	if len(cfg.Transports) > 0 {
		opts.SetTransports(set)
	}
	if cfg.Upgrade != nil {
		opts.SetUpgrade(*cfg.Upgrade)
	}
	if cfg.TryAll {
		opts.SetTryAllTransports(true)
	}
	if len(cfg.Query) > 0 {
		q := url.Values{}
		for k, v := range cfg.Query {
			q.Set(k, fmt.Sprint(v))
		}
		opts.SetQuery(q)
	}
	rc := cfg.Reconnection
	opts.SetReconnection(rc.Enabled == nil || *rc.Enabled)
	if rc.DelayMs != nil {
		opts.SetReconnectionDelay(*rc.DelayMs)
	}
	if rc.DelayMaxMs != nil {
		opts.SetReconnectionDelayMax(*rc.DelayMaxMs)
	}
	if rc.Jitter != nil {
		opts.SetRandomizationFactor(*rc.Jitter)
	}
	if rc.Attempts != nil {
		opts.SetReconnectionAttempts(*rc.Attempts)
	}
	if cfg.TimeoutMs != nil {
		opts.SetTimeout(time.Duration(*cfg.TimeoutMs) * time.Millisecond)
	}
	opts.SetAutoConnect(false)
	f := &fixture{cfg: cfg, sockets: map[string]*socket.Socket{}}
	f.manager = socket.NewManager(cfg.URL, opts)
	_ = f.manager.On("reconnect_attempt", func(n ...any) { say(map[string]any{"ev": "reconnect_attempt", "n": first(n)}) })
	_ = f.manager.On("reconnect_failed", func(...any) { say(map[string]any{"ev": "reconnect_failed"}) })
	_ = f.manager.On("reconnect", func(n ...any) { say(map[string]any{"ev": "reconnect", "n": first(n)}) })
	_ = f.manager.On("error", func(e ...any) { say(map[string]any{"ev": "error", "message": fmt.Sprint(first(e))}) })
	namespaces := cfg.Namespaces
	if len(namespaces) == 0 {
		namespaces = []string{"/"}
	}
	for _, nsp := range namespaces {
		f.join(nsp, cfg.Auth)
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop
}

func first(v []any) any {
	if len(v) == 0 {
		return nil
	}
	return v[0]
}
