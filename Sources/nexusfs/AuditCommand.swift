import ArgumentParser
import CatalogStore
import Foundation
import NexusTypes
import RepositoryCore
import VFS

struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "List the audit log, or verify its hash chain.",
        discussion: "Lists who did what to which document, oldest first. With --verify, checks that no entry was changed, removed or reordered, and exits with 4 when one was. Works while the repository is mounted (reading what the mount has committed).")

    @OptionGroup var options: RepositoryOptions

    @Argument(help: "The repository directory.")
    var repository: String

    @Option(name: .long, help: "Only entries for this path in the repository, or below it.")
    var path: String?

    @Option(name: .long, help: "Only entries by this user (a name or a uid).")
    var user: String?

    @Option(name: .long, help: "Only entries at or after this time: 2026-11-27 (UTC) or 2026-11-27T10:00:00Z.")
    var since: String?

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    @Flag(name: .long, help: "Check the hash chain instead of listing entries.")
    var verify = false

    func validate() throws {
        if verify && (path != nil || user != nil || since != nil || json) {
            throw ValidationError("--verify checks the whole log and takes no --path, --user, --since or --json")
        }
        if let path, RepositoryPath(path) == nil { throw ValidationError("\(path) is not a valid path") }
        _ = try uid()
        _ = try sinceTime()
    }

    /// The uid `--user` names: a user name, else a number.
    private func uid() throws -> UInt32? {
        guard let user else { return nil }
        if let entry = getpwnam(user) { return entry.pointee.pw_uid }
        guard let number = UInt32(user) else { throw ValidationError("no user named \(user)") }
        return number
    }

    private func sinceTime() throws -> FileTime? {
        guard let since else { return nil }
        guard let date = TimeExpression.parse(since) else { throw ValidationError("--since \(since) is not \(TimeExpression.help)") }
        return TimeExpression.fileTime(date)
    }

    func run() throws {
        LoggingSetup.once
        try reportingErrors {
            let passphrase = try options.passphrase()
            if verify {
                let result = try Repository.verifyAudit(at: repository, passphrase: passphrase, stateRoot: options.stateRoot,
                                                        logger: options.logger)
                guard let damage = result.damage else { return print("audit log intact: \(result.entries) entries") }
                print("audit log damaged: \(Self.describe(damage)) (\(result.entries) entries stored)")
                throw ExitCode(ExitStatus.integrity)
            }
            let filter = AuditFilter(path: path.flatMap(RepositoryPath.init), uid: try uid(), since: try sinceTime())
            let entries = try Repository.auditEntries(at: repository, passphrase: passphrase, stateRoot: options.stateRoot,
                                                      logger: options.logger, filter: filter)
            let format = TimeFormat()
            if json { return try printJSON(entries.map { JSONEntry($0, format) }) }
            for entry in entries { print(Self.line(entry, format)) }
        }
    }

    /// Times as the output shows them: UTC, ISO 8601 with milliseconds, cut (not rounded) so
    /// that `--since` with a time shown includes its entry.
    struct TimeFormat {
        private let formatter = ISO8601DateFormatter()

        init() { formatter.formatOptions = [.withInternetDateTime] }

        func string(_ time: FileTime) -> String {
            let seconds = formatter.string(from: Date(timeIntervalSince1970: Double(time.seconds)))
            return seconds.dropLast() + String(format: ".%03lldZ", time.nanoseconds / 1_000_000)
        }
    }

    /// Text as one line: control characters and invalid UTF-8 escaped.
    private static func printable(_ text: String) -> String { FileName.printable(Array(text.utf8)) }

    /// One entry as a line: seq, time, user, action, path, before -> after, outcome.
    static func line(_ entry: AuditEntry, _ format: TimeFormat) -> String {
        let event = entry.event
        var fields = [String(format: "%6lld", entry.seq), format.string(event.time),
                      UserNames.name(ofUser: event.uid).padding(toLength: 10, withPad: " ", startingAt: 0),
                      printable(event.action), event.printablePath]
        if event.before != nil || event.after != nil {
            fields.append("\(event.before.map(printable) ?? "-") -> \(event.after.map(printable) ?? "-")")
        }
        fields.append(event.outcome.rawValue)
        return fields.joined(separator: "  ")
    }

    /// The first damage, with what can still be read of the entry stored there.
    static func describe(_ damage: AuditDamage) -> String {
        let stored = damage.entry.map { entry in
            let event = entry.event
            return " (\(TimeFormat().string(event.time)) \(UserNames.name(ofUser: event.uid)) \(printable(event.action)) \(event.printablePath))"
        } ?? ""
        switch damage.problem {
        case .edited:
            return "entry \(damage.seq)\(stored) was changed: it does not match its hash"
        case .removed(let next):
            return next == damage.seq + 1 ? "entry \(damage.seq) was removed"
                                          : "entries \(damage.seq) to \(next - 1) were removed"
        case .reordered(let storedAt):
            return "entry \(damage.seq)\(stored) is out of place: the entry that belongs at \(damage.seq) is stored at \(storedAt)"
        case .truncated(let journaled):
            return "entries \(damage.seq) to \(journaled) were removed from the end (the journal in the repository holds them)"
        }
    }

    /// An entry as `--json` prints it; absent fields are left out.
    struct JSONEntry: Encodable {
        var seq: Int64
        var time: String
        var uid: UInt32
        var user: String
        var action: String
        var path: String
        var inode: UInt64?
        var before: String?
        var after: String?
        var outcome: String

        init(_ entry: AuditEntry, _ format: TimeFormat) {
            let event = entry.event
            seq = entry.seq
            time = format.string(event.time)
            uid = event.uid
            user = UserNames.name(ofUser: event.uid)
            action = event.action
            path = event.printablePath
            inode = event.inode?.rawValue
            before = event.before
            after = event.after
            outcome = event.outcome.rawValue
        }
    }
}
