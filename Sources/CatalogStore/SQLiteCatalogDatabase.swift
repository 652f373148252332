import Foundation
import GRDB

/// The catalog's SQL on an SQLite connection (through GRDB), inside whatever transaction
/// the `Catalog` opened on it.
struct SQLiteCatalogDatabase: CatalogDatabase {
    let connection: Database

    init(_ connection: Database) {
        self.connection = connection
    }

    var dialect: CatalogDialect { .sqlite }

    func execute(sql: String, arguments: CatalogArguments, prepared: Bool) throws {
        if prepared {
            try connection.cachedStatement(sql: sql).execute(arguments: Self.arguments(arguments))
        } else {
            try connection.execute(sql: sql, arguments: Self.arguments(arguments))
        }
    }

    func fetchRows(sql: String, arguments: CatalogArguments, prepared: Bool) throws -> [CatalogRow] {
        let statement = prepared ? try connection.cachedStatement(sql: sql) : try connection.makeStatement(sql: sql)
        let columns = statement.columnNames
        let cursor = try Row.fetchCursor(statement, arguments: Self.arguments(arguments))
        var rows: [CatalogRow] = []
        while let row = try cursor.next() {
            rows.append(CatalogRow(columns: columns, values: Self.values(of: row)))
        }
        return rows
    }

    func cursor(sql: String, arguments: CatalogArguments) throws -> any CatalogCursor {
        let statement = try connection.makeStatement(sql: sql)
        return Cursor(columns: statement.columnNames, rows: try Row.fetchCursor(statement, arguments: Self.arguments(arguments)))
    }

    func isConstraintViolation(_ error: any Error) -> Bool {
        (error as? DatabaseError)?.resultCode == .SQLITE_CONSTRAINT
    }

    func isInvalidStatement(_ error: any Error) -> Bool {
        (error as? DatabaseError)?.resultCode == .SQLITE_ERROR
    }

    func isCorruption(_ error: any Error) -> Bool {
        let code = (error as? DatabaseError)?.resultCode
        return code == .SQLITE_CORRUPT || code == .SQLITE_CORRUPT_VTAB || code == .SQLITE_NOTADB
    }

    private final class Cursor: CatalogCursor {
        let columns: [String]
        let rows: RowCursor

        init(columns: [String], rows: RowCursor) {
            self.columns = columns
            self.rows = rows
        }

        func next() throws -> CatalogRow? {
            try rows.next().map { CatalogRow(columns: columns, values: SQLiteCatalogDatabase.values(of: $0)) }
        }
    }

    static func arguments(_ arguments: CatalogArguments) -> StatementArguments {
        StatementArguments(arguments.values.map { value -> DatabaseValue in
            switch value {
            case .null: .null
            case .integer(let integer): integer.databaseValue
            case .real(let real): real.databaseValue
            case .text(let text): text.databaseValue
            case .blob(let data): data.databaseValue
            }
        })
    }

    static func values(of row: Row) -> [CatalogValue] {
        (0..<row.count).map { index in
            switch (row[index] as DatabaseValue).storage {
            case .null: .null
            case .int64(let integer): .integer(integer)
            case .double(let real): .real(real)
            case .string(let text): .text(text)
            case .blob(let data): .blob(data)
            }
        }
    }
}

extension CatalogDatabase {
    /// The SQLite connection beneath, for what only SQLite has (FTS5, PRAGMAs, sessions);
    /// nil on PostgreSQL.
    var sqlite: Database? { (self as? SQLiteCatalogDatabase)?.connection }
}
