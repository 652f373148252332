internal import CMagic
import Synchronization

/// What libmagic says of some bytes: the MIME type and the character set ("binary" for non-text).
struct MagicVerdict: Equatable {
    /// The MIME type, e.g. "text/plain".
    var mime: String
    /// The character set, e.g. "utf-8", "iso-8859-1", "binary".
    var charset: String

    /// The verdict when libmagic cannot be used or says nothing.
    static let unknown = MagicVerdict(mime: "application/octet-stream", charset: "binary")
}

/// libmagic's default database, loaded once per process and used under a lock (a magic cookie is
/// not thread-safe).
enum MagicDatabase {
    /// The cookie; nil until first use, and still nil when the database failed to load.
    /// A leaf lock: nothing else is locked while it is held.
    private static let cookie = Mutex<Cookie>(Cookie())

    /// A lazily opened magic cookie; only ever touched under the lock.
    private struct Cookie: ~Copyable, @unchecked Sendable {
        /// The open cookie, once `open()` succeeded.
        var handle: magic_t?
        /// Whether opening was tried (a failed load is not retried on every file).
        var tried = false
    }

    /// libmagic's MIME type and character set for `bytes` (MAGIC_MIME = type and encoding).
    static func identify(_ bytes: UnsafeRawBufferPointer) -> MagicVerdict {
        cookie.withLock { cookie -> MagicVerdict in
            if !cookie.tried {
                cookie.tried = true
                if let handle = magic_open(MAGIC_MIME_TYPE | MAGIC_MIME_ENCODING | MAGIC_ERROR) {
                    if magic_load(handle, nil) == 0 {
                        cookie.handle = handle
                    } else {
                        magic_close(handle)
                    }
                }
            }
            guard let handle = cookie.handle else { return .unknown }
            // magic_buffer wants a pointer even for no bytes.
            let answer: UnsafePointer<CChar>? = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 1) { empty in
                magic_buffer(handle, bytes.baseAddress ?? UnsafeRawPointer(empty.baseAddress!), bytes.count)
            }
            guard let answer else { return .unknown }
            return parse(String(cString: answer))
        }
    }

    /// Splits "text/plain; charset=utf-8" into its type and character set.
    static func parse(_ answer: String) -> MagicVerdict {
        let parts = answer.split(separator: ";", maxSplits: 1)
        let mime = parts.first.map { $0.trimmingSpaces } ?? ""
        var charset = "binary"
        if parts.count == 2, let range = parts[1].range(of: "charset=") {
            charset = String(parts[1][range.upperBound...]).trimmingSpaces.lowercased()
        }
        return MagicVerdict(mime: mime.isEmpty ? MagicVerdict.unknown.mime : mime, charset: charset)
    }
}

extension StringProtocol {
    /// The string without leading and trailing spaces.
    var trimmingSpaces: String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
