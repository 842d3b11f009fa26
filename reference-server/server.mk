# Reference server targets (included by the top Makefile).
#   make test-server            pytest tests of build/reference-server (conformance/tests/server)
#   make test-server-san        the same tests against the AddressSanitizer build
#   make test-server-valgrind   the same tests with the server under valgrind (leaks are errors)

SERVER_TEST_DIR := conformance/tests/server

test-server: server $(PYTHON)
	cd conformance && ../$(PYTHON) -m pytest -q tests/server

test-server-san: $(BUILD)/san/reference-server $(PYTHON)
	cd conformance && REFERENCE_SERVER=$(abspath $(BUILD)/san/reference-server) ../$(PYTHON) -m pytest -q tests/server

test-server-valgrind: server $(PYTHON)
	cd conformance && REFERENCE_SERVER_WRAPPER="valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=99" \
	  ../$(PYTHON) -m pytest -q tests/server

TEST_TARGETS += test-server test-server-san
.PHONY: test-server test-server-san test-server-valgrind
