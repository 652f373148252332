import ArgumentParser
import Foundation
import RepositoryCore

struct KeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key", abstract: "Manage the passphrases that open a repository.",
        subcommands: [Add.self, List.self, Remove.self, Passwd.self])

    /// The new passphrase: --new-password-file, NEXUSFS_NEW_PASSWORD, or a prompt (twice).
    struct NewPassphrase: ParsableArguments {
        @Option(name: .long, help: "Read the new passphrase from the first line of this file.")
        var newPasswordFile: String?

        func obtain() throws -> [UInt8] {
            try Passphrase.obtain(file: newPasswordFile, environment: "NEXUSFS_NEW_PASSWORD", prompt: "New passphrase: ",
                                  confirm: true)
        }
    }

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a passphrase.")
        @OptionGroup var options: RepositoryOptions
        @OptionGroup var new: NewPassphrase
        @Argument(help: "The repository directory.") var repository: String

        func run() throws {
            try reportingErrors {
                let key = try Repository.addKey(at: repository, passphrase: try options.passphrase(), newPassphrase: try new.obtain())
                print("added key \(key.id)")
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the keys.")
        @OptionGroup var options: RepositoryOptions
        @Flag(name: .long, help: "Print JSON.") var json = false
        @Argument(help: "The repository directory.") var repository: String

        struct Row: Codable {
            var id: String
            var current: Bool
            var created: String
            var hostname: String
            var username: String
        }

        func run() throws {
            try reportingErrors {
                let (keys, current) = try Repository.keys(at: repository, passphrase: try options.passphrase())
                let rows = keys.map { Row(id: $0.id, current: $0.id == current, created: $0.created, hostname: $0.hostname, username: $0.username) }
                if json { return try printJSON(rows) }
                for row in rows {
                    print("\(row.current ? "*" : " ") \(row.id)  \(row.created)  \(row.username)@\(row.hostname)")
                }
            }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a key (not the one in use).")
        @OptionGroup var options: RepositoryOptions
        @Argument(help: "The repository directory.") var repository: String
        @Argument(help: "The key id, as `key list` shows it.") var id: String

        func run() throws {
            try reportingErrors {
                try Repository.removeKey(at: repository, id: id, passphrase: try options.passphrase())
                print("removed key \(id)")
            }
        }
    }

    struct Passwd: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change the passphrase of the key in use.")
        @OptionGroup var options: RepositoryOptions
        @OptionGroup var new: NewPassphrase
        @Argument(help: "The repository directory.") var repository: String

        func run() throws {
            try reportingErrors {
                let key = try Repository.changePassphrase(at: repository, passphrase: try options.passphrase(),
                                                          newPassphrase: try new.obtain())
                print("changed the passphrase; the key is now \(key.id)")
            }
        }
    }
}
