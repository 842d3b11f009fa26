// Fixture application (conformance/FIXTURE.md) on zishang520/socket.io, the Go port of Node's
// socket.io and engine.io: Socket.IO on /socket.io/ and a bare Engine.IO echo on /engine.io/,
// served by net/http on HOST only.
//
// The port keeps socket.io's API, so the fixture follows conformance/targets/node-socketio
// closely and offers every optional part of FIXTURE.md.
package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	engine "github.com/zishang520/socket.io/servers/engine/v3"
	"github.com/zishang520/socket.io/servers/engine/v3/config"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// ------------------------------------------------------------------------------------ settings
type settings struct {
	host                                   string
	port                                   int
	pingInterval, pingTimeout, upgradeWait time.Duration
	connectTimeout                         time.Duration
	maxPayload                             int64
	eio3                                   bool
	initialPacket                          string
	recovery                               bool
}

// setting: a flag wins over the environment; a flag without a value means "on".
func setting(flag, env, fallback string) string {
	for i, a := range os.Args {
		if a == flag {
			if i+1 < len(os.Args) && !strings.HasPrefix(os.Args[i+1], "--") {
				return os.Args[i+1]
			}
			return "1"
		}
	}
	if v := os.Getenv(env); v != "" {
		return v
	}
	return fallback
}

func number(flag, env, fallback string) int64 {
	text := setting(flag, env, fallback)
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: not a number: %q\n", flag, text)
		os.Exit(2)
	}
	return n
}

func readSettings() settings {
	ms := func(flag, env, fallback string) time.Duration {
		return time.Duration(number(flag, env, fallback)) * time.Millisecond
	}
	return settings{
		host:           setting("--host", "HOST", "127.0.0.1"),
		port:           int(number("--port", "PORT", "0")),
		pingInterval:   ms("--ping-interval", "PING_INTERVAL_MS", "300"),
		pingTimeout:    ms("--ping-timeout", "PING_TIMEOUT_MS", "200"),
		upgradeWait:    ms("--upgrade-timeout", "UPGRADE_TIMEOUT_MS", "10000"),
		connectTimeout: ms("--connect-timeout", "CONNECT_TIMEOUT_MS", "1000"),
		maxPayload:     number("--max-payload", "MAX_PAYLOAD", "1000000"),
		eio3:           setting("--eio3", "EIO3", "0") == "1",
		initialPacket:  setting("--initial-packet", "INITIAL_PACKET", ""),
		recovery:       setting("--recovery", "RECOVERY", "0") == "1",
	}
}

// ------------------------------------------------------------------------------------ fixture-info
// info is set once in main, before the server starts.
var info map[string]any

// fixtureInfo is the answer to `fixture-info` (FIXTURE.md section 2): the parts this fixture offers
// and the version of each module of the port that the binary was really built with.
func fixtureInfo(cfg settings) map[string]any {
	packages := map[string]any{}
	version := ""
	if build, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range build.Deps {
			if name, found := strings.CutPrefix(dep.Path, "github.com/zishang520/socket.io/"); found {
				packages[name] = strings.TrimPrefix(dep.Version, "v")
				if name == "servers/socket/v3" {
					version = packages[name].(string)
				}
			}
		}
		packages["go"] = strings.TrimPrefix(build.GoVersion, "go")
	}
	return map[string]any{
		"name":    "zishang520/socket.io",
		"version": version,
		"parts": []string{"extended", "close-connection", "auth", "connect-error-data", "dynamic", "refuse",
			"volatile", "app-error", "echo", "log", "initial-packet", "recovery"},
		"packages": packages,
		"settings": map[string]any{
			"upgradeTimeoutMs": cfg.upgradeWait.Milliseconds(), "connectTimeoutMs": cfg.connectTimeout.Milliseconds(),
			"eio3": cfg.eio3,
		},
	}
}

// ------------------------------------------------------------------------------------ disconnect log
var (
	recordsMu sync.Mutex
	records   = []any{}
)

func record(entry map[string]any) {
	line, _ := json.Marshal(entry)
	recordsMu.Lock()
	records = append(records, entry)
	recordsMu.Unlock()
	fmt.Println(string(line))
}

// ------------------------------------------------------------------------------------ Socket.IO handlers
// splitAck separates an ack callback (always last) from the event's arguments.
func splitAck(args []any) ([]any, socket.Ack) {
	if n := len(args); n > 0 {
		if ack, ok := args[n-1].(socket.Ack); ok {
			return args[:n-1], ack
		}
	}
	return args, nil
}

func roomList(s *socket.Socket) []any {
	out := []any{}
	for _, r := range s.Rooms().Keys() {
		out = append(out, string(r))
	}
	return out
}

func asRooms(v any) []socket.Room {
	switch r := v.(type) {
	case string:
		return []socket.Room{socket.Room(r)}
	case []any:
		out := []socket.Room{}
		for _, x := range r {
			if s, ok := x.(string); ok {
				out = append(out, socket.Room(s))
			}
		}
		return out
	}
	return nil
}

