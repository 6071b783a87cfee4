# s2s - build, test, install.
#   make                 library (static + shared) and the s2s command, optimised
#   make test            installs missing packages, builds, runs every test
#   make SANITIZE=1 test the same under AddressSanitizer + UBSan (build-san/)
#   make tsan-test       the threaded command tests under ThreadSanitizer (build-tsan/)
#   make fuzz-run        builds the libFuzzer targets with clang and runs each briefly
#   make demo            translates a few sentences with the default model
#   make bench           speed against PyTorch and ONNX Runtime (not part of test)
#   make install PREFIX=/usr/local DESTDIR=   (models under PREFIX/share/s2s/models)
#   make install-python PREFIX=/usr/local DESTDIR=   the Python package s2s with its libs2s.so

PYTHON   ?= /usr/bin/python3
PREFIX   ?= /usr/local
# where `make install` puts the shipped models; the command looks there for
# its default model (models/fra-eng) when neither -m nor $$S2S_MODEL says
DATADIR  ?= $(PREFIX)/share/s2s
DESTDIR  ?=
CC       ?= gcc
# Where install-python puts the package: the dist-packages directory of
# $(PREFIX) that Debian's python3 has on sys.path.
PYTHON_SITE ?= $(shell $(PYTHON) -c 'import sys; p = "$(PREFIX)".rstrip("/"); print(p + "/lib/python3/dist-packages" if p == "/usr" else "%s/lib/python%d.%d/dist-packages" % ((p,) + sys.version_info[:2]))')
FUZZ_SECONDS ?= 20
# The version is written once, in the public header.
VERSION  := $(shell sed -n 's/^\#define S2S_VERSION "\([^"]*\)".*/\1/p' engine/include/s2s.h)

ifeq ($(SANITIZE),1)
  BUILD  ?= build-san
  # the Python package's tests on fewer lines: the sanitized library is slower
  PY_TEST_ENV := S2S_PARITY_LINES=6 S2S_PARITY_OPTION_LINES=4 S2S_DASK_LINES=400 S2S_MODEL_INPUTS=20
  OPT    := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
  LDSAN  := -fsanitize=address,undefined
else ifeq ($(SANITIZE),thread)
  # ThreadSanitizer with clang and LLVM's OpenMP runtime, whose Archer tool
  # (libarcher, loaded through OMP_TOOL_LIBRARIES) tells TSan about OpenMP's
  # barriers and tasks; see tsan-test.
  CC     := clang
  BUILD  ?= build-tsan
  OPT    := -O1 -g -fno-omit-frame-pointer -fsanitize=thread
  LDSAN  := -fsanitize=thread
else
  BUILD  ?= build
  # the vectorizer's full cost model: simple loops (fills, shifts, scatters)
  # become vector code too; without -ffast-math it keeps every IEEE rounding,
  # so results do not change
  OPT    := -O2 -g -fvect-cost-model=dynamic
  LDSAN  :=
endif

# Each layer sees only the headers below it: the tokenizer its own, the
# engine its own plus the tokenizer's, the command only the public header.
TOKENIZER_INC := -Itokenizer
ENGINE_INC    := -Iengine/include -Iengine -Itokenizer
CLI_INC       := -Iengine/include
CPPFLAGS += -MMD -MP
CFLAGS   += -std=c11 -D_GNU_SOURCE $(OPT) -fPIC -fopenmp -fvisibility=hidden -Wall -Wextra -Wshadow -Wno-unused-parameter
LDLIBS   := -lcjson -lutf8proc -lm
# The command alone also serves HTTP (s2s serve).
CLI_LDLIBS := -lmicrohttpd -lpthread
LDFLAGS  += -fopenmp $(LDSAN)

