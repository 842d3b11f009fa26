# Conformance suite (included by the top Makefile).
#   make conformance                               against the reference server (built first)
#   make conformance TARGET=node-socketio          against a shipped target (see conformance/harness/targets.py)
#   make conformance TARGET=node-socketio@4.6.1    any published version, installed under build/targets/
#   make conformance TARGET=node-socketio@4.6.1+engine.io@6.4.1+socket.io-parser@4.2.2   with protocol packages pinned
#   make conformance TARGET=http://127.0.0.1:PORT  against a server someone already runs with FIXTURE.md
#   make conformance TARGET_CMD="./my-server"      anyone's server, started, restarted and stopped by the suite
#   make conformance TARGET=http://… TARGET_INFO=parts.json   what the server's fixture offers (fixture-info shape)
#   make conformance TARGET=node-socketio CONF_ARGS="--req EIO-HS-04"     one requirement
#   make conformance CONF_ARGS="--collect-only -q"                         list the cases without running
#   make conformance TARGET=node-socketio CONF_REPEAT=20   every case 20 times; cases whose verdict changed are listed
#   make matrix                                    every shipped target, then the compatibility matrix
#   make server-matrix                             the same for the server targets only (no client matrix)
# Reports: build/conformance/<target>/index.json and junit.xml; build/conformance/matrix.{md,html}.

# With TARGET_CMD, TARGET only names the report (build/conformance/<TARGET>/).
TARGET             ?= $(if $(TARGET_CMD),custom,reference)
# Every conformance run needs the codec's shared library: cases use it as an oracle (conformance/siocodec).
# Read by the harness from the environment (conformance/harness/plugin.py).
export TARGET_CMD TARGET_INFO
CONF_ARGS          ?=
CONF_REPEAT        ?=
CONF_DIR           := conformance
CONF_NODE          := $(CONF_DIR)/targets/node-socketio
CONF_OUT           := $(BUILD)/conformance
CONF_MATRIX        ?= reference reference-eio3 node-socketio node-socketio-eio3 node-socketio-v2 python-socketio
MATRIX_OUT         ?= docs

# Worker processes per target (pytest-xdist; 0 runs in-process). python-engineio announces
# pingInterval in whole seconds, so that target cannot run on a sub-second heartbeat like the
# others; its heartbeat-bound cases are spread over two workers instead, each with its own server.
CONF_WORKERS_python-socketio ?= 2
# socket.io 2 waits out many v4 expectations it does not meet; two workers keep it near a minute.
CONF_WORKERS_node-socketio-v2 ?= 2
CONF_WORKERS_python-socketio-threading ?= 4
# The matrix runs every target on MATRIX_WORKERS workers: its cases mostly wait on the server (for a reply
# deadline, a heartbeat, a close), so two servers side by side take about half the time on two cores,
# with the same verdicts (each worker has its own server and its own cases).
MATRIX_WORKERS ?= 2
# The matrix keeps the end of each target run's output (pytest's and the target's) beside its report,
# build/conformance/<target>/output.log, so a report cut short or missing can be explained.
MATRIX_OUTPUT_BYTES ?= 204800
conf_workers = $(or $(CONF_WORKERS),$(CONF_WORKERS_$(firstword $(subst @, ,$(1)))),$(if $(MATRIX_RUN),$(MATRIX_WORKERS)),0)

# --rootdir: case ids stay `tests/protocol/…` (pytest would otherwise take the report paths under ../build
# for test paths and root the ids at the repository, where pyproject.toml is).
conf_slug   = $(subst .,_,$(subst /,_,$(subst :,_,$(1))))
conf_prereq = $(if $(filter reference,$(1)),server,$(if $(filter node-%,$(1)),conformance-node,$(if $(filter python-%,$(1)),conformance-python)))
conf_run    = cd $(CONF_DIR) && ../$(PYTHON) -m pytest tests/protocol -q --rootdir . -n $(call conf_workers,$(1)) --target "$(1)" \
              --report-json ../$(CONF_OUT)/$(call conf_slug,$(1))/index.json \
              --junitxml ../$(CONF_OUT)/$(call conf_slug,$(1))/junit.xml $(if $(CONF_REPEAT),--repeat $(CONF_REPEAT)) $(2)

