/* Dense bf16 tensor-core peaks of known GPUs (NVIDIA datasheets, without
 * sparsity), matched by device name; more specific names first. */
#include <string.h>

#include "report/rctx.h"

static const struct {
    const char *match, *part;
    double tflops;
} peaks[] = {
    {"H100 PCIe", "H100 PCIe", 756},
    {"H200", "H200", 989},
    {"H100", "H100 SXM", 989},
    {"A100", "A100", 312},
    {"L4", "L4", 121},
    {"A10", "A10", 125},
};

double pf_peak_bf16_tflops(const char *device, const char **part)
{
    *part = NULL;
    for (size_t i = 0; i < sizeof peaks / sizeof peaks[0]; i++) {
        const char *m = strstr(device, peaks[i].match);
        size_t n = strlen(peaks[i].match);
        /* "A10" must not match "A100": the next character ends the name */
        if (m && (m[n] == '\0' || m[n] == ' ' || m[n] == '-')) {
            *part = peaks[i].part;
            return peaks[i].tflops;
        }
    }
    return 0;
}
