/* CUPTI as a measurement observer (measure/observer.h): times each sample
 * from the GPU's kernel timestamps and reports the device memory peak. */
#ifndef PF_CUPTI_OBSERVER_H
#define PF_CUPTI_OBSERVER_H

#include "device/device.h"

struct pf_measure_observer;

/* Fill `out` (the backend's `profiler` op). */
int pf_cupti_observer(pf_device *dev, struct pf_measure_observer *out);

#endif
