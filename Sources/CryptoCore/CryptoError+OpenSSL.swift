internal import CLibCrypto

extension CryptoError {
    /// A `.library` error for a failed libcrypto call, draining this thread's OpenSSL error queue into the message.
    static func openSSL(_ function: String) -> CryptoError {
        var reasons: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var text = [CChar](repeating: 0, count: 256)
            text.withUnsafeMutableBufferPointer { ERR_error_string_n(code, $0.baseAddress, $0.count) }
            reasons.append(text.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
        }
        if reasons.isEmpty {
            return .library("\(function) failed")
        }
        return .library("\(function) failed: \(reasons.joined(separator: "; "))")
    }
}
