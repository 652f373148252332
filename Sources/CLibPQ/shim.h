#ifndef NEXUSFS_CLIBPQ_SHIM_H
#define NEXUSFS_CLIBPQ_SHIM_H
#include <postgresql/libpq-fe.h>
#endif
