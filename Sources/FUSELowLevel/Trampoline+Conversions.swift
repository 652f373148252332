internal import CFUSE
internal import Glibc

// Conversions between the public value types and libfuse's C structs; only the trampoline uses them.

extension FUSETimespec {
    init(_ time: timespec) {
        self.init(seconds: Int64(time.tv_sec), nanoseconds: Int64(time.tv_nsec))
    }

    var cValue: timespec {
        timespec(tv_sec: numericCast(seconds), tv_nsec: numericCast(nanoseconds))
    }
}

extension FUSEAttributes {
    var cValue: stat {
        var st = stat()
        st.st_ino = numericCast(ino)
        st.st_mode = numericCast(mode)
        st.st_nlink = numericCast(nlink)
        st.st_uid = numericCast(uid)
        st.st_gid = numericCast(gid)
        st.st_rdev = numericCast(rdev)
        st.st_size = numericCast(size)
        st.st_blocks = numericCast(blocks)
        st.st_blksize = numericCast(blockSize)
        st.st_atim = atime.cValue
        st.st_mtim = mtime.cValue
        st.st_ctim = ctime.cValue
        return st
    }
}

extension FUSEEntry {
    var cValue: fuse_entry_param {
        var entry = fuse_entry_param()
        entry.ino = ino
        entry.generation = generation
        entry.attr = attributes.cValue
        entry.attr_timeout = attributeTimeout
        entry.entry_timeout = entryTimeout
        return entry
    }
}

extension FUSEOpenOptions {
    /// Sets the handle and the caching bits of `fi` (Swift imports its bitfields as properties).
    func apply(to fi: inout fuse_file_info) {
        fi.fh = handle
        fi.direct_io = directIO ? 1 : 0
        fi.keep_cache = keepCache ? 1 : 0
        fi.nonseekable = nonSeekable ? 1 : 0
        fi.cache_readdir = cacheDirectory ? 1 : 0
        fi.noflush = noFlush ? 1 : 0
    }
}

extension FUSESetAttributes {
    /// The changes selected by `toSet` (FUSE_SET_ATTR_*) from `attr`.
    init(_ attr: stat, toSet: Int32, handle: UInt64?) {
        func has(_ flag: Int32) -> Bool { toSet & flag != 0 }
        func time(_ flag: Int32, now: Int32, _ value: timespec) -> FUSETimeChange? {
            guard has(flag) else { return nil }
            return has(now) ? .now : .time(FUSETimespec(value))
        }
        self.init(
            mode: has(FUSE_SET_ATTR_MODE) ? numericCast(attr.st_mode) : nil,
            uid: has(FUSE_SET_ATTR_UID) ? numericCast(attr.st_uid) : nil,
            gid: has(FUSE_SET_ATTR_GID) ? numericCast(attr.st_gid) : nil,
            size: has(FUSE_SET_ATTR_SIZE) ? numericCast(attr.st_size) : nil,
            atime: time(FUSE_SET_ATTR_ATIME, now: FUSE_SET_ATTR_ATIME_NOW, attr.st_atim),
            mtime: time(FUSE_SET_ATTR_MTIME, now: FUSE_SET_ATTR_MTIME_NOW, attr.st_mtim),
            ctime: has(FUSE_SET_ATTR_CTIME) ? FUSETimespec(attr.st_ctim) : nil,
            handle: handle)
    }
}

extension FUSEStatfs {
    var cValue: statvfs {
        var st = statvfs()
        st.f_bsize = numericCast(blockSize)
        st.f_frsize = numericCast(fragmentSize)
        st.f_blocks = numericCast(blocks)
        st.f_bfree = numericCast(blocksFree)
        st.f_bavail = numericCast(blocksAvailable)
        st.f_files = numericCast(files)
        st.f_ffree = numericCast(filesFree)
        st.f_favail = numericCast(filesAvailable)
        st.f_namemax = numericCast(nameMax)
        return st
    }
}

extension FUSEConnection {
    init(_ conn: fuse_conn_info) {
        self.init(
            protocolMajor: conn.proto_major, protocolMinor: conn.proto_minor, maxWrite: conn.max_write,
            maxRead: conn.max_read, maxReadahead: conn.max_readahead, maxBackground: conn.max_background,
            congestionThreshold: conn.congestion_threshold, timeGranularity: conn.time_gran,
            capable: FUSECapabilities(rawValue: UInt64(conn.capable)),
            want: FUSECapabilities(rawValue: UInt64(conn.want)))
    }

    /// Writes the adjustable fields back; wanted capabilities the kernel lacks are dropped and logged,
    /// since libfuse would abort the connection for them.
    func apply(to conn: inout fuse_conn_info) {
        conn.max_write = maxWrite
        conn.max_readahead = maxReadahead
        conn.max_background = maxBackground
        conn.congestion_threshold = congestionThreshold
        conn.time_gran = timeGranularity
        let unavailable = want.subtracting(capable)
        if !unavailable.isEmpty {
            Diagnostics.log("initialize wanted capabilities 0x\(String(unavailable.rawValue, radix: 16)) "
                + "that the kernel does not offer; ignoring them")
        }
        conn.want = UInt32(truncatingIfNeeded: want.intersection(capable).rawValue)
    }
}
