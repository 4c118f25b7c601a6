/* bench-opencv.cpp: the forward latency of a Darknet cfg+weights pair run by
 * OpenCV's DNN module (readNetFromDarknet, its own CPU backend, one thread),
 * at batch 1 and the cfg's own input size, for scripts/bench-latency.sh to
 * set beside `darknet legr bench`.  Built by the Makefile into
 * build/bench-opencv; it never links Darknet.
 *
 *   bench-opencv <cfg> <weights> [runs] [warmup]
 *
 * Prints one line: opencv <cfg> <median_ms> <min_ms> <max_ms>, the times of
 * `runs` net.forward(outNames) calls (default 20) after `warmup` untimed
 * ones (default 3).  The input is a fixed pseudo-random blob: the values do
 * not change the time. */
#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

/* width= and height= of the cfg's [net] section (0 when absent). */
static bool read_input_size(const std::string &cfg, int *w, int *h)
{
    std::ifstream in(cfg);
    if (!in) return false;
    std::string line;
    bool in_net = false;
    *w = *h = 0;
    while (std::getline(in, line)) {
        line.erase(std::remove_if(line.begin(), line.end(), ::isspace), line.end());
        if (line.empty() || line[0] == '#' || line[0] == ';') continue;
        if (line[0] == '[') {
            if (in_net) break;
            in_net = line == "[net]" || line == "[network]";
            continue;
        }
        if (!in_net) continue;
        if (line.compare(0, 6, "width=") == 0) *w = std::atoi(line.c_str() + 6);
        if (line.compare(0, 7, "height=") == 0) *h = std::atoi(line.c_str() + 7);
    }
    return *w > 0 && *h > 0;
}

static double elapsed_ms(std::chrono::steady_clock::time_point t0)
{
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

static double median_of(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        std::fprintf(stderr, "usage: bench-opencv <cfg> <weights> [runs 20] [warmup 3]\n");
        return 2;
    }
    std::string cfg = argv[1], weights = argv[2];
    int runs = argc > 3 ? std::atoi(argv[3]) : 20;
    int warmup = argc > 4 ? std::atoi(argv[4]) : 3;
    int w, h;
    if (runs < 1 || warmup < 0) {
        std::fprintf(stderr, "bench-opencv: runs must be >= 1 and warmup >= 0\n");
        return 2;
    }
    if (!std::ifstream(cfg)) {
        std::fprintf(stderr, "bench-opencv: %s: cannot open\n", cfg.c_str());
        return 1;
    }
    if (!read_input_size(cfg, &w, &h)) {
        std::fprintf(stderr, "bench-opencv: %s: no width= and height= in its [net] section\n", cfg.c_str());
        return 1;
    }
    cv::setNumThreads(1);
    cv::dnn::Net net;
    try {
        net = cv::dnn::readNetFromDarknet(cfg, weights);
    } catch (const cv::Exception &e) {
        std::fprintf(stderr, "bench-opencv: %s: OpenCV cannot read it: %s\n", cfg.c_str(), e.what());
        return 1;
    }
    net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
    std::vector<std::string> outs = net.getUnconnectedOutLayersNames();

    int shape[] = {1, 3, h, w};
    cv::Mat blob(4, shape, CV_32F);
    cv::RNG rng(1);
    rng.fill(blob, cv::RNG::UNIFORM, 0.f, 1.f);

    std::vector<cv::Mat> result;
    std::vector<double> ms;
    for (int i = 0; i < warmup + runs; ++i) {
        auto t0 = std::chrono::steady_clock::now();
        net.setInput(blob);
        net.forward(result, outs);
        if (i >= warmup) ms.push_back(elapsed_ms(t0));
    }
    std::printf("opencv %s %.2f %.2f %.2f\n", cfg.c_str(), median_of(ms),
                *std::min_element(ms.begin(), ms.end()), *std::max_element(ms.begin(), ms.end()));
    return 0;
}
