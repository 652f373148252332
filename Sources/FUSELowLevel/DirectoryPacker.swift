internal import CFUSE
internal import Glibc

/// A readdir reply under construction: entries packed with fuse_add_direntry(_plus) into the
/// buffer the kernel sized. The first invalid entry stops the listing and fails the request.
struct DirectoryPacker {
    let storage: UnsafeMutableRawBufferPointer
    let plus: Bool
    private(set) var used = 0
    private(set) var failure: BindingError?

    init(storage: UnsafeMutableRawBufferPointer, plus: Bool) {
        self.storage = storage
        self.plus = plus
    }

    /// Adds `entry` if it fits; false when the buffer is full (or the listing has failed).
    mutating func add(_ entry: FUSEDirectoryEntry, for req: fuse_req_t?) -> Bool {
        guard failure == nil else { return false }
        guard !entry.name.isEmpty, !entry.name.contains(0), !entry.name.contains(UInt8(ascii: "/")) else {
            failure = BindingError("readdir entry \(entry.name) for inode \(entry.ino) is not a valid name")
            return false
        }
        let remaining = storage.count - used
        let destination = storage.baseAddress.map { ($0 + used).assumingMemoryBound(to: CChar.self) }
        let needed = Trampoline.withCString(entry.name) { name -> Int in
            if plus {
                var param = entry.entry?.cValue ?? Self.attributesOnly(entry)
                return fuse_add_direntry_plus(req, destination, remaining, name, &param, off_t(entry.nextOffset))
            }
            var st = stat()
            st.st_ino = numericCast(entry.ino)
            st.st_mode = numericCast(entry.mode)
            return fuse_add_direntry(req, destination, remaining, name, &st, off_t(entry.nextOffset))
        }
        // libfuse returns the size the entry needs and writes nothing when it does not fit.
        guard needed <= remaining else { return false }
        used += needed
        return true
    }

    /// A readdirplus entry with inode 0: the kernel lists it but caches nothing and counts no lookup.
    private static func attributesOnly(_ entry: FUSEDirectoryEntry) -> fuse_entry_param {
        var param = fuse_entry_param()
        param.attr.st_ino = numericCast(entry.ino)
        param.attr.st_mode = numericCast(entry.mode)
        return param
    }
}
