/* imagecheck.h: the check that every image of a training list decodes,
 * remembered in legr's cache so that a list is decoded once, not at every
 * start of a search or fine-tuning. */
#ifndef LEGR_IMAGECHECK_H
#define LEGR_IMAGECHECK_H

#include <stddef.h>

/* 0 when each of the n paths decodes (legr_image_decode), else -1 with err
 * naming the first that does not: for lists Darknet's trainer loads, which
 * would train on a blank image in place of an undecodable one.
 *
 * A list that passed is remembered in the cache directory by a fingerprint of
 * every path with its file's device, inode, size and change times, and of
 * this ./darknet binary: the same list of unchanged files is not decoded
 * again.  Any change to any file (or another binary) means a full check.  On
 * a terminal, a progress line with ETA is shown on stderr while decoding. */
int legr_images_check(char *const *paths, int n, const char *listfile, char *err, size_t errlen);

#endif