# npm dependencies of the Node fixture, exactly as locked.
$(CONF_NODE)/node_modules/.package-lock.json: $(CONF_NODE)/package.json $(CONF_NODE)/package-lock.json
	cd $(CONF_NODE) && npm ci --no-audit --no-fund --loglevel=error

$(CONF_DIR)/targets/node-socketio-v2/node_modules/.package-lock.json: $(CONF_DIR)/targets/node-socketio-v2/package.json $(CONF_DIR)/targets/node-socketio-v2/package-lock.json
	cd $(CONF_DIR)/targets/node-socketio-v2 && npm ci --no-audit --no-fund --loglevel=error

conformance-node: $(CONF_NODE)/node_modules/.package-lock.json $(CONF_DIR)/targets/node-socketio-v2/node_modules/.package-lock.json

# python-socketio fixture: its own virtual environment, every package pinned in requirements.txt.
CONF_PYVENV := $(CONF_OUT)/pyvenv-socketio
$(CONF_PYVENV)/.installed: $(CONF_DIR)/targets/python-socketio/requirements.txt
	rm -rf $(CONF_PYVENV) && /usr/bin/python3 -m venv $(CONF_PYVENV)
	$(CONF_PYVENV)/bin/pip install -q --disable-pip-version-check -r $<
	touch $@

conformance-python: $(CONF_PYVENV)/.installed

conformance: $(PYTHON) codec $(call conf_prereq,$(TARGET))
	$(call conf_run,$(TARGET),$(CONF_ARGS))

# Every shipped target; a target's failures do not stop the others. The matrix is built from the indexes.
# `make matrix` is this plus the client matrix (client.mk).
matrix: server-matrix
server-matrix: MATRIX_RUN := 1
server-matrix: $(PYTHON) codec server conformance-node conformance-python
	@status=0; \
	$(foreach t,$(CONF_MATRIX),echo "== conformance: $(t)"; started=$$(date +%s); \
	  rm -f $(CONF_OUT)/$(call conf_slug,$(t))/index.json; \
	  mkdir -p $(CONF_OUT)/$(call conf_slug,$(t)); \
	  ( $(call conf_run,$(t),) ) 2>&1 | tail -c $(MATRIX_OUTPUT_BYTES) > $(CONF_OUT)/$(call conf_slug,$(t))/output.log; \
	  echo "   $(t): $$(( $$(date +%s) - started )) s"; \
	  test -s $(CONF_OUT)/$(call conf_slug,$(t))/index.json || { echo "   no report for $(t)"; status=1; };) \
	$(PYTHON) $(CONF_DIR)/matrix.py --out $(MATRIX_OUT) $(foreach t,$(CONF_MATRIX),$(CONF_OUT)/$(call conf_slug,$(t))/index.json); \
	exit $$status

# The harness's own tests; the crash-attribution test drives a purpose-built broken Node server.
test-conformance-harness: $(PYTHON) codec server conformance-node
	cd $(CONF_DIR) && ../$(PYTHON) -m pytest -q tests/selftest

# The whole suite against Node's socket.io: every MUST case has to pass there (deviations are non-strict);
# and against the same server running only the official-suite fixture, where every case that needs a
# missing fixture part has to come out `unimplemented`, never `fail`.
test-conformance-node: $(PYTHON) codec conformance-node
	$(call conf_run,node-socketio,)
	$(call conf_run,node-socketio-eio3,)
	$(call conf_run,node-socketio-official,)

# The whole suite against the reference server: every MUST case has to pass.
test-conformance-reference: $(PYTHON) codec server
	$(call conf_run,reference,)
	$(call conf_run,reference-eio3,)

# The suite's own race check: a server answering from several threads, every case three times, on four
# workers (the cases mostly wait on the server); the run fails when any verdict changed between runs (its
# verdicts themselves are python-socketio's findings).
test-conformance-threads: $(PYTHON) codec conformance-python
	$(call conf_run,python-socketio-threading,--repeat 3 --stability-only)

TEST_TARGETS += test-conformance-harness test-conformance-node test-conformance-reference test-conformance-threads

.PHONY: conformance conformance-node conformance-python matrix server-matrix test-conformance-harness test-conformance-node test-conformance-reference test-conformance-threads
