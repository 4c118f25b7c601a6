# darknet-legr top-level Makefile.
#
#   make            install missing Debian packages, fetch Darknet's source
#                   (Debian's `darknet` source package), patch it, build ./darknet
#   make test       build and run the cmocka test suite
#   make demo       run the mission end to end on the embedded default
#   make help       list the targets
#
# make DARKNET_SRC=/path/to/darknet uses an existing Darknet checkout instead of
# `apt-get source darknet` (it is copied, never modified in place).

DARKNET_VERSION := 0.0.0+git20180914.61c9d02e
DARKNET_DEB     := darknet=$(DARKNET_VERSION)-2
BUILD           := build
DNDIR           := $(BUILD)/darknet
DARKNET_SRC     ?=
OPENCV          ?= 1
BLAS            ?= 1
BLASIMPL        ?= onednn
GPU             ?= 0
CUDNN           ?= 0
ARCH            ?=
JOBS            ?= $(shell nproc 2>/dev/null || echo 2)

LEGR_SRC  := $(wildcard legr/*.c)
LEGR_HDR  := $(wildcard legr/*.h)
PATCHES   := $(addprefix patches/,$(shell cat patches/series))
DNLIB     := $(DNDIR)/libdarknet.a

DN_FLAGS  := OPENCV=$(OPENCV) BLAS=$(BLAS) BLASIMPL=$(BLASIMPL) GPU=$(GPU) CUDNN=$(CUDNN) \
             LEGRDIR=$(CURDIR)/legr $(if $(ARCH),ARCH="$(ARCH)")

.PHONY: all deps help test demo clean distclean bench

all: darknet

help:
	@echo "darknet-legr targets:"
	@echo "  make              install missing packages, fetch+patch Darknet, build ./darknet"
	@echo "  make test         build and run the cmocka test suite (tests/)"
	@echo "  make demo         run flops/prune on the embedded default model"
	@echo "  make clean        remove ./darknet and Darknet's objects (keeps the source)"
	@echo "  make distclean    remove build/ entirely"
	@echo "  make bench        time ./darknet against stock /usr/bin/darknet (one thread)"
	@echo "variables: DARKNET_SRC=dir OPENCV=0|1 BLAS=0|1 BLASIMPL=onednn|openblas GPU=0|1 CUDNN=0|1 ARCH=..."

# --- dependencies ---------------------------------------------------------
$(BUILD)/.deps: scripts/install-deps.sh
	@mkdir -p $(BUILD)
	LEGR_NEED_SOURCE=$(if $(DARKNET_SRC),0,1) ./scripts/install-deps.sh
	@touch $@

deps: $(BUILD)/.deps

# --- Darknet source: fetched (or copied) and patched once ------------------
$(DNDIR)/.patched: $(PATCHES) patches/series | $(BUILD)/.deps
	rm -rf $(DNDIR) $(BUILD)/src-tmp
	mkdir -p $(BUILD)/src-tmp
ifeq ($(DARKNET_SRC),)
	cd $(BUILD)/src-tmp && apt-get source -qq $(DARKNET_DEB) 2>&1 | grep -v '^W: Download is performed unsandboxed' || true
	test -d $(BUILD)/src-tmp/darknet-$(DARKNET_VERSION) || { echo "error: apt-get source $(DARKNET_DEB) failed (see above)"; exit 1; }
	mv $(BUILD)/src-tmp/darknet-$(DARKNET_VERSION) $(DNDIR)
else
	cp -r $(DARKNET_SRC) $(DNDIR)
endif
	rm -rf $(BUILD)/src-tmp
	for p in $(PATCHES); do echo "applying $$p"; patch -s -p1 -d $(DNDIR) < $$p || exit 1; done
	touch $@

# --- build ------------------------------------------------------------------
$(DNDIR)/darknet: $(DNDIR)/.patched $(LEGR_SRC) $(LEGR_HDR)
	$(MAKE) -C $(DNDIR) -j$(JOBS) $(DN_FLAGS)

darknet: $(DNDIR)/darknet
	cp $< $@.tmp && mv -f $@.tmp $@

$(DNLIB): $(DNDIR)/darknet

clean:
	rm -f darknet
	-$(MAKE) -C $(DNDIR) clean >/dev/null 2>&1
	rm -rf $(BUILD)/tests

distclean:
	rm -rf $(BUILD) darknet

include tests/tests.mk

demo: darknet
	./scripts/demo.sh

# each kernel patch against stock's own function (dlopen of its libdarknet.so)
$(BUILD)/bench-kernels: scripts/bench-kernels.c $(DNLIB)
	$(TEST_CC) -O2 -Wall $(TEST_INC) $< -o $@ $(TEST_LIBS)

bench: darknet $(BUILD)/bench-kernels
	./scripts/bench-speed.sh
