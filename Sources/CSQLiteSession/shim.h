#ifndef NEXUSFS_CSQLITESESSION_SHIM_H
#define NEXUSFS_CSQLITESESSION_SHIM_H
/// Debian's libsqlite3 is built with the session extension, but sqlite3.h only
/// declares it under these macros.
#define SQLITE_ENABLE_SESSION 1
#define SQLITE_ENABLE_PREUPDATE_HOOK 1
#include <stddef.h>
#include <sqlite3.h>

/// The changeset conflict handler is a C function pointer; this one resolves
/// every conflict of a replay by taking the journaled row (REPLACE) or skipping
/// a change whose row is already gone (OMIT).
static inline int nx_changeset_conflict(void *ctx, int eConflict, sqlite3_changeset_iter *it) {
    (void)ctx; (void)it;
    if (eConflict == SQLITE_CHANGESET_DATA || eConflict == SQLITE_CHANGESET_CONFLICT) return SQLITE_CHANGESET_REPLACE;
    return SQLITE_CHANGESET_OMIT;
}
static inline int nx_changeset_apply(sqlite3 *db, int n, void *data) {
    return sqlite3changeset_apply(db, n, data, NULL, nx_changeset_conflict, NULL);
}
#endif
