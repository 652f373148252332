internal import CLibPQ

/// A checked connection string and how messages name its server: `postgres://user@host:port/db`,
/// never the password.
struct PostgresEndpoint: Sendable, CustomStringConvertible {
    /// The connection string as given: a `postgres://` URI or a libpq `key=value` conninfo.
    let conninfo: String
    let description: String

    init(_ conninfo: String) throws(PostgresError) {
        guard !conninfo.utf8.contains(0) else {
            throw PostgresError(.invalidConfiguration, "the connection string contains a NUL byte")
        }
        var problem: UnsafeMutablePointer<CChar>?
        guard let parsed = PQconninfoParse(conninfo, &problem) else {
            var reason = "out of memory"
            if let problem {
                reason = String(cString: problem).trimmingSuffix()
                PQfreemem(problem)
            }
            // libpq's message may quote the string, which may hold a password; only its reason is kept.
            throw PostgresError(.invalidConfiguration, "cannot parse the connection string: \(reason.firstLine)")
        }
        defer { PQconninfoFree(parsed) }
        let given = Self.values(parsed)
        let defaults: [String: String] = PQconndefaults().map { options in
            defer { PQconninfoFree(options) }
            return Self.values(options)
        } ?? [:]
        func value(_ keyword: String) -> String? { given[keyword] ?? defaults[keyword] }
        let user = value("user") ?? "?"
        let host = value("host") ?? value("hostaddr") ?? "default socket"
        let port = value("port") ?? "5432"
        let database = value("dbname") ?? user
        self.conninfo = conninfo
        self.description = "postgres://\(user)@\(host):\(port)/\(database)"
    }

    /// The non-empty values of a libpq option array, by keyword.
    private static func values(_ options: UnsafeMutablePointer<PQconninfoOption>) -> [String: String] {
        var values: [String: String] = [:]
        var option = options
        while let keyword = option.pointee.keyword {
            if let value = option.pointee.val, value.pointee != 0 {
                values[String(cString: keyword)] = String(cString: value)
            }
            option += 1
        }
        return values
    }
}

extension String {
    /// Without trailing newlines and spaces (libpq ends its messages with a newline).
    func trimmingSuffix() -> String {
        var text = Substring(self)
        while let last = text.last, last.isWhitespace { text.removeLast() }
        return String(text)
    }

    var firstLine: Substring {
        self[..<(firstIndex(of: "\n") ?? endIndex)]
    }
}
