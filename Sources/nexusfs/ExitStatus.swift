import ArgumentParser
import Foundation
import RepositoryCore

/// The documented exit codes (docs/cli.md).
enum ExitStatus {
    static let failure: Int32 = 1
    static let usage: Int32 = 2
    static let wrongPassphrase: Int32 = 3
    static let integrity: Int32 = 4
    static let notARepository: Int32 = 5
    static let catalogMissing: Int32 = 6
    static let noSpace: Int32 = 7
    static let locked: Int32 = 8

    static func code(for error: RepositoryError) -> Int32 {
        switch error.code {
        case .wrongPassphrase: wrongPassphrase
        case .integrity: integrity
        case .notARepository: notARepository
        case .catalogMissing: catalogMissing
        case .noSpace: noSpace
        case .locked: locked
        case .invalidArgument: usage
        case .notFound, .failed: failure
        }
    }
}

/// Runs a command body, turning errors into `nexusfs: message` on stderr and the documented exit code.
func reportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as ExitCode {
        throw error
    } catch let error as RepositoryError {
        printError(error.message)
        throw ExitCode(ExitStatus.code(for: error))
    } catch let error as UsageError {
        printError(error.message)
        throw ExitCode(ExitStatus.usage)
    } catch let error as ValidationError {
        throw error
    } catch {
        // A lower layer's error that escaped unwrapped: its code still decides the exit status.
        let wrapped = RepositoryError.wrap(error)
        printError(wrapped.message)
        throw ExitCode(ExitStatus.code(for: wrapped))
    }
}

/// A request the command line cannot act on (exit 2), reported as `nexusfs: message`
/// without the usage text: passphrase sources, for example.
struct UsageError: Error, CustomStringConvertible {
    var message: String

    init(_ message: String) { self.message = message }

    var description: String { message }
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data("nexusfs: \(message)\n".utf8))
}
