import ArgumentParser
import Foundation
import Logging
import RepositoryCore

/// Options every command that opens a repository shares.
struct RepositoryOptions: ParsableArguments {
    @Option(name: .long, help: "Read the passphrase from the first line of this file.")
    var passwordFile: String?

    @Option(name: .long, help: "Folder for live catalogs (default: $NEXUSFS_STATE_DIR, $XDG_STATE_HOME/nexusfs or ~/.local/state/nexusfs).")
    var stateDir: String?

    @Flag(name: .shortAndLong, help: "Log what is being done.")
    var verbose = false

    var stateRoot: String { stateDir ?? Repository.defaultStateRoot }

    var logger: Logger {
        var logger = Logger(label: "nexusfs")
        logger.logLevel = verbose ? .info : .warning
        return logger
    }

    /// The passphrase: --password-file, then NEXUSFS_PASSWORD, then a prompt without echo.
    func passphrase(confirm: Bool = false) throws -> [UInt8] {
        try Passphrase.obtain(file: passwordFile, environment: "NEXUSFS_PASSWORD", prompt: "Passphrase: ", confirm: confirm)
    }
}

/// The command line's bootstrap of swift-log, once.
enum LoggingSetup {
    static let once: Void = {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .trace
            return handler
        }
    }()
}
