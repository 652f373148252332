import ArgumentParser
import NexusTypes
import RepositoryCore

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Import a directory tree into the repository.",
        discussion: "Changed documents get a new version; unchanged ones are left as they are.")

    @OptionGroup var options: RepositoryOptions

    @Argument(help: "The repository directory.")
    var repository: String

    @Argument(help: "The local directory to import.")
    var source: String

    @Option(name: .customLong("to"), help: "The folder in the repository to import into.")
    var destination: String = "/"

    func validate() throws {
        guard RepositoryPath(destination) != nil else { throw ValidationError("--to \(destination) is not a valid path") }
    }

    func run() throws {
        LoggingSetup.once
        try reportingErrors {
            let repo = try Repository.open(at: repository, passphrase: try options.passphrase(),
                                           stateRoot: options.stateRoot, logger: options.logger)
            let printer = ProgressPrinter("importing")
            let summary = try repo.importTree(from: source, to: RepositoryPath(destination)!, progress: printer.update)
            printer.finish()
            try repo.close()
            print("imported \(summary.documents) documents (\(summary.newVersions) new versions, \(summary.unchanged) unchanged), "
                + "\(summary.folders) folders, \(summary.links) hard links, \(summary.others) other files, "
                + ByteCount.format(summary.bytes))
            for skipped in summary.skipped { printError("skipped \(skipped)") }
            if !summary.skipped.isEmpty { throw ExitCode(ExitStatus.failure) }
        }
    }
}
