import ArgumentParser
import RepositoryCore

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Check the repository's integrity.",
        discussion: "Exits with 4 when damage is found, naming every document and version it affects.")

    @OptionGroup var options: RepositoryOptions

    @Argument(help: "The repository directory.")
    var repository: String

    @Flag(name: .long, help: "Also read and authenticate every byte of every pack.")
    var readData = false

    @Flag(name: .long, help: "Print the report as JSON.")
    var json = false

    func run() throws {
        LoggingSetup.once
        try reportingErrors {
            let repo = try Repository.open(at: repository, passphrase: try options.passphrase(),
                                           stateRoot: options.stateRoot, logger: options.logger)
            let printer = ProgressPrinter(readData ? "reading" : "checking")
            let report = try repo.check(readData: readData, progress: printer.update)
            printer.finish()
            try repo.close()
            if json {
                try printJSON(report)
            } else {
                for error in report.errors { print("error: \(error)") }
                for path in report.affected { print("damaged: \(path)") }
                for garbage in report.garbage { print("garbage: \(garbage)") }
                let read = readData ? ", \(report.blobs) blobs read (\(ByteCount.format(report.bytesRead)))" : ""
                print(report.isClean ? "no errors found in \(report.packs) packs\(read)"
                                     : "\(report.errors.count) errors found in \(report.packs) packs\(read)")
            }
            if !report.isClean { throw ExitCode(ExitStatus.integrity) }
        }
    }
}
