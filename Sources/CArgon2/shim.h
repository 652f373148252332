#ifndef NEXUSFS_CARGON2_SHIM_H
#define NEXUSFS_CARGON2_SHIM_H
/// libargon2's raw Argon2id entry point; nothing needs wrapping.
#include <argon2.h>
#endif
