#ifndef NEXUSFS_CFUSE_SHIM_H
#define NEXUSFS_CFUSE_SHIM_H
/// libfuse3's low-level (inode-based) API at the 3.12 level. Swift imports the bitfields of
/// fuse_file_info as settable properties, so they need no wrappers here.
#define FUSE_USE_VERSION 312
#include <fuse3/fuse_lowlevel.h>

/// A hint to the processor inside a spin-wait (PAUSE on x86, YIELD on ARM).
static inline void nx_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}
#endif
