# Third-party servers as conformance targets (included by the top Makefile, after conformance.mk).
#   make thirdparty                          build every third-party fixture (cached under build/thirdparty/)
#   make conformance TARGET=socketioxide     builds that fixture first, then runs the suite on it
#   make conformance TARGET=socketioxide@0.18.8   another version: installed and built under build/targets/
#                                            by the harness (conformance/harness/packages.py), not by make
#   make findings                            docs/findings/<target>.md from the reports in build/conformance/,
#                                            docs/findings/clients/<client>.md from build/conformance-client/
# Each fixture is pinned by its lock file (Cargo.lock, go.sum, pom.xml + jars.sha256, package-lock.json);
# builds use two jobs at most. None of this is part of `make test`.

TP_DIR   := $(CONF_DIR)/targets
TP_OUT   := $(BUILD)/thirdparty
TP_ABS   := $(abspath $(TP_OUT))

# ---------------------------------------------------------------- socketioxide (Rust, crates.io)
TP_SX_SRC := $(TP_DIR)/socketioxide/Cargo.toml $(TP_DIR)/socketioxide/Cargo.lock $(wildcard $(TP_DIR)/socketioxide/src/*.rs)
TP_SX_BIN  = $(TP_OUT)/socketioxide/$(1)/release/siotest-fixture-socketioxide

$(call TP_SX_BIN,v5): $(TP_SX_SRC)
	cd $(TP_DIR)/socketioxide && CARGO_TARGET_DIR=$(TP_ABS)/socketioxide/v5 cargo build --release --locked -j 2 -q
	@touch $@

$(call TP_SX_BIN,v4): $(TP_SX_SRC)
	cd $(TP_DIR)/socketioxide && CARGO_TARGET_DIR=$(TP_ABS)/socketioxide/v4 cargo build --release --locked -j 2 -q --features v4
	@touch $@

thirdparty-socketioxide: $(call TP_SX_BIN,v5)
thirdparty-socketioxide-v4: $(call TP_SX_BIN,v4)

# ---------------------------------------------------------------- zishang520/socket.io (Go module proxy)
TP_GO_ENV := GOMODCACHE=$(TP_ABS)/gomod GOCACHE=$(TP_ABS)/gocache GOFLAGS=-modcacherw GOMAXPROCS=2
$(TP_OUT)/zishang520-socketio/fixture: $(addprefix $(TP_DIR)/zishang520-socketio/,go.mod go.sum main.go)
	cd $(TP_DIR)/zishang520-socketio && $(TP_GO_ENV) go build -mod=readonly -p 2 -o $(TP_ABS)/zishang520-socketio/fixture .

thirdparty-zishang520-socketio thirdparty-zishang520-socketio-eio3: $(TP_OUT)/zishang520-socketio/fixture

# ---------------------------------------------------------------- netty-socketio (Java, Maven Central)
# Maven has no lock file: jars.sha256 lists the SHA-256 of every runtime jar the pom resolves, and the
# build fails when one differs (an upstream re-release or a range that moved).
TP_JV     := $(TP_DIR)/netty-socketio
TP_JV_JAR := $(TP_OUT)/netty-socketio/fixture-netty-socketio-1.0.0.jar
TP_MVN    := mvn -q -B -T 1 -Dmaven.repo.local=$(TP_ABS)/m2

$(TP_JV_JAR): $(TP_JV)/pom.xml $(TP_JV)/jars.sha256 $(wildcard $(TP_JV)/src/main/java/siotest/*.java)
	cd $(TP_JV) && $(TP_MVN) -Dfixture.out=$(TP_ABS)/netty-socketio package
	cd $(TP_OUT)/netty-socketio/lib && sha256sum -c --quiet $(abspath $(TP_JV)/jars.sha256)
	@touch $@

thirdparty-netty-socketio: $(TP_JV_JAR)

# ---------------------------------------------------------------- socket.io on Bun (npm; Bun from its npm package)
$(TP_DIR)/socketio-bun/node_modules/.package-lock.json: $(addprefix $(TP_DIR)/socketio-bun/,package.json package-lock.json)
	cd $(TP_DIR)/socketio-bun && npm ci --no-audit --no-fund --loglevel=error

thirdparty-socketio-bun: $(TP_DIR)/socketio-bun/node_modules/.package-lock.json

# ---------------------------------------------------------------- all of them
TP_TARGETS := socketioxide socketioxide-v4 zishang520-socketio zishang520-socketio-eio3 netty-socketio socketio-bun
thirdparty: $(addprefix thirdparty-,$(TP_TARGETS))

# `make conformance TARGET=<third-party target>` builds its fixture first.
conformance: $(if $(filter $(TP_TARGETS),$(TARGET)),thirdparty-$(TARGET))

# The matrix covers the third-party targets too.
CONF_MATRIX += $(TP_TARGETS)
server-matrix: thirdparty

# ---------------------------------------------------------------- findings
FINDINGS_OUT ?= docs/findings
findings: $(PYTHON)
	$(PYTHON) $(CONF_DIR)/findings.py --out $(FINDINGS_OUT) $(wildcard $(CONF_OUT)/*/index.json $(CLIENT_OUT)/*/index.json)

.PHONY: thirdparty findings $(addprefix thirdparty-,$(TP_TARGETS))
