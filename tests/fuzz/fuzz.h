/* fuzz.h: helpers shared by the libFuzzer targets in tests/fuzz/ (see
 * fuzz.mk): the fuzz input as a file path, the small fixed networks some
 * targets read files for, and the checks every target makes on what legr
 * returns.  A violated check is reported with abort(), which libFuzzer
 * counts as a crash and saves the input for.
 *
 * Unlike legr/, the targets keep state at file scope: libFuzzer calls
 * LLVMFuzzerTestOneInput once per input, and the fixed networks are parsed
 * once, on the first call. */
#ifndef LEGR_FUZZ_H
#define LEGR_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include "model.h"

#ifndef FUZZ_NET_DIR
#define FUZZ_NET_DIR "tests/fuzz/nets"
#endif

/* Writes data to one memfd (the same for every input, created on the first
 * call) and returns a path to it ("/proc/self/fd/N"), which legr's readers
 * open and stat like a regular file. */
const char *fuzz_input_path(const uint8_t *data, size_t size);

/* /tmp/legr-fuzz, for files a target writes (named with its pid, removed
 * after use; a crash or libFuzzer's kill at the end of a run can leave one). */
const char *fuzz_tmpdir(void);

/* The fixed networks of tests/fuzz/nets/: "det" (a small detector with
 * depthwise, shortcut, route and grouped convs) and "cls" (conv, batchnorm,
 * connected, softmax), loaded once with legr_model_load; aborts if they do
 * not load. */
legr_model *fuzz_net(const char *name);

/* The README's promise on bad input: a non-empty, one-line message.  Aborts
 * (a finding) otherwise. */
void fuzz_check_error(const char *what, const char *err);

/* 1 for a finite float, from its bits (the targets build with -ffast-math,
 * like Darknet's -Ofast, where isfinite() is folded to 1). */
int fuzz_finite(float x);

/* Prints "fuzz: <what>" on the fuzzer's report stream and aborts. */
void fuzz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
