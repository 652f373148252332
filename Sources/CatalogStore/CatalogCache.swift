import NexusTypes
import Synchronization

/// Nodes, names and extended attributes as the catalog holds them (staged changes included),
/// so that lookups, getattr and the reads inside namespace changes need no SQL.
///
/// Coherence: every change to these tables goes through `CatalogWriter`, which evicts what it
/// changes before the change returns, and entries are added only on the catalog's connection:
/// by reads outside a staged operation, and, for the nodes and names a staged operation wrote,
/// when that operation has succeeded (`endOperation`: a create's node, a save's new size, are
/// then answered without SQL). So what the cache holds is what SQLite holds now, and
/// `Catalog.cachedNode` may read it from any thread without the connection. Whatever undoes
/// changes of earlier operations (a group rolled back, a replayed record) clears it.
final class CatalogCache: Sendable {
    /// Cleared when it holds more than this many nodes (or names, or attribute sets).
    static let capacity = 50_000

    struct EntryKey: Hashable {
        var parent: InodeNumber
        var name: FileName
    }

    struct State {
        /// nil values are known absences.
        var nodes: [InodeNumber: NodeRecord?] = [:]
        var entries: [EntryKey: InodeNumber?] = [:]
        /// Per inode, attribute values looked up by name (nil: known absent).
        var xattrs: [InodeNumber: [[UInt8]: [UInt8]?]] = [:]
        /// Every name of an inode, as `CatalogReader.names(of:)` lists them. Unlike the others,
        /// also filled inside a staged operation (nothing reads them without the connection):
        /// `opNames` lists what the operation filled, evicted again if it is rolled back.
        var names: [InodeNumber: [EntryRecord]] = [:]
        var opNames: [InodeNumber] = []
        /// Nodes and entries the staged operation wrote, as it left them (nil: deleted).
        var opNodes: [InodeNumber: NodeRecord?] = [:]
        var opEntries: [EntryKey: InodeNumber?] = [:]
    }

    private let state = Mutex(State())

    enum Lookup<T> {
        case miss
        case hit(T)
    }

    func node(_ inode: InodeNumber) -> Lookup<NodeRecord?> {
        state.withLock { s in s.nodes[inode].map { .hit($0) } ?? .miss }
    }

    func entry(_ name: FileName, in parent: InodeNumber) -> Lookup<InodeNumber?> {
        state.withLock { s in s.entries[EntryKey(parent: parent, name: name)].map { .hit($0) } ?? .miss }
    }

    func xattr(_ name: [UInt8], of inode: InodeNumber) -> Lookup<[UInt8]?> {
        state.withLock { s in s.xattrs[inode]?[name].map { .hit($0) } ?? .miss }
    }

    func names(of inode: InodeNumber) -> [EntryRecord]? {
        state.withLock { $0.names[inode] }
    }

    func store(names: [EntryRecord], of inode: InodeNumber, inOperation: Bool) {
        state.withLock { s in
            Self.put(names, for: inode, in: &s.names)
            if inOperation { s.opNames.append(inode) }
        }
    }

    /// Ends a staged operation: what it filled, and the nodes and entries it wrote, go into
    /// the cache if it succeeded; what it filled goes if it was rolled back.
    func endOperation(rolledBack: Bool) {
        state.withLock { s in
            if rolledBack {
                for inode in s.opNames { s.names[inode] = nil }
            } else {
                for (inode, node) in s.opNodes { Self.put(node, for: inode, in: &s.nodes) }
                for (key, inode) in s.opEntries { Self.put(inode, for: key, in: &s.entries) }
            }
            s.opNames.removeAll(keepingCapacity: true)
            s.opNodes.removeAll(keepingCapacity: true)
            s.opEntries.removeAll(keepingCapacity: true)
        }
    }

    /// A staged operation wrote `node` (nil: deleted it): evicted now, cached if the operation succeeds.
    func written(node: NodeRecord?, for inode: InodeNumber) {
        state.withLock { s in
            s.nodes.removeValue(forKey: inode)
            s.opNodes[inode] = .some(node)
        }
    }

    /// A staged operation pointed `name` in `parent` at `inode` (nil: removed it), as `written(node:)`.
    func written(entry inode: InodeNumber?, named name: FileName, in parent: InodeNumber) {
        let key = EntryKey(parent: parent, name: name)
        state.withLock { s in
            s.entries.removeValue(forKey: key)
            s.opEntries[key] = .some(inode)
        }
    }

    func evict(namesOf inode: InodeNumber) {
        _ = state.withLock { $0.names.removeValue(forKey: inode) }
    }

    func store(node: NodeRecord?, for inode: InodeNumber) {
        state.withLock { Self.put(node, for: inode, in: &$0.nodes) }
    }

    func store(entry: InodeNumber?, named name: FileName, in parent: InodeNumber) {
        state.withLock { Self.put(entry, for: EntryKey(parent: parent, name: name), in: &$0.entries) }
    }

    func store(xattr value: [UInt8]?, named name: [UInt8], of inode: InodeNumber) {
        state.withLock { s in
            var values = s.xattrs[inode] ?? [:]
            values[name] = .some(value)
            Self.put(values, for: inode, in: &s.xattrs)
        }
    }

    func evict(xattr name: [UInt8], of inode: InodeNumber) {
        _ = state.withLock { $0.xattrs[inode]?.removeValue(forKey: name) }
    }

    func evict(xattrsOf inode: InodeNumber) {
        _ = state.withLock { $0.xattrs.removeValue(forKey: inode) }
    }

    /// Sets `map[key]`, emptying the map first when it is full.
    private static func put<Key: Hashable, Value>(_ value: Value, for key: Key, in map: inout [Key: Value]) {
        if map.count >= capacity && map[key] == nil { map.removeAll(keepingCapacity: true) }
        map[key] = value
    }

    func clear() {
        state.withLock { $0 = State() }
    }
}
