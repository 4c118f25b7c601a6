# tests/tests.mk: the cmocka test suite, included by the top-level Makefile.
#
#   make test                      build ./darknet, then build and run every
#                                  tests/test_*.c in turn
#   make test TESTS="cli prune"    run only tests/test_cli.c and tests/test_prune.c
#   make test-build                build the test programs without running them
#   make test SANITIZE=1           the same under AddressSanitizer + UBSan: the
#                                  test programs (build/tests-asan) and ./darknet
#                                  built by clang with -fsanitize=address,undefined
#   make test PATCH_GROUPS=plugin TESTS="cli"
#                                  tests built in build/tests-plugin against the
#                                  tree of those patch groups (build/darknet-plugin),
#                                  running its binary instead of ./darknet
#
# test_plugin (tests/test_plugin.sh) is such a run inside the suite: it builds
# the PATCH_GROUPS=plugin tree and its test programs (a sub-make), then runs
# PLUGIN_TESTS against it: legr on Darknet without the cpu-speed and hardening
# patches (legr/compat.c's fallbacks instead of what they add).
#
# Each tests/test_<name>.c becomes build/tests/test_<name>, linked with
# tests/testutil.c and the patched libdarknet.a (which holds legr/*.c).
# build/tests/stock_forward is linked against Debian's stock libdarknet.so; the
# tests run it to compare our forward pass with stock Darknet's.
# build/tests/opencv_forward is linked against Debian's OpenCV only (its DNN
# module's Darknet importer); test_opencv runs it on the pairs legr writes.
#
# SANITIZE=1: every process of a test program (the program itself and each
# ./darknet it runs) writes its sanitizer reports to
# build/tests-asan/sanitizer/<program>.<pid> rather than to stderr, so a
# report is seen even where the test expects a failing exit status, and the
# program is counted as failed when any such file appears.  Leak detection is
# off: Darknet never frees its parsed options, layer buffers or networks by
# design (free_network leaves half of them), so LeakSanitizer would report
# every run.  UBSan stops at its first report (halt_on_error=1).  Reports in
# Darknet's code listed in tests/asan.supp and tests/ubsan.supp (each with
# why) are not counted.  test_kernels is left out of the default TESTS with
# SANITIZE=1: it dlopens stock libdarknet.so with RTLD_DEEPBIND, which the
# sanitizer runtime refuses (it aborts the program).
#
# The real-model tests look for the zoo in $LEGR_ZOO, else ../shared/zoo, and
# skip (saying so) when it is absent.  Other environment variables:
#   LEGR_TEST_FILTER="prune_yolov3*"  run only the cmocka tests matching it
#   LEGR_KEEP_TMP=1                   keep the tests' temporary directories
#   LEGR_TEST_VERBOSE=1               show Darknet's layer tables

TEST_BUILD   := $(BUILD)/tests$(if $(GROUPS_TAG),-$(GROUPS_TAG))$(if $(filter 1,$(SANITIZE)),-asan)
# stock_forward and voc_score link nothing of ours: one copy for both suites
TEST_SHARED  := $(BUILD)/tests
TEST_SRCS    := $(sort $(wildcard tests/test_*.c))
TEST_ALL     := $(patsubst tests/%.c,%,$(TEST_SRCS))$(if $(GROUPS_TAG),, test_plugin)
# left out with SANITIZE=1: kernels (see above) and plugin (two more sanitized
# Darknet builds' worth of time; TESTS=plugin SANITIZE=1 runs it)
TESTS        ?= $(filter-out $(if $(filter 1,$(SANITIZE)),kernels plugin),$(patsubst test_%,%,$(TEST_ALL)))
TEST_RUN     := $(addprefix $(TEST_BUILD)/test_,$(TESTS))
TEST_BINS    := $(addprefix $(TEST_BUILD)/,$(TEST_ALL))
TEST_UTIL_O  := $(TEST_BUILD)/testutil.o

STOCK_DNDIR  := /usr/lib/darknet
TEST_CC      ?= cc
TEST_CXX     ?= c++
# the test programs link the tree's libdarknet.a: the same compiler with SANITIZE=1
TEST_PROG_CC := $(if $(filter 1,$(SANITIZE)),$(SAN_CC),$(TEST_CC))
TEST_CFLAGS  := -O2 -g -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare \
                -Wno-unused-result -Wno-missing-field-initializers \
                $(if $(filter 1,$(SANITIZE)),$(SAN_FLAGS))
