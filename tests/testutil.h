/* testutil.h: helpers shared by the darknet-legr cmocka tests: temporary
 * directories, files, running commands with their output captured, the test
 * zoo, cfg copies with a different [net] size, random Darknet weights, a
 * small cfg parser of our own and deterministic forward passes. */
#ifndef LEGR_TESTUTIL_H
#define LEGR_TESTUTIL_H

#include <stddef.h>
#include <stdarg.h>
#include <setjmp.h>
#include <cmocka.h>

#include "darknet.h"

/* Stock Debian Darknet. */
#define TU_STOCK_DARKNET "/usr/bin/darknet"
#define TU_STOCK_CFG     "/usr/share/darknet/cfg"
#define TU_COCO_DATA     "/usr/share/darknet/cfg/coco.data"
#define TU_IMAGENET_DATA "/usr/share/darknet/cfg/imagenet1k.data"
/* A tiny trainable detector (32x32, three convs, a [yolo] head with 2
 * classes, batch 2) for command-line tests. */
extern const char TU_TINY_DET_CFG[];

#define TU_DOG_JPG       "/usr/share/darknet/data/dog.jpg"
/* Our binary, relative to the repository root (the tests' cwd); the tests of
 * a PATCH_GROUPS tree are compiled with its own (tests/tests.mk). */
#ifndef TU_OUR_DARKNET
#define TU_OUR_DARKNET   "./darknet"
#endif
/* Programs built next to the tests. */
#define TU_STOCK_FORWARD "build/tests/stock_forward"

/* Call first in main(): applies $LEGR_TEST_FILTER (a cmocka test-name
 * pattern such as "test_graph_*") and makes stdout line-buffered so the
 * tests' own lines interleave with cmocka's. */
void tu_init(void);

/* printf into a malloc'd string (aborts on failure). */
char *tu_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Temporary directory under $TMPDIR (or /tmp), malloc'd; removed with
 * tu_rmtree unless $LEGR_KEEP_TMP is set. */
char *tu_mkdtemp(const char *tag);
void tu_rmtree(const char *dir);

/* "dir/name", malloc'd. */
char *tu_path(const char *dir, const char *name);

/* Whole file, NUL-terminated and malloc'd, or NULL; *len (if given) gets its
 * size. */
char *tu_read_file(const char *path, size_t *len);
int tu_write_file(const char *path, const void *data, size_t len);
int tu_write_text(const char *path, const char *text);
int tu_copy_file(const char *src, const char *dst);
long tu_file_size(const char *path);   /* -1 if missing */
int tu_exists(const char *path);
/* Number of entries in dir other than . and ..; -1 if it cannot be read.
 * names (if given) receives them, one per line, malloc'd. */
int tu_dir_entries(const char *dir, char **names);

/* Runs `cmd` with /bin/sh -c, stdout and stderr captured separately
 * (malloc'd into *out / *err when given).  Returns the exit status, or
 * 128 + signal, or -1 if it could not be run. */
int tu_run(const char *cmd, char **out, char **err);

/* Shell-quotes s ('...'), malloc'd. */
char *tu_quote(const char *s);

/* Number of lines of text that start with prefix; *first (if given) gets a
 * malloc'd copy of the first such line. */
int tu_count_lines_with_prefix(const char *text, const char *prefix,
                               char **first);

/* Lines of text that start with "legr:" but not "legr: warning:" (the
 * error lines of the bad-input promise); *first (if given) gets a malloc'd
 * copy of the first, or NULL. */
int tu_count_legr_errors(const char *text, char **first);

/* The zoo directory ($LEGR_ZOO, else ../shared/zoo), or NULL when absent. */
const char *tu_zoo(void);
/* "zoo/rel" malloc'd when that file exists, else NULL (with a line saying
 * what is missing printed). */
char *tu_zoo_file(const char *rel);

/* Copies a cfg, setting batch=1 subdivisions=1 in [net] and width/height
 * where > 0 (keys absent from [net] are added after its header).  Everything
 * else is kept as it is (output with LF line ends). */
int tu_cfg_copy(const char *src, const char *dst, int width, int height);

/* Parse / load with Darknet's own parser, its layer table on stderr hidden
 * (unless $LEGR_TEST_VERBOSE is set). */
