#ifndef NEXUSFS_CLIBXML2_SHIM_H
#define NEXUSFS_CLIBXML2_SHIM_H
#include <libxml/xmlversion.h>
/// Debian's libxml2 is built with ICU, and its encoding.h then includes ICU's headers, whose enums clash
/// with the copy of ICU inside Swift's Foundation. Only the ICU fields of xmlCharEncodingHandler depend on
/// this, and nexusfs never touches that struct.
#undef LIBXML_ICU_ENABLED
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#endif
