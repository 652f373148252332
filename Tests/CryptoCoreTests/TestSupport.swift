/// Hex helpers for writing published test vectors.
extension Array where Element == UInt8 {
    /// Bytes from a hex string; spaces are ignored so vectors can be copied in their published grouping.
    init(hex: String) {
        let digits = Array(hex.filter { $0 != " " }.utf8)
        precondition(digits.count % 2 == 0, "odd-length hex string")
        self = stride(from: 0, to: digits.count, by: 2).map { index in
            UInt8(String(decoding: digits[index...index + 1], as: UTF8.self), radix: 16)!
        }
    }

    /// Lower-case hex, for readable expectation failures.
    var hex: String {
        map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}

extension String {
    /// The string's UTF-8 bytes.
    var bytes: [UInt8] { Array(utf8) }
}
