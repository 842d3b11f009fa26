# The adapter fuzz target (fuzz/targets/adapter.c): the reference server's Redis adapter decoder,
# with msgpack-c and cJSON (for the re-encoding oracle). Included by the top Makefile after
# fuzz/fuzz.mk, whose variables it uses; its rules take precedence over fuzz.mk's pattern rules.
FUZZ_ADAPTER_SRC := $(filter reference-server/cluster/wire%.c,$(CLUSTER_FFI_SRC)) reference-server/buf.c
FUZZ_ADAPTER_LF  := $(FUZZ_ADAPTER_SRC:reference-server/%.c=$(FUZZ_OUT)/lf/adapter/%.o)
FUZZ_ADAPTER_LIBS := -lmsgpackc -lm

$(FUZZ_OUT)/lf/adapter/%.o: reference-server/%.c $(CLUSTER_MOD_HDR) fuzz/adapter.mk
	@mkdir -p $(@D)
	$(FUZZ_CLANG) $(CFLAGS_BASE) -Ireference-server $(FUZZ_SANFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_OUT)/lf/harness/adapter.o: fuzz/targets/adapter.c $(CLUSTER_MOD_HDR) $(FUZZ_COMMON_HDR) fuzz/adapter.mk
	@mkdir -p $(@D)
	$(FUZZ_CLANG) $(CFLAGS_BASE) $(FUZZ_INC) -Ireference-server $(FUZZ_SANFLAGS) $(FUZZ_HARNESS_COV) -c $< -o $@

$(FUZZ_OUT)/bin/adapter: $(FUZZ_OUT)/lf/harness/adapter.o $(FUZZ_OUT)/lf/harness/fuzz_common.o $(FUZZ_ADAPTER_LF) \
                         $(FUZZ_OUT)/lf/libsiocodec.a
	@mkdir -p $(@D)
	$(FUZZ_CLANG) $(FUZZ_SANFLAGS) -fsanitize=fuzzer $^ -o $@ $(FUZZ_ADAPTER_LIBS)

$(FUZZ_OUT)/replay/adapter: fuzz/targets/adapter.c $(FUZZ_ADAPTER_SRC) $(CLUSTER_MOD_HDR) $(FUZZ_COMMON_SRC) \
                            $(FUZZ_COMMON_HDR) $(FUZZ_REPLAY_MAIN) $(BUILD)/san/libsiocodec.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_BASE) $(FUZZ_INC) -Ireference-server $(SANFLAGS) $< $(FUZZ_ADAPTER_SRC) $(FUZZ_COMMON_SRC) \
	  $(FUZZ_REPLAY_MAIN) -o $@ $(BUILD)/san/libsiocodec.a $(FUZZ_ADAPTER_LIBS)
