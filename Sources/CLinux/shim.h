#ifndef NEXUSFS_CLINUX_SHIM_H
#define NEXUSFS_CLINUX_SHIM_H
/// Linux headers that Swift's Glibc module leaves out. Nothing here may define
/// _GNU_SOURCE: that would give types a second, conflicting definition.
#include <sys/xattr.h>
#endif
