/* opencv_forward.cpp: a Darknet cfg+weights pair run by OpenCV's DNN module
 * (cv::dnn::readNetFromDarknet, Debian's libopencv-dnn), never by Darknet.
 *
 *   opencv_forward <cfg> <weights> <input.bin> <out.bin> [<layer> ...]
 *
 * input.bin: int32 c, h, w, then c*h*w floats (CHW, the image exactly as
 * Darknet's network_predict receives it; the tests write it, so both sides
 * see the same blob and preprocessing is not part of the comparison).
 *
 * Two forward passes, one thread (cv::setNumThreads(1)):
 *   1. as a user runs it (OpenCV backend, CPU, layer fusion on): the
 *      network's unconnected outputs, i.e. the [yolo] heads;
 *   2. with fusion off, the output of each Darknet layer index <layer>: the
 *      output of the last OpenCV layer the importer made for it (conv_K,
 *      bn_K, then leaky_K+1 for a leaky conv; pool_K, shortcut_K,
 *      permute_K + yolo_K, ...), which holds the whole Darknet layer's
 *      result.  Fusion would make some of those outputs mean something else:
 *      a linear conv followed by [dropout] and [shortcut] is fused with the
 *      sum, and its "output" is then the shortcut's.
 *
 * out.bin: for each output, int32 Darknet layer index, int32 pass (1 or 2),
 * int32 count, then count floats in OpenCV's layout (NCHW for feature maps;
 * a [yolo] layer gives one row per cell and anchor: x, y, w, h normalised,
 * objectness, class scores), pass 1's first.  It prints one line per
 * output; exit status 0, or 1 with one line on stderr saying what OpenCV
 * refused (and no out.bin). */
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/core/utils/logger.hpp>
#include <opencv2/dnn.hpp>

static int fail(const std::string &what)
{
    std::fprintf(stderr, "opencv_forward: %s\n", what.c_str());
    return 1;
}

/* OpenCV's message for e on one line. */
static std::string one_line(const cv::Exception &e)
{
    std::string m = e.what();
    for (size_t i = 0; i < m.size(); ++i)
        if (m[i] == '\n' || m[i] == '\r') m[i] = ' ';
    while (!m.empty() && m[m.size() - 1] == ' ') m.erase(m.size() - 1);
    return m;
}

/* The input blob (1 x c x h x w), or an empty Mat. */
static cv::Mat read_input(const char *path)
{
    FILE *fp = std::fopen(path, "rb");
    int32_t dim[3];
    cv::Mat blob;
    if (!fp) return blob;
    if (std::fread(dim, sizeof(int32_t), 3, fp) == 3 && dim[0] > 0 && dim[1] > 0 && dim[2] > 0) {
        int sizes[4] = {1, dim[0], dim[1], dim[2]};
        size_t n = (size_t)dim[0] * dim[1] * dim[2];
        blob.create(4, sizes, CV_32F);
        if (std::fread(blob.ptr<float>(), sizeof(float), n, fp) != n) blob.release();
    }
    std::fclose(fp);
    return blob;
}

/* The kinds of layer the importer makes for a Darknet section itself, named
 * "<kind>_<index>"; anything else (leaky_K, logistic_K, swish_K, ...) is an
 * activation, which it names after the NEXT index, having already counted
 * the layer it belongs to: "leaky_5" is the leaky of Darknet layer 4. */
static int is_activation(const std::string &kind)
{
    static const char *const own[] = {"conv", "bn", "fullyConnected", "pool", "avgpool",
                                      "softmax", "concat", "identity", "reorg", "permute",
                                      "yolo", "shortcut", "scale_channels", "upsample"};
    for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); ++i)
        if (kind == own[i]) return 0;
    return 1;
}

/* Darknet layer index -> the last OpenCV layer the importer made for it
 * (getLayerNames lists them in the order they were made). */
