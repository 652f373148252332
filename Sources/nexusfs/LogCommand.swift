import ArgumentParser
import Foundation
import NexusTypes
import RepositoryCore
import VFS

struct LogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log", abstract: "List a document's versions: number, time, author, size, summary.",
        discussion: "Either the repository and the document's path inside it (nexusfs log REPO /folder/report.txt), or the path of a document on a mounted nexusfs (nexusfs log /mnt/docs/folder/report.txt).")

    @OptionGroup var options: RepositoryOptions

    @Argument(help: "The repository directory, or a document on a mount.")
    var repository: String

    @Argument(help: "The document's path in the repository.")
    var path: String?

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    func validate() throws {
        if let path, RepositoryPath(bytes: RawArguments.bytes(of: path)) == nil { throw ValidationError("\(path) is not a valid path") }
    }

    func run() throws {
        LoggingSetup.once
        try reportingErrors {
            let history: DocumentHistory
            if let path {
                let repo = try Repository.open(at: repository, passphrase: try options.passphrase(),
                                               stateRoot: options.stateRoot, logger: options.logger)
                history = try repo.history(of: RepositoryPath(bytes: RawArguments.bytes(of: path))!)
                try repo.close()
            } else {
                guard let mounted = MountedHistory(path: RawArguments.bytes(of: repository)) else {
                    throw RepositoryError(.invalidArgument, "\(repository) is not a document on a nexusfs mount; give REPO PATH")
                }
                history = try mounted.history()
            }
            if json { return try printJSON(history) }
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            for v in history.versions {
                let user = UserNames.name(ofUser: v.author)
                let marker = v.current ? "*" : " "
                print("\(marker) \(String(format: "%5d", v.number))  \(formatter.string(from: Date(timeIntervalSince1970: v.time)))  "
                    + "\(user.padding(toLength: 10, withPad: " ", startingAt: 0))  \(String(format: "%12d", v.size))  \(v.summary ?? "")")
            }
        }
    }
}
