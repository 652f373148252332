import ArgumentParser
import NexusTypes
import RepositoryCore

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Write the current state of the repository (or a part) to a local directory.")

    @OptionGroup var options: RepositoryOptions

    @Argument(help: "The repository directory.")
    var repository: String

    @Argument(help: "The local directory to write into (created when missing).")
    var destination: String

    @Option(name: .long, help: "The folder or document in the repository to export.")
    var path: String = "/"

    @Option(name: .long, help: ArgumentHelp("Export the tree as it was at this time.", valueName: "time"))
    var at: String?

    func validate() throws {
        guard RepositoryPath(path) != nil else { throw ValidationError("--path \(path) is not a valid path") }
        if let at, TimeExpression.parse(at) == nil { throw ValidationError("--at \(at) is not \(TimeExpression.help)") }
    }

    func run() throws {
        LoggingSetup.once
        try reportingErrors {
            let passphrase = try options.passphrase()
            let repo = try at.flatMap { TimeExpression.parse($0) }.map { date in
                try Repository.open(at: repository, passphrase: passphrase, asOf: TimeExpression.fileTime(date),
                                    stateRoot: options.stateRoot, logger: options.logger)
            } ?? Repository.open(at: repository, passphrase: passphrase, stateRoot: options.stateRoot, logger: options.logger)
            let printer = ProgressPrinter("exporting")
            let summary = try repo.exportTree(RepositoryPath(path)!, to: destination, progress: printer.update)
            printer.finish()
            try repo.close()
            print("exported \(summary.documents) documents, \(summary.folders) folders, \(summary.links) hard links, "
                + "\(summary.others) other files, " + ByteCount.format(summary.bytes))
            if summary.ownersNotSet > 0 {
                printError("\(summary.ownersNotSet) owners were not set (only root can give files away)")
            }
        }
    }
}
