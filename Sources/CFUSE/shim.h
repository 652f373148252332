#ifndef NEXUSFS_CFUSE_SHIM_H
#define NEXUSFS_CFUSE_SHIM_H
/// libfuse3's low-level (inode-based) API at the 3.12 level: the loop configuration
/// object (fuse_loop_cfg_*) needs at least 312. Swift imports the bitfields of
/// fuse_file_info as settable properties, so they need no wrappers here.
#define FUSE_USE_VERSION 312
#include <fuse3/fuse_lowlevel.h>

/// A macro for fuse_session_loop_mt_312 on libfuse builds without versioned symbols
/// (Debian's is built with them, so there it is a function); this picks the 3.12 ABI on both.
static inline int nx_session_loop_mt(struct fuse_session *se, struct fuse_loop_config *config) {
    return fuse_session_loop_mt(se, config);
}
#endif
