# darknet-legr top-level Makefile.
#
#   make            install missing Debian packages, fetch Darknet's source
#                   (Debian's `darknet` source package), patch it, build ./darknet
#   make GPU=1 CUDNN=1 [ARCH=...]   the same with CUDA/cuDNN, in build/darknet-gpu
#   make gpu-check  compile build/darknet-gpu/darknet only (./darknet untouched)
#   make PATCH_GROUPS=plugin   Darknet patched with only those groups of
#                   patches/series, in a tree of its own (build/darknet-plugin;
#                   ./darknet untouched unless the goal is `darknet`)
#   make test       build and run the cmocka test suite
#   make test SANITIZE=1   the same suite under AddressSanitizer + UBSan, in
#                   build/darknet-asan and build/tests-asan (./darknet is then
#                   the sanitized binary, until the next plain make)
#   make fuzz       libFuzzer targets (clang) for the files users feed legr,
#                   FUZZ_SECONDS each (see tests/fuzz/fuzz.mk)
#   make demo       run the mission end to end on the embedded default
#   make help       list the targets
#
# make DARKNET_SRC=/path/to/darknet uses an existing Darknet checkout instead of
# `apt-get source darknet` (it is copied, never modified in place).
#
# Each configuration has its own patched Darknet tree: build/darknet (CPU) and
# build/darknet-gpu (GPU=1), so the two builds coexist; ./darknet is a copy of
# the binary asked for last.  A tree records the flags it was built with
# (.config) and is cleaned when they change.  SANITIZE=1 builds a third tree,
# build/darknet-asan, and SANITIZE=fuzz (used by `make fuzz`) a fourth,
# build/darknet-fuzz, compiled by clang for libFuzzer.  PATCH_GROUPS="plugin
# ..." applies only the patches of those groups ("# <group>:" lines of
# patches/series) in build/darknet-<group>+<group>...  Darknet's source is
# fetched once, into build/src, and copied into each tree before patching.

DARKNET_VERSION := 0.0.0+git20180914.61c9d02e
DARKNET_DEB     := darknet=$(DARKNET_VERSION)-2
BUILD           := build
SANITIZE        ?= 0
# PATCH_GROUPS="plugin cpu-speed": only those groups of patches/series (not
# PATCHES, which is the list of patch files); empty: the whole series
PATCH_GROUPS    ?=
empty           :=
space           := $(empty) $(empty)
GROUPS_TAG      := $(subst $(space),+,$(strip $(PATCH_GROUPS)))
DNDIR           := $(BUILD)/darknet$(if $(GROUPS_TAG),-$(GROUPS_TAG))$(if $(filter 1,$(GPU)),-gpu)$(if $(filter 1,$(SANITIZE)),-asan)$(if $(filter fuzz,$(SANITIZE)),-fuzz)
DARKNET_SRC     ?=
OPENCV          ?= 1
BLAS            ?= 1
BLASIMPL        ?= onednn
GPU             ?= 0
CUDNN           ?= 0
ARCH            ?=
# MPI=auto: build `legr search -mpi` when Open MPI's mpicc is installed (decided
# when the tree is built, after install-deps.sh has run)
MPI             ?= auto
# nvcc -gencode for GPU=1 when no ARCH is given: Turing (sm_75) code plus PTX
# that newer GPUs compile at load time; CUDA 13 supports nothing older.
DEFAULT_ARCH    := -gencode arch=compute_75,code=[sm_75,compute_75]
JOBS            ?= $(shell nproc 2>/dev/null || echo 2)