TOK_SRC  := $(sort $(wildcard tokenizer/*.c))
ENG_SRC  := $(sort $(wildcard engine/*.c))
LIB_SRC  := $(TOK_SRC) $(ENG_SRC)
CLI_SRC  := $(sort $(wildcard tools/s2s/*.c))
TEST_SRC := $(sort $(wildcard tests/test_*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)
# The explorer page of s2s serve, linked in as bytes (symbols
# _binary_explorer_html_start/_end).
PAGE_OBJ := $(BUILD)/tools/s2s/explorer_html.o
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
PY_TESTS := $(sort $(wildcard tests/py/test_*.py))
# Python tests that run neither the command nor the library: under a
# sanitizer they would repeat exactly what `make test` ran.
PY_TESTS_WITHOUT_C := tests/py/test_augment.py tests/py/test_dates.py tests/py/test_eval.py \
                      tests/py/test_distill.py tests/py/test_export_cli.py tests/py/test_export_reference.py \
                      tests/py/test_threads.py tests/py/test_tokenizer_parity.py
ifneq ($(SANITIZE),)
  PY_TESTS := $(filter-out $(PY_TESTS_WITHOUT_C),$(PY_TESTS))
endif

.PHONY: tsan-test all test unit-tests cli-tests py-tests layout-check deps deps-test deps-bench fuzz fuzz-run demo bench \
        install install-python uninstall-python print-python-site clean
all: $(BUILD)/libs2s.a $(BUILD)/libs2s.so $(BUILD)/s2s

$(BUILD)/tokenizer/%.o: tokenizer/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(TOKENIZER_INC) $(CFLAGS) -c $< -o $@

$(BUILD)/engine/%.o: engine/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ENGINE_INC) $(CFLAGS) -c $< -o $@

$(BUILD)/tools/s2s/%.o: tools/s2s/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CLI_INC) $(CFLAGS) -c $< -o $@

# Every object is rebuilt when the compiler or its flags change.
$(BUILD)/cflags.stamp: FORCE
	@mkdir -p $(BUILD)
	@echo '$(CC) $(CFLAGS)' | cmp -s - $@ || echo '$(CC) $(CFLAGS)' > $@
$(LIB_OBJ) $(CLI_OBJ): $(BUILD)/cflags.stamp

# The one object that knows DATADIR is rebuilt when DATADIR changes.
$(BUILD)/datadir.stamp: FORCE
	@mkdir -p $(BUILD)
	@echo '$(DATADIR)' | cmp -s - $@ || echo '$(DATADIR)' > $@
$(BUILD)/tools/s2s/cli_model.o: $(BUILD)/datadir.stamp
$(BUILD)/tools/s2s/cli_model.o: CPPFLAGS += -DS2S_DATADIR='"$(DATADIR)"'
.PHONY: FORCE
FORCE:

$(BUILD)/libs2s.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libs2s.so: $(LIB_OBJ)
	$(CC) -shared -Wl,-soname,libs2s.so.0 $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(PAGE_OBJ): tools/s2s/explorer.html
	@mkdir -p $(dir $@)
	cd tools/s2s && ld -r -b binary -z noexecstack -o $(abspath $@) explorer.html

$(BUILD)/s2s: $(CLI_OBJ) $(PAGE_OBJ) $(BUILD)/libs2s.a
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(PAGE_OBJ) $(BUILD)/libs2s.a $(LDLIBS) $(CLI_LDLIBS)

# Unit tests see the internal headers of every layer, and share the helpers
# in tests/support/.
TEST_SUPPORT := $(sort $(wildcard tests/support/*.c))
$(BUILD)/tests/%: tests/%.c $(TEST_SUPPORT) $(wildcard tests/support/*.h) $(BUILD)/libs2s.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ENGINE_INC) -Itests $(CFLAGS) -Wno-missing-field-initializers $(LDFLAGS) -o $@ $< $(TEST_EXTRA) $(TEST_SUPPORT) $(BUILD)/libs2s.a -lcriterion $(LDLIBS)

# Tests of the command's own text handling link its source files.
$(BUILD)/tests/test_sentences: tools/s2s/sentences.c tools/s2s/sentences.h
$(BUILD)/tests/test_sentences: TEST_EXTRA := tools/s2s/sentences.c
$(BUILD)/tests/test_textcase: tools/s2s/textcase.c tools/s2s/textcase.h
$(BUILD)/tests/test_textcase: TEST_EXTRA := tools/s2s/textcase.c
$(BUILD)/tests/test_join: tools/s2s/cli_join.c tools/s2s/cli_join.h
$(BUILD)/tests/test_join: TEST_EXTRA := tools/s2s/cli_join.c

# The dependency order tokenizer -> engine -> command, read from the objects'
# symbol tables: no circle between files, no call against the order, and a
# shared library that exports only s2s_* names.
layout-check: all
	@$(PYTHON) tools/build/check_layout.py $(BUILD)

deps:
	@tools/build/install-deps.sh build
deps-test:
	@tools/build/install-deps.sh test
# The bench's peers: Debian packages, then ONNX Runtime for Node.js from the
# npm registry into build/bench/node (its CPU library ships in the package,
# so its download script is not run).
ORT_DIR := $(BUILD)/bench/node
deps-bench:
	@tools/build/install-deps.sh bench
	@test -f $(ORT_DIR)/node_modules/onnxruntime-node/package.json || { \
	  mkdir -p $(ORT_DIR) && cd $(ORT_DIR) && { test -f package.json || echo '{"private": true}' > package.json; } && \
	  npm install --ignore-scripts --no-audit --no-fund onnxruntime-node; } || \
	  echo "s2s: npm could not install onnxruntime-node; the bench runs without ONNX Runtime" >&2

# Criterion binaries, then the command-line tests, then the Python-side tests.
# Each loop names its file t, opens it with $(BEGIN) and closes it with
# $(TOOK), the file's wall time, so that a CI log shows where the time goes.
BEGIN = echo "== $$t"; t0=$$(date +%s)
TOOK  = echo "   $$t took $$(($$(date +%s) - t0)) s"
test: deps-test
	@$(MAKE) --no-print-directory all $(TEST_BIN)
	@$(MAKE) --no-print-directory layout-check unit-tests cli-tests py-tests

unit-tests: $(TEST_BIN)
	@set -e; for t in $(TEST_BIN); do $(BEGIN); S2S_ROOT=$(CURDIR) $$t --jobs 2; $(TOOK); done

cli-tests: $(BUILD)/s2s
	@set -e; for t in $(sort $(wildcard tests/cli/*.sh)); do $(BEGIN); S2S=$(CURDIR)/$(BUILD)/s2s S2S_SANITIZE=$(SANITIZE) S2S_ROOT=$(CURDIR) PYTHON=$(PYTHON) bash $$t; $(TOOK); done

# The Python package is tested from tools/python with the library of $(BUILD)
# (tests/py/test_python_install.py also installs it into a scratch DESTDIR).
py-tests: $(BUILD)/s2s $(BUILD)/libs2s.so
	@$(if $(SANITIZE),echo "py-tests: not rerun under SANITIZE=$(SANITIZE) (they run no C): $(notdir $(PY_TESTS_WITHOUT_C))")
	@set -e; for t in $(PY_TESTS); do $(BEGIN); \
	  S2S=$(CURDIR)/$(BUILD)/s2s S2S_ROOT=$(CURDIR) S2S_LIBRARY=$(CURDIR)/$(BUILD)/libs2s.so $(PY_TEST_ENV) \
	  PYTHONPATH=$(CURDIR)/tools/python$${PYTHONPATH:+:$$PYTHONPATH} $(PYTHON) $$t; $(TOOK); done

# The threaded command tests under ThreadSanitizer (build-tsan/): any report
# fails the run (exit code 66).
ARCHER ?= $(firstword $(wildcard /usr/lib/llvm-*/lib/libarcher.so))
tsan-test: deps-test
	@test -n "$(ARCHER)" || { echo "tsan-test: libarcher.so not found (Debian package libomp-14-dev)"; exit 1; }
	@$(MAKE) --no-print-directory SANITIZE=thread all
	@echo "== tests/cli/test_threads.sh (ThreadSanitizer, $(ARCHER))"
	@OMP_TOOL_LIBRARIES=$(ARCHER) TSAN_OPTIONS="halt_on_error=1 exitcode=66 ignore_noninstrumented_modules=1" \
	  S2S=$(CURDIR)/build-tsan/s2s S2S_ROOT=$(CURDIR) PYTHON=$(PYTHON) S2S_TSAN=1 bash tests/cli/test_threads.sh

