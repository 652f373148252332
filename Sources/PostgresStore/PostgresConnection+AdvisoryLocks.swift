// Session-level advisory locks. The server releases them when the connection ends, so a
// reconnection (see `reconnections`) loses them.
extension PostgresConnection {
    /// Takes the advisory lock `key` if no other session holds it; whether it was taken. A session
    /// may take a lock it already holds again, and must then release it as often.
    public func tryAdvisoryLock(_ key: Int64) throws -> Bool {
        try execute("SELECT pg_try_advisory_lock($1)", [.int64(key)]).rows[0].bool(0)
    }

    /// Releases one hold of the advisory lock `key`; false (and a server warning) when not held.
    @discardableResult
    public func advisoryUnlock(_ key: Int64) throws -> Bool {
        try execute("SELECT pg_advisory_unlock($1)", [.int64(key)]).rows[0].bool(0)
    }
}