static std::map<int, std::string> layers_by_index(const cv::dnn::Net &net)
{
    std::map<int, std::string> last;
    std::vector<std::string> names = net.getLayerNames();
    for (size_t i = 0; i < names.size(); ++i) {
        const std::string &s = names[i];
        size_t u = s.rfind('_');
        char *end = NULL;
        long k;
        if (u == std::string::npos || u + 1 >= s.size()) continue;
        k = std::strtol(s.c_str() + u + 1, &end, 10);
        if (*end || k < 0) continue;
        if (is_activation(s.substr(0, u))) --k;
        if (k >= 0) last[(int)k] = s;
    }
    return last;
}

static int write_blob(FILE *fp, int32_t index, int32_t pass, const cv::Mat &m)
{
    cv::Mat c = m.isContinuous() ? m : m.clone();
    int32_t hdr[3] = {index, pass, (int32_t)c.total()};
    if (c.type() != CV_32F) return -1;
    if (std::fwrite(hdr, sizeof(int32_t), 3, fp) != 3) return -1;
    if (std::fwrite(c.ptr<float>(), sizeof(float), c.total(), fp) != c.total()) return -1;
    return 0;
}

/* One forward pass for the outputs `names`. */
struct pass {
    std::vector<std::string> names;
    std::vector<int> index;
    std::vector<cv::Mat> outs;
};

int main(int argc, char **argv)
{
    cv::dnn::Net net;
    std::map<int, std::string> by_index;
    std::map<std::string, int> index_of;
    pass p[2];
    cv::Mat blob;
    FILE *fp;

    if (argc < 5) {
        std::fprintf(stderr, "usage: %s <cfg> <weights> <input.bin> <out.bin> [<layer> ...]\n",
                     argv[0]);
        return 2;
    }
    std::string what = std::string(argv[1]) + " + " + argv[2];
    cv::setNumThreads(1);
    cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_ERROR);
    blob = read_input(argv[3]);
    if (blob.empty()) return fail(std::string("cannot read the input blob ") + argv[3]);
    try {
        net = cv::dnn::readNetFromDarknet(argv[1], argv[2]);
    } catch (const cv::Exception &e) {
        return fail("readNetFromDarknet refuses " + what + ": " + one_line(e));
    }
    if (net.empty()) return fail("readNetFromDarknet returned an empty network for " + what);
    net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);

    by_index = layers_by_index(net);
    for (std::map<int, std::string>::iterator it = by_index.begin(); it != by_index.end(); ++it)
        index_of[it->second] = it->first;
    p[0].names = net.getUnconnectedOutLayersNames();
    for (size_t i = 0; i < p[0].names.size(); ++i)
        p[0].index.push_back(index_of.count(p[0].names[i]) ? index_of[p[0].names[i]] : -1);
    for (int i = 5; i < argc; ++i) {
        int k = std::atoi(argv[i]);
        if (!by_index.count(k))
            return fail(std::string("no OpenCV layer for Darknet layer ") + argv[i] + " of " + what);
        p[1].names.push_back(by_index[k]);
        p[1].index.push_back(k);
    }
    for (int i = 0; i < 2; ++i) {
        if (p[i].names.empty()) continue;
        try {
            if (i == 1) net.enableFusion(false);
            net.setInput(blob);
            net.forward(p[i].outs, p[i].names);
        } catch (const cv::Exception &e) {
            return fail("forward pass " + std::to_string(i + 1) + " on " + what + " fails: " +
                        one_line(e));
        }
    }
    fp = std::fopen(argv[4], "wb");
    if (!fp) return fail(std::string("cannot write ") + argv[4]);
    for (int i = 0; i < 2; ++i)
        for (size_t j = 0; j < p[i].outs.size(); ++j) {
            const cv::Mat &m = p[i].outs[j];
            if (write_blob(fp, p[i].index[j], i + 1, m) != 0) {
                std::fclose(fp);
                std::remove(argv[4]);
                return fail(std::string("cannot write ") + argv[4]);
            }
            std::printf("pass %d layer %d: %s", i + 1, p[i].index[j], p[i].names[j].c_str());
            for (int d = 0; d < m.dims; ++d) std::printf("%s%d", d ? "x" : " ", m.size[d]);
            std::printf("\n");
        }
    if (std::fclose(fp) != 0) {
        std::remove(argv[4]);
        return fail(std::string("cannot write ") + argv[4]);
    }
    return 0;
}