network *tu_parse(const char *cfg);
network *tu_load(const char *cfg, const char *weights);

/* Fills every weighted layer of net with random but sane values from seed
 * (He-scaled normal weights, biases in [-0.1, 0.1], BN scales in [0.5, 1.5]),
 * then sets each BN conv's rolling mean/variance to the statistics its
 * convolution produces on tu_input, as training would (the brief's
 * "small mean, variance in [0.5, 1.5]" lets activations grow ~2x per residual
 * block: 1e5 at yolov3's heads).  Returns 0, or -1 for a layer type it does
 * not know. */
int tu_randomize_network(network *net, unsigned seed);
/* Parses cfg, randomizes it and saves the weights (Darknet's save_weights). */
int tu_random_weights(const char *cfg, const char *weights, unsigned seed);

/* Floats a network's weights file holds after its header, counted here from
 * the parsed layers (conv, connected, batchnorm only); -1 for other layers
 * with weights. */
long tu_weight_floats(const network *net);

/* FLOPs as stock `darknet ops` counts them, computed here from the layers. */
long tu_ops(const network *net);

/* Runs `prog ops cfg` (or `prog legr flops cfg`) and returns the number on
 * its "Floating Point Operations: N" line, or -1 (printing why). */
long tu_cmd_flops(const char *cmd);

/* Deterministic network input: x[i] = sin(i * 0.37) * 0.5 + 0.5. */
void tu_input(float *x, size_t n);

/* Runs net on tu_input (batch set to 1) and returns a malloc'd copy of the
 * outputs the stock_forward program writes: the final output (net->outputs
 * floats) followed by the outputs of every layer tu_dumped() picks ([yolo],
 * [region], [detection], and the layer before a [softmax]) in order.
 * *n gets the count. */
float *tu_forward_dump(network *net, size_t *n);
int tu_dumped(const network *net, int i);

/* Compares two such dumps of net, part by part (printing a line each);
 * returns the number of parts that differ by more than rel. */
int tu_compare_dumps(const network *net, const float *a, const float *b, double rel);

/* max |a - b|, and max |a| over both. */
double tu_max_abs_diff(const float *a, const float *b, size_t n);
double tu_max_abs(const float *a, size_t n);
/* 1 if max |a-b| <= rel * max(1, max|a|, max|b|); prints the numbers as
 * "label: ..." either way. */
int tu_close(const char *label, const float *a, const float *b, size_t n,
             double rel);

/* A cfg read by our own small parser (independent of legr's), for checking
 * legr's output files: sections in order, each with its key=value pairs in
 * order (keys and values stripped of blanks, comments and blank lines
 * skipped). */
typedef struct {
    char *type;
    int n;
    char **key;
    char **value;
} tu_sec;
typedef struct {
    int n;
    tu_sec *sec;
} tu_cfg;
int tu_cfg_parse(const char *path, tu_cfg *c);
void tu_cfg_free(tu_cfg *c);
const char *tu_cfg_get(const tu_sec *s, const char *key);

/* Redirects stdout/stderr to /dev/null and back (nestable once). */
void tu_quiet_begin(void);
void tu_quiet_end(void);

/* Runs stock Darknet's forward pass (build/tests/stock_forward, linked with
 * Debian's libdarknet.so) and ours on cfg/weights, and compares the dumps
 * (tu_compare_dumps).  Fails the test when they differ beyond rel or when
 * our output is all zero (a comparison that would mean nothing). */
void tu_assert_stock_forward_matches(const char *cfg, const char *weights,
                                     const char *dir, double rel);

/* ------------------------------------------------ OpenCV DNN (test_opencv.c) */

/* Built next to the tests, linked with Debian's OpenCV only. */
#define TU_OPENCV_FORWARD "build/tests/opencv_forward"

/* The input `darknet detector test` hands network_predict for an image:
 * load_image_color, then letterbox_image to w x h (CHW, RGB, in [0, 1],
 * grey 0.5 bars).  3 * w * h floats, malloc'd; NULL if it cannot be read. */
float *tu_letterbox_input(const char *jpg, int w, int h);

/* Writes int32 c, h, w then the c*h*w floats of x (opencv_forward's
 * input.bin).  0, or -1. */
int tu_write_chw(const char *path, const float *x, int c, int h, int w);

#endif
