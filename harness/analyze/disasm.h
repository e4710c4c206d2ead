/* NVIDIA's SASS disassemblers (nvdisasm, else cuobjdump) run on a cubin.
 * The CUDA toolkit image has neither binary; tools/setup.sh installs them
 * from PyPI (nvidia-cuda-nvdisasm, nvidia-cuda-cuobjdump) into the
 * project's .tools-venv. */
#ifndef PF_DISASM_H
#define PF_DISASM_H

#include <stddef.h>

typedef enum { PF_DISASM_NVDISASM, PF_DISASM_CUOBJDUMP } pf_disasm_kind;

typedef struct pf_disasm_tool {
    char path[1024];
    pf_disasm_kind kind;
} pf_disasm_tool;

/* The first of: $PFTUNE_NVDISASM (either tool; cuobjdump when its name says
 * so), nvdisasm on PATH, $CUDA_HOME/bin or /usr/local/cuda/bin, the pip
 * location (<source dir>/.tools-venv, then ~/.local:
 * lib/python3.* /site-packages/nvidia/cu* /bin), then cuobjdump in the same
 * places. -1 with a message naming what to install when there is none. */
int pf_disasm_find(pf_disasm_tool *out);

/* Disassemble the code sections of a cubin: *sass gets the tool's output
 * (malloc'd, NUL-terminated). -1 with the tool's first error line. */
int pf_disasm_cubin(const pf_disasm_tool *tool, const void *cubin, size_t size, char **sass);

#endif
