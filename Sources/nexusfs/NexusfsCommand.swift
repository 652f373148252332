/// The nexusfs command line: one subcommand per file, each thin over RepositoryCore.
import ArgumentParser

@main
struct NexusfsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nexusfs",
        abstract: "A document management system you mount as a drive.",
        discussion: "Exit codes: see docs/cli.md (0 ok, 1 error, 2 usage, 3 wrong passphrase, 4 integrity failure, 5 not a repository, 6 catalog missing, 7 disk full).",
        subcommands: [
            InitCommand.self, KeyCommand.self, ImportCommand.self, ExportCommand.self, CheckCommand.self,
            StatsCommand.self, RecoverCommand.self,
        ])
}
