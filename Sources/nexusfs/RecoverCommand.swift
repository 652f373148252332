import ArgumentParser
import RepositoryCore

struct RecoverCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recover", abstract: "Rebuild the catalog from the repository's packs alone.",
        discussion: "An existing catalog is moved aside, not deleted.")

    @OptionGroup var options: RepositoryOptions

    @Argument(help: "The repository directory.")
    var repository: String

    func run() throws {
        LoggingSetup.once
        try reportingErrors {
            let printer = ProgressPrinter("recovering")
            let summary = try Repository.recover(at: repository, passphrase: try options.passphrase(),
                                                 stateRoot: options.stateRoot, logger: options.logger,
                                                 progress: printer.update)
            printer.finish()
            print("recovered \(summary.documents) documents with \(summary.versions) versions from \(summary.packs) packs "
                + "(checkpoint \(summary.checkpointSequence), \(summary.journalRecords) journal records after it, "
                + "now at \(summary.finalSequence))")
            for damaged in summary.damagedPacks { printError("damaged: \(damaged)") }
            if !summary.damagedPacks.isEmpty { throw ExitCode(ExitStatus.integrity) }
        }
    }
}
