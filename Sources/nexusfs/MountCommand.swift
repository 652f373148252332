import ArgumentParser
import FUSEFrontend
import FUSELowLevel
import Foundation
import CatalogStore
import Glibc
import RepositoryCore
import VFS

struct MountCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mount", abstract: "Mount a repository as a drive.",
        discussion: """
            Returns once the mount works (or has clearly failed) and keeps serving it in the background; \
            -f stays in the foreground. -o takes comma-separated options: password_file=FILE, state_dir=DIR, \
            commit=SECONDS (default 1), ro, at=TIME (the tree as it was then, read-only: an ISO 8601 time, \
            "3 days ago", yesterday, @SECONDS), allow_other, and other FUSE mount options.
            """)

    @OptionGroup var options: RepositoryOptions

    @Argument(help: "The repository directory.")
    var repository: String

    @Argument(help: "The folder to mount it on.")
    var mountpoint: String

    @Flag(name: .customShort("f"), help: "Stay in the foreground.")
    var foreground = false

    @Option(name: .customShort("o"), help: "Mount options (comma-separated).")
    var mountOptions: [String] = []

    @Option(name: .customLong("ready-fd"), help: .hidden)
    var readyFD: Int32?

    @Option(name: .customLong("passphrase-fd"), help: .hidden)
    var passphraseFD: Int32?

    func validate() throws {
        _ = try MountOptions(mountOptions)
    }

    func run() throws {
        LoggingSetup.once
        let parsed = try MountOptions(mountOptions)
        let readiness = readyFD.map(Readiness.init(fd:))
        // Started by `nexusfs mount` in the background: leave its terminal session.
        if readiness != nil { setsid() }
        do {
            let repositoryPath = URL(fileURLWithPath: repository).standardizedFileURL.path
            let target = URL(fileURLWithPath: mountpoint).standardizedFileURL.path
            try MountPoint.prepare(target)
            let passphrase = try passphraseFD.map(Passphrase.read(fd:))
                ?? Passphrase.obtain(file: parsed.passwordFile ?? options.passwordFile, environment: "NEXUSFS_PASSWORD",
                                     prompt: "Passphrase: ", confirm: false)
            if !foreground {
                try Daemon.start(arguments: CommandLine.arguments, passphrase: passphrase)
                return
            }
            try serve(repositoryPath, at: target, passphrase: passphrase, options: parsed, readiness: readiness)
        } catch let error as ExitCode {
            throw error
        } catch {
            let (code, message) = describe(error)
            // A daemon's parent prints what it reports.
            if let readiness { readiness.fail(code: code, message: message) } else { printError(message) }
            throw ExitCode(code)
        }
    }

    /// Mounts and serves until unmounted or signalled; then saves everything.
    private func serve(_ repositoryPath: String, at target: String, passphrase: [UInt8], options parsed: MountOptions,
                       readiness: Readiness?) throws {
        let stateRoot = parsed.stateDir ?? options.stateRoot
        let repo = try parsed.at.map { at in
            try Repository.open(at: repositoryPath, passphrase: passphrase, asOf: at.time, stateRoot: stateRoot,
                                purpose: "mounted as of a past time", logger: options.logger)
        } ?? Repository.open(at: repositoryPath, passphrase: passphrase, stateRoot: stateRoot,
                             purpose: "mounted", logger: options.logger)
        let volume: Volume
        do {
            volume = try Volume(repository: repo, options: VolumeOptions(commitInterval: parsed.commitInterval,
                                                                         readOnly: parsed.readOnly,
                                                                         versionInterval: parsed.versionInterval,
                                                                         trashDays: parsed.trashDays,
                                                                         extractor: DaemonExtractor.make()), logger: options.logger)
        } catch let error as CatalogError where error.code == .corrupt {
            try? repo.close()
            throw RepositoryError(.integrity, "cannot mount \(repositoryPath): \(error); run `nexusfs recover \(repositoryPath)` to rebuild it from the repository")
        }
        let session: FUSESession
        do {
            session = try FUSESession(fileSystem: NexusFileSystem(volume: volume), mountpoint: target,
                                      options: ["fsname=" + repositoryPath, "subtype=nexusfs"] + parsed.fuse)
        } catch {
            try? volume.shutdown()
            throw error
        }
        // Permission changes the kernel did not make (grants, saves that keep a document's
        // permissions) must not leave it checking against cached ones.
        volume.onInvalidation { [weak session] inodes in
            for inode in inodes { session?.invalidateInode(inode.rawValue, offset: -1) }
        }
        volume.startCommitting()
        if parsed.indexing { volume.startIndexing() }
        // Next to the live catalog: what went wrong after the mount left the terminal.
        readiness?.succeed(logTo: (Repository.catalogPath(stateRoot: stateRoot, id: repo.config.id) as NSString)
                            .deletingLastPathComponent + "/mount.log")
        var failure: (any Error)?
        do { try session.run() } catch { failure = error }
        session.unmount()
        do { try volume.shutdown() } catch { failure = failure ?? error }
        if let failure { throw failure }
    }

    private func describe(_ error: any Error) -> (Int32, String) {
        switch error {
        case let error as RepositoryError: (ExitStatus.code(for: error), error.message)
        case let error as ValidationError: (ExitStatus.usage, error.message)
        case let error as UsageError: (ExitStatus.usage, error.message)
        case let error as ExitCode: (error.rawValue, "failed")
        default: (ExitStatus.failure, "\(error)")
        }
    }
}
