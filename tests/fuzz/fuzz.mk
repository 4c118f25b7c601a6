# tests/fuzz/fuzz.mk: libFuzzer targets for the files users feed legr,
# included by the top-level Makefile.
#
#   make fuzz                        build, then run each target FUZZ_SECONDS
#   make fuzz FUZZ_SECONDS=600 FUZZ_TARGETS="cfg ckpt"
#   make fuzz-build                  build build/fuzz/fuzz_<target> only
#   make fuzz-corpus                 regenerate tests/fuzz/corpus/ (seeds)
#
# Targets (tests/fuzz/fuzz_<target>.c):
#   cfg      cfg files, through what `legr flops` does (legr's reader, then
#            Darknet's parser, the channel graph, FLOPs), then the cfg writer
#   weights  .weights files for two small fixed networks (tests/fuzz/nets/)
#   rank     ranking files, then the budget selection that uses them
#   ckpt     `legr search -resume` checkpoints, then the rest of the search
#   labels   YOLO label files (legr eval's ground truth)
#
# Everything is built by clang with -fsanitize=fuzzer,address,undefined
# against build/darknet-fuzz, a Darknet tree of its own (SANITIZE=fuzz in the
# top-level Makefile: no OpenCV, BLAS or MPI).  Each target runs in libFuzzer's
# fork mode with one worker (-fork=1), carrying on after a crash, OOM or
# timeout so that one run can find several; each input is saved in
# build/fuzz/crashes/<target>/ (crash-*, oom-*, timeout-*, leak-*), the
# corpus grows in build/fuzz/corpus/<target>/ (seeded from
# tests/fuzz/corpus/<target>/) and the fuzzer's log is build/fuzz/<target>.log.
#
# LeakSanitizer is on for the targets whose per-input path is legr's own
# code (weights, rank, ckpt, labels: their fixed networks are parsed once),
# off for cfg, where every input goes through Darknet's parser, which leaks
# by design.  A run of a saved input:
#   build/fuzz/fuzz_cfg build/fuzz/crashes/cfg/crash-...

FUZZ_DNDIR    := $(BUILD)/darknet-fuzz
FUZZ_BUILD    := $(BUILD)/fuzz
FUZZ_ALL      := cfg weights rank ckpt labels
FUZZ_TARGETS  ?= $(FUZZ_ALL)
FUZZ_SECONDS  ?= 60
FUZZ_CC       := clang
FUZZ_CFLAGS   := -g -O1 -ffast-math -fsanitize=fuzzer $(SAN_FLAGS) \
                 -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare \
                 -I$(FUZZ_DNDIR)/include -I$(FUZZ_DNDIR)/src -Ilegr -Itests/fuzz \
                 -DFUZZ_NET_DIR='"$(CURDIR)/tests/fuzz/nets"'
FUZZ_LIBS     := $(FUZZ_DNDIR)/libdarknet.a -llapacke -llapack -ljansson -lm -pthread
FUZZ_BINS     := $(addprefix $(FUZZ_BUILD)/fuzz_,$(FUZZ_ALL))
FUZZ_COMMON   := tests/fuzz/fuzz_util.c tests/fuzz/fuzz.h
# UBSan stops at its first report not in tests/ubsan.supp (halt_on_error;
# -fno-sanitize-recover would ignore the suppressions).
FUZZ_ENV      := UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:suppressions=$(CURDIR)/tests/ubsan.supp
FUZZ_FLAGS    := -fork=1 -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1 \
                 -timeout=10 -rss_limit_mb=2048 -close_fd_mask=3 -print_final_stats=1
# per target, added to FUZZ_FLAGS (and to ASAN_OPTIONS: fork mode does not
# pass -detect_leaks to its jobs)
FUZZ_FLAGS_cfg := -detect_leaks=0 -max_len=20000
FUZZ_ASAN_cfg  := detect_leaks=0

.PHONY: fuzz fuzz-build fuzz-corpus

