# Client conformance: the suite plays the server and judges Socket.IO clients (included by the top Makefile).
#   make conformance-client CLIENT=js                     a shipped client (conformance/clientside/agents.py)
#   make conformance-client CLIENT=js@4.7.5               another version of any shipped client, installed on demand
#   make conformance-client CLIENT=js@4.6.0+engine.io-client@6.4.0   … with protocol packages pinned too (harness/packages.py)
#   make conformance-client CLIENT=rust@0.5.0             crates.io, Maven (java@2.1.1) and Go modules (go@3.0.5) too:
#                                                         built once under build/targets/<fixture>/<version>/
#   make conformance-client CLIENT="./my-fixture --flag"  anyone's client fixture (conformance/CLIENT-FIXTURE.md)
#   make conformance-client CLIENT=js CLIENT_ARGS="--req CSIO-ACK"   one requirement group
#   make client-matrix                                    every shipped client: docs/client-matrix.{md,html}, docs/findings/clients/
#   make client-repeat CLIENT=go CLIENT_RUNS=5            each case CLIENT_RUNS times in a row: the cases whose verdict changed
# Reports: build/conformance-client/<client>/index.json and junit.xml (client-repeat: build/conformance-client-repeat/).

CLIENT          ?= js
CLIENT_ARGS     ?=
CLIENT_OUT      := $(BUILD)/conformance-client
CLIENTS_DIR     := $(CONF_DIR)/clients
CLIENT_CACHE    := $(BUILD)/clients
CLIENT_MATRIX   ?= js js-v2 python-sync python-async rust java go reference reference-eio3
# Worker processes per client (pytest-xdist): each case starts its own server and fixture process.
CLIENT_WORKERS  ?= 2

client_slug    = $(subst @,_,$(subst .,_,$(subst /,_,$(subst :,_,$(subst $(space),_,$(1))))))
space         := $(empty) $(empty)
client_install = $(if $(filter js js-v2 js@% js-v2@%,$(1)),clients-js,$(if $(filter python-%,$(1)),clients-python,$(if $(filter rust java go,$(1)),clients-$(1),$(if $(filter reference reference-eio3,$(1)),clients-reference))))
client_run     = cd $(CONF_DIR) && ../$(PYTHON) -m pytest tests/client -q --tb=short -p no:cacheprovider -n $(CLIENT_WORKERS) \
                 --catalogue client --client '$(1)' \
                 --report-json ../$(or $(3),$(CLIENT_OUT))/$(call client_slug,$(1))/index.json \
                 --junitxml ../$(or $(3),$(CLIENT_OUT))/$(call client_slug,$(1))/junit.xml $(2)

# JavaScript clients: npm packages exactly as locked.
$(CLIENTS_DIR)/js-socketio-client/node_modules/.package-lock.json: $(CLIENTS_DIR)/js-socketio-client/package.json $(CLIENTS_DIR)/js-socketio-client/package-lock.json
	cd $(CLIENTS_DIR)/js-socketio-client && npm ci --no-audit --no-fund --loglevel=error
$(CLIENTS_DIR)/js-socketio-client-v2/node_modules/.package-lock.json: $(CLIENTS_DIR)/js-socketio-client-v2/package.json $(CLIENTS_DIR)/js-socketio-client-v2/package-lock.json
	cd $(CLIENTS_DIR)/js-socketio-client-v2 && npm ci --no-audit --no-fund --loglevel=error
clients-js: $(CLIENTS_DIR)/js-socketio-client/node_modules/.package-lock.json $(CLIENTS_DIR)/js-socketio-client-v2/node_modules/.package-lock.json

# python-socketio (sync and asyncio): its own virtual environment, every package pinned.
$(CLIENT_CACHE)/pyvenv/.installed: $(CLIENTS_DIR)/python-socketio/requirements.txt
	rm -rf $(CLIENT_CACHE)/pyvenv && mkdir -p $(CLIENT_CACHE) && /usr/bin/python3 -m venv $(CLIENT_CACHE)/pyvenv
	$(CLIENT_CACHE)/pyvenv/bin/pip install -q --disable-pip-version-check -r $<
	touch $@
clients-python: $(CLIENT_CACHE)/pyvenv/.installed

# rust_socketio 0.6.0 (crates.io, Cargo.lock committed), debug build (quicker to build; the fixture
# does no work of its own) cached under build/clients/rust.
$(CLIENT_CACHE)/rust/debug/rust-socketio-fixture: $(CLIENTS_DIR)/rust-socketio/Cargo.toml $(CLIENTS_DIR)/rust-socketio/Cargo.lock $(CLIENTS_DIR)/rust-socketio/src/main.rs $(CLIENTS_DIR)/rust-socketio/build.rs
	cd $(CLIENTS_DIR)/rust-socketio && cargo build --locked -j2 --target-dir $(abspath $(CLIENT_CACHE)/rust)
clients-rust: $(CLIENT_CACHE)/rust/debug/rust-socketio-fixture

