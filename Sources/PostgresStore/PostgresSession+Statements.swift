internal import CLibPQ

// Running one statement with PQexecParams and copying its result out of libpq.
extension PostgresSession {
    /// Runs `sql` with `parameters` ($1, $2, …) and returns its result, text format.
    ///
    /// Throws `.sql` when the server refuses it, and `.unreachable` when no connection can be made
    /// or the connection breaks while the statement is under way (then its outcome is unknown).
    @discardableResult
    func execute(_ sql: String, _ parameters: [PostgresValue]) throws(PostgresError) -> PostgresResult {
        guard !sql.utf8.contains(0) else { throw PostgresError(.invalidConfiguration, "\(statement(sql)): a NUL byte in the SQL") }
        let wire = parameters.map(\.wire)
        // libpq reads text parameters up to a NUL, so each value is NUL-terminated and may hold none.
        for (index, value) in wire.enumerated() where value.format == 0 && value.bytes?.contains(0) == true {
            throw PostgresError(.invalidConfiguration, "\(statement(sql)): parameter $\(index + 1) holds a NUL byte")
        }
        var buffer: [UInt8] = []
        var offsets: [Int] = []
        for value in wire {
            offsets.append(buffer.count)
            buffer += value.bytes ?? []
            buffer.append(0)
        }
        let connection = try ready()
        let result: OpaquePointer? = buffer.withUnsafeBufferPointer { bytes in
            let base = UnsafeRawPointer(bytes.baseAddress!).assumingMemoryBound(to: CChar.self)
            let values: [UnsafePointer<CChar>?] = zip(wire, offsets).map { value, offset in
                value.bytes == nil ? nil : base + offset
            }
            return PQexecParams(
                connection, sql, Int32(wire.count), wire.map(\.type), values, wire.map { Int32($0.bytes?.count ?? 0) },
                wire.map(\.format), 0)
        }
        defer { PQclear(result) }
        guard PQstatus(connection) == CONNECTION_OK else {
            let cause = String(cString: PQerrorMessage(connection)).trimmingSuffix()
            drop()
            throw PostgresError(
                .unreachable, "\(statement(sql)): connection to \(endpoint) lost, so whether it took effect is unknown; \(cause)")
        }
        guard let result else {
            throw PostgresError(.badResponse, "\(statement(sql)): \(String(cString: PQerrorMessage(connection)).trimmingSuffix())")
        }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            return Self.copy(result)
        case PGRES_FATAL_ERROR:
            let state = Self.field(result, "C") ?? "XX000"
            var message = "\(statement(sql)) on \(endpoint): \(state) \(Self.field(result, "M") ?? "error")"
            if let detail = Self.field(result, "D") { message += " (\(detail))" }
            throw PostgresError(.sql(SQLState(rawValue: state)), message)
        case PGRES_COPY_IN, PGRES_COPY_OUT, PGRES_COPY_BOTH:
            // Leaving COPY mode takes a protocol exchange this client does not implement; a new
            // connection is simpler.
            drop()
            throw PostgresError(.badResponse, "\(statement(sql)): COPY is not supported")
        default:
            throw PostgresError(
                .badResponse, "\(statement(sql)): \(String(cString: PQresStatus(PQresultStatus(result)))) from \(endpoint)")
        }
    }

    /// The statement's first line, shortened, for messages (never the parameters, which may be secret).
    func statement(_ sql: String) -> String {
        let line = sql.trimmingSuffix().firstLine
        return line.count > 80 ? "`\(line.prefix(80))…`" : "`\(line)`"
    }

    /// An error field of a result (PG_DIAG_*, a character-literal macro), or nil.
    private static func field(_ result: OpaquePointer, _ code: Unicode.Scalar) -> String? {
        PQresultErrorField(result, Int32(code.value)).map { String(cString: $0) }
    }

    /// The columns, rows and command count of a successful result, copied.
    private static func copy(_ result: OpaquePointer) -> PostgresResult {
        let columnCount = PQnfields(result)
        let columns = (0..<columnCount).map { column in
            PostgresResult.Column(name: String(cString: PQfname(result, column)), type: PQftype(result, column))
        }
        let rows = (0..<PQntuples(result)).map { row in
            PostgresRow(columns: columns, fields: (0..<columnCount).map { column -> [UInt8]? in
                if PQgetisnull(result, row, column) == 1 { return nil }
                let length = Int(PQgetlength(result, row, column))
                return PQgetvalue(result, row, column).withMemoryRebound(to: UInt8.self, capacity: length) {
                    Array(UnsafeBufferPointer(start: $0, count: length))
                }
            })
        }
        return PostgresResult(columns: columns, rows: rows, affectedRows: Int(String(cString: PQcmdTuples(result))) ?? 0)
    }
}
