# The cluster case of `make bench` (bench/cluster_run.py): a broadcast across two nodes through
# Redis, the reference pair against the Node pair. Included by the top Makefile after bench.mk;
# it hooks itself into `make bench` as a prerequisite, so bench.mk's own run is unchanged.
#   make bench-cluster [BENCH_CLUSTER_ARGS=--quick]
BENCH_CLUSTER_ARGS ?= $(if $(filter --quick,$(BENCH_ARGS)),--quick)

$(BENCH_BUILD)/cluster_bench: bench/cluster_bench.c bench/loadgen.c bench/loadgen.h $(BUILD)/libsiocodec.a
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) bench/cluster_bench.c bench/loadgen.c -o $@ $(BUILD)/libsiocodec.a

bench-cluster: $(PYTHON) $(BENCH_BUILD)/cluster_bench server conformance-node
	$(PYTHON) bench/cluster_run.py $(BENCH_CLUSTER_ARGS)

bench: bench-cluster
ALL_TARGETS += $(BENCH_BUILD)/cluster_bench
.PHONY: bench-cluster
