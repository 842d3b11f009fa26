# The reference client (included by the top Makefile): the client library on the codec's client
# sessions, `build/siocat`, and the client suite's fixture for it. See reference-client/README.md.
#   make siocat              build/siocat
#   make test-client         its C unit tests, then siocat's scripted and tmux-driven tests

RC_DIR     := reference-client
RC_LIB_SRC := $(addprefix $(RC_DIR)/,client.c link.c buf.c binjson.c)
RC_IO_SRC  := $(addprefix $(RC_DIR)/,loop.c net.c)
RC_HDR     := $(wildcard $(RC_DIR)/*.h)
RC_SIOCAT  := $(addprefix $(RC_DIR)/,siocat.c siocat_print.c)

$(BUILD)/siocat: $(RC_LIB_SRC) $(RC_IO_SRC) $(RC_SIOCAT) $(RC_HDR) $(BUILD)/libsiocodec.a
	$(CC) $(CFLAGS_BASE) $(OPT) -I$(RC_DIR) $(RC_LIB_SRC) $(RC_IO_SRC) $(RC_SIOCAT) -o $@ $(BUILD)/libsiocodec.a

siocat: $(BUILD)/siocat

ALL_TARGETS += siocat
.PHONY: siocat

# The client suite's fixture for the reference client (conformance/clients/reference-client).
RC_FIXTURE := $(BUILD)/clients/reference/fixture
$(RC_FIXTURE): conformance/clients/reference-client/fixture.c $(RC_LIB_SRC) $(RC_IO_SRC) $(RC_HDR) $(BUILD)/libsiocodec.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_BASE) $(OPT) -I$(RC_DIR) $< $(RC_LIB_SRC) $(RC_IO_SRC) -o $@ $(BUILD)/libsiocodec.a

clients-reference: $(RC_FIXTURE)
.PHONY: clients-reference

# siocat's own tests against the reference server: scripted runs, commands on standard input and
# an interactive session in tmux (conformance/tests/siocat; a few seconds); a recovered namespace
# against Node's socket.io (the reference server has no connection-state recovery).
test-siocat: $(BUILD)/siocat server $(PYTHON) conformance-node
	cd conformance && ../$(PYTHON) -m pytest -q -p no:cacheprovider tests/siocat

TEST_TARGETS += test-siocat
.PHONY: test-siocat

# The reference client against every shipped server target, in each of its modes: docs/interop.md
# (a few minutes; third-party targets appear as "not built" until `make thirdparty` built them).
interop: $(BUILD)/siocat server conformance-node conformance-python $(PYTHON)
	cd conformance && ../$(PYTHON) interop.py --out ../docs/interop.md

.PHONY: interop

# The client's connections against scripted server bytes, in memory (reference-client/tests).
RC_UNIT_SRC := $(sort $(wildcard $(RC_DIR)/tests/test_*.c))
RC_UNIT_BIN := $(RC_UNIT_SRC:$(RC_DIR)/tests/%.c=$(BUILD)/san/client-tests/%)
$(BUILD)/san/client-tests/%: $(RC_DIR)/tests/%.c $(RC_LIB_SRC) $(RC_HDR) codec/tests/check.h $(BUILD)/san/libsiocodec.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_BASE) $(SANFLAGS) -Icodec/tests -I$(RC_DIR) $< $(RC_LIB_SRC) -o $@ $(BUILD)/san/libsiocodec.a

test-client-unit: $(RC_UNIT_BIN)
	@for t in $^; do $$t || exit 1; done

TEST_TARGETS += test-client-unit
.PHONY: test-client-unit
