/* Load an emu kernel's shared object without a window between the trust
 * check and the load: the file is opened (O_NOFOLLOW), checked on the open
 * fd (regular, the user's own, not group/other-writable: core/file_trust.h)
 * and dlopen'd through that fd. */
#ifndef PF_EMU_DLOPEN_H
#define PF_EMU_DLOPEN_H

/* dlopen handle (RTLD_NOW | RTLD_LOCAL), or NULL with pf_error set. */
void *pf_emu_dlopen_trusted(const char *path);

/* The file a loaded kernel came from, by its load base (dladdr's
 * dli_fbase): dladdr itself only knows the /proc/self/fd path it was
 * loaded through, which is gone once the fd is closed (reports need the
 * real file for addr2line). NULL if unknown. */
const char *pf_emu_module_path(const void *base);

#endif
