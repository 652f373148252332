import ArgumentParser
import Foundation
import RepositoryCore

struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats", abstract: "Documents, versions, logical and stored bytes, dedup and compression ratios.")

    @OptionGroup var options: RepositoryOptions

    @Argument(help: "The repository directory.")
    var repository: String

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    func run() throws {
        LoggingSetup.once
        try reportingErrors {
            let repo = try Repository.open(at: repository, passphrase: try options.passphrase(),
                                           stateRoot: options.stateRoot, logger: options.logger)
            let s = try repo.statistics()
            try repo.close()
            if json { return try printJSON(s) }
            func ratio(_ x: Double) -> String { String(format: "%.2fx", x) }
            print("""
                documents:          \(s.documents)
                folders:            \(s.folders)
                versions:           \(s.versions)
                logical bytes:      \(ByteCount.format(s.logicalBytes)) (\(s.logicalBytes)), current \(ByteCount.format(s.currentBytes))
                unique bytes:       \(ByteCount.format(s.uniqueBytes)) (\(s.uniqueBytes)) in \(s.chunks) blobs
                stored bytes:       \(ByteCount.format(s.storedBytes)) (\(s.storedBytes)) in \(s.packs) packs
                deduplication:      \(ratio(s.deduplicationRatio))
                compression:        \(ratio(s.compressionRatio))
                total:              \(ratio(s.totalRatio))
                """)
        }
    }
}
