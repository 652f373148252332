#ifndef NEXUSFS_CMAGIC_SHIM_H
#define NEXUSFS_CMAGIC_SHIM_H
#include <magic.h>
#endif
