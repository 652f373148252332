internal import Glibc

/// Where the binding reports what it cannot send to the kernel: stderr, one line per event.
enum Diagnostics {
    static func log(_ message: String) {
        var line = Array("FUSELowLevel: \(message)\n".utf8)
        line.withUnsafeMutableBytes { bytes in
            var rest = UnsafeRawBufferPointer(bytes)
            while !rest.isEmpty {
                let written = Glibc.write(STDERR_FILENO, rest.baseAddress, rest.count)
                if written < 0 && errno == EINTR { continue }
                if written <= 0 { return }
                rest = UnsafeRawBufferPointer(rebasing: rest[written...])
            }
        }
    }
}
