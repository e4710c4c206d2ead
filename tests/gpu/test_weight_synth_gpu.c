/* Synthetic weights drawn on a real GPU: the emu test's checks (bit-identical
 * to the host's values, logits identical either way) with the cuda backend,
 * where NVRTC would fuse the draw's multiply-add if the kernel let it. */
#define PF_TEST_DEVICE "cuda"
#include "../unit/test_weight_synth_dev.c"