func asMillis(v any) time.Duration {
	if f, ok := v.(float64); ok {
		return time.Duration(f) * time.Millisecond
	}
	return 0
}

// on registers a handler that receives the event's arguments and its ack callback (nil without one).
func on(s *socket.Socket, event string, fn func(args []any, ack socket.Ack)) {
	_ = s.On(event, func(raw ...any) {
		args, ack := splitAck(raw)
		fn(args, ack)
	})
}

func attachHandlers(s *socket.Socket) {
	nsp := s.Nsp()
	on(s, "message", func(a []any, _ socket.Ack) { _ = s.Emit("message-back", a...) })
	on(s, "message-with-ack", func(a []any, ack socket.Ack) {
		if ack != nil {
			ack(a, nil)
		}
	})
	on(s, "fixture-info", func(_ []any, ack socket.Ack) {
		if ack != nil {
			ack([]any{info}, nil)
		}
	})
	on(s, "join", func(a []any, ack socket.Ack) {
		if len(a) > 0 {
			s.Join(asRooms(a[0])...)
		}
		if ack != nil {
			ack([]any{roomList(s)}, nil)
		}
	})
	on(s, "leave", func(a []any, ack socket.Ack) {
		if len(a) > 0 {
			if r, ok := a[0].(string); ok {
				s.Leave(socket.Room(r))
			}
		}
		if ack != nil {
			ack([]any{roomList(s)}, nil)
		}
	})
	on(s, "rooms", func(_ []any, ack socket.Ack) {
		if ack != nil {
			ack([]any{roomList(s)}, nil)
		}
	})
	on(s, "to", func(a []any, _ socket.Ack) {
		if len(a) > 0 {
			_ = s.To(asRooms(a[0])...).Emit("to", a[1:]...)
		}
	})
	on(s, "to-many", func(a []any, _ socket.Ack) {
		if len(a) > 0 {
			_ = s.To(asRooms(a[0])...).Emit("to", a[1:]...)
		}
	})
	on(s, "broadcast", func(a []any, _ socket.Ack) { _ = s.Broadcast().Emit("bc", a...) })
	on(s, "nsp-emit", func(a []any, _ socket.Ack) { _ = nsp.Emit("nsp", a...) })
	on(s, "except", func(a []any, _ socket.Ack) {
		if len(a) > 0 {
			_ = nsp.Except(asRooms(a[0])...).Emit("except", a[1:]...)
		}
	})
	on(s, "to-except", func(a []any, _ socket.Ack) {
		if len(a) > 1 {
			_ = nsp.To(asRooms(a[0])...).Except(asRooms(a[1])...).Emit("except", a[2:]...)
		}
	})
	on(s, "server-ack", func(a []any, _ socket.Ack) {
		s.EmitWithAck("need-ack", a...)(func(reply []any, err error) {
			if err == nil {
				_ = s.Emit("ack-result", reply...)
			}
		})
	})
	on(s, "server-ack-timeout", func(a []any, _ socket.Ack) {
		if len(a) == 0 {
			return
		}
		s.Timeout(asMillis(a[0])).EmitWithAck("need-ack", a[1:]...)(func(reply []any, err error) {
			if err != nil {
				_ = s.Emit("ack-timeout")
			} else {
				_ = s.Emit("ack-result", reply...)
			}
		})
	})
	on(s, "bc-ack", func(a []any, _ socket.Ack) {
		if len(a) == 0 {
			return
		}
		nsp.Timeout(asMillis(a[0])).EmitWithAck("need-ack", a[1:]...)(func(responses []any, err error) {
			if responses == nil {
				responses = []any{}
			}
			_ = s.Emit("bc-ack-result", err != nil, responses)
		})
	})
	on(s, "double-ack", func(_ []any, ack socket.Ack) {
		if ack != nil {
			ack([]any{1}, nil)
			ack([]any{2}, nil)
		}
	})
	on(s, "server-bin", func(_ []any, _ socket.Ack) {
		_ = s.Emit("bin", []byte{1, 2}, map[string]any{"x": []any{[]byte{3}}})
	})
	on(s, "disconnect-me", func(a []any, _ socket.Ack) {
		closeAll := len(a) > 0 && a[0] == true
		s.Disconnect(closeAll)
	})
	on(s, "log", func(_ []any, ack socket.Ack) {
		recordsMu.Lock()
		out := records
		records = []any{}
		recordsMu.Unlock()
		if ack != nil {
			ack([]any{out}, nil)
		}
	})
	on(s, "volatile", func(a []any, _ socket.Ack) { _ = s.Volatile().Emit("vol", a...) })

	reason := func(args []any) string {
		if len(args) > 0 {
			if r, ok := args[0].(string); ok {
				return r
			}
		}
		return ""
	}
	_ = s.On("disconnecting", func(args ...any) {
		record(map[string]any{"event": "disconnecting", "nsp": nsp.Name(), "sid": string(s.Id()),
			"reason": reason(args), "rooms": roomList(s)})
	})
	_ = s.On("disconnect", func(args ...any) {
		record(map[string]any{"event": "disconnect", "nsp": nsp.Name(), "sid": string(s.Id()),
			"reason": reason(args), "rooms": roomList(s)})
	})
	_ = s.On("error", func(args ...any) {
		msg := ""
		if len(args) > 0 {
			msg = fmt.Sprint(args[0])
		}
		record(map[string]any{"event": "error", "nsp": nsp.Name(), "sid": string(s.Id()), "message": msg})
	})
	// FIXTURE.md section 3: the application fails on `app-error`, as a socket middleware error
	// (socket.io's `socket.use(…next(err))`), reported through the "error" listener above.
	s.Use(func(packet []any, next func(error)) {
		if len(packet) > 0 && packet[0] == "app-error" {
			next(fmt.Errorf("app-error"))
			return
		}
		next(nil)
	})
}

