import ArgumentParser
import RepositoryCore

/// `nexusfs attach s3://bucket/prefix REPO`: a repository folder on this host for a repository
/// kept in an object store (config, keys, a pack cache, and the catalog rebuilt from the store).
struct AttachCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attach", abstract: "Make a repository folder on this host for a repository kept in an object store.",
        discussion: "The catalog is rebuilt from the store, as `recover` does. With the embedded catalog one host uses the repository at a time: the folder that used it last must be unmounted, or its lease removed with `nexusfs unlock`.")

    @OptionGroup var options: RepositoryOptions

    @Flag(name: .long, help: "Remove the lease another host holds on the store first (only when that host is gone for good).")
    var takeOver = false

    @Argument(help: "The object store: s3://bucket/prefix (credentials from the AWS_* variables).")
    var store: String

    @Argument(help: "The repository directory to make (must not exist or be empty).")
    var repository: String

    func run() throws {
        LoggingSetup.once
        try reportingErrors {
            let printer = ProgressPrinter("attaching")
            let summary = try Repository.attach(url: store, at: repository, passphrase: try options.passphrase(),
                                                takeOver: takeOver, stateRoot: options.stateRoot, logger: options.logger, progress: printer.update)
            printer.finish()
            print("attached \(repository) to \(store): \(summary.documents) documents with \(summary.versions) versions in \(summary.packs) packs")
            for damaged in summary.damagedPacks { printError("damaged: \(damaged)") }
            if !summary.damagedPacks.isEmpty { throw ExitCode(ExitStatus.integrity) }
        }
    }
}

/// `nexusfs migrate REPO --store s3://bucket/prefix` and `nexusfs migrate REPO --local`.
struct MigrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate", abstract: "Move a repository's packs into an object store, or back into its folder.",
        discussion: "Every pack is copied before the config changes: a migrate cut short leaves the repository as it was, and running it again finishes it. Verify with `nexusfs check --read-data` afterwards.")

    @OptionGroup var options: RepositoryOptions

    @Option(name: .long, help: "Move the packs into this object store (s3://bucket/prefix, holding no other repository).")
    var store: String?

    @Flag(name: .long, help: "Move the packs back into the repository folder (those in the object store are left there).")
    var local = false

    @Argument(help: "The repository directory.")
    var repository: String

    func validate() throws {
        guard (store != nil) != local else { throw ValidationError("give either --store s3://bucket/prefix or --local") }
    }

    func run() throws {
        LoggingSetup.once
        try reportingErrors {
            let printer = ProgressPrinter("migrating")
            let summary = try Repository.migrate(at: repository, passphrase: try options.passphrase(), to: store,
                                                 stateRoot: options.stateRoot, logger: options.logger, progress: printer.update)
            printer.finish()
            print("the packs of \(repository) are in \(summary.location): \(summary.copied) copied (\(summary.bytes) bytes), "
                  + "\(summary.present) already there")
        }
    }
}

/// `nexusfs unlock REPO`: removes the lease another host left on the object store.
struct UnlockCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unlock", abstract: "Remove the lease a host that is gone left on a repository's object store.",
        discussion: "Only when that host will not use the repository again: two hosts writing with the embedded catalog would fork its history.")

    @OptionGroup var options: RepositoryOptions

    @Argument(help: "The repository directory.")
    var repository: String

    func run() throws {
        LoggingSetup.once
        try reportingErrors {
            if let holder = try Repository.unlockStore(at: repository, passphrase: try options.passphrase()) {
                print("removed the lease of \(holder)")
            } else {
                print("no lease was held")
            }
        }
    }
}
