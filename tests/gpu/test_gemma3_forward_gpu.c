/* The Gemma-3 forward on a real GPU: the emu test's checks (against the C
 * reference on random layouts, and against HF's logits where the fixtures
 * are present) with the cuda backend. */
#define PF_TEST_DEVICE "cuda"
#include "../unit/test_gemma3_forward.c"
