# tests/tests.mk: the cmocka test suite, included by the top-level Makefile.
#
#   make test                      build ./darknet, then build and run every
#                                  tests/test_*.c in turn
#   make test TESTS="cli prune"    run only tests/test_cli.c and tests/test_prune.c
#   make test-build                build the test programs without running them
#
# Each tests/test_<name>.c becomes build/tests/test_<name>, linked with
# tests/testutil.c and the patched libdarknet.a (which holds legr/*.c).
# build/tests/stock_forward is linked against Debian's stock libdarknet.so; the
# tests run it to compare our forward pass with stock Darknet's.
# build/tests/opencv_forward is linked against Debian's OpenCV only (its DNN
# module's Darknet importer); test_opencv runs it on the pairs legr writes.
#
# The real-model tests look for the zoo in $LEGR_ZOO, else ../shared/zoo, and
# skip (saying so) when it is absent.  Other environment variables:
#   LEGR_TEST_FILTER="prune_yolov3*"  run only the cmocka tests matching it
#   LEGR_KEEP_TMP=1                   keep the tests' temporary directories
#   LEGR_TEST_VERBOSE=1               show Darknet's layer tables

TEST_BUILD   := $(BUILD)/tests
TEST_SRCS    := $(sort $(wildcard tests/test_*.c))
TEST_ALL     := $(patsubst tests/%.c,%,$(TEST_SRCS))
TESTS        ?= $(patsubst test_%,%,$(TEST_ALL))
TEST_RUN     := $(addprefix $(TEST_BUILD)/test_,$(TESTS))
TEST_BINS    := $(addprefix $(TEST_BUILD)/,$(TEST_ALL))
TEST_UTIL_O  := $(TEST_BUILD)/testutil.o

STOCK_DNDIR  := /usr/lib/darknet
TEST_CC      ?= cc
TEST_CXX     ?= c++
TEST_CFLAGS  := -O2 -g -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare \
                -Wno-unused-result -Wno-missing-field-initializers
TEST_BLASSYM := $(if $(filter onednn,$(BLASIMPL)),dnnl_sgemm,cblas_sgemm)
TEST_INC     := -I$(DNDIR)/include -I$(DNDIR)/src -Ilegr -Itests -DTEST_BLAS=$(BLAS) \
                -DTEST_BLAS_SYMBOL='"$(TEST_BLASSYM)"'
TEST_BLASLIB := $(if $(filter 1,$(BLAS)),$(if $(filter onednn,$(BLASIMPL)),-ldnnl -lgomp,-lopenblas))
# Expanded by the shell when linking, after `make` has installed packages and
# recorded whether Darknet was built with MPI.
TEST_LIBS    := $(DNLIB) -lcmocka $(TEST_BLASLIB) -llapacke -llapack \
                $$(pkg-config --libs opencv4 2>/dev/null) \
                $$(cat $(DNDIR)/.ldflags-mpi 2>/dev/null) \
                -lstdc++ -lm -ldl -pthread

.PHONY: test test-build

include tests/voc_score.mk

test-build: $(TEST_BINS) $(TEST_BUILD)/stock_forward $(TEST_BUILD)/opencv_forward $(VOC_SCORE)

$(TEST_BUILD):
	@mkdir -p $@

$(TEST_UTIL_O): tests/testutil.c tests/testutil.h tests/forward_dump.h $(LEGR_HDR) $(DNLIB) | $(TEST_BUILD)
	$(TEST_CC) $(TEST_CFLAGS) $(TEST_INC) -c $< -o $@

$(TEST_BUILD)/test_%: tests/test_%.c $(TEST_UTIL_O) tests/testutil.h $(LEGR_HDR) $(DNLIB) | $(TEST_BUILD)
	$(TEST_CC) $(TEST_CFLAGS) $(TEST_INC) $< $(TEST_UTIL_O) -o $@ $(TEST_LIBS)

# Built against the STOCK Debian library and header, never ours.
$(TEST_BUILD)/stock_forward: tests/stock_forward.c tests/forward_dump.h | $(TEST_BUILD)
	$(TEST_CC) $(TEST_CFLAGS) -I$(STOCK_DNDIR)/include $< -o $@ \
	    -L$(STOCK_DNDIR) -ldarknet -Wl,-rpath,$(STOCK_DNDIR) -lm -pthread

# Built against Debian's OpenCV (cv::dnn::readNetFromDarknet), never Darknet.
$(TEST_BUILD)/opencv_forward: tests/opencv_forward.cpp | $(TEST_BUILD)
	$(TEST_CXX) -O2 -g -Wall -Wextra $$(pkg-config --cflags opencv4) $< -o $@ \
	    $$(pkg-config --libs opencv4)

# Runs the tests in sequence, carrying on after a failure; fails at the end if
# any test program failed, after printing a summary with each one's time and
# its cmocka counts (tests passed, failed, skipped: a skip says why above it).
test: darknet $(TEST_RUN) $(TEST_BUILD)/stock_forward $(TEST_BUILD)/opencv_forward $(VOC_SCORE)
	@pass=""; fail=""; summary=""; tok=0; tko=0; tsk=0; t0=$$(date +%s); \
	for t in $(TEST_RUN); do \
	    name=$$(basename $$t); \
	    echo; echo "======== $$name ========"; \
	    s=$$(date +%s); log=$(TEST_BUILD)/$$name.log; \
	    { ./$$t; echo $$? > $$log.rc; } 2>&1 | tee $$log; \
	    if [ "$$(cat $$log.rc)" = 0 ]; then r=PASS; pass="$$pass $$name"; \
	    else r=FAIL; fail="$$fail $$name"; fi; \
	    e=$$(date +%s); \
	    ok=$$(grep -c '^\[       OK \]' $$log); \
	    ko=$$(grep '^\[  FAILED  \] test' $$log | sort -u | wc -l); \
	    sk=$$(grep '^\[  SKIPPED \] test' $$log | sort -u | wc -l); \
	    tok=$$((tok + ok)); tko=$$((tko + ko)); tsk=$$((tsk + sk)); \
	    summary="$$summary$$(printf '  %-16s %s  (%ss)  %d ok, %d failed, %d skipped' $$name $$r $$((e - s)) $$ok $$ko $$sk)\n"; \
	done; \
	echo; echo "======== test summary ($$(( $$(date +%s) - t0 ))s) ========"; \
	printf "$$summary"; \
	np=$$(echo $$pass | wc -w); nf=$$(echo $$fail | wc -w); \
	echo "tests: $$tok passed, $$tko failed, $$tsk skipped"; \
	if [ -n "$$fail" ]; then echo "FAILED:$$fail"; echo "$$np passed, $$nf failed"; exit 1; fi; \
	echo "all $$np test programs passed"; \
	echo "$$np passed, $$nf failed"
