# One entry point. `make` builds everything; `make test` runs every test; see README.md.
.DEFAULT_GOAL := all
SHELL := /bin/bash

CC       ?= cc
BUILD    := build
VENV     := $(BUILD)/venv
PYTHON   := $(VENV)/bin/python
WARN     := -Wall -Wextra -Wpedantic -Werror
CSTD     := -std=c11 -D_POSIX_C_SOURCE=200809L
OPT      ?= -O2 -g
CFLAGS_BASE := $(CSTD) $(WARN) -Icodec/include
SANFLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

# ---------------------------------------------------------------- codec
CODEC_SRC  := $(sort $(wildcard codec/src/*.c))
CODEC_HDR  := $(wildcard codec/include/sio/*.h codec/include/sio/*.def codec/src/*.h)
CODEC_OBJ  := $(CODEC_SRC:codec/src/%.c=$(BUILD)/obj/codec/%.o)
CODEC_SOBJ := $(CODEC_SRC:codec/src/%.c=$(BUILD)/san/codec/%.o)

$(BUILD)/obj/codec/%.o: codec/src/%.c $(CODEC_HDR)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_BASE) $(OPT) -fPIC -fvisibility=hidden -DSIO_BUILDING -c $< -o $@

$(BUILD)/san/codec/%.o: codec/src/%.c $(CODEC_HDR)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_BASE) $(SANFLAGS) -DSIO_BUILDING -c $< -o $@

$(BUILD)/libsiocodec.a: $(CODEC_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libsiocodec.so: $(CODEC_OBJ)
	$(CC) -shared -o $@ $^

$(BUILD)/san/libsiocodec.a: $(CODEC_SOBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/siocodec.pc: codec/siocodec.pc.in
	@mkdir -p $(@D)
	sed -e 's|@PREFIX@|$(abspath $(BUILD))|' -e 's|@INCLUDEDIR@|$(abspath codec/include)|' $< > $@

codec: $(BUILD)/libsiocodec.a $(BUILD)/libsiocodec.so $(BUILD)/siocodec.pc

# C unit tests: each codec/tests/test_*.c is one program, built plain and under ASan+UBSan, run
# once per codec path (scripts/run-unit-tests.sh, check.h).
UNIT_SRC  := $(sort $(wildcard codec/tests/test_*.c))
UNIT_BIN  := $(UNIT_SRC:codec/tests/%.c=$(BUILD)/tests/%)
UNIT_SBIN := $(UNIT_SRC:codec/tests/%.c=$(BUILD)/san/tests/%)

$(BUILD)/tests/%: codec/tests/%.c codec/tests/check.h codec/tests/session_pump.h codec/tests/counting_alloc.h $(BUILD)/libsiocodec.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_BASE) $(OPT) -DCHECK_SIMD_PATHS -Icodec/src $< -o $@ $(BUILD)/libsiocodec.a -lcjson

$(BUILD)/san/tests/%: codec/tests/%.c codec/tests/check.h codec/tests/session_pump.h codec/tests/counting_alloc.h $(BUILD)/san/libsiocodec.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_BASE) $(SANFLAGS) -DCHECK_SIMD_PATHS -Icodec/src $< -o $@ $(BUILD)/san/libsiocodec.a -lcjson

# The README's example program, built against the installed-style header path and run by test-unit.
$(BUILD)/examples/tour: codec/examples/tour.c $(BUILD)/libsiocodec.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_BASE) $(OPT) $< -o $@ $(BUILD)/libsiocodec.a

# ---------------------------------------------------------------- reference server
# The cluster module (reference-server/cluster/, msgpack-c and hiredis) is linked in; its
# wire_ffi.c is the vectors' and fuzzers' face, not the server's.
SERVER_SRC := $(sort $(wildcard reference-server/*.c)) \
              $(filter-out %/wire_ffi.c,$(sort $(wildcard reference-server/cluster/*.c)))
SERVER_HDR := $(wildcard reference-server/*.h reference-server/cluster/*.h)
SERVER_LIBS := -lcjson -lmsgpackc -lhiredis -lm

$(BUILD)/reference-server: $(SERVER_SRC) $(SERVER_HDR) $(BUILD)/libsiocodec.a
	$(CC) $(CFLAGS_BASE) $(OPT) -Ireference-server $(SERVER_SRC) -o $@ $(BUILD)/libsiocodec.a $(SERVER_LIBS)

$(BUILD)/san/reference-server: $(SERVER_SRC) $(SERVER_HDR) $(BUILD)/san/libsiocodec.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_BASE) $(SANFLAGS) -Ireference-server $(SERVER_SRC) -o $@ $(BUILD)/san/libsiocodec.a $(SERVER_LIBS)

server: $(if $(SERVER_SRC),$(BUILD)/reference-server)

# ---------------------------------------------------------------- lint
# `make lint` runs every linter; each part adds its own as a prerequisite (`lint: lint-<part>`).
# lint-c: the C files keep the layout of .clang-format. clang-format is Debian's (installed by
# scripts/setup.sh); its version is pinned because each major version lays code out differently.
CLANG_FORMAT         ?= clang-format
CLANG_FORMAT_VERSION := 14
LINT_C_FILES := $(sort $(wildcard codec/src/*.[ch] codec/include/sio/*.h codec/tests/*.[ch] \
                  codec/examples/*.c reference-server/*.[ch] reference-server/tests/*.c \
                  reference-client/*.[ch] reference-client/tests/*.c conformance/clients/reference-client/*.c \
                  reference-server/cluster/*.[ch] reference-server/cluster/tests/*.c \
                  fuzz/*/*.[ch] bench/*.[ch]))

lint-c:
	@$(CLANG_FORMAT) --version | grep -q 'version $(CLANG_FORMAT_VERSION)\.' || \
	  { echo "lint-c: needs clang-format $(CLANG_FORMAT_VERSION) (scripts/setup.sh installs it)"; exit 1; }
	@echo "lint-c: clang-format --dry-run over $(words $(LINT_C_FILES)) files"
	@$(CLANG_FORMAT) --dry-run -Werror $(LINT_C_FILES)

# Rewrites the C files in place to the .clang-format layout.
format-c:
	$(CLANG_FORMAT) -i $(LINT_C_FILES)

lint: lint-c

.PHONY: lint lint-c format-c

# ---------------------------------------------------------------- parts
# Each part may add its own targets, and append to ALL_TARGETS / TEST_TARGETS, in its .mk file.
ALL_TARGETS  := codec server
TEST_TARGETS := test-unit test-vectors
-include reference-server/server.mk reference-client/client.mk reference-server/cluster/cluster.mk conformance/conformance.mk conformance/mutants/mutants.mk conformance/client.mk conformance/cluster.mk conformance/advisories.mk conformance/thirdparty.mk fuzz/fuzz.mk fuzz/adapter.mk bench/bench.mk bench/cluster.mk docs/docs.mk

# ---------------------------------------------------------------- targets
all: $(ALL_TARGETS)

# scripts/setup.sh installs what is missing (Debian packages, build/venv from requirements.txt); it
# runs once per make, as `deps`, and whatever needs the venv waits for it: two copies at once under -j
# would build one venv twice over.
deps:
	@scripts/setup.sh

$(PYTHON): | deps

test-unit: $(UNIT_BIN) $(UNIT_SBIN) $(BUILD)/examples/tour
	@scripts/run-unit-tests.sh $(UNIT_BIN) $(UNIT_SBIN) $(BUILD)/examples/tour

test-vectors: codec $(PYTHON)
	cd conformance && ../$(PYTHON) -m pytest -q tests/codec

# Lint: every Python file in the repository under ruff (lint and format check) and mypy, settings in
# pyproject.toml. `make format-py` applies the formatter and the safe fixes.
lint-py: $(PYTHON)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format-py: $(PYTHON)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

lint: lint-py

# Setup first, then everything else with the jobs make was given (nothing compiles before the Debian
# packages it needs are installed).
test: deps
	@$(MAKE) --no-print-directory test-after-setup

test-after-setup: lint all $(TEST_TARGETS)

clean:
	rm -rf $(BUILD)

.PHONY: all codec server deps test test-after-setup test-unit test-vectors clean lint lint-py format-py

# The whole matrix RUNS times, comparing every case's verdict between runs (flake check).
RUNS ?= 20
matrix-repeat:
	python3 scripts/repeat_matrix.py --runs $(RUNS)
.PHONY: matrix-repeat
