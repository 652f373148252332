/// The worker protocol's byte layout. All integers are little-endian.
///
/// Request (client to worker): "NXRQ", u32 name length, name, u64 file size, u64 sent length, sent bytes
/// (the whole file, or for a file over `ExtractionLimits.contentBytes` its first `sniffBytes`).
/// Answer (worker to client), in two frames so that a crash in a parser still leaves the client
/// libmagic's verdict: "NXMT", u32 length, MIME type; then "NXTX", u64 length, text, u8 1 or 0
/// (a note follows or not), u32 length, note.
enum WorkerFrames {
    /// The request tag.
    static let requestTag: [UInt8] = Array("NXRQ".utf8)
    /// The MIME frame's tag.
    static let mimeTag: [UInt8] = Array("NXMT".utf8)
    /// The text frame's tag.
    static let textTag: [UInt8] = Array("NXTX".utf8)
    /// The longest file name a request may carry.
    static let maximumNameBytes = 64 << 10
    /// The longest MIME type or note an answer may carry.
    static let maximumLabelBytes = 64 << 10

    /// A request for `content` (of a file of `fileSize` bytes) named `name`.
    static func request(name: [UInt8], fileSize: Int, content: ArraySlice<UInt8>) -> [UInt8] {
        var bytes = requestTag
        bytes.reserveCapacity(28 + name.count + content.count)
        append(UInt32(name.count), to: &bytes)
        bytes += name
        append(UInt64(fileSize), to: &bytes)
        append(UInt64(content.count), to: &bytes)
        bytes += content
        return bytes
    }

    /// The MIME frame.
    static func mimeFrame(_ mime: String) -> [UInt8] {
        var bytes = mimeTag
        let utf8 = Array(mime.utf8.prefix(maximumLabelBytes))
        append(UInt32(utf8.count), to: &bytes)
        return bytes + utf8
    }

    /// The text frame.
    static func textFrame(text: String, note: String?) -> [UInt8] {
        var bytes = textTag
        let utf8 = Array(text.utf8)
        bytes.reserveCapacity(21 + utf8.count)
        append(UInt64(utf8.count), to: &bytes)
        bytes += utf8
        let noteBytes = note.map { Array($0.utf8.prefix(maximumLabelBytes)) }
        bytes.append(noteBytes == nil ? 0 : 1)
        append(UInt32(noteBytes?.count ?? 0), to: &bytes)
        return bytes + (noteBytes ?? [])
    }

    /// Appends `value`'s little-endian bytes.
    static func append<Value: FixedWidthInteger>(_ value: Value, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }

    /// The little-endian integer in `bytes` (exactly its width).
    static func integer<Value: FixedWidthInteger>(_ bytes: [UInt8], as type: Value.Type = Value.self) -> Value {
        bytes.reversed().reduce(Value.zero) { ($0 << 8) | Value($1) }
    }
}
