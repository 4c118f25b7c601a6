/* test_labelpath.c: legr_label_path (legr/labelpath.c), the label file
 * Darknet's detector trainer reads for an image, on paths whose answers are
 * worked out by hand from fill_truth_detection's rewrites; paths near and
 * over the output buffer's size are cut, never overrun. */
#include "testutil.h"
#include "labelpath.h"

#include <string.h>

static void test_rewrites(void **state)
{
    const char *cases[][2] = {
        { "/d/images/train/000001.png", "/d/labels/train/000001.txt" },
        { "/voc/JPEGImages/2008_000001.jpg", "/voc/labels/2008_000001.txt" },
        { "/x/raw/a.JPEG", "/x/labels/a.txt" },
        { "/x/raw/a.JPG", "/x/labels/a.txt" },
        /* only the first of each, and each on the result of the one before */
        { "/images/raw/images/b.jpg.png", "/labels/labels/images/b.txt.txt" },
        { "/JPEGImages/images/c.png", "/labels/labels/c.txt" },
        { "plain.bmp", "plain.bmp" },
        { "", "" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
        char out[256];
        legr_label_path(cases[i][0], out, sizeof out);
        assert_string_equal(out, cases[i][1]);
    }
}

/* "raw" -> "labels" lengthens by 3: a path that fills the buffer is cut to
 * it; the bytes past it stay as they were. */
static void test_cut_to_the_buffer(void **state)
{
    char in[64], out[40 + 8];
    memset(in, 'a', sizeof in);
    memcpy(in, "/raw/", 5);
    in[36] = 0;                         /* 36 bytes -> 39 after the rewrite */
    memset(out, '#', sizeof out);
    legr_label_path(in, out, 40);       /* fits exactly (39 + NUL) */
    assert_int_equal(strlen(out), 39);
    assert_memory_equal(out, "/labels/aaa", 11);
    assert_int_equal(out[40], '#');
    in[36] = 'a';
    in[40] = 0;                         /* 40 bytes -> 43: cut to 39 */
    memset(out, '#', sizeof out);
    legr_label_path(in, out, 40);
    assert_int_equal(strlen(out), 39);
    assert_memory_equal(out, "/labels/aaa", 11);
    for (int i = 40; i < (int)sizeof out; ++i) assert_int_equal(out[i], '#');
}

/* A path far longer than Darknet's own 4096-byte buffer. */
static void test_long_path(void **state)
{
    size_t n = 10000;
    char *in = malloc(n + 1), *out = malloc(n + 8);
    assert_non_null(in);
    assert_non_null(out);
    memset(in, 'b', n);
    memcpy(in, "/images/", 8);
    memcpy(in + n - 4, ".png", 4);
    in[n] = 0;
    legr_label_path(in, out, n + 8);
    assert_int_equal(strlen(out), n);
    assert_memory_equal(out, "/labels/bbb", 11);
    assert_string_equal(out + n - 4, ".txt");
    free(in);
    free(out);
}

int main(void)
{
    tu_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rewrites),
        cmocka_unit_test(test_cut_to_the_buffer),
        cmocka_unit_test(test_long_path),
    };
    return cmocka_run_group_tests_name("labelpath", tests, NULL, NULL);
}