func onConnection(clients ...any) {
	s := clients[0].(*socket.Socket)
	// The CONNECT reply has already been written; `auth` must be the first event after it.
	var auth any = map[string]any{}
	if a := s.Handshake().Auth; a != nil {
		auth = a
	}
	_ = s.Emit("auth", auth)
	attachHandlers(s)
}

func authMiddleware(s *socket.Socket, next func(*socket.ExtendedError)) {
	auth := s.Handshake().Auth
	if auth != nil && auth["token"] == "ok" {
		next(nil)
		return
	}
	if _, withData := auth["withData"]; auth != nil && withData {
		next(socket.NewExtendedError("not authorized", map[string]any{"code": 42}))
		return
	}
	next(socket.NewExtendedError("not authorized", nil))
}

// ------------------------------------------------------------------------------------ main
func main() {
	cfg := readSettings()

	opts := socket.DefaultServerOptions()
	opts.SetPingInterval(cfg.pingInterval)
	opts.SetPingTimeout(cfg.pingTimeout)
	opts.SetUpgradeTimeout(cfg.upgradeWait)
	opts.SetMaxHttpBufferSize(cfg.maxPayload)
	opts.SetConnectTimeout(cfg.connectTimeout)
	opts.SetAllowEIO3(cfg.eio3)
	opts.SetServeClient(false)
	opts.SetCors(&types.Cors{Origin: "*"})
	if cfg.recovery {
		// socket.io's defaults: two minutes, middlewares skipped on a recovered connection.
		opts.SetConnectionStateRecovery(socket.DefaultConnectionStateRecovery())
	}
	info = fixtureInfo(cfg)
	// FIXTURE.md section 3: a handshake whose query has `refuse=<reason>` is turned down by the
	// application with that reason (EIO-HS-18).
	opts.SetAllowRequest(func(ctx *types.HttpContext) error {
		if reason, ok := ctx.Query().Get("refuse"); ok {
			return fmt.Errorf("%s", reason)
		}
		return nil
	})
	io := socket.NewServer(nil, opts)
	sioHandler := io.ServeHandler(opts)

	io.Of("/", onConnection)
	io.Of("/custom", onConnection)
	io.Of(regexp.MustCompile(`^/dyn-\d+$`), onConnection)
	io.Of("/auth", nil).Use(authMiddleware).On("connection", onConnection)

	// The echo engine is mounted on /engine.io/ by the mux below.
	echoOpts := config.DefaultServerOptions()
	echoOpts.SetPingInterval(cfg.pingInterval)
	echoOpts.SetPingTimeout(cfg.pingTimeout)
	echoOpts.SetUpgradeTimeout(cfg.upgradeWait)
	echoOpts.SetMaxHttpBufferSize(cfg.maxPayload)
	echoOpts.SetAllowEIO3(cfg.eio3)
	echoOpts.SetCors(&types.Cors{Origin: "*"})
	if cfg.initialPacket != "" {
		echoOpts.SetInitialPacket(strings.NewReader(cfg.initialPacket))
	}
	echo := engine.NewServer(echoOpts)
	_ = echo.On("connection", func(args ...any) {
		conn := args[0].(engine.Socket)
		_ = conn.On("message", func(data ...any) {
			if r, ok := data[0].(types.BufferInterface); ok {
				conn.Send(r, nil, nil)
			}
		})
	})

	mux := http.NewServeMux()
	mux.Handle("/socket.io/", sioHandler)
	mux.Handle("/engine.io/", echo)
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "not found", http.StatusNotFound) })

	listener, err := net.Listen("tcp", net.JoinHostPort(cfg.host, strconv.Itoa(cfg.port)))
	if err != nil {
		fmt.Fprintln(os.Stderr, "listen:", err)
		os.Exit(1)
	}
	fmt.Printf("READY %d\n", listener.Addr().(*net.TCPAddr).Port)
	go func() { _ = http.Serve(listener, mux) }()

	// SIGTERM: the server's own shutdown, as an application would call it (SIO-DC-06), then exit;
	// a hard exit follows if closing hangs.
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop
	time.AfterFunc(1500*time.Millisecond, func() { os.Exit(0) })
	io.Close(nil)
	echo.Close()
	_ = listener.Close()
	os.Exit(0)
}
