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
    /// The container's size: no entry can hold more compressed bytes.
    private let size: Int

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
        self.size = content.count
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
        guard entry.compressedSize <= UInt64(size) else { throw .damagedContainer }
        var data = Data()
        var remaining = budget
        do {
            _ = try archive.extract(entry) { chunk in
                // The declared size may lie: count what actually comes out, and stop reading at the limit.
                remaining -= chunk.count
                guard remaining >= 0 else { throw ExtractionFailure.inflateLimit }
                data.append(chunk)
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
