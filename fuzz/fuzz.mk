# Fuzzing: libFuzzer targets, the replay driver, seeds from vectors/, the differential check.
# Included by the top Makefile. See fuzz/README.md.
#
#   make fuzz-seeds          seed corpora from vectors/ into build/fuzz/seeds/<target>/
#   make fuzz-replay         every seed and regression through every target (gcc, ASan+UBSan)
#   make fuzz [FUZZ_SECONDS=60]   each libFuzzer target for N seconds; fails on any crash
#   make fuzz-smoke          every libFuzzer target for FUZZ_SMOKE_SECONDS (10) seconds
#   make differential        codec vs socket.io-parser 4.2.7 / engine.io-parser 5.2.3

FUZZ_SECONDS       ?= 60
FUZZ_SMOKE_SECONDS ?= 10
FUZZ_CLANG         ?= clang
FUZZ_PY            := python3
FUZZ_OUT           := $(BUILD)/fuzz
FUZZ_SANFLAGS      := -O2 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
# The code under test (the codec) gets libFuzzer's full instrumentation, comparison tracing
# included. The harness (fuzz/targets, fuzz/common) keeps edge coverage but not
# comparison tracing: its comparisons are the oracles, and steering mutations towards satisfying
# them only costs time (a callback on every compare in its per-byte loops).
FUZZ_HARNESS_COV   := -fsanitize=fuzzer-no-link -fno-sanitize-coverage=trace-cmp
FUZZ_INC           := -Ifuzz/common -Ifuzz/targets -Ireference-client -Icodec/src

# A target is built once the codec files it needs are in the tree, so the build stays green
# while the codec layers land one by one.
FUZZ_NEEDS_base64      := codec/include/sio/base64.h codec/src/base64.c
FUZZ_NEEDS_utf8        := codec/include/sio/utf8.h codec/src/utf8.c
FUZZ_NEEDS_json        := codec/include/sio/json.h $(addprefix codec/src/json_,validate.c read.c string.c write.c)
FUZZ_NEEDS_eio_packet  := codec/include/sio/eio.h codec/src/eio_packet.c
FUZZ_NEEDS_eio_payload := $(FUZZ_NEEDS_eio_packet) $(addprefix codec/src/eio_payload,.c _encode.c)
FUZZ_NEEDS_eio_payload_v3 := $(FUZZ_NEEDS_eio_payload)
FUZZ_NEEDS_ws_frame    := codec/include/sio/ws.h $(addprefix codec/src/ws_,parser.c frame.c close.c handshake.c)
FUZZ_NEEDS_ws_close    := $(FUZZ_NEEDS_ws_frame)
FUZZ_NEEDS_http_head   := codec/include/sio/http.h codec/src/http_request.c codec/src/http_lookup.c $(FUZZ_NEEDS_ws_frame)
FUZZ_NEEDS_sio_packet  := codec/include/sio/packet.h $(addprefix codec/src/pkt_,decode.c encode.c payload.c assemble.c) $(FUZZ_NEEDS_json)
FUZZ_NEEDS_sio_attach  := $(FUZZ_NEEDS_sio_packet) $(FUZZ_NEEDS_eio_packet)
FUZZ_NEEDS_eio_extras  := $(FUZZ_NEEDS_eio_packet) $(FUZZ_NEEDS_json) $(addprefix codec/src/eio_,open.c jsonp.c form.c webtransport.c)
FUZZ_NEEDS_server      := $(FUZZ_NEEDS_sio_packet) $(FUZZ_NEEDS_http_head) $(FUZZ_NEEDS_eio_payload) \
                          codec/include/sio/eio_server.h codec/include/sio/sio_server.h
FUZZ_NEEDS_client      := $(FUZZ_NEEDS_sio_packet) $(FUZZ_NEEDS_eio_payload) \
                          codec/include/sio/eio_client.h codec/include/sio/sio_client.h
FUZZ_NEEDS_simd_paths  := codec/include/sio/simd.h codec/src/simd.c $(FUZZ_NEEDS_json) $(FUZZ_NEEDS_utf8) \
                          $(FUZZ_NEEDS_base64) $(FUZZ_NEEDS_ws_frame)
# The reference client's receive path: its connections (reference-client/) over the client sessions.
FUZZ_RC_SRC            := $(addprefix reference-client/,client.c link.c buf.c binjson.c)
FUZZ_NEEDS_refclient   := $(FUZZ_NEEDS_client) $(FUZZ_NEEDS_http_head) $(FUZZ_RC_SRC)
# The adapter target (fuzz/adapter.mk) decodes what cluster nodes publish on Redis.
FUZZ_NEEDS_adapter     := $(FUZZ_NEEDS_sio_packet) reference-server/cluster/wire.h reference-server/cluster/wire_ffi.c
FUZZ_CANDIDATES := base64 utf8 json eio_packet eio_payload eio_payload_v3 ws_frame ws_close http_head sio_packet sio_attach eio_extras server client simd_paths refclient adapter
FUZZ_TARGETS := $(foreach t,$(FUZZ_CANDIDATES),$(if $(strip $(foreach f,$(FUZZ_NEEDS_$t),$(if $(wildcard $f),,missing))),,$t))

