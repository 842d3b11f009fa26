# The cluster module of the reference server (included by the top Makefile): the classic Redis
# adapter's wire format (wire*.c) and the Redis connection (link*.c), with their unit tests, and a
# shared library through which the vectors under vectors/adapter/ are replayed (ctypes).
#   make test-cluster-unit     unit tests, plain and under ASan+UBSan
#   build/libsiocluster.so     the adapter decoder for conformance/siocodec/adapter.py
# wire_ffi.c is the module's face for the vectors, tests and fuzzing, not part of the server.
CLUSTER_MOD_SRC  := $(filter-out %/wire_ffi.c,$(sort $(wildcard reference-server/cluster/*.c)))
CLUSTER_FFI_SRC  := $(CLUSTER_MOD_SRC) reference-server/cluster/wire_ffi.c
CLUSTER_MOD_HDR  := $(wildcard reference-server/cluster/*.h)
CLUSTER_LIBS     := -lmsgpackc -lhiredis
CLUSTER_UNIT_SRC := $(sort $(wildcard reference-server/cluster/tests/test_*.c))
CLUSTER_UNIT_BIN := $(CLUSTER_UNIT_SRC:reference-server/cluster/tests/%.c=$(BUILD)/cluster-tests/%)
CLUSTER_UNIT_SAN := $(CLUSTER_UNIT_SRC:reference-server/cluster/tests/%.c=$(BUILD)/san/cluster-tests/%)

$(BUILD)/cluster-tests/%: reference-server/cluster/tests/%.c $(CLUSTER_FFI_SRC) $(CLUSTER_MOD_HDR) reference-server/buf.c $(BUILD)/libsiocodec.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_BASE) $(OPT) -Icodec/tests -Ireference-server $< $(CLUSTER_FFI_SRC) reference-server/buf.c \
	  -o $@ $(BUILD)/libsiocodec.a $(CLUSTER_LIBS) -lm

$(BUILD)/san/cluster-tests/%: reference-server/cluster/tests/%.c $(CLUSTER_FFI_SRC) $(CLUSTER_MOD_HDR) reference-server/buf.c $(BUILD)/san/libsiocodec.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_BASE) $(SANFLAGS) -Icodec/tests -Ireference-server $< $(CLUSTER_FFI_SRC) reference-server/buf.c \
	  -o $@ $(BUILD)/san/libsiocodec.a $(CLUSTER_LIBS) -lm

$(BUILD)/libsiocluster.so: $(CLUSTER_FFI_SRC) $(CLUSTER_MOD_HDR) reference-server/buf.c $(BUILD)/libsiocodec.a
	$(CC) $(CFLAGS_BASE) $(OPT) -fPIC -shared -Ireference-server $(CLUSTER_FFI_SRC) reference-server/buf.c \
	  -o $@ $(BUILD)/libsiocodec.a $(CLUSTER_LIBS) -lm

test-cluster-unit: $(CLUSTER_UNIT_BIN) $(CLUSTER_UNIT_SAN)
	@for t in $^; do $$t || exit 1; done

ALL_TARGETS  += $(BUILD)/libsiocluster.so
TEST_TARGETS += test-cluster-unit
.PHONY: test-cluster-unit

# The link against a real redis-server, driven from Python (conformance/tests/cluster_selftest/test_link.py).
$(BUILD)/cluster-tests/link_probe: reference-server/cluster/tests/link_probe.c $(CLUSTER_FFI_SRC) $(CLUSTER_MOD_HDR) reference-server/buf.c $(BUILD)/san/libsiocodec.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_BASE) $(SANFLAGS) -Ireference-server $< $(CLUSTER_MOD_SRC) reference-server/buf.c \
	  -o $@ $(BUILD)/san/libsiocodec.a $(CLUSTER_LIBS) -lm

# The vectors under vectors/adapter/ are replayed through the decoder in this library.
test-vectors: $(BUILD)/libsiocluster.so
