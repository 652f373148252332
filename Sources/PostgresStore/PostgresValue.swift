/// A statement parameter. Strings go as text of unknown type, so the server infers the type from
/// the statement (a string can fill a jsonb or timestamptz column); the others go in binary with
/// their type: int8, bytea, bool, float8.
public enum PostgresValue: Sendable, Equatable {
    case null
    case int64(Int64)
    case string(String)
    case bytes([UInt8])
    case bool(Bool)
    case double(Double)
}

extension PostgresValue {
    /// The wire form PQexecParams takes: type OID (0: let the server infer), bytes, format (0 text, 1 binary);
    /// nil bytes for NULL.
    var wire: (type: UInt32, bytes: [UInt8]?, format: Int32) {
        switch self {
        case .null: (0, nil, 0)
        case .string(let string): (0, Array(string.utf8), 0)
        case .int64(let value): (PostgresType.int8, Self.bigEndian(UInt64(bitPattern: value)), 1)
        case .bytes(let bytes): (PostgresType.bytea, bytes, 1)
        case .bool(let value): (PostgresType.bool, [value ? 1 : 0], 1)
        case .double(let value): (PostgresType.float8, Self.bigEndian(value.bitPattern), 1)
        }
    }

    private static func bigEndian(_ value: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: value >> (56 - 8 * $0)) }
    }
}

/// The type OIDs this client sends or decodes specially (pg_type.dat).
enum PostgresType {
    static let bool: UInt32 = 16
    static let bytea: UInt32 = 17
    static let int8: UInt32 = 20
    static let int2: UInt32 = 21
    static let int4: UInt32 = 23
    static let oid: UInt32 = 26
    static let float4: UInt32 = 700
    static let float8: UInt32 = 701
}
