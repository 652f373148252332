/// The nexusfs command line: one subcommand per file, each thin over RepositoryCore.
import ArgumentParser
import Foundation

@main
struct NexusfsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nexusfs",
        abstract: "A document management system you mount as a drive.",
        discussion: "Exit codes: see docs/cli.md (0 ok, 1 error, 2 usage, 3 wrong passphrase, 4 integrity failure, 5 not a repository, 6 catalog missing, 7 disk full).",
        subcommands: [
            InitCommand.self, MountCommand.self, UmountCommand.self, LogCommand.self, RestoreCommand.self, PruneCommand.self,
            KeyCommand.self, ImportCommand.self, ExportCommand.self, CheckCommand.self,
            StatsCommand.self, RecoverCommand.self, AuditCommand.self,
            GrantCommand.self, RevokeCommand.self, AccessCommand.self, CommentCommand.self, CommentsCommand.self,
            UndeleteCommand.self, SearchCommand.self, AttachCommand.self, MigrateCommand.self, UnlockCommand.self,
            ExtractWorkerCommand.self,
        ])

    /// Parses and runs like ArgumentParser's own `main`, but exits with the documented
    /// usage code (2) where ArgumentParser would use EX_USAGE (64).
    static func main() {
        do {
            var command = try parseAsRoot(mountHelperArguments(Array(CommandLine.arguments.dropFirst())))
            try command.run()
        } catch let error as UsageError {
            printError(error.message)
            Foundation.exit(ExitStatus.usage)
        } catch {
            guard exitCode(for: error) == .validationFailure else { exit(withError: error) }
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            Foundation.exit(ExitStatus.usage)
        }
    }

    /// mount.fuse3 runs the subtype's program as `nexusfs REPO MOUNTPOINT -o OPTIONS`
    /// (for `mount -t fuse.nexusfs` and /etc/fstab); that is `nexusfs mount ...`.
    static func mountHelperArguments(_ arguments: [String]) -> [String] {
        let names = Set(configuration.subcommands.map { $0._commandName } + ["help"])
        guard let first = arguments.first, !first.hasPrefix("-"), !names.contains(first), arguments.count >= 2 else {
            return arguments
        }
        return ["mount"] + arguments
    }
}
