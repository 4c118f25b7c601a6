/* fuzz_labels.c: libFuzzer target for YOLO label files (the ground truth
 * `legr eval` and `legr prune -eval` score against), read with
 * legr_read_labels for a 20-class network.  What it accepts must be what its
 * message promises: class ids in 0..19, x y w h numbers (finite) with
 * w, h >= 0. */
#include "fuzz.h"
#include "eval.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_input_path(data, size);
    legr_box *b = NULL;
    char err[1024] = "";
    int n = legr_read_labels(path, 20, &b, err, sizeof err);
    if (n < 0) {
        fuzz_check_error("legr_read_labels", err);
        if (b) fuzz_fail("boxes left allocated after an error");
        return 0;
    }
    for (int i = 0; i < n; ++i) {
        if (b[i].cls < 0 || b[i].cls >= 20) fuzz_fail("box %d: class %d accepted", i, b[i].cls);
        if (!fuzz_finite(b[i].x) || !fuzz_finite(b[i].y) || !fuzz_finite(b[i].w) || !fuzz_finite(b[i].h))
            fuzz_fail("box %d accepted with x=%g y=%g w=%g h=%g", i, b[i].x, b[i].y, b[i].w, b[i].h);
        if (!(b[i].w >= 0) || !(b[i].h >= 0)) fuzz_fail("box %d accepted with w=%g h=%g", i, b[i].w, b[i].h);
    }
    free(b);
    return 0;
}
