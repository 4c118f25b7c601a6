/* stock_forward.c: built against Debian's STOCK libdarknet.so (never ours).
 *
 *   stock_forward <cfg> <weights> <out.bin>
 *
 * Parses the cfg with stock Darknet, loads the weights, runs one forward pass
 * at batch 1 on the deterministic input of forward_dump.h and writes, as raw
 * floats, the final output followed by the outputs of every
 * [yolo]/[region]/[detection] layer and of the layer before a
 * [softmax] (forward_dump.h).  The tests compare this with the same pass
 * through our libdarknet. */
#include <stdio.h>
#include <stdlib.h>

#include "darknet.h"
#include "forward_dump.h"

int main(int argc, char **argv)
{
    network *net;
    float *out;
    size_t n = 0;
    FILE *fp;

    if (argc != 4) {
        fprintf(stderr, "usage: %s <cfg> <weights> <out.bin>\n", argv[0]);
        return 2;
    }
    gpu_index = -1;
    net = parse_network_cfg(argv[1]);
    if (!net) {
        fprintf(stderr, "stock_forward: cannot parse %s\n", argv[1]);
        return 1;
    }
    load_weights(net, argv[2]);
    out = fd_forward(net, &n);
    if (!out) {
        fprintf(stderr, "stock_forward: out of memory\n");
        return 1;
    }
    fp = fopen(argv[3], "wb");
    if (!fp || fwrite(out, sizeof(float), n, fp) != n || fclose(fp) != 0) {
        fprintf(stderr, "stock_forward: cannot write %s\n", argv[3]);
        return 1;
    }
    printf("stock_forward: %zu floats written to %s\n", n, argv[3]);
    free(out);
    free_network(net);
    return 0;
}
