import Foundation
import Glibc
internal import CLinux
import ZIPFoundation

/// A zip container (ODF, OOXML) read through ZIPFoundation, with one inflate budget over all entries
/// so that a zip bomb stops at `ExtractionLimits.inflatedBytes`.
struct ZipContainer {
    /// The opened archive.
    private let archive: Archive
    /// Bytes that may still be inflated.
    private var budget: Int
    /// The container's bytes.
    private let content: [UInt8]

    /// Opens `content` as a zip archive; throws `.damagedContainer` when it is not one.
    ///
    /// The archive is read from an in-memory file (memfd) by path, not with `Archive(data:)`:
    /// ZIPFoundation 0.9.20's memory-backed reader traps (a range with lowerBound > upperBound) when a
    /// damaged entry's offset points past the end, where a real file's read just comes up short.
    init(_ content: [UInt8], budget: Int = ExtractionLimits.inflatedBytes) throws(ExtractionFailure) {
        let fd = memfd_create("nexusfs-zip", UInt32(MFD_CLOEXEC))
        guard fd >= 0 else { throw .damagedContainer }
        defer { Glibc.close(fd) }
        guard PipeIO.write(fd, content) == .done else { throw .damagedContainer }
        do {
            archive = try Archive(url: URL(fileURLWithPath: "/proc/self/fd/\(fd)"), accessMode: .read)
        } catch {
            throw .damagedContainer
        }
        self.budget = budget
        self.content = content
    }

    /// The paths of the container's file entries, in the central directory's order.
    var paths: [String] {
        archive.compactMap { $0.type == .file ? $0.path : nil }
    }

    /// Whether the container holds a file entry at `path`.
    func contains(_ path: String) -> Bool {
        archive[path]?.type == .file
    }

    /// The inflated bytes of the entry at `path`, or nil when there is none. Throws `.inflateLimit` when
    /// the entry's declared or actual size would overrun the budget, `.damagedContainer` when it cannot be read.
    mutating func read(_ path: String) throws(ExtractionFailure) -> Data? {
        guard let entry = archive[path], entry.type == .file else { return nil }
        guard entry.uncompressedSize <= UInt64(budget) else { throw .inflateLimit }
        guard entry.compressedSize <= UInt64(content.count) else { throw .damagedContainer }
        var data = Data()
        var remaining = budget
        // The declared size may lie: count what actually comes out, and stop reading at the limit.
        let consumer: (Data) throws -> Void = { chunk in
            remaining -= chunk.count
            guard remaining >= 0 else { throw ExtractionFailure.inflateLimit }
            data.append(chunk)
        }
        do {
            if entry.isCompressed, let compressed = compressedBytes(of: entry) {
                try inflate(compressed, checksum: entry.checksum, consumer: consumer)
            } else {
                _ = try archive.extract(entry, consumer: consumer)
            }
        } catch let failure as ExtractionFailure {
            budget = 0
            throw failure
        } catch {
            budget = max(0, remaining)
            throw .damagedContainer
        }
        budget = remaining
        return data
    }

    /// The deflated bytes of `entry`, located through ZIPFoundation's own parse of its headers, or nil
    /// when they cannot be found that way (then `archive.extract` reads the entry).
    ///
    /// ZIPFoundation 0.9.20's `extract` loops forever on a deflate stream that does not end before the end
    /// of the file (its reader returns no bytes and inflate never reaches the stream end). The offset it
    /// would read from is internal, so it is read by reflection: a ZIPFoundation that renames these
    /// fields only brings back the old path.
    private func compressedBytes(of entry: Entry) -> ArraySlice<UInt8>? {
        func field(_ label: String, of value: Any) -> Any? {
            Mirror(reflecting: value).children.first { $0.label == label }?.value
        }
        guard let central = field("centralDirectoryStructure", of: entry),
              let offset = field("relativeOffsetOfLocalHeader", of: central) as? UInt32, offset != .max,
              let local = field("localFileHeader", of: entry),
              let nameLength = field("fileNameLength", of: local) as? UInt16,
              let extraLength = field("extraFieldLength", of: local) as? UInt16 else { return nil }
        let start = Int(offset) + 30 + Int(nameLength) + Int(extraLength)
        let (end, overflow) = start.addingReportingOverflow(Int(clamping: entry.compressedSize))
        guard !overflow, end <= content.count else { return [] }
        return content[start..<end]
    }

    /// Inflates `compressed` (raw deflate) into `consumer` with ZIPFoundation's zlib code, from a provider
    /// that fails instead of coming up empty past the end; checks the CRC-32.
    private func inflate(_ compressed: ArraySlice<UInt8>, checksum: CRC32, consumer: (Data) throws -> Void) throws {
        var position = compressed.startIndex
        let crc = try Data.decompress(size: Int64(compressed.count), bufferSize: 64 << 10, skipCRC32: false,
                                      provider: { _, chunkSize in
            guard position < compressed.endIndex else { throw ExtractionFailure.damagedContainer }
            let end = min(compressed.endIndex, position + chunkSize)
            defer { position = end }
            return Data(compressed[position..<end])
        }, consumer: consumer)
        guard crc == checksum else { throw ExtractionFailure.damagedContainer }
    }

    /// The office MIME type the container's contents show: ODF's `mimetype` entry, or OOXML's
    /// `[Content_Types].xml` with a word/, xl/ or ppt/ folder. Nil when neither.
    mutating func officeType() -> String? {
        if let data = try? read("mimetype"), data.count < 200,
           let declared = String(data: data, encoding: .utf8)?.trimmingSpaces,
           declared.hasPrefix("application/vnd.oasis.opendocument.") {
            return declared
        }
        guard contains("[Content_Types].xml") else { return nil }
        let all = paths
        if all.contains(where: { $0.hasPrefix("word/") }) {
            return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        }
        if all.contains(where: { $0.hasPrefix("xl/") }) {
            return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        }
        if all.contains(where: { $0.hasPrefix("ppt/") }) {
            return "application/vnd.openxmlformats-officedocument.presentationml.presentation"
        }
        return nil
    }
}