# SANITIZE=1: Darknet built by clang with its OPTS (-Ofast by default, added
# to its CFLAGS, which its Makefile also uses on the link lines) overridden on
# the command line.  -ffast-math stays so that the code behaves as in the
# -Ofast build (legr's NaN checks by bit test, isfinite() folded away).  clang,
# not gcc: with gcc's separate libubsan, UBSan reports ignore log_path and go
# to stderr, where a test that captures a command's stderr never shows them;
# clang's runtime writes them to the file (see tests/tests.mk).
# SANITIZE=fuzz: the same with libFuzzer's coverage instrumentation; no
# OpenCV, BLAS or MPI (the fuzzed readers use none of them).  -fno-sanitize=vptr:
# the link is done by clang, not clang++, which lacks the C++ part of UBSan
# that the vptr check of image_opencv.cpp needs.  -fno-associative-math
# (SANITIZE=1): clang reassociates Darknet's image resizing (src/image.c)
# differently from gcc -Ofast, enough to move yolo-fastest's mAP in
# test_crosscheck by 0.0066 (tolerance 0.005); without it the mAP is stock's.
SAN_CC          := clang
SAN_FLAGS       := -fsanitize=address,undefined -fno-sanitize=vptr -fno-omit-frame-pointer
SAN_OPTS        := -O1 -g -ffast-math -fno-associative-math $(SAN_FLAGS)
FUZZ_OPTS       := -O1 -g -ffast-math -fsanitize=fuzzer-no-link $(SAN_FLAGS)
# without the cpu-speed group Darknet's Makefile knows no BLAS
ifneq ($(GROUPS_TAG),)
ifeq ($(filter cpu-speed,$(PATCH_GROUPS)),)
override BLAS   := 0
endif
endif
ifeq ($(SANITIZE),fuzz)
override OPENCV := 0
override BLAS   := 0
override MPI    := 0
endif

