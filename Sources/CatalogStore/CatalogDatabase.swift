import Foundation

/// The SQL engine a catalog runs on. The catalog's SQL is written once, in the subset both
/// engines run the same way (`INSERT … ON CONFLICT`, `RETURNING`, a quoted `"offset"`);
/// what only SQLite has (FTS5 search, PRAGMAs, the session extension) is reached through
/// `CatalogDatabase.sqlite` and is absent on PostgreSQL.
public enum CatalogDialect: Sendable, Equatable {
    case sqlite
    case postgres
}

/// One SQL value as the catalog stores it: the five storage classes of SQLite, which the
/// PostgreSQL catalog maps its column types onto (bigint, integer, smallint and boolean are
/// `integer`, bytea is `blob`).
public enum CatalogValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob(Data)
}

/// A Swift value a catalog statement takes or returns.
public protocol CatalogValueConvertible {
    var catalogValue: CatalogValue { get }
    /// The value, or nil when `value` is not one (a NULL, a column of another type).
    static func fromCatalogValue(_ value: CatalogValue) -> Self?
}

extension Int64: CatalogValueConvertible {
    public var catalogValue: CatalogValue { .integer(self) }
    public static func fromCatalogValue(_ value: CatalogValue) -> Int64? {
        switch value {
        case .integer(let integer): integer
        case .real(let real): Int64(exactly: real)
        default: nil
        }
    }
}

extension Int: CatalogValueConvertible {
    public var catalogValue: CatalogValue { .integer(Int64(self)) }
    public static func fromCatalogValue(_ value: CatalogValue) -> Int? { Int64.fromCatalogValue(value).flatMap(Int.init(exactly:)) }
}

extension Int32: CatalogValueConvertible {
    public var catalogValue: CatalogValue { .integer(Int64(self)) }
    public static func fromCatalogValue(_ value: CatalogValue) -> Int32? { Int64.fromCatalogValue(value).flatMap(Int32.init(exactly:)) }
}

extension Bool: CatalogValueConvertible {
    public var catalogValue: CatalogValue { .integer(self ? 1 : 0) }
    public static func fromCatalogValue(_ value: CatalogValue) -> Bool? { Int64.fromCatalogValue(value).map { $0 != 0 } }
}

extension Double: CatalogValueConvertible {
    public var catalogValue: CatalogValue { .real(self) }
    public static func fromCatalogValue(_ value: CatalogValue) -> Double? {
        switch value {
        case .real(let real): real
        case .integer(let integer): Double(integer)
        default: nil
        }
    }
}

extension String: CatalogValueConvertible {
    public var catalogValue: CatalogValue { .text(self) }
    public static func fromCatalogValue(_ value: CatalogValue) -> String? {
        switch value {
        case .text(let text): text
        case .blob(let data): String(data: data, encoding: .utf8)
        default: nil
        }
    }
}

extension Data: CatalogValueConvertible {
    public var catalogValue: CatalogValue { .blob(self) }
    public static func fromCatalogValue(_ value: CatalogValue) -> Data? {
        switch value {
        case .blob(let data): data
        case .text(let text): Data(text.utf8)
        default: nil
        }
    }
}

extension Optional: CatalogValueConvertible where Wrapped: CatalogValueConvertible {
    public var catalogValue: CatalogValue { map(\.catalogValue) ?? .null }
    /// `.some(nil)` for a NULL: a NULL is a valid optional.
    public static func fromCatalogValue(_ value: CatalogValue) -> Wrapped?? {
        if case .null = value { return .some(nil) }
        return Wrapped.fromCatalogValue(value).map { .some($0) }
    }
}

/// The values bound to a statement's `?` placeholders, in order.
public struct CatalogArguments: ExpressibleByArrayLiteral, Sendable {
    public var values: [CatalogValue]

    public init(_ values: [CatalogValue]) { self.values = values }

    public init(arrayLiteral elements: (any CatalogValueConvertible)?...) {
        values = elements.map { $0?.catalogValue ?? .null }
    }

    public static func += (lhs: inout CatalogArguments, rhs: CatalogArguments) {
        lhs.values += rhs.values
    }
}

