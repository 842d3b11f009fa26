# Teaching pages and recorded sessions (included by the top Makefile).
#   make docs            render the walkthrough and every vector into build/docs, then copy to docs/
#   make sessions        re-record vectors/sessions/node-*.json (Node's socket.io + socket.io-client)
#   make walkthrough     re-record vectors/sessions/walkthrough.json (reference server, deterministic) and
#                        walkthrough-node.json (Node, deterministic), then compare them byte by byte
#   make cluster-walkthrough   re-record vectors/cluster/broadcast.json (two reference servers, Redis)
#   make test-docs       generator checks, session checks and replays, the browser test

DOCS_OUT  := $(BUILD)/docs
DOCS_GEN  := docs/gen/render.py
REC_NODE  := conformance/recorder/node
DOCS_PAGES := index.html walkthrough.html requirements.html vectors.html style.css cluster-walkthrough.html \
              $(foreach g,ws eio sio http json,vectors-$(g).html)

# Node's official socket.io and socket.io-client, exactly as locked.
$(REC_NODE)/node_modules/.package-lock.json: $(REC_NODE)/package.json $(REC_NODE)/package-lock.json
	cd $(REC_NODE) && npm ci --no-audit --no-fund --loglevel=error

recorder-node: $(REC_NODE)/node_modules/.package-lock.json

sessions: $(PYTHON) codec recorder-node
	cd conformance && ../$(PYTHON) -m recorder.record

walkthrough: $(PYTHON) codec server recorder-node
	cd conformance && ../$(PYTHON) -m recorder.walkthrough --target reference
	cd conformance && ../$(PYTHON) -m recorder.walkthrough --target node
	cd conformance && ../$(PYTHON) -m recorder.compare --quiet ../vectors/sessions/walkthrough.json \
	    ../vectors/sessions/walkthrough-node.json

# One broadcast across a cluster of two reference servers, recorded at Redis (deterministic; --check
# records again and compares byte for byte).
cluster-walkthrough: $(PYTHON) server
	cd conformance && ../$(PYTHON) -m recorder.cluster_walk

docs: $(PYTHON)
	$(PYTHON) $(DOCS_GEN) --out $(DOCS_OUT)
	cp $(addprefix $(DOCS_OUT)/,$(DOCS_PAGES)) docs/

test-docs: $(PYTHON) codec server recorder-node
	cd conformance && ../$(PYTHON) -m pytest -q tests/docs tests/sessions

TEST_TARGETS += test-docs

.PHONY: recorder-node sessions walkthrough cluster-walkthrough docs test-docs
