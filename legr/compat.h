/* compat.h: the Darknet functions legr calls that patches outside the plugin
 * group add (patches/series): gemm_cpu_set_threads (gemm-cpu-use-blas),
 * forward_layer_inference (inference-without-delta-bookkeeping) and
 * try_load_image (hardening-image-loader-no-shell).  Declared here so that
 * legr also builds on Darknet with the plugin group alone
 * (make PATCH_GROUPS=plugin); legr/compat.c holds their fallbacks. */
#ifndef LEGR_COMPAT_H
#define LEGR_COMPAT_H

#include "darknet.h"

/* Threads of the CPU GEMM (and of Darknet's OpenMP loops). */
void gemm_cpu_set_threads(int n);

/* Runs one layer as network_predict does (no copy of BN's input kept for a
 * backward pass): the layer loops of legr's inference-only passes. */
void forward_layer_inference(layer l, network net);

/* load_image that returns an image with data == NULL (w == 0) when filename
 * cannot be read or decoded, where stock Darknet exits or prints and goes on
 * with a blank image. */
image try_load_image(char *filename, int w, int h, int c);

/* compat.c's fallback for try_load_image, under its own name so the tests
 * reach it on any build: stb_image's decode, as Darknet's load_image_stb
 * (without its exit on failure), resized to w x h when both are given. */
image legr_stb_load_image(char *filename, int w, int h, int c);

#endif
