# The network fuzzer (fuzz/net/README.md). Included by the top Makefile.
#
#   make fuzz-target TARGET=name[@version]|URL [FUZZ_SECONDS=60] [FUZZ_SEED=1] [FUZZ_INPUTS=N] [FUZZ_WORKERS=8]
#   make fuzz-target TARGET=label TARGET_CMD="…"   a server started by a command (FIXTURE.md section 1)
#   make fuzz-target-replay FILE=build/fuzz-target/<target>/<finding>.json [TARGET=name|URL]
#   make fuzz-target-case FILE=… [CASE=name]     the reproducer becomes a conformance regression case
#   make fuzz-target-all [FUZZ_SECONDS=600]      every shipped server target, one after the other
#   make fuzz-target-install                     the typical app on socket.io 4.6.1 (calibration target)
#   make fuzz-target-adopt RUNS="build/fuzz-target/<target>/run-seed1.json …" [CALIBRATION=1]   measured runs into fuzz/net/findings/
#   make fuzz-target-findings                    docs/findings/wire-fuzzing.md from fuzz/net/findings/
#   make test-fuzz-target                        the fuzzer's self-test (part of make test)

FUZZ_SECONDS ?= 60
FUZZ_SEED    ?= 1
FUZZ_INPUTS  ?= 1000000000
FUZZ_WORKERS ?= 8
FUZZ_NET_ARGS ?=
FUZZ_NET     := cd fuzz/net && ../../$(PYTHON) -m wirefuzz
# Every shipped server target: the compatibility matrix (conformance.mk's CONF_MATRIX, third-party
# targets included) and the two registry targets outside it (the official-suite fixture, the threaded
# python-socketio server).
FUZZ_NET_ALL ?= $(CONF_MATRIX) node-socketio-official python-socketio-threading
FUZZ_APP     := $(BUILD)/fuzz-target/install/socketio-app
FUZZ_APP_SRC := fuzz/net/targets/socketio-app

# TARGET given on the command line (conformance.mk's default, the reference server, does not count):
# a replay then runs against it instead of the target the file was found on.
TARGET_GIVEN := $(filter command line environment override,$(origin TARGET))

# What a target needs before it can start: the reference server built, the npm / PyPI installs, or a
# third-party fixture's build (thirdparty.mk's TP_TARGETS, cached under build/thirdparty/).
fuzz_net_prereq = $(if $(filter reference%,$(1)),server,$(if $(filter node-%,$(1)),conformance-node,$(if $(filter python-%,$(1)),conformance-python,$(if $(filter socketio-app,$(1)),fuzz-target-install,$(if $(filter $(TP_TARGETS),$(1)),thirdparty-$(1))))))

fuzz-target: $(PYTHON) codec $(call fuzz_net_prereq,$(TARGET))
	$(FUZZ_NET) run --target "$(TARGET)" --seconds $(FUZZ_SECONDS) --seed $(FUZZ_SEED) --inputs $(FUZZ_INPUTS) \
	  --workers $(FUZZ_WORKERS) $(if $(TARGET_CMD),--target-cmd '$(TARGET_CMD)') $(FUZZ_NET_ARGS)

fuzz-target-replay: $(PYTHON) codec $(if $(TARGET_GIVEN),$(call fuzz_net_prereq,$(TARGET)))
	@test -n "$(FILE)" || { echo "give FILE=<reproducer or case file>"; exit 2; }
	$(FUZZ_NET) replay "$(abspath $(FILE))" $(if $(TARGET_GIVEN),--target "$(TARGET)") \
	  $(if $(TARGET_CMD),--target-cmd '$(TARGET_CMD)')

fuzz-target-case: $(PYTHON) codec
	@test -n "$(FILE)" || { echo "give FILE=<reproducer>"; exit 2; }
	$(FUZZ_NET) case "$(abspath $(FILE))" $(if $(CASE),--name "$(CASE)")

fuzz-target-all:
	@for t in $(FUZZ_NET_ALL); do echo "== fuzz-target $$t"; \
	  $(MAKE) --no-print-directory fuzz-target TARGET=$$t || exit 1; done

fuzz-target-adopt: $(PYTHON) codec
	@test -n "$(RUNS)" || { echo "give RUNS=<run summaries>"; exit 2; }
	$(FUZZ_NET) adopt $(if $(CALIBRATION),--calibration) $(abspath $(RUNS))

fuzz-target-findings: $(PYTHON) codec
	$(FUZZ_NET) findings

# The calibration target at its pinned versions (the committed lock file), installed under build/;
# `socketio-app@VERSION` installs any other version beside it (conformance/harness/packages.py).
$(FUZZ_APP)/node_modules/.package-lock.json: $(FUZZ_APP_SRC)/package.json $(FUZZ_APP_SRC)/package-lock.json $(FUZZ_APP_SRC)/app.js
	@mkdir -p $(FUZZ_APP)
	cp $(FUZZ_APP_SRC)/package.json $(FUZZ_APP_SRC)/package-lock.json $(FUZZ_APP_SRC)/app.js $(FUZZ_APP)/
	cd $(FUZZ_APP) && npm ci --no-audit --no-fund --loglevel=error

fuzz-target-install: $(FUZZ_APP)/node_modules/.package-lock.json

test-fuzz-target: $(PYTHON) codec server
	cd fuzz/net && ../../$(PYTHON) -m pytest -q tests

TEST_TARGETS += test-fuzz-target
.PHONY: fuzz-target fuzz-target-replay fuzz-target-case fuzz-target-all fuzz-target-install test-fuzz-target \
        fuzz-target-adopt fuzz-target-findings