TEST_SANLOG  := $(CURDIR)/$(TEST_BUILD)/sanitizer
# legr's cache (latency tables, checked image lists) in the build tree, not ~/.cache
TEST_ENV     := LEGR_CACHE=$(CURDIR)/$(TEST_BUILD)/cache $(if $(filter 1,$(SANITIZE)),\
                ASAN_OPTIONS=detect_leaks=0:exitcode=99:suppressions=$(CURDIR)/tests/asan.supp:log_path=$(TEST_SANLOG)/$$name \
                UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=99:suppressions=$(CURDIR)/tests/ubsan.supp:log_path=$(TEST_SANLOG)/$$name)
TEST_BLASSYM := $(if $(filter onednn,$(BLASIMPL)),dnnl_sgemm,cblas_sgemm)
TEST_INC     := -I$(DNDIR)/include -I$(DNDIR)/src -Ilegr -Itests -DTEST_BLAS=$(BLAS) \
                -DTEST_BLAS_SYMBOL='"$(TEST_BLASSYM)"' \
                $(if $(GROUPS_TAG),-DTU_OUR_DARKNET='"./$(DNDIR)/darknet"')
# the binary the tests run: ./darknet, or a PATCH_GROUPS tree's own
TEST_DARKNET := $(if $(GROUPS_TAG),$(DNDIR)/darknet,darknet)
TEST_BLASLIB := $(if $(filter 1,$(BLAS)),$(if $(filter onednn,$(BLASIMPL)),-ldnnl -lgomp,-lopenblas))
# Expanded by the shell when linking, after `make` has installed packages and
# recorded whether Darknet was built with MPI.
TEST_LIBS    := $(DNLIB) -lcmocka $(TEST_BLASLIB) -llapacke -llapack -ljansson \
                $$(pkg-config --libs opencv4 2>/dev/null) \
                $$(cat $(DNDIR)/.ldflags-mpi 2>/dev/null) \
                -lstdc++ -lm -ldl -pthread

.PHONY: test test-build test-prereqs

include tests/voc_score.mk

test-build: $(TEST_BINS) $(TEST_SHARED)/stock_forward $(TEST_SHARED)/opencv_forward $(VOC_SCORE)

$(sort $(TEST_BUILD) $(TEST_SHARED)):
	@mkdir -p $@

$(TEST_UTIL_O): tests/testutil.c tests/testutil.h tests/forward_dump.h $(LEGR_HDR) $(DNLIB) | $(TEST_BUILD)
	$(TEST_PROG_CC) $(TEST_CFLAGS) $(TEST_INC) -c $< -o $@

$(TEST_BUILD)/test_%: tests/test_%.c $(TEST_UTIL_O) tests/testutil.h $(LEGR_HDR) $(DNLIB) | $(TEST_BUILD)
	$(TEST_PROG_CC) $(TEST_CFLAGS) $(TEST_INC) $< $(TEST_UTIL_O) -o $@ $(TEST_LIBS)

# Built against the STOCK Debian library and header, never ours (and never
# sanitized).
$(TEST_SHARED)/stock_forward: tests/stock_forward.c tests/forward_dump.h | $(TEST_SHARED)
	$(TEST_CC) $(filter-out $(SAN_FLAGS),$(TEST_CFLAGS)) -I$(STOCK_DNDIR)/include $< -o $@ \
	    -L$(STOCK_DNDIR) -ldarknet -Wl,-rpath,$(STOCK_DNDIR) -lm -pthread

# Built against Debian's OpenCV (cv::dnn::readNetFromDarknet), never Darknet
# (and never sanitized).
$(TEST_SHARED)/opencv_forward: tests/opencv_forward.cpp | $(TEST_SHARED)
	$(TEST_CXX) -O2 -g -Wall -Wextra $$(pkg-config --cflags opencv4) $< -o $@ \
	    $$(pkg-config --libs opencv4)

# What `test` needs built before it runs anything (test_plugin's sub-make asks
# for it with PATCH_GROUPS=plugin).
TEST_PREREQS := $(TEST_DARKNET) $(TEST_RUN) $(TEST_SHARED)/stock_forward $(TEST_SHARED)/opencv_forward $(VOC_SCORE)
test-prereqs: $(TEST_PREREQS)

# test_plugin: PLUGIN_TESTS, each "program" or "program:cmocka-filter", run by
# tests/test_plugin.sh against the plugin-only tree.  The sub-make runs every
# time (FORCE) and does nothing when the tree and programs are up to date;
# after ./darknet's tree (order-only), so that under make -j the two builds do
# not share the 2 cores or the fetch into build/src.
# Chosen for what they cover in about a minute of stock's slow GEMM: the
# command line and its bad inputs (cli, all); FLOPs of three stock cfgs
# (flops); pruning, with the masked forward and stock Darknet loading every
# pair, on a detector of each kind and the classifiers (prune, less yolov3-tiny
# and yolov3-160: 40 of its 70 CPU seconds here); undecodable images refused by every
# command through compat.c's try_load_image, good ones still run, and that
# loader against Darknet's own (badimage; its other in-process tests are of
# the hardening patches, absent here).
PLUGIN_TESTS := cli flops:test_flops_*tiny prune:test_* prune:prune_yolov2_tiny \
                prune:prune_yolo_fastest prune:prune_*_96 prune:prune_tiny_darknet \
                badimage:test_legr_commands_refuse badimage:test_good_images_still_run \
                badimage:test_compat_loader
