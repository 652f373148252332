import ArgumentParser
import Foundation
import Glibc
import RepositoryCore

/// `nexusfs undelete /mnt/docs/team/report.odt [--to DEST]`: the newest deletion of that path
/// in the mount's `/.trash`, put back by `rename(2)` as `mv` would (with its history, attributes
/// and, for a folder, everything deleted below it that day).
struct UndeleteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "undelete", abstract: "Bring back a document or folder deleted through a mount, from its trash.",
        discussion: "PATH is where it was, on the mount; the newest deletion of that path (on --day, if given) is restored there, or at --to on the same mount. Equivalent to mv /MOUNT/.trash/DAY/PATH DEST.")

    @Argument(help: "The path the document or folder had on the mount.")
    var path: String

    @Option(name: .long, help: "Where to put it back (on the same mount; must not exist).")
    var to: String?

    @Option(name: .long, help: ArgumentHelp("The day it was deleted (UTC), as the trash names it.", valueName: "YYYY-MM-DD"))
    var day: String?

    func run() throws {
        try reportingErrors {
            let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
            guard let mount = MountTable.nexusfsMountPoints().filter({ absolute.hasPrefix($0 + "/") })
                .max(by: { $0.count < $1.count }) else {
                throw RepositoryError(.invalidArgument, "\(path) is not on a nexusfs mount")
            }
            let relative = String(absolute.dropFirst(mount.count + 1))
            let trash = mount + "/.trash"
            let days = try day.map { [$0] } ?? (FileManager.default.contentsOfDirectory(atPath: trash).sorted(by: >))
            let destination = to.map { URL(fileURLWithPath: $0).standardizedFileURL.path } ?? absolute
            for day in days {
                let candidate = trash + "/" + day + "/" + relative
                var info = stat()
                guard lstat(candidate, &info) == 0 else { continue }
                guard Glibc.rename(candidate, destination) == 0 else {
                    let reason = String(cString: strerror(errno))
                    throw RepositoryError(errno == EEXIST || errno == ENOTEMPTY ? .invalidArgument : .failed,
                                          "cannot restore \(relative) (deleted on \(day)) as \(destination): \(reason)")
                }
                print("restored \(relative) (deleted on \(day)) as \(destination)")
                return
            }
            throw RepositoryError(.notFound, "nothing deleted as /\(relative) is in the trash of \(mount)"
                + (day.map { " on \($0)" } ?? "") + " (that you may see)")
        }
    }
}