# libFuzzer targets: tests/fuzz/fuzz_*.c, built with clang against the library
# sources, plus FUZZ_EXTRA_<target> (command sources and build-time limits).
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=build-fuzz/%)
FUZZ_EXTRA_fuzz_line_reader := -Itools/s2s -DCLI_MAX_LINE_BYTES=64u -DCLI_READ_BYTES=16 -DCLI_READ_MAX=7u tools/s2s/cli_io.c
build-fuzz/%: tests/fuzz/%.c $(LIB_SRC) $(CLI_SRC) $(wildcard engine/*.h engine/include/*.h tokenizer/*.h tools/s2s/*.h)
	@mkdir -p build-fuzz
	clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined $(ENGINE_INC) -o $@ $< $(FUZZ_EXTRA_$*) $(LIB_SRC) $(LDLIBS) -fopenmp
fuzz: $(FUZZ_BIN)
fuzz-run: $(FUZZ_BIN)
	@set -e; for f in $(FUZZ_BIN); do n=$$(basename $$f); echo "== $$n ($(FUZZ_SECONDS)s)"; \
	  mkdir -p build-fuzz/corpus-$$n; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -max_len=65536 build-fuzz/corpus-$$n tests/fuzz/corpus/$$n >build-fuzz/$$n.log 2>&1 || { tail -40 build-fuzz/$$n.log; exit 1; }; \
	  tail -1 build-fuzz/$$n.log; done

demo: deps all
	@printf '%s\n' "Je suis très content de te voir." "Il fait beau aujourd'hui." "Où est la gare ?" | $(BUILD)/s2s translate -m models/fra-eng --scores

bench: deps-bench all
	@mkdir -p $(BUILD)/bench
	@set -e; for b in peak gemm load; do \
	  $(CC) -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra $(ENGINE_INC) $(LDFLAGS) -o $(BUILD)/bench/$$b tools/bench/$$b.c $(BUILD)/libs2s.a $(LDLIBS); done
	PYTHONPATH=$(CURDIR)/tools/python $(PYTHON) tools/bench/bench.py --s2s $(BUILD)/s2s --bin $(BUILD)/bench

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 755 $(BUILD)/s2s $(DESTDIR)$(PREFIX)/bin/s2s
	install -m 644 $(BUILD)/libs2s.a $(DESTDIR)$(PREFIX)/lib/libs2s.a
	install -m 755 $(BUILD)/libs2s.so $(DESTDIR)$(PREFIX)/lib/libs2s.so.0
	ln -sf libs2s.so.0 $(DESTDIR)$(PREFIX)/lib/libs2s.so
	install -m 644 engine/include/s2s.h $(DESTDIR)$(PREFIX)/include/s2s.h
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' tools/build/s2s.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/s2s.pc
	@set -e; for d in models/*/; do m=$$(basename $$d); \
	  install -d $(DESTDIR)$(DATADIR)/models/$$m; \
	  install -m 644 $$d* $(DESTDIR)$(DATADIR)/models/$$m/; done
	@echo "installed the models under $(DESTDIR)$(DATADIR)/models"

# The package tools/python/s2s and the shared library, copied side by side
# into $(PYTHON_SITE) (Debian's python3 reads /usr/local/lib/python3.X/dist-packages).
install-python: $(BUILD)/libs2s.so
	install -d $(DESTDIR)$(PYTHON_SITE)/s2s
	install -m 644 tools/python/s2s/*.py $(DESTDIR)$(PYTHON_SITE)/s2s/
	install -m 755 $(BUILD)/libs2s.so $(DESTDIR)$(PYTHON_SITE)/s2s/libs2s.so

print-python-site:
	@echo $(PYTHON_SITE)

uninstall-python:
	rm -rf $(DESTDIR)$(PYTHON_SITE)/s2s

clean:
	rm -rf build build-san build-tsan build-fuzz

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d)
