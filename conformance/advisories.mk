# Published advisories as conformance cases (included by the top Makefile).
#   make advisories     install an affected and a fixed release of each advisory under build/advisories/,
#                       run its case against both, write docs/advisories.md
# Not part of `make test`: it installs about fifteen npm releases on first use (cached afterwards).

advisories: $(PYTHON)
	$(PYTHON) conformance/advisories.py --out docs/advisories.md

.PHONY: advisories