LEGR_SRC  := $(wildcard legr/*.c)
LEGR_HDR  := $(wildcard legr/*.h)
# patches/series: the patches in order, grouped under "# <group>:" comment
# lines; PATCHES: those of PATCH_GROUPS (all when it is empty)
SERIES_GROUPS := $(shell sed -n 's/^\#[[:space:]]*\([A-Za-z0-9_-]*\):.*/\1/p' patches/series)
$(foreach g,$(PATCH_GROUPS),$(if $(filter $(g),$(SERIES_GROUPS)),,$(error PATCH_GROUPS: no group "$(g)" in patches/series (it has: $(SERIES_GROUPS)))))
$(if $(GROUPS_TAG),$(if $(filter plugin,$(PATCH_GROUPS)),,$(error PATCH_GROUPS="$(PATCH_GROUPS)" lacks plugin, the patches that build legr into Darknet)))
PATCHES   := $(addprefix patches/,$(shell awk -v want=' $(strip $(PATCH_GROUPS)) ' \
               '/^\#/ { if (match($$0, /^\#[[:space:]]*[A-Za-z0-9_-]+:/)) { g = substr($$0, 2, RLENGTH - 2); gsub(/[[:space:]]/, "", g) } next } \
                NF && (want == "  " || index(want, " " g " ")) { print $$1 }' patches/series))
DNLIB     := $(DNDIR)/libdarknet.a

DN_ARCH   := $(if $(filter 1,$(GPU)),$(or $(ARCH),$(DEFAULT_ARCH)))
DN_SAN    := $(if $(filter-out 0,$(SANITIZE)),CC=$(SAN_CC) CPP="$(SAN_CC)++ -std=c++11") \
             $(if $(filter 1,$(SANITIZE)),OPTS="$(SAN_OPTS)") \
             $(if $(filter fuzz,$(SANITIZE)),OPTS="$(FUZZ_OPTS)")
DN_CONFIG := OPENCV=$(OPENCV) BLAS=$(BLAS) BLASIMPL=$(BLASIMPL) GPU=$(GPU) CUDNN=$(CUDNN)$(if $(DN_ARCH), ARCH=$(DN_ARCH))$(if $(filter-out 0,$(SANITIZE)), SANITIZE=$(SANITIZE) CC=$(SAN_CC) OPTS=$(if $(filter fuzz,$(SANITIZE)),$(FUZZ_OPTS),$(SAN_OPTS)))
DN_FLAGS  := OPENCV=$(OPENCV) BLAS=$(BLAS) BLASIMPL=$(BLASIMPL) GPU=$(GPU) CUDNN=$(CUDNN) \
             LEGRDIR=$(CURDIR)/legr $(if $(DN_ARCH),ARCH="$(DN_ARCH)") $(DN_SAN)

.PHONY: all deps help test demo clean distclean bench gpu-check fuzz fuzz-build groups-tree FORCE

# with PATCH_GROUPS, the tree only: ./darknet stays the whole series' binary
# unless `darknet` is the goal
all: $(if $(GROUPS_TAG),groups-tree,darknet)

groups-tree: $(DNDIR)/darknet
	@echo "$(DNDIR)/darknet: Darknet with the patch groups $(PATCH_GROUPS) only (./darknet unchanged)"

help:
	@echo "darknet-legr targets:"
	@echo "  make              install missing packages, fetch+patch Darknet, build ./darknet"
	@echo "                    (CPU tree: build/darknet; GPU=1: build/darknet-gpu)"
	@echo "  make GPU=1 CUDNN=1 ARCH=\"-gencode arch=compute_90,code=sm_90\""
	@echo "                    the CUDA/cuDNN build (CUDA_PATH=/usr/local/cuda by default),"
	@echo "                    copied to ./darknet; without ARCH: $(DEFAULT_ARCH)"
	@echo "  make gpu-check    compile build/darknet-gpu/darknet (GPU=1 CUDNN=1) without"
	@echo "                    touching ./darknet"
	@echo "  make PATCH_GROUPS=plugin"
	@echo "                    Darknet patched with only those groups of patches/series"
	@echo "                    (plugin, cpu-speed, hardening, gpu-build; plugin required;"
	@echo "                    several: PATCH_GROUPS=\"plugin hardening\") in a tree of its"
	@echo "                    own, build/darknet-plugin; ./darknet is unchanged unless the"
	@echo "                    goal is darknet; BLAS=0 without cpu-speed.  PATCH_GROUPS, not"
	@echo "                    PATCHES: that is the Makefile's own list of patch files"
	@echo "  make test         build and run the cmocka test suite (tests/); test_plugin"
	@echo "                    runs core tests against the PATCH_GROUPS=plugin tree"
	@echo "  make test SANITIZE=1"
	@echo "                    the suite under AddressSanitizer + UBSan (clang; trees"
	@echo "                    build/darknet-asan, build/tests-asan; ./darknet becomes the"
	@echo "                    sanitized binary); a sanitizer report fails the test program"
	@echo "  make fuzz [FUZZ_SECONDS=60] [FUZZ_TARGETS=\"cfg rank\"]"
	@echo "                    libFuzzer (clang) on the cfg, weights, ranking, checkpoint and"
	@echo "                    label readers, FUZZ_SECONDS each; crashes in build/fuzz/crashes/"
	@echo "  make fuzz-build   build the fuzz targets only (build/fuzz/fuzz_*)"
	@echo "  make fuzz-corpus  regenerate the seed corpus tests/fuzz/corpus/ (see tests/fuzz/make-corpus.sh)"
	@echo "  make demo         flops, search, prune + recover, finetune, eval on the embedded default"
	@echo "  make clean        remove ./darknet, every tree's objects (keeps the sources), the test and fuzz builds"
	@echo "  make distclean    remove build/ entirely"
	@echo "  make bench        time ./darknet against stock /usr/bin/darknet, pruned latency"
	@echo "                    against FLOPs, against OpenCV DNN and the SGEMM peak (one thread),"
	@echo "                    the thread defaults under load"
	@echo "                    peak memory of prune -eval -bn, search and eval (scripts/bench-memory.sh)"
	@echo "variables: DARKNET_SRC=dir OPENCV=0|1 BLAS=0|1 BLASIMPL=onednn|openblas GPU=0|1 CUDNN=0|1"
	@echo "           SANITIZE=0|1 FUZZ_SECONDS=n FUZZ_TARGETS=... PATCH_GROUPS=\"plugin ...\""
	@echo "           ARCH=... CUDA_PATH=dir MPI=auto|0|1 (auto: with Open MPI when mpicc is installed)"

# --- dependencies ---------------------------------------------------------
$(BUILD)/.deps: scripts/install-deps.sh
	@mkdir -p $(BUILD)
	LEGR_NEED_SOURCE=$(if $(DARKNET_SRC),0,1) ./scripts/install-deps.sh
	@touch $@

# clang and its libFuzzer/sanitizer runtimes (CLANG_PKGS in install-deps.sh),
# only for `make fuzz` and SANITIZE=1
$(BUILD)/.deps-fuzz: scripts/install-deps.sh | $(BUILD)/.deps
	LEGR_WITH_CLANG=1 ./scripts/install-deps.sh
	@touch $@

deps: $(BUILD)/.deps

# --- Darknet source: fetched once, copied and patched per tree ------------
# build/src/darknet-<version> is Debian's source as apt-get source unpacks it,
# never patched: every tree (CPU, GPU, sanitized, PATCH_GROUPS) is a copy.
DNSRC       := $(BUILD)/src/darknet-$(DARKNET_VERSION)
DNSRC_STAMP := $(BUILD)/src/.fetched-$(DARKNET_VERSION)
$(DNSRC_STAMP): | $(BUILD)/.deps
	rm -rf $(BUILD)/src
	mkdir -p $(BUILD)/src
	cd $(BUILD)/src && apt-get source -qq $(DARKNET_DEB) 2>&1 | grep -v '^W: Download is performed unsandboxed' || true
	test -d $(DNSRC) || { echo "error: apt-get source $(DARKNET_DEB) failed (see above)"; exit 1; }
	rm -f $(BUILD)/src/*.dsc $(BUILD)/src/*.tar.*
	touch $@

$(DNDIR)/.patched: $(PATCHES) patches/series $(if $(DARKNET_SRC),,$(DNSRC_STAMP)) | $(BUILD)/.deps $(if $(filter-out 0,$(SANITIZE)),$(BUILD)/.deps-fuzz)
	rm -rf $(DNDIR)
	cp -r $(or $(DARKNET_SRC),$(DNSRC)) $(DNDIR)
	for p in $(PATCHES); do echo "applying $$p"; patch -s -p1 -d $(DNDIR) < $$p || exit 1; done
	touch $@

# --- build ------------------------------------------------------------------
# The flags the tree's objects were built with.  Darknet's Makefile rebuilds
# nothing when only the flags change, so a change cleans the tree first.
RESOLVE_MPI = mpi=$(MPI); if [ "$$mpi" = auto ]; then command -v mpicc >/dev/null && mpi=1 || mpi=0; fi
$(DNDIR)/.config: FORCE | $(DNDIR)/.patched
	@$(RESOLVE_MPI); config='$(DN_CONFIG)'" MPI=$$mpi"; \
	if [ "$$(cat $@ 2>/dev/null)" != "$$config" ]; then \
	    echo "$(DNDIR): building with $$config"; \
	    $(MAKE) -s -C $(DNDIR) clean >/dev/null; \
	    echo "$$config" > $@; \
	fi

# .ldflags-mpi: what the tests link with besides libdarknet.a
$(DNDIR)/darknet: $(DNDIR)/.patched $(DNDIR)/.config $(LEGR_SRC) $(LEGR_HDR)
	$(RESOLVE_MPI); \
	if [ $$mpi = 1 ]; then mpicc --showme:link > $(DNDIR)/.ldflags-mpi; else : > $(DNDIR)/.ldflags-mpi; fi; \
	$(MAKE) -C $(DNDIR) -j$(JOBS) $(DN_FLAGS) MPI=$$mpi

# ./darknet is the binary of the tree asked for (copied again after a build of
# the other tree).
darknet: $(DNDIR)/darknet FORCE
	@cmp -s $< $@ || { echo "cp $< $@"; cp $< $@.tmp && mv -f $@.tmp $@; }

$(DNLIB): $(DNDIR)/darknet

# Compiles and links the GPU tree only; ./darknet stays as it is.
gpu-check:
	$(MAKE) GPU=1 CUDNN=1 $(BUILD)/darknet-gpu/darknet

FORCE:

clean:
	rm -f darknet
	for d in $(wildcard $(BUILD)/darknet $(BUILD)/darknet-*); do \
	    if [ -d $$d ]; then $(MAKE) -s -C $$d clean >/dev/null 2>&1; rm -f $$d/.config; fi; \
	done
	rm -rf $(BUILD)/tests $(wildcard $(BUILD)/tests-*) $(BUILD)/fuzz

distclean:
	rm -rf $(BUILD) darknet

ifeq ($(GPU),1)
ifneq ($(filter test test-build $(BUILD)/tests/%,$(MAKECMDGOALS)),)
$(error the tests build against the CPU tree: run make test without GPU=1)
endif
ifneq ($(SANITIZE),0)
$(error SANITIZE=$(SANITIZE) is for the CPU build: run it without GPU=1)
endif
endif

include tests/tests.mk
include tests/fuzz/fuzz.mk

demo: darknet
	./scripts/demo.sh

# The embedded default's data generator (scripts/make-data.sh makes it):
# legr/rng.c and legr/labelpath.c compiled in, with Darknet's
# stb_image_write.h and find_replace (src/utils.c, which needs src/list.c)
# from the patched tree; zlib reads Fashion-MNIST's .gz files.
FASHION_GEN_SRC := scripts/fashion-gen.c legr/rng.c legr/labelpath.c $(DNDIR)/src/utils.c $(DNDIR)/src/list.c
$(BUILD)/fashion-gen: $(FASHION_GEN_SRC) legr/rng.h legr/labelpath.h $(DNDIR)/src/stb_image_write.h
	$(CC) -O2 -Wall -Ilegr -I$(DNDIR)/include -I$(DNDIR)/src -o $@ $(FASHION_GEN_SRC) -lz -lm -lpthread

$(DNDIR)/src/stb_image_write.h $(DNDIR)/src/utils.c $(DNDIR)/src/list.c: | $(DNDIR)/.patched ;

# each kernel patch against stock's own function (dlopen of its libdarknet.so)
$(BUILD)/bench-kernels: scripts/bench-kernels.c $(DNLIB)
	$(TEST_CC) -O2 -Wall $(TEST_INC) $< -o $@ $(TEST_LIBS)

# OpenCV DNN's forward latency on a Darknet pair, beside `legr bench`
$(BUILD)/bench-opencv: scripts/bench-opencv.cpp
	@mkdir -p $(BUILD)
	$(TEST_CXX) -O2 -Wall -Wextra $$(pkg-config --cflags opencv4) $< -o $@ \
	    $$(pkg-config --libs opencv4)

# single-thread SGEMM peak through Darknet's gemm_cpu (the build's BLAS)
$(BUILD)/bench-sgemm: scripts/bench-sgemm.c $(DNLIB)
	$(TEST_CC) -O2 -Wall $(TEST_INC) $< -o $@ $(TEST_LIBS)

# bench-speed.sh: ours against stock; bench-latency.sh: latency against FLOPs,
# against OpenCV DNN and against the SGEMM peak; bench-threads.sh: the thread
# defaults against libgomp's, with and without a busy loop on one core;
# bench-memory.sh: peak memory of prune -eval -bn, search and eval against the targets
bench: darknet $(BUILD)/bench-kernels $(BUILD)/bench-opencv $(BUILD)/bench-sgemm
	./scripts/bench-speed.sh
	./scripts/bench-latency.sh
	./scripts/bench-threads.sh
	./scripts/bench-memory.sh
