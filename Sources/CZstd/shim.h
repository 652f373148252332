#ifndef NEXUSFS_CZSTD_SHIM_H
#define NEXUSFS_CZSTD_SHIM_H
#include <zstd.h>

/// ZSTD_isError takes a size_t and Swift sees it fine, but ZSTD_CONTENTSIZE_* are macros.
static inline unsigned long long nx_zstd_contentsize_unknown(void) { return ZSTD_CONTENTSIZE_UNKNOWN; }
static inline unsigned long long nx_zstd_contentsize_error(void) { return ZSTD_CONTENTSIZE_ERROR; }
#endif