# The clang tree is built by a second make with SANITIZE=fuzz, where it is
# $(DNDIR) and has the usual rules.
ifneq ($(SANITIZE),fuzz)
$(FUZZ_DNDIR)/libdarknet.a: $(LEGR_SRC) $(LEGR_HDR) FORCE | $(BUILD)/.deps-fuzz
	@$(MAKE) --no-print-directory SANITIZE=fuzz $(FUZZ_DNDIR)/darknet
endif

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_COMMON) $(FUZZ_DNDIR)/libdarknet.a $(LEGR_HDR)
	@mkdir -p $(FUZZ_BUILD)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $< tests/fuzz/fuzz_util.c -o $@ $(FUZZ_LIBS)

$(FUZZ_BUILD)/make_seeds: tests/fuzz/make_seeds.c $(FUZZ_COMMON) $(FUZZ_DNDIR)/libdarknet.a $(LEGR_HDR)
	@mkdir -p $(FUZZ_BUILD)
	$(FUZZ_CC) $(subst -fsanitize=fuzzer,-fsanitize=fuzzer-no-link,$(FUZZ_CFLAGS)) $< tests/fuzz/fuzz_util.c -o $@ $(FUZZ_LIBS)

fuzz-build: $(FUZZ_BINS)

fuzz-corpus: $(FUZZ_BUILD)/make_seeds
	$(FUZZ_ENV) FUZZ_MAKE_SEEDS=$< ./tests/fuzz/make-corpus.sh tests/fuzz/corpus

# One target after the other; a summary line per target at the end.  Counts
# are of the files saved in build/fuzz/crashes/<target>/ by this run.
fuzz: fuzz-build
	@summary=""; \
	for t in $(FUZZ_TARGETS); do \
	    bin=$(FUZZ_BUILD)/fuzz_$$t; seeds=tests/fuzz/corpus/$$t; \
	    [ -x $$bin ] || { echo "fuzz: no target '$$t' (have: $(FUZZ_ALL))"; exit 1; }; \
	    rm -rf $(FUZZ_BUILD)/crashes/$$t; \
	    mkdir -p $(FUZZ_BUILD)/corpus/$$t $(FUZZ_BUILD)/crashes/$$t; \
	    echo "fuzz: $$t for $(FUZZ_SECONDS)s (log: $(FUZZ_BUILD)/$$t.log)"; \
	    flags=""; asan=""; \
	    $(foreach x,$(FUZZ_ALL),[ $$t = $(x) ] && { flags="$(FUZZ_FLAGS_$(x))"; asan="$(FUZZ_ASAN_$(x))"; };) \
	    ASAN_OPTIONS="$$asan" $(FUZZ_ENV) $$bin $(FUZZ_FLAGS) $$flags -max_total_time=$(FUZZ_SECONDS) \
	        -artifact_prefix=$(FUZZ_BUILD)/crashes/$$t/ \
	        $(FUZZ_BUILD)/corpus/$$t $$seeds > $(FUZZ_BUILD)/$$t.log 2>&1; \
	    execs=$$(grep -aoE '^#[0-9]+' $(FUZZ_BUILD)/$$t.log | tail -1 | tr -d '#'); \
	    cov=$$(grep -aoE 'cov: [0-9]+' $(FUZZ_BUILD)/$$t.log | tail -1 | cut -d' ' -f2); \
	    n() { ls $(FUZZ_BUILD)/crashes/$$t/ 2>/dev/null | grep -c "^$$1-"; }; \
	    line=$$(printf '  %-8s execs %-9s cov %-6s crashes %-4s leaks %-4s ooms %-4s timeouts %s' \
	        $$t "$${execs:-?}" "$${cov:-?}" $$(n crash) $$(n leak) $$(n oom) $$(n timeout)); \
	    echo "$$line"; summary="$$summary$$line\n"; \
	done; \
	echo; echo "======== fuzz summary ($(FUZZ_SECONDS)s per target) ========"; printf "$$summary"; \
	echo "inputs saved under $(FUZZ_BUILD)/crashes/<target>/"
