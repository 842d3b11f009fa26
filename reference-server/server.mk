# Reference server targets (included by the top Makefile).
#   make deps-server-clients    install the pinned real clients (socket.io-client, python-socketio)
#   make test-server-unit       C unit tests of the server's event loop (reference-server/tests)
#   make test-server            pytest tests of build/reference-server (conformance/tests/server)
#   make test-server-san        the same tests against the AddressSanitizer build
#   make test-server-valgrind   the same tests with the server under valgrind (leaks are errors)
#   make test-server-valgrind-conformance   the conformance suite against the server under valgrind

SERVER_TEST_DIR := conformance/tests/server
SERVER_CLIENTS  := reference-server/clients

$(SERVER_CLIENTS)/node_modules/.package-lock.json: $(SERVER_CLIENTS)/package.json $(SERVER_CLIENTS)/package-lock.json
	cd $(SERVER_CLIENTS) && npm ci --no-audit --no-fund --loglevel=error

$(BUILD)/.server-clients-pip: $(SERVER_CLIENTS)/requirements.txt $(PYTHON)
	$(PYTHON) -m pip install -q -r $(SERVER_CLIENTS)/requirements.txt
	@touch $@

deps-server-clients: $(SERVER_CLIENTS)/node_modules/.package-lock.json $(BUILD)/.server-clients-pip

test-server: server $(PYTHON) deps-server-clients
	cd conformance && ../$(PYTHON) -m pytest -q tests/server

test-server-san: $(BUILD)/san/reference-server $(PYTHON)
	cd conformance && REFERENCE_SERVER=$(abspath $(BUILD)/san/reference-server) ../$(PYTHON) -m pytest -q tests/server

test-server-valgrind: server $(PYTHON)
	cd conformance && REFERENCE_SERVER_WRAPPER="valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=99" \
	  ../$(PYTHON) -m pytest -q tests/server

test-server-valgrind-conformance: server $(PYTHON)
	reference-server/valgrind-conformance.sh

SERVER_UNIT_SRC := $(sort $(wildcard reference-server/tests/test_*.c))
SERVER_UNIT_BIN := $(SERVER_UNIT_SRC:reference-server/tests/%.c=$(BUILD)/server-tests/%)
SERVER_LOOP_SRC := reference-server/loop.c reference-server/buf.c

$(BUILD)/server-tests/%: reference-server/tests/%.c $(SERVER_LOOP_SRC) $(SERVER_HDR) codec/tests/check.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_BASE) $(SANFLAGS) -Icodec/tests -Ireference-server $< $(SERVER_LOOP_SRC) -o $@

test-server-unit: $(SERVER_UNIT_BIN)
	@for t in $^; do $$t || exit 1; done

TEST_TARGETS += test-server-unit test-server test-server-san
.PHONY: deps-server-clients test-server-unit test-server test-server-san test-server-valgrind test-server-valgrind-conformance
