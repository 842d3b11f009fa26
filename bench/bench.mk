# Benchmarks (issue 6): `make bench` installs the competitors at pinned versions, builds the C
# benchmark programs and the reference server, runs everything once and writes docs/bench/.
# BENCH_ARGS=--quick gives a short smoke run; BENCH_ARGS="--only codec" runs one half.

BENCH_BUILD   := $(BUILD)/bench
BENCH_VENV    := $(BUILD)/bench-venv
BENCH_PYTHON  := $(BENCH_VENV)/bin/python
BENCH_NODE_OK := bench/node/node_modules/.package-lock.json
BENCH_CFLAGS  := $(CFLAGS_BASE) -O2 -g -Ibench
BENCH_ARGS    ?=

# Competitors and plotting for Python, pinned with their dependencies.
$(BENCH_VENV)/.installed: bench/requirements.txt
	@rm -rf $(BENCH_VENV)
	/usr/bin/python3 -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install -q --disable-pip-version-check -r bench/requirements.txt
	@touch $@

# Node's socket.io and its parsers, exactly as the committed lockfile says.
$(BENCH_NODE_OK): bench/node/package.json bench/node/package-lock.json
	cd bench/node && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(BENCH_BUILD)/codec_bench: bench/codec_bench.c $(BUILD)/libsiocodec.a
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) $< -o $@ $(BUILD)/libsiocodec.a

$(BENCH_BUILD)/loadgen: bench/loadgen.c bench/loadgen_main.c bench/loadgen.h $(BUILD)/libsiocodec.a
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) bench/loadgen.c bench/loadgen_main.c -o $@ $(BUILD)/libsiocodec.a

$(BENCH_BUILD)/floor_server: bench/floor_server.c $(BUILD)/libsiocodec.a
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) $< -o $@ $(BUILD)/libsiocodec.a

$(BENCH_BUILD)/inputs.bin: bench/gen_inputs.py
	@mkdir -p $(@D)
	python3 bench/gen_inputs.py $@

bench-deps: $(BENCH_VENV)/.installed $(BENCH_NODE_OK)

# Not a timing: the benchmark's inputs must decode to the announced packets and re-encode byte for
# byte, or the throughput figures would compare different work.
bench-check: $(BENCH_BUILD)/codec_bench $(BENCH_BUILD)/inputs.bin
	$(BENCH_BUILD)/codec_bench $(BENCH_BUILD)/inputs.bin --check

bench-bin: $(BENCH_BUILD)/codec_bench $(BENCH_BUILD)/loadgen $(BENCH_BUILD)/floor_server

# The reference server is built when its sources are there; a build failure is reported by the
# run as "n/a (reason)" instead of stopping the codec and competitor figures.
bench: deps bench-deps bench-bin
	-@$(MAKE) --no-print-directory server
	$(BENCH_PYTHON) bench/run.py $(BENCH_ARGS)

.PHONY: bench bench-deps bench-bin bench-check

# The C programs build with everything else, so gcc and clang warnings show up in `make all`,
# and the input check runs with the tests.
ALL_TARGETS += bench-bin
TEST_TARGETS += bench-check
