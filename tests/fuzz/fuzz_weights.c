/* fuzz_weights.c: libFuzzer target for .weights files.  The first byte of
 * the input picks the network (even: tests/fuzz/nets/det.cfg, odd: cls.cfg),
 * the rest is the weights file, read with legr_weights_read as
 * legr_model_load reads it.  On success the result must describe exactly
 * the floats the cfg implies, and legr_weights_apply (used after BN
 * re-estimation and fine-tuning) must run on it. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    legr_model *m = fuzz_net(data[0] & 1 ? "cls" : "det");
    const char *path = fuzz_input_path(data + 1, size - 1);
    legr_weights w;
    char err[1024] = "";
    if (legr_weights_read(path, m->net, &w, err, sizeof err) != 0) {
        fuzz_check_error("legr_weights_read", err);
        return 0;
    }
    long want = legr_network_weight_floats(m->net, err, sizeof err);
    if (want < 0 || (size_t)want != w.n_floats) fuzz_fail("%zu floats read, the cfg implies %ld", w.n_floats, want);
    if (w.header_bytes != 16 && w.header_bytes != 20) fuzz_fail("header of %zu bytes", w.header_bytes);
    if (w.header_bytes + 4 * w.n_floats != size - 1)
        fuzz_fail("accepted a %zu-byte file as %zu header bytes + %zu floats", size - 1, w.header_bytes, w.n_floats);
    if (w.offset[m->net->n] != w.n_floats) fuzz_fail("layer offsets end at %zu of %zu floats", w.offset[m->net->n], w.n_floats);
    legr_weights_apply(&w, m->net);
    legr_weights_free(&w);
    return 0;
}
