import Foundation
import GRDB

extension Catalog {
    /// Runs `body` on the committed state of the catalog at `path`, opened read-only next to
    /// the process that writes it (WAL lets other processes read). Migrates and writes nothing.
    public static func readCommitted<T>(path: String, _ body: (CatalogReader) throws -> T) throws -> T {
        guard FileManager.default.fileExists(atPath: path) else { throw CatalogError(.notFound, "no catalog at \(path)") }
        var config = Configuration()
        config.readonly = true
        do {
            let queue = try DatabaseQueue(path: path, configuration: config)
            defer { try? queue.close() }
            return try queue.read { db in try body(CatalogReader(db: SQLiteCatalogDatabase(db))) }
        } catch let error as DatabaseError {
            throw translate(error, "cannot read the catalog \(path)", path: path)
        }
    }
}
