package main

import (
	"runtime"
	"runtime/debug"
	"strings"
)

var runtimeVersion = runtime.Version()

// clientModule is the client library whose version the agent line names.
const clientModule = "github.com/zishang520/socket.io/clients/socket/v3"

// clientVersion is the version of clientModule this binary was built with (another version is built
// from the same source by `CLIENT=go@VERSION`), from the module information Go embeds in the binary.
func clientVersion() string {
	if build, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range build.Deps {
			if dep.Path == clientModule {
				return dep.Version
			}
		}
	}
	return "(version unknown)"
}

// agent is the `--capabilities` agent line: library, version, Go runtime.
func agent() string {
	return "zishang520/socket.io " + strings.TrimPrefix(clientModule, "github.com/zishang520/socket.io/") + " " +
		clientVersion() + " (" + runtimeVersion + ")"
}