# io.socket:socket.io-client 2.1.2 (Maven Central): the fixture's jar beside lib/, its runtime jars (the
# layout harness/packages.py's Maven kind gives every other version too).
JAVA_CLIENT_JAR := $(CLIENT_CACHE)/java/java-socketio-client-fixture-1.0.jar
$(JAVA_CLIENT_JAR): $(CLIENTS_DIR)/java-socketio-client/pom.xml $(wildcard $(CLIENTS_DIR)/java-socketio-client/src/main/java/*.java)
	rm -rf $(CLIENT_CACHE)/java/lib && mkdir -p $(CLIENT_CACHE)/java
	cd $(CLIENTS_DIR)/java-socketio-client && mvn -q -B package -Dfixture.out=$(abspath $(CLIENT_CACHE)/java)
	touch $@
# The fixture's class-data-sharing archive, from one ordinary session (clientside/warmup.py; agents.py adds
# -XX:SharedArchiveFile when it exists). Written again whenever the jar is.
JAVA_CLIENT_JSA := $(CLIENT_CACHE)/java/fixture.jsa
$(JAVA_CLIENT_JSA): $(JAVA_CLIENT_JAR) $(CONF_DIR)/clientside/warmup.py | $(PYTHON)
	rm -f $@
	cd $(CONF_DIR) && ../$(PYTHON) -m clientside.warmup -- java -XX:ArchiveClassesAtExit=$(abspath $@) -Xlog:disable \
	  -Xlog:all=warning:stderr -XX:TieredStopAtLevel=1 -cp '$(abspath $(JAVA_CLIENT_JAR)):$(abspath $(CLIENT_CACHE)/java/lib)/*' Fixture
clients-java: $(JAVA_CLIENT_JAR) $(JAVA_CLIENT_JSA)

# zishang520 socket.io clients/socket/v3 v3.0.6 (Go module proxy, go.sum committed).
$(CLIENT_CACHE)/go/go-socketio-fixture: $(CLIENTS_DIR)/go-socketio-client/go.mod $(CLIENTS_DIR)/go-socketio-client/go.sum $(wildcard $(CLIENTS_DIR)/go-socketio-client/*.go)
	mkdir -p $(CLIENT_CACHE)/go
	cd $(CLIENTS_DIR)/go-socketio-client && GOFLAGS=-mod=mod go build -p 2 -o $(abspath $@) .
clients-go: $(CLIENT_CACHE)/go/go-socketio-fixture

conformance-client: $(PYTHON) $(call client_install,$(CLIENT))
	$(call client_run,$(CLIENT),$(CLIENT_ARGS))

# The harness's --repeat: every case CLIENT_RUNS times in a row (at most 20); the report lists each case's
# verdicts ("repeat") and the cases whose verdict changed ("changed"), which also fail the run.
CLIENT_RUNS ?= 5
client-repeat: $(PYTHON) $(call client_install,$(CLIENT))
	@test $(CLIENT_RUNS) -ge 1 -a $(CLIENT_RUNS) -le 20 || { echo "client-repeat: CLIENT_RUNS is 1 to 20"; exit 2; }
	$(call client_run,$(CLIENT),--repeat $(CLIENT_RUNS) $(CLIENT_ARGS),$(CLIENT_OUT)-repeat)

# Every shipped client; one client's failures do not stop the others. Pages and findings (conformance/findings.py,
# the same pages as the servers') from the indexes.
CLIENT_MATRIX_OUT ?= docs
client-matrix: $(PYTHON) $(foreach c,$(CLIENT_MATRIX),$(call client_install,$(c)))
	@status=0; \
	$(foreach c,$(CLIENT_MATRIX),echo "== client: $(c)"; \
	  rm -f $(CLIENT_OUT)/$(call client_slug,$(c))/index.json; start=$$(date +%s); \
	  ( $(call client_run,$(c),) ) >$(CLIENT_OUT)-$(call client_slug,$(c)).log 2>&1 || true; \
	  echo "   $$(( $$(date +%s) - start )) s"; \
	  test -s $(CLIENT_OUT)/$(call client_slug,$(c))/index.json || { echo "   no report for $(c)"; status=1; };) \
	$(PYTHON) $(CONF_DIR)/client_matrix.py --out $(CLIENT_MATRIX_OUT) \
	  $(foreach c,$(CLIENT_MATRIX),$(CLIENT_OUT)/$(call client_slug,$(c))/index.json) && \
	$(PYTHON) $(CONF_DIR)/findings.py --out $(CLIENT_MATRIX_OUT)/findings \
	  $(foreach c,$(CLIENT_MATRIX),$(CLIENT_OUT)/$(call client_slug,$(c))/index.json) || status=1; \
	exit $$status

# The client side's own tests (wire parsers, scripted server, catalogue completeness), then the whole
# suite against socket.io-client 4.8.4 with its verdicts compared to the recorded ones.
test-conformance-client: $(PYTHON) clients-js
	cd $(CONF_DIR) && ../$(PYTHON) -m pytest -q -p no:cacheprovider tests/client_selftest
	$(call client_run,js,)  || true
	$(PYTHON) $(CONF_DIR)/client_matrix.py --check $(CLIENTS_DIR)/js-socketio-client/expected-verdicts.json \
	  $(CLIENT_OUT)/js/index.json

TEST_TARGETS += test-conformance-client

.PHONY: clients-js clients-python clients-rust clients-java clients-go conformance-client client-repeat client-matrix test-conformance-client

# `make matrix` writes the client matrix too.
matrix: client-matrix