/// One row of a result: its column names (shared by every row of the result) and values.
public struct CatalogRow: Sendable {
    public let columns: [String]
    public let values: [CatalogValue]

    public init(columns: [String], values: [CatalogValue]) {
        self.columns = columns
        self.values = values
    }

    public var count: Int { values.count }

    /// The index of column `name` (compared without case, as SQL does).
    public func index(ofColumn name: String) -> Int? {
        columns.firstIndex(of: name) ?? columns.firstIndex { $0.caseInsensitiveCompare(name) == .orderedSame }
    }

    public func value(at index: Int) -> CatalogValue { values[index] }

    public func value(named name: String) throws -> CatalogValue {
        guard let index = index(ofColumn: name) else {
            throw CatalogError(.corrupt, "a catalog row has no column \(name) (it has \(columns.joined(separator: ", ")))")
        }
        return values[index]
    }

    /// Column `index` as a `T`; throws `.corrupt` when it holds something else.
    public func decode<T: CatalogValueConvertible>(_ type: T.Type = T.self, at index: Int) throws -> T {
        guard index < values.count else { throw CatalogError(.corrupt, "a catalog row has no column \(index)") }
        guard let decoded = T.fromCatalogValue(values[index]) else {
            throw CatalogError(.corrupt, "column \(columns[index]) holds \(Self.describe(values[index])), not a \(T.self)")
        }
        return decoded
    }

    /// Column `name` as a `T`; throws `.corrupt` when it is missing or holds something else.
    public func decode<T: CatalogValueConvertible>(_ type: T.Type = T.self, forColumn name: String) throws -> T {
        let value = try value(named: name)
        guard let decoded = T.fromCatalogValue(value) else {
            throw CatalogError(.corrupt, "column \(name) holds \(Self.describe(value)), not a \(T.self)")
        }
        return decoded
    }

    /// Column `index` as a `T`, for columns the catalog's own schema types; a value of another
    /// type there is a programming error or a catalog damaged past what `check` reports, and
    /// stops the process as GRDB's subscripts do. Decode with `decode` where damage is expected.
    public subscript<T: CatalogValueConvertible>(_ index: Int) -> T {
        do { return try decode(at: index) } catch { preconditionFailure("\(error)") }
    }

    /// Column `name` as a `T` (see the index subscript).
    public subscript<T: CatalogValueConvertible>(_ name: String) -> T {
        do { return try decode(forColumn: name) } catch { preconditionFailure("\(error)") }
    }

    static func describe(_ value: CatalogValue) -> String {
        switch value {
        case .null: "NULL"
        case .integer: "an integer"
        case .real: "a real"
        case .text: "text"
        case .blob: "a blob"
        }
    }
}

/// Rows read one at a time, for results too large to hold at once.
public protocol CatalogCursor {
    func next() throws -> CatalogRow?
}

/// A connection (inside its transaction, when one is open) that runs the catalog's SQL.
/// `?` placeholders in every dialect.
public protocol CatalogDatabase {
    var dialect: CatalogDialect { get }
    /// Runs `sql`, which may hold several statements when it takes no arguments. `prepared`:
    /// keep the statement prepared for the next run of the same text.
    func execute(sql: String, arguments: CatalogArguments, prepared: Bool) throws
    func fetchRows(sql: String, arguments: CatalogArguments, prepared: Bool) throws -> [CatalogRow]
    func cursor(sql: String, arguments: CatalogArguments) throws -> any CatalogCursor
    /// Whether `error` is a uniqueness or primary-key violation from this database.
    func isConstraintViolation(_ error: any Error) -> Bool
    /// Whether `error` says the SQL could not be run as written (syntax, a bad FTS expression).
    func isInvalidStatement(_ error: any Error) -> Bool
    /// Whether `error` says the database found its own storage damaged.
    func isCorruption(_ error: any Error) -> Bool
}

extension CatalogDatabase {
    public func execute(sql: String, arguments: CatalogArguments = []) throws {
        try execute(sql: sql, arguments: arguments, prepared: false)
    }

