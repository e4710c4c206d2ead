/* PF_EMU_ASAN is defined when AddressSanitizer instruments this build: the
 * emu runtime then annotates fiber switches and clears stale stack shadow. */
#ifndef PF_EMU_ASAN_H
#define PF_EMU_ASAN_H

#if defined(__SANITIZE_ADDRESS__)
#define PF_EMU_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PF_EMU_ASAN 1
#endif
#endif
#ifdef PF_EMU_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

#endif
