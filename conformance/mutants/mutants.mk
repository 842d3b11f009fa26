# Mutants of the reference server: the suite tested against deliberate defects (conformance/mutants/README.md).
#   make mutants                        build every mutant, run the suite on each, write build/mutants/report.{json,md}
#                                       and docs/mutants.md
#   make mutants MUTANTS="a b"          only these (docs/mutants.md is left alone)
#   make mutant-<name>                  build one: build/mutants/<name>/reference-server
#   make test-mutants-quick             (in make test) two mutants built and seen killed by their requirements' cases
# Never part of the normal build: each mutant is its own binary under build/mutants/<name>/.

MUTANTS_DIR := conformance/mutants
MUTANTS_OUT := $(BUILD)/mutants
# The names of the table "## The mutants" in the README (first column, in backquotes).
MUTANTS_ALL := $(shell sed -n '/^.. The mutants/,/^.. Cascades/s/^| `\([a-z0-9_]*\)` |.*/\1/p' $(MUTANTS_DIR)/README.md)
MUTANTS     ?= $(MUTANTS_ALL)
MUTANTS_JOBS ?= 1
# The mutants `make test` builds and checks (codec switches, so the per-mutant codec objects are
# exercised): post_answered_first because EIO-POLL-08's case is a race it must still see lost.
MUTANT_QUICK := reserved_names_accepted post_answered_first

# One mutant: the codec files that mention MUTANT_<NAME> compiled again with it (into the mutant's own
# directory), the other codec objects taken from the normal build, the server's sources compiled with it.
# Each mutant writes only under its own directory, so any number can be built in parallel.
$(MUTANTS_OUT)/%/reference-server: $(SERVER_SRC) $(SERVER_HDR) $(CODEC_SRC) $(CODEC_HDR) $(CODEC_OBJ)
	@mkdir -p $(@D)/codec
	@macro=MUTANT_$$(echo '$*' | tr a-z A-Z); \
	grep -qw "$$macro" $(CODEC_SRC) $(SERVER_SRC) $(SERVER_HDR) || { echo "mutant $*: no $$macro in codec/src or reference-server"; exit 1; }; \
	objs=""; mutated=""; \
	for src in $(CODEC_SRC); do \
	  obj=$(BUILD)/obj/codec/$$(basename $$src .c).o; \
	  if grep -qw "$$macro" $$src; then \
	    obj=$(@D)/codec/$$(basename $$src .c).o; mutated="$$mutated $$src"; \
	    $(CC) $(CFLAGS_BASE) $(OPT) -fvisibility=hidden -DSIO_BUILDING -D$$macro -c $$src -o $$obj || exit 1; \
	  fi; \
	  objs="$$objs $$obj"; \
	done; \
	echo "mutant $*: -D$$macro (codec:$${mutated:- none recompiled})"; \
	$(CC) $(CFLAGS_BASE) $(OPT) -D$$macro -Ireference-server $(SERVER_SRC) $$objs -o $@ $(SERVER_LIBS)

mutant-%: $(MUTANTS_OUT)/%/reference-server
	@:

# The suite against the unmodified server and every mutant; the report says which were killed and lists
# every cascade. A run of all the mutants also writes docs/mutants.md.
mutants: $(PYTHON) server codec $(foreach m,$(MUTANTS),$(MUTANTS_OUT)/$(m)/reference-server)
	$(PYTHON) $(MUTANTS_DIR)/mutants.py --out $(MUTANTS_OUT) --jobs $(MUTANTS_JOBS) \
	  $(if $(filter file,$(origin MUTANTS)),--docs docs/mutants.md,--only $(MUTANTS))

# Seconds, not minutes: those mutants, only their own requirements' cases, against them and the unmodified server.
test-mutants-quick: $(PYTHON) server codec $(foreach m,$(MUTANT_QUICK),$(MUTANTS_OUT)/$(m)/reference-server)
	$(PYTHON) $(MUTANTS_DIR)/mutants.py --out $(MUTANTS_OUT)/quick --only $(MUTANT_QUICK) --own-only

TEST_TARGETS += test-mutants-quick
.PHONY: mutants test-mutants-quick
