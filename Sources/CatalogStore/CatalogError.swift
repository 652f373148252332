/// The SQLite catalog of nexusfs: chunk index, namespace, versions, and the journal
/// capture that mirrors every namespace change into the blob store.
import NexusTypes

/// Errors of the catalog layer.
public struct CatalogError: Error, CustomStringConvertible, Sendable {
    public enum Code: Sendable, Equatable {
        case notFound
        case alreadyExists
        case notEmpty
        case notADirectory
        case isADirectory
        case corrupt
        case journal
        case noSpace
        case sqlite
        /// A request the catalog cannot run as given (a search query FTS5 refuses).
        case invalid
    }

    public var code: Code
    public var message: String
    public var underlying: (any Error)?

    public init(_ code: Code, _ message: String, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    public var description: String {
        if let underlying { return "\(message): \(underlying)" }
        return message
    }
}
