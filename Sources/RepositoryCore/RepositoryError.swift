import BlobStorage
import CatalogStore
import CryptoCore
import LocalTree

/// Errors of the repository layer; each code has its own exit status in the CLI.
public struct RepositoryError: Error, CustomStringConvertible, Sendable {
    public enum Code: Sendable, Equatable {
        /// The path is not a nexusfs repository, or of a format version this build cannot read.
        case notARepository
        /// No key opens with the passphrase given.
        case wrongPassphrase
        /// Damaged or tampered data: authentication failures, truncation, dangling references.
        case integrity
        /// The live catalog is missing or belongs elsewhere; `recover` rebuilds it.
        case catalogMissing
        /// The disk is full; nothing committed was lost.
        case noSpace
        /// A path inside the repository does not exist.
        case notFound
        /// An argument does not make sense (a path that is not a folder, and so on).
        case invalidArgument
        /// Another process holds the repository.
        case locked
        /// Anything else.
        case failed
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    /// Translates a lower layer's error into the repository's, keeping its message and
    /// prefixing `context` when given. A `RepositoryError` comes back unchanged.
    public static func wrap(_ error: any Error, _ context: String? = nil) -> RepositoryError {
        func message(_ detail: String) -> String { context.map { "\($0): \(detail)" } ?? detail }
        switch error {
        case let error as RepositoryError:
            return error
        case let error as BlobStoreError:
            let code: Code = switch error.code {
            case .corrupt: .integrity
            case .noSpace: .noSpace
            case .notFound: .integrity
            case .io, .unavailable: .failed
            }
            return RepositoryError(code, message(error.message))
        case let error as CatalogError:
            var code: Code = switch error.code {
            case .corrupt: .integrity
            case .noSpace: .noSpace
            default: .failed
            }
            // A catalog error about a failed journal write keeps the meaning of its cause.
            if code == .failed, let underlying = error.underlying { code = wrap(underlying).code }
            return RepositoryError(code, message("\(error)"))
        case let error as CryptoError:
            return RepositoryError(error == .authenticationFailed ? .integrity : .failed, message("\(error)"))
        case let error as LocalTreeError:
            return RepositoryError(error.isNoSpace ? .noSpace : .failed, message("\(error)"))
        default:
            if "\(error)".contains("SQLITE_FULL") || "\(error)".contains("disk is full") {
                return RepositoryError(.noSpace, message("no space left on device (\(error))"))
            }
            return RepositoryError(.failed, message("\(error)"))
        }
    }

    /// Runs `body`, translating any lower layer's error with `context` (see `wrap`).
    static func wrapping<T>(_ context: @autoclosure () -> String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch {
            throw wrap(error, context())
        }
    }
}
