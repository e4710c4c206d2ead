/* Facts of a device without keeping it open in this process: the device is
 * opened in a forked child, because a CUDA context does not survive fork
 * and the workers that measure are forked later. */
#ifndef PF_DEVICE_PROBE_H
#define PF_DEVICE_PROBE_H

#include <stddef.h>

#include "device/device.h"

/* Open `which` ("auto", "emu", "cuda:1", ...) in a child; its properties
 * and arch (device/arch.h) come back. 0, or -1 with the child's message. */
int pf_device_probe(const char *which, pf_device_props *props, char *arch, size_t arch_size);
/* The same in this process (when nothing will fork afterwards). */
int pf_device_probe_here(const char *which, pf_device_props *props, char *arch,
                         size_t arch_size);

#endif
