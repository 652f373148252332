import Glibc

/// The bytes each command-line argument was given as. POSIX names need not be UTF-8, and Swift's
/// `CommandLine.arguments` repairs invalid UTF-8 with U+FFFD, which names no file: the commands
/// that take a path on a mount or in a repository find its bytes here.
enum RawArguments {
    static let all: [[UInt8]] = (0..<Int(CommandLine.argc)).compactMap { index in
        CommandLine.unsafeArgv[index].map { Array(UnsafeBufferPointer(start: UnsafeRawPointer($0).assumingMemoryBound(to: UInt8.self), count: strlen($0))) }
    }

    /// The bytes of the argument that decodes to `text` (also given as `--option=text`); `text`'s
    /// UTF-8 when none does.
    static func bytes(of text: String) -> [UInt8] {
        guard text.unicodeScalars.contains("\u{FFFD}") else { return Array(text.utf8) }
        for raw in all.dropFirst() {
            if String(decoding: raw, as: UTF8.self) == text { return raw }
            if raw.first == UInt8(ascii: "-"), let equals = raw.firstIndex(of: UInt8(ascii: "=")),
               String(decoding: raw[(equals + 1)...], as: UTF8.self) == text {
                return Array(raw[(equals + 1)...])
            }
        }
        return Array(text.utf8)
    }
}

/// Runs `body` with `bytes` as a NUL-terminated C string (a path for a system call).
func withCString<R>(_ bytes: [UInt8], _ body: (UnsafePointer<CChar>) throws -> R) rethrows -> R {
    try (bytes + [0]).withUnsafeBufferPointer { buffer in
        try buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) { try body($0) }
    }
}

/// A path's bytes as messages show them.
func shown(_ path: [UInt8]) -> String { String(decoding: path, as: UTF8.self) }
