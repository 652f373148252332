import Foundation
import Glibc
import RepositoryCore

/// Shows progress on one terminal line of stderr, at most ten times a second;
/// prints nothing when stderr is not a terminal.
final class ProgressPrinter {
    private let enabled = isatty(2) == 1
    private let label: String
    private var last = Date.distantPast
    private var shown = false

    init(_ label: String) { self.label = label }

    func update(_ progress: OperationProgress) {
        guard enabled, Date().timeIntervalSince(last) >= 0.1 else { return }
        last = Date()
        var line = "\(label): \(progress.items)"
        if let total = progress.totalItems { line += "/\(total)" }
        line += " items, " + ByteCount.format(progress.bytes)
        if let total = progress.totalBytes, total > 0 {
            line += " of " + ByteCount.format(total) + String(format: " (%.0f%%)", 100 * Double(progress.bytes) / Double(total))
        }
        let width = 100
        if line.count < width { line += "  " + String(progress.current.suffix(width - line.count)) }
        FileHandle.standardError.write(Data(("\r\u{1b}[K" + line).utf8))
        shown = true
    }

    func finish() {
        if shown { FileHandle.standardError.write(Data("\r\u{1b}[K".utf8)) }
    }
}

enum ByteCount {
    static func format(_ bytes: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : String(format: "%.1f", value) + " " + units[unit]
    }
}

/// JSON on stdout, keys sorted.
func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    FileHandle.standardOutput.write(try encoder.encode(value) + Data("\n".utf8))
}
