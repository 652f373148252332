/// What one statement returned, copied out of libpq: the columns, the rows, and the number of rows
/// an INSERT, UPDATE, DELETE, MERGE, SELECT or COPY touched.
public struct PostgresResult: Sendable {
    /// A result column: its name and its type's OID.
    public struct Column: Sendable, Equatable {
        public var name: String
        public var type: UInt32
    }

    public var columns: [Column]
    public var rows: [PostgresRow]
    /// Rows touched per the command tag (`INSERT 0 3` is 3); 0 for commands without a count.
    public var affectedRows: Int

    /// The index of the column called `name`, or nil.
    public func column(named name: String) -> Int? {
        columns.firstIndex { $0.name == name }
    }
}

/// One result row. Values arrive in PostgreSQL's text format; the accessors parse them and throw
/// `.badResponse` for a NULL or a value of another form (check `isNull` first where NULL may occur).
public struct PostgresRow: Sendable {
    let columns: [PostgresResult.Column]
    /// Each field's text form, nil for NULL.
    let fields: [[UInt8]?]

    public var count: Int { fields.count }

    public func isNull(_ column: Int) -> Bool {
        fields[column] == nil
    }

    /// An integer column (int2, int4, int8, oid, or any text that is a decimal Int64).
    public func int64(_ column: Int) throws -> Int64 {
        let text = try string(column)
        guard let value = Int64(text) else { throw mismatch(column, "an integer", text) }
        return value
    }

    /// The field's text: for text types the string itself, for others PostgreSQL's output form
    /// (`t`, `2024-01-31 10:00:00+00`, `\x0102` for bytea).
    public func string(_ column: Int) throws -> String {
        String(decoding: try field(column), as: UTF8.self)
    }

    /// A bytea column's bytes (decoded from the hex or escape output format); for other types the
    /// text form's UTF-8 bytes.
    public func bytes(_ column: Int) throws -> [UInt8] {
        let text = try field(column)
        guard columns[column].type == PostgresType.bytea else { return text }
        guard let bytes = Self.decodeBytea(text) else {
            throw mismatch(column, "bytea output", String(decoding: text.prefix(40), as: UTF8.self))
        }
        return bytes
    }

    public func bool(_ column: Int) throws -> Bool {
        switch try string(column) {
        case "t": return true
        case "f": return false
        case let text: throw mismatch(column, "a boolean", text)
        }
    }

    /// A float4, float8 or numeric column (`Infinity`, `-Infinity` and `NaN` included).
    public func double(_ column: Int) throws -> Double {
        let text = try string(column)
        let value: Double? = switch text {
        case "Infinity": .infinity
        case "-Infinity": -.infinity
        case "NaN": .nan
        default: Double(text)
        }
        guard let value else { throw mismatch(column, "a number", text) }
        return value
    }

    private func field(_ column: Int) throws -> [UInt8] {
        guard let field = fields[column] else {
            throw PostgresError(.badResponse, "column \(columns[column].name) is NULL")
        }
        return field
    }

    private func mismatch(_ column: Int, _ expected: String, _ text: String) -> PostgresError {
        PostgresError(.badResponse, "column \(columns[column].name) is not \(expected): \(text.prefix(40))")
    }

    /// bytea's text output: `\x` and hex digits (the default), or the escape format's
    /// literal bytes, `\\` and `\ooo` octal escapes.
    static func decodeBytea(_ text: [UInt8]) -> [UInt8]? {
        if text.starts(with: [UInt8(ascii: "\\"), UInt8(ascii: "x")]) {
            let digits = text.dropFirst(2)
            guard digits.count % 2 == 0 else { return nil }
            var bytes: [UInt8] = []
            bytes.reserveCapacity(digits.count / 2)
            var index = digits.startIndex
            while index < digits.endIndex {
                guard let high = hexValue(digits[index]), let low = hexValue(digits[index + 1]) else { return nil }
                bytes.append(high << 4 | low)
                index += 2
            }
            return bytes
        }
        var bytes: [UInt8] = []
        var index = 0
        while index < text.count {
            guard text[index] == UInt8(ascii: "\\") else {
                bytes.append(text[index])
                index += 1
                continue
            }
            if index + 1 < text.count, text[index + 1] == UInt8(ascii: "\\") {
                bytes.append(UInt8(ascii: "\\"))
                index += 2
                continue
            }
            guard index + 3 < text.count else { return nil }
            var value = 0
            for digit in text[index + 1...index + 3] {
                guard (UInt8(ascii: "0")...UInt8(ascii: "7")).contains(digit) else { return nil }
                value = value * 8 + Int(digit - UInt8(ascii: "0"))
            }
            guard value <= 255 else { return nil }
            bytes.append(UInt8(value))
            index += 4
        }
        return bytes
    }

    private static func hexValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
