# tests/voc_score.mk: builds build/tests/voc_score, the independent VOC mAP
# scorer of stock Darknet's `detector valid` result files that
# tests/test_crosscheck.c compares `darknet legr eval` with.  It links nothing
# of legr/ or libdarknet: only tests/voc_score.c and Darknet's own stb_image.h
# (for image sizes), hence the order-only dependency on the patched source.

VOC_SCORE := $(BUILD)/tests/voc_score

$(VOC_SCORE): tests/voc_score.c | $(DNDIR)/.patched
	@mkdir -p $(dir $@)
	gcc -O2 -Wall -Wno-unused-function -I$(DNDIR)/src $< -o $@ -lm
