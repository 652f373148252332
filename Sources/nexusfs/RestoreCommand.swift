import ArgumentParser
import Glibc
import NexusTypes
import RepositoryCore

struct RestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore", abstract: "Bring back a version of a document.",
        discussion: "Without --to the version becomes the document's content again, as a new version; with --to it is written to a local file. Give REPO PATH, or the path of a document on a mounted nexusfs.")

    @OptionGroup var options: RepositoryOptions

    @Argument(help: "The repository directory, or a document on a mount.")
    var repository: String

    @Argument(help: "The document's path in the repository.")
    var path: String?

    @Option(name: .long, help: "The version number, as `nexusfs log` shows it.")
    var version: Int64?

    @Option(name: .long, help: ArgumentHelp("Instead of --version: the version that was the latest at this time.",
                                            valueName: "time"))
    var at: String?

    @Option(name: .long, help: "Write the version to this local file instead.")
    var to: String?

    func validate() throws {
        if let path, RepositoryPath(bytes: RawArguments.bytes(of: path)) == nil { throw ValidationError("\(path) is not a valid path") }
        switch (version, at) {
        case (nil, nil), (.some, .some): throw ValidationError("give --version N or --at TIME")
        case (let version?, nil): guard version > 0 else { throw ValidationError("--version takes a version number from 1 on") }
        case (nil, let at?): guard TimeExpression.parse(at) != nil else { throw ValidationError("--at \(at) is not \(TimeExpression.help)") }
        }
    }

    /// The version --version names, or the newest made at or before --at.
    private func number(in history: () throws -> DocumentHistory) throws -> Int64 {
        if let version { return version }
        let time = TimeExpression.parse(at!)!.timeIntervalSince1970
        guard let found = try history().versions.filter({ $0.time <= time }).max(by: { $0.number < $1.number }) else {
            throw RepositoryError(.notFound, "no version of the document is from \(at!) or before")
        }
        return found.number
    }

    func run() throws {
        LoggingSetup.once
        try reportingErrors {
            guard let path else {
                guard let mounted = MountedHistory(path: RawArguments.bytes(of: repository)) else {
                    throw RepositoryError(.invalidArgument, "\(repository) is not a document on a nexusfs mount; give REPO PATH")
                }
                let version = try number(in: mounted.history)
                try mounted.restore(version, to: to.map(RawArguments.bytes(of:)))
                print(to.map { "wrote version \(version) of \(repository) to \($0)" } ?? "restored version \(version) of \(repository)")
                return
            }
            let repo = try Repository.open(at: repository, passphrase: try options.passphrase(),
                                           stateRoot: options.stateRoot, logger: options.logger)
            let target = RepositoryPath(bytes: RawArguments.bytes(of: path))!
            let version: Int64
            do { version = try number { try repo.history(of: target) } } catch { try? repo.close(); throw error }
            if let to {
                try repo.export(target, version: VersionNumber(version), to: to)
                try repo.close()
                print("wrote version \(version) of \(target) to \(to)")
            } else {
                let new = try repo.restore(target, version: VersionNumber(version), author: getuid())
                try repo.close()
                print("restored version \(version) of \(target) as version \(new)")
            }
        }
    }
}