FUZZ_COMMON_SRC := fuzz/common/fuzz_common.c
FUZZ_COMMON_HDR := $(wildcard fuzz/common/*.h)

# ---- libFuzzer build: the codec compiled with coverage instrumentation, then each target.
FUZZ_LF_OBJ := $(CODEC_SRC:codec/src/%.c=$(FUZZ_OUT)/lf/codec/%.o)

# Comparison tracing helps libFuzzer through 4- and 8-byte comparisons (its tables of recent
# compares); 1- and 2-byte ones feed only the value profile, which is off, and memcmp is hooked
# either way. The scanners of the text formats (UTF-8, base64, JSON, HTTP heads, Engine.IO
# payloads), SHA-1 and the WebSocket state machine compare bytes with characters and ranges, and
# their wide comparisons are loop bounds, depths and running lengths, never values a mutation could
# write as bytes. They run on every byte or step of every input, so they keep edge coverage without
# the tracing; the binary headers (ws_frame.c: opcodes, 16/64-bit lengths against the limits) and
# the packet decoders keep it (fuzz/README.md, "Build").
FUZZ_NO_CMP_SRC := utf8 base64 sha1 ws_parser json_validate json_string json_read json_write eio_payload \
                   http_request http_lookup scan_sse2 scan_avx2
$(FUZZ_OUT)/lf/codec/%.o: codec/src/%.c $(CODEC_HDR) fuzz/fuzz.mk
	@mkdir -p $(@D)
	$(FUZZ_CLANG) $(CFLAGS_BASE) $(FUZZ_SANFLAGS) -fsanitize=fuzzer-no-link \
	  $(if $(filter $*,$(FUZZ_NO_CMP_SRC)),-fno-sanitize-coverage=trace-cmp) -DSIO_BUILDING -c $< -o $@

$(FUZZ_OUT)/lf/libsiocodec.a: $(FUZZ_LF_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(FUZZ_OUT)/lf/harness/fuzz_common.o: $(FUZZ_COMMON_SRC) $(FUZZ_COMMON_HDR) fuzz/fuzz.mk
	@mkdir -p $(@D)
	$(FUZZ_CLANG) $(CFLAGS_BASE) $(FUZZ_INC) $(FUZZ_SANFLAGS) $(FUZZ_HARNESS_COV) -c $< -o $@

$(FUZZ_OUT)/lf/harness/%.o: fuzz/targets/%.c fuzz/fuzz.mk $(FUZZ_COMMON_HDR) $(CODEC_HDR)
	@mkdir -p $(@D)
	$(FUZZ_CLANG) $(CFLAGS_BASE) $(FUZZ_INC) $(FUZZ_SANFLAGS) $(FUZZ_HARNESS_COV) -c $< -o $@

$(FUZZ_OUT)/bin/%: $(FUZZ_OUT)/lf/harness/%.o $(FUZZ_OUT)/lf/harness/fuzz_common.o $(FUZZ_OUT)/lf/libsiocodec.a
	@mkdir -p $(@D)
	$(FUZZ_CLANG) $(FUZZ_SANFLAGS) -fsanitize=fuzzer $^ -o $@ -lcjson

# ---- replay build: the normal compiler, ASan+UBSan, no libFuzzer.
FUZZ_REPLAY_MAIN := fuzz/replay/replay_main.c

$(FUZZ_OUT)/replay/%: fuzz/targets/%.c $(FUZZ_COMMON_SRC) $(FUZZ_COMMON_HDR) $(FUZZ_REPLAY_MAIN) $(BUILD)/san/libsiocodec.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_BASE) $(FUZZ_INC) $(SANFLAGS) $< $(FUZZ_COMMON_SRC) $(FUZZ_REPLAY_MAIN) \
	  -o $@ $(BUILD)/san/libsiocodec.a -lcjson

# refclient also links the client's own code, instrumented as the code under test.
FUZZ_RC_LF_OBJ := $(FUZZ_RC_SRC:reference-client/%.c=$(FUZZ_OUT)/lf/refclient/%.o)
$(FUZZ_OUT)/lf/refclient/%.o: reference-client/%.c $(wildcard reference-client/*.h) $(CODEC_HDR) fuzz/fuzz.mk
	@mkdir -p $(@D)
	$(FUZZ_CLANG) $(CFLAGS_BASE) -Ireference-client $(FUZZ_SANFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_OUT)/bin/refclient: $(FUZZ_OUT)/lf/harness/refclient.o $(FUZZ_OUT)/lf/harness/fuzz_common.o $(FUZZ_RC_LF_OBJ) $(FUZZ_OUT)/lf/libsiocodec.a
	@mkdir -p $(@D)
	$(FUZZ_CLANG) $(FUZZ_SANFLAGS) -fsanitize=fuzzer $^ -o $@ -lcjson

$(FUZZ_OUT)/replay/refclient: fuzz/targets/refclient.c $(FUZZ_RC_SRC) $(wildcard reference-client/*.h) $(FUZZ_COMMON_SRC) $(FUZZ_COMMON_HDR) $(FUZZ_REPLAY_MAIN) $(BUILD)/san/libsiocodec.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_BASE) $(FUZZ_INC) $(SANFLAGS) $< $(FUZZ_RC_SRC) $(FUZZ_COMMON_SRC) $(FUZZ_REPLAY_MAIN) \
	  -o $@ $(BUILD)/san/libsiocodec.a -lcjson

# eio_payload_v3.c builds eio_payload.c in v3 mode.
$(FUZZ_OUT)/lf/harness/eio_payload_v3.o $(FUZZ_OUT)/replay/eio_payload_v3: fuzz/targets/eio_payload.c

FUZZ_BINS    := $(FUZZ_TARGETS:%=$(FUZZ_OUT)/bin/%)
FUZZ_REPLAYS := $(FUZZ_TARGETS:%=$(FUZZ_OUT)/replay/%)

fuzz-build: $(FUZZ_BINS)

fuzz-seeds:
	$(FUZZ_PY) fuzz/scripts/gen_seeds.py --vectors vectors --out $(FUZZ_OUT)/seeds

fuzz-replay: $(FUZZ_REPLAYS) fuzz-seeds
	$(FUZZ_PY) fuzz/scripts/check_seeds.py --bin $(FUZZ_OUT)/replay --seeds $(FUZZ_OUT)/seeds \
	  --regressions fuzz/regressions $(FUZZ_TARGETS)

fuzz: $(FUZZ_BINS) fuzz-seeds
	$(FUZZ_PY) fuzz/scripts/run_fuzz.py --seconds $(FUZZ_SECONDS) --out $(FUZZ_OUT) $(FUZZ_TARGETS)

# A fresh corpus and a fixed seed each time, so a smoke run depends only on the checked-in
# seeds and regressions, not on what earlier local runs found.
fuzz-smoke: $(FUZZ_BINS) fuzz-seeds
	rm -rf $(FUZZ_OUT)/smoke-corpus
	$(FUZZ_PY) fuzz/scripts/run_fuzz.py --seconds $(FUZZ_SMOKE_SECONDS) --out $(FUZZ_OUT) \
	  --corpus smoke-corpus --seed 1 $(FUZZ_TARGETS)

# ---- differential: the same inputs through the codec and the official parsers.
DIFF_INPUTS ?= 1000000
DIFF_SEED   ?= 1
DIFF_OUT    := $(FUZZ_OUT)/differential
DIFF_KINDS  := eio_packet eio_payload sio_packet sio_attach

$(DIFF_OUT)/node_modules/.installed: fuzz/differential/package.json fuzz/differential/package-lock.json
	@mkdir -p $(DIFF_OUT)
	cp fuzz/differential/package.json fuzz/differential/package-lock.json $(DIFF_OUT)/
	cd $(DIFF_OUT) && npm ci --no-audit --no-fund --ignore-scripts
	touch $@

$(DIFF_OUT)/diffgen: fuzz/differential/diffgen.c $(BUILD)/libsiocodec.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_BASE) $(OPT) $< -o $@ $(BUILD)/libsiocodec.a

differential: $(DIFF_OUT)/diffgen $(DIFF_OUT)/node_modules/.installed fuzz-seeds
	set -o pipefail; $(DIFF_OUT)/diffgen $(DIFF_INPUTS) $(DIFF_SEED) \
	  $(foreach k,$(DIFF_KINDS),$(k):$(FUZZ_OUT)/seeds/$(k) $(if $(wildcard $(FUZZ_OUT)/corpus/$(k)),$(k):$(FUZZ_OUT)/corpus/$(k))) \
	  | NODE_PATH=$(abspath $(DIFF_OUT))/node_modules timeout 3600 node fuzz/differential/driver.js > $(DIFF_OUT)/summary.json
	$(FUZZ_PY) fuzz/differential/classify.py --summary $(DIFF_OUT)/summary.json --vectors vectors \
	  --findings fuzz/differential/findings --report $(DIFF_OUT)/report.md

.PHONY: fuzz-build fuzz-seeds fuzz-replay fuzz fuzz-smoke differential
TEST_TARGETS += fuzz-replay fuzz-smoke

# The network fuzzer for anyone's server (fuzz/net/README.md) has a makefile of its own.
-include fuzz/net/net.mk
