#ifndef NEXUSFS_CPOPPLER_SHIM_H
#define NEXUSFS_CPOPPLER_SHIM_H
#include <poppler.h>

/// g_object_unref takes a gpointer; a typed wrapper keeps Swift from casting documents and pages by hand.
static inline void nx_poppler_unref_document(PopplerDocument *document) { g_object_unref(document); }
/// See nx_poppler_unref_document.
static inline void nx_poppler_unref_page(PopplerPage *page) { g_object_unref(page); }
#endif