PLUGIN_PROGS := $(sort $(foreach t,$(PLUGIN_TESTS),$(firstword $(subst :, ,$(t)))))
$(TEST_BUILD)/test_plugin: tests/test_plugin.sh FORCE | $(TEST_BUILD) $(TEST_DARKNET)
	+@$(MAKE) --no-print-directory PATCH_GROUPS=plugin TESTS="$(PLUGIN_PROGS)" test-prereqs
	@printf '#!/bin/sh\nexec sh tests/test_plugin.sh %s %s "%s"\n' \
	    $(BUILD)/darknet-plugin$(if $(filter 1,$(SANITIZE)),-asan) \
	    $(BUILD)/tests-plugin$(if $(filter 1,$(SANITIZE)),-asan) "$(PLUGIN_TESTS)" > $@.tmp
	@chmod +x $@.tmp && mv -f $@.tmp $@

# Runs the tests in sequence, carrying on after a failure; fails at the end if
# any test program failed, after printing a summary with each one's time and
# its cmocka counts (tests passed, failed, skipped: a skip says why above it).
# With SANITIZE=1 a program that left sanitizer reports fails, and the reports
# are listed at the end.
test: $(TEST_PREREQS)
	@pass=""; fail=""; summary=""; tok=0; tko=0; tsk=0; t0=$$(date +%s); \
	$(if $(filter 1,$(SANITIZE)),rm -rf $(TEST_SANLOG); mkdir -p $(TEST_SANLOG);) \
	for t in $(TEST_RUN); do \
	    name=$$(basename $$t); \
	    echo; echo "======== $$name ========"; \
	    s=$$(date +%s); log=$(TEST_BUILD)/$$name.log; \
	    { $(TEST_ENV) ./$$t; echo $$? > $$log.rc; } 2>&1 | tee $$log; \
	    if [ "$$(cat $$log.rc)" = 0 ]; then r=PASS; else r=FAIL; fi; \
	    $(if $(filter 1,$(SANITIZE)),if ls $(TEST_SANLOG)/$$name.* >/dev/null 2>&1; then \
	        r="FAIL (sanitizer: $$(ls $(TEST_SANLOG)/$$name.* | wc -l) report(s))"; fi;) \
	    case $$r in PASS) pass="$$pass $$name";; *) fail="$$fail $$name";; esac; \
	    e=$$(date +%s); \
	    ok=$$(grep -c '^\[       OK \]' $$log); \
	    ko=$$(grep '^\[  FAILED  \] test' $$log | sort -u | wc -l); \
	    sk=$$(grep '^\[  SKIPPED \] test' $$log | sort -u | wc -l); \
	    tok=$$((tok + ok)); tko=$$((tko + ko)); tsk=$$((tsk + sk)); \
	    summary="$$summary$$(printf '  %-16s %s  (%ss)  %d ok, %d failed, %d skipped' $$name "$$r" $$((e - s)) $$ok $$ko $$sk)\n"; \
	done; \
	echo; echo "======== test summary ($$(( $$(date +%s) - t0 ))s) ========"; \
	printf "$$summary"; \
	$(if $(filter 1,$(SANITIZE)),$(if $(filter file,$(origin TESTS)),echo "  (test_kernels not run with SANITIZE=1: its RTLD_DEEPBIND dlopen is refused by the sanitizer runtime)";)) \
	$(if $(filter 1,$(SANITIZE)),for f in $(TEST_SANLOG)/*; do [ -f "$$f" ] || continue; \
	    echo; echo "==== sanitizer report $$f"; grep -E '^(SUMMARY|==[0-9]+==ERROR)|runtime error|^    #[0-4] ' "$$f" | head -20; done;) \
	np=$$(echo $$pass | wc -w); nf=$$(echo $$fail | wc -w); \
	echo "tests: $$tok passed, $$tko failed, $$tsk skipped"; \
	if [ -n "$$fail" ]; then echo "FAILED:$$fail"; echo "$$np passed, $$nf failed"; exit 1; fi; \
	echo "all $$np test programs passed"; \
	echo "$$np passed, $$nf failed"