    /// A statement kept prepared (on SQLite, from GRDB's statement cache).
    public func cachedStatement(sql: String) -> CatalogStatement { CatalogStatement(db: self, sql: sql) }
}

/// A statement text to run on one database, prepared once and reused.
public struct CatalogStatement {
    let db: any CatalogDatabase
    let sql: String

    public func execute(arguments: CatalogArguments = []) throws {
        try db.execute(sql: sql, arguments: arguments, prepared: true)
    }
}

extension CatalogRow {
    public static func fetchAll(_ statement: CatalogStatement, arguments: CatalogArguments = []) throws -> [CatalogRow] {
        try statement.db.fetchRows(sql: statement.sql, arguments: arguments, prepared: true)
    }

    public static func fetchAll(_ db: any CatalogDatabase, sql: String, arguments: CatalogArguments = []) throws -> [CatalogRow] {
        try db.fetchRows(sql: sql, arguments: arguments, prepared: false)
    }

    public static func fetchOne(_ statement: CatalogStatement, arguments: CatalogArguments = []) throws -> CatalogRow? {
        try fetchAll(statement, arguments: arguments).first
    }

    public static func fetchOne(_ db: any CatalogDatabase, sql: String, arguments: CatalogArguments = []) throws -> CatalogRow? {
        try fetchAll(db, sql: sql, arguments: arguments).first
    }

    public static func fetchCursor(_ db: any CatalogDatabase, sql: String, arguments: CatalogArguments = []) throws -> any CatalogCursor {
        try db.cursor(sql: sql, arguments: arguments)
    }
}

extension CatalogValueConvertible {
    /// The first column of every row; a NULL or a value of another type is `.corrupt`.
    public static func fetchAll(_ statement: CatalogStatement, arguments: CatalogArguments = []) throws -> [Self] {
        try CatalogRow.fetchAll(statement, arguments: arguments).map { try $0.decode(at: 0) }
    }

    public static func fetchAll(_ db: any CatalogDatabase, sql: String, arguments: CatalogArguments = []) throws -> [Self] {
        try CatalogRow.fetchAll(db, sql: sql, arguments: arguments).map { try $0.decode(at: 0) }
    }

    /// The first column of the first row; nil for no row or a NULL.
    public static func fetchOne(_ statement: CatalogStatement, arguments: CatalogArguments = []) throws -> Self? {
        try firstValue(of: CatalogRow.fetchOne(statement, arguments: arguments))
    }

    public static func fetchOne(_ db: any CatalogDatabase, sql: String, arguments: CatalogArguments = []) throws -> Self? {
        try firstValue(of: CatalogRow.fetchOne(db, sql: sql, arguments: arguments))
    }

    private static func firstValue(of row: CatalogRow?) throws -> Self? {
        guard let row, row.count > 0, row.values[0] != .null else { return nil }
        return try row.decode(at: 0)
    }
}

/// An insert that replaces the row with the same key, in each dialect's words: SQLite's
/// `INSERT OR REPLACE`, PostgreSQL's `ON CONFLICT … DO UPDATE`. Not an upsert on SQLite: there
/// the upsert's conflict policy overrides the `INSERT OR IGNORE` of the search-queue triggers
/// it fires, which then fail on a node already queued.
struct ReplacingInsert: Sendable {
    let sqlite: String
    let postgres: String

    init(into table: String, columns: [String], key: [String]) {
        let list = columns.map { "\"\($0)\"" }.joined(separator: ", ")
        let values = "VALUES (" + Array(repeating: "?", count: columns.count).joined(separator: ", ") + ")"
        sqlite = "INSERT OR REPLACE INTO \(table)(\(list)) \(values)"
        let updates = columns.filter { !key.contains($0) }.map { "\"\($0)\" = excluded.\"\($0)\"" }.joined(separator: ", ")
        postgres = "INSERT INTO \(table)(\(list)) \(values) ON CONFLICT (\(key.joined(separator: ", "))) DO UPDATE SET \(updates)"
    }

    func sql(for dialect: CatalogDialect) -> String {
        dialect == .sqlite ? sqlite : postgres
    }
}
