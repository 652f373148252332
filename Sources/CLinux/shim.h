#ifndef NEXUSFS_CLINUX_SHIM_H
#define NEXUSFS_CLINUX_SHIM_H
/// Linux headers that Swift's Glibc module leaves out. Nothing here may define
/// _GNU_SOURCE: that would give types a second, conflicting definition.
#include <sys/xattr.h>
#include <spawn.h>
#include <linux/memfd.h>

/// glibc declares these only under _GNU_SOURCE (see above), so they are declared here as glibc has them.
/// pipe2: a pipe whose ends are close-on-exec from the start, with no window for another thread's fork.
extern int pipe2(int pipefd[2], int flags);
/// posix_spawn_file_actions_addclosefrom_np (glibc 2.34): the child closes every descriptor from `from` up.
extern int posix_spawn_file_actions_addclosefrom_np(posix_spawn_file_actions_t *actions, int from);
/// memfd_create: an anonymous in-memory file, for libraries that read only through a path or FILE*.
extern int memfd_create(const char *name, unsigned int flags);
#endif
