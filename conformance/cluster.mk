# Cluster conformance: several servers of one application joined through Redis (included by the top Makefile).
#   make conformance-cluster                      the reference server's clusters: reference, then mixed
#   make conformance-cluster CLUSTER=node         a shipped cluster (conformance/clusterside/cluster.py CLUSTERS)
#   make conformance-cluster CLUSTER=reference+node-socketio+node-socketio   any registry targets, one per node
#   make conformance-cluster CLUSTER=mixed CLUSTER_ARGS="--req CL-BC"         one requirement group
#   make cluster-matrix                           every shipped cluster: docs/cluster-matrix.{md,html}
# Reports: build/conformance-cluster/<cluster>/index.json and junit.xml.

CLUSTER         ?=
CLUSTER_ARGS    ?=
CLUSTER_OUT     := $(BUILD)/conformance-cluster
CLUSTER_MATRIX  ?= reference node mixed python python-node

cluster_slug    = $(subst +,_,$(subst @,_,$(subst .,_,$(1))))
# What a cluster's nodes need built or installed: the reference server, the Node fixture (with the
# Redis adapter), the python-socketio fixture.
cluster_prereq  = $(if $(findstring reference,$(1))$(filter mixed,$(1)),server) \
                  $(if $(findstring node,$(1))$(filter mixed reference,$(1)),conformance-node) \
                  $(if $(findstring python,$(1)),conformance-python)
cluster_run     = cd $(CONF_DIR) && ../$(PYTHON) -m pytest tests/cluster -q --tb=short -p no:cacheprovider \
                  --catalogue cluster --cluster '$(1)' \
                  --report-json ../$(CLUSTER_OUT)/$(call cluster_slug,$(1))/index.json \
                  --junitxml ../$(CLUSTER_OUT)/$(call cluster_slug,$(1))/junit.xml $(2)

# Without CLUSTER: the clusters the reference server is in, reference×2 then mixed (both run, the
# status is the worse of the two).
CLUSTER_DEFAULT := reference mixed
conformance-cluster: $(PYTHON) $(if $(CLUSTER),$(call cluster_prereq,$(CLUSTER)),server conformance-node)
	$(if $(CLUSTER),$(call cluster_run,$(CLUSTER),$(CLUSTER_ARGS)),@status=0; \
	  $(foreach c,$(CLUSTER_DEFAULT),( $(call cluster_run,$(c),$(CLUSTER_ARGS)) ) || status=1;) exit $$status)

# Every shipped cluster; one cluster's failures do not stop the others.
cluster-matrix: $(PYTHON) server conformance-node conformance-python
	@status=0; \
	$(foreach c,$(CLUSTER_MATRIX),echo "== cluster: $(c)"; \
	  rm -f $(CLUSTER_OUT)/$(call cluster_slug,$(c))/index.json; \
	  ( $(call cluster_run,$(c),) ) >/dev/null 2>&1 || true; \
	  test -s $(CLUSTER_OUT)/$(call cluster_slug,$(c))/index.json || { echo "   no report for $(c)"; status=1; };) \
	$(PYTHON) $(CONF_DIR)/cluster_matrix.py --out $(MATRIX_OUT) $(foreach c,$(CLUSTER_MATRIX),$(CLUSTER_OUT)/$(call cluster_slug,$(c))/index.json); \
	exit $$status

.PHONY: conformance-cluster cluster-matrix

# In `make test`: the cluster tools' self-tests, and a few seconds of the mixed cluster (the
# reference server beside Node): broadcasts and binary both ways, bytes, fetchSockets, node
# counting, broadcast acks, sticky sessions.
test-cluster: $(PYTHON) server conformance-node $(BUILD)/cluster-tests/link_probe $(BUILD)/libsiocluster.so
	cd $(CONF_DIR) && ../$(PYTHON) -m pytest -q -p no:cacheprovider tests/cluster_selftest
	$(call cluster_run,mixed,--req CL-BC-01 --req CL-BC-03 --req CL-BC-08 --req CL-RQ-01 --req CL-RQ-05 --req CL-ACK-01 --req CL-ST-01)

TEST_TARGETS += test-cluster
.PHONY: test-cluster
