import Foundation
import Testing

/// The documents in Tests/Fixtures/documents (see its README for how they were made).
enum Fixtures {
    /// The fixture folder, found from this source file.
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/documents")

    /// The bytes of the fixture `name`.
    static func bytes(_ name: String) throws -> [UInt8] {
        let url = folder.appendingPathComponent(name)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw FixtureMissing(path: url.path)
        }
        return [UInt8](data)
    }

    /// `name`'s bytes as a file name.
    static func name(_ name: String) -> [UInt8] { Array(name.utf8) }
}

/// A fixture file that is not where the tests expect it.
struct FixtureMissing: Error, CustomStringConvertible {
    /// Where it was looked for.
    let path: String
    /// The message.
    var description: String { "fixture not found: \(path)" }
}

/// The `nexusfs` executable built next to this test bundle, for the worker tests; nil when it is not there.
enum WorkerBinary {
    /// Its path, looked up next to the test bundle and a few levels up (xctest bundles on Linux are directories).
    static let path: String? = {
        var candidates: [URL] = []
        let argument0 = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let bundle = Bundle.main.bundleURL.resolvingSymlinksInPath()
        for start in [argument0, bundle] {
            var url = start
            for _ in 0..<5 {
                url = url.deletingLastPathComponent()
                candidates.append(url)
            }
        }
        return candidates.map { $0.appendingPathComponent("nexusfs").path }.first { path in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
                && access(path, X_OK) == 0
        }
    }()

    /// The reason the worker tests are skipped when the executable is missing.
    static let missing: Comment = "the nexusfs executable was not found next to the test bundle; run `swift build` first"
}
