import Foundation
import NexusTypes
import RepositoryCore
import Synchronization

/// The `/.at` view: `/.at/TIME/` is the root of a read-only volume over the repository as it was
/// at TIME (any form `TimeExpression` reads). Its inodes are virtual, in the `.versions` view's
/// document level with bit 61 set (document ids never get there): 0 is `/.at` itself, any other
/// number an entry of `PastVolumes`' table, standing for one inode of one past volume.
enum AtView {
    static let name: [UInt8] = Array(".at".utf8)
    static let base: UInt64 = VersionsView.documentLevel << VersionsView.levelShift | 1 << 61
    static let idMask: UInt64 = (1 << 61) - 1
    /// `/.at` itself.
    static let root = InodeNumber(base)
    /// Handles of the view have the top bit set; the live volume's count up from 1.
    static let handleBit: UInt64 = 1 << 63

    /// Whether `inode` is `/.at` or below it.
    static func contains(_ inode: InodeNumber) -> Bool { inode.rawValue & ~idMask == base }

    /// The table id of an inode below `/.at` (nil for `/.at` itself and for other inodes).
    static func id(_ inode: InodeNumber) -> UInt64? {
        guard contains(inode), inode.rawValue & idMask != 0 else { return nil }
        return inode.rawValue & idMask
    }

    /// The live inode of a table id.
    static func inode(id: UInt64) -> InodeNumber { InodeNumber(base | id & idMask) }

    /// Whether a handle is one of the view's (a past volume's, renumbered).
    static func isHandle(_ handle: UInt64) -> Bool { handle & handleBit != 0 }

    /// The time a folder name of `/.at` stands for (relative forms are resolved against now).
    static func time(named name: [UInt8]) -> FileTime? {
        guard name != [0x2e], name != [0x2e, 0x2e], let text = String(validating: name, as: UTF8.self),
              let date = TimeExpression.parse(text) else { return nil }
        return TimeExpression.fileTime(date)
    }
}

/// One past volume of the `/.at` view and how it is used.
final class PastVolume: Sendable {
    /// The resolved time it shows, in nanoseconds since 1970: its key in `PastVolumes`.
    let key: Int64
    let volume: Volume

    init(key: Int64, volume: Volume) {
        self.key = key
        self.volume = volume
    }
}

/// The past volumes of `/.at` (at most `capacity` kept, least recently used evicted), the table
/// between the live volume's inodes and theirs, and the handles opened through the view.
///
/// A volume is evicted only while no operation runs in it and no handle of it is open; if every
/// one is in use, the cache holds one more until the next trim. An evicted volume's inodes leave
/// the table: the kernel's references to them then get ENOENT, and a new lookup of `/.at/TIME`
/// builds the view again with new inode numbers.
///
/// Lock order: `building` before `state`; `state` is a leaf (past volumes are called, opened and
/// shut down outside it).
final class PastVolumes: Sendable {
    static let capacity = 2

    /// An inode of one past volume.
    struct PastInode: Hashable, Sendable {
        var key: Int64
        var inode: InodeNumber
    }

    /// A handle of one past volume, and the folder it lists (for `..` of the past root).
    struct PastHandle: Sendable {
        var key: Int64
        var handle: UInt64
        var inode: InodeNumber
    }

    private struct Entry {
        var past: PastVolume
        var lastUse: UInt64
        var running = 0
        var handles = 0
    }

    private struct State {
        var volumes: [Int64: Entry] = [:]
        /// The folder names of `/.at` looked up, while their volume is cached: a relative name
        /// (`3 days ago`) keeps the time it was first resolved to.
        var names: [[UInt8]: Int64] = [:]
        var ids: [PastInode: UInt64] = [:]
        var inodes: [UInt64: PastInode] = [:]
        var nextID: UInt64 = 1
        var handles: [UInt64: PastHandle] = [:]
        var nextHandle: UInt64 = 1
        var clock: UInt64 = 0
        var closed = false
    }

    private let state = Mutex(State())
    /// Held while a past volume is built, so that one time is built once.
    let building = Mutex(())

    /// The key a folder name of `/.at` was resolved to, if its volume is still cached.
    func key(named name: [UInt8]) -> Int64? {
        state.withLock { s in s.names[name].flatMap { s.volumes[$0] != nil ? $0 : nil } }
    }

    /// Adds a volume built for `key` under the folder name `name` (the caller holds `building`);
    /// returns the volumes to shut down, evicted to make room.
    func insert(_ past: PastVolume, named name: [UInt8]) -> [PastVolume] {
        state.withLock { s in
            s.clock += 1
            s.volumes[past.key] = Entry(past: past, lastUse: s.clock)
            s.names[name] = past.key
            return trim(&s)
        }
    }

    /// Notes that the folder name `name` stands for the cached volume of `key`.
    func name(_ name: [UInt8], as key: Int64) {
        state.withLock { $0.names[name] = key }
    }

    /// Whether `closeAll` ran: no more views are built.
    var isClosed: Bool { state.withLock { $0.closed } }

    /// The live inode standing for `inode` of the past volume of `key`, allocated on first sight.
    func live(_ inode: InodeNumber, of key: Int64) -> InodeNumber {
        state.withLock { s in
            let past = PastInode(key: key, inode: inode)
            if let id = s.ids[past] { return AtView.inode(id: id) }
            let id = s.nextID
            s.nextID += 1
            s.ids[past] = id
            s.inodes[id] = past
            return AtView.inode(id: id)
        }
    }

    /// Runs `body` in the past volume of `key`, which stays open meanwhile; nil once evicted.
    func using<T>(_ key: Int64, _ body: (Volume) throws -> T) throws -> T? {
        let past = state.withLock { s -> PastVolume? in
            guard !s.closed, var entry = s.volumes[key] else { return nil }
            s.clock += 1
            entry.lastUse = s.clock
            entry.running += 1
            s.volumes[key] = entry
            return entry.past
        }
        guard let past else { return nil }
        defer { finish(key) }
        return try body(past.volume)
    }

    /// Runs `body` with the past volume and inode a live inode of the view stands for.
    func using<T>(_ live: InodeNumber, _ body: (Volume, PastInode) throws -> T) throws -> T? {
        guard let id = AtView.id(live) else { return nil }
        guard let past = state.withLock({ $0.inodes[id] }) else { throw VFSError(.notFound, "a past view that was closed") }
        guard let result = try using(past.key, { try body($0, past) }) else {
            throw VFSError(.notFound, "a past view that was closed")
        }
        return result
    }

    /// Runs `body` with the past volume and handle a live handle of the view stands for.
    func using<T>(handle: UInt64, _ body: (Volume, PastHandle) throws -> T) throws -> T? {
        guard AtView.isHandle(handle) else { return nil }
        guard let past = state.withLock({ $0.handles[handle] }),
              let result = try using(past.key, { try body($0, past) }) else { throw VFSError(.badHandle) }
        return result
    }

    private func finish(_ key: Int64) {
        let evicted = state.withLock { s -> [PastVolume] in
            s.volumes[key]?.running -= 1
            return trim(&s)
        }
        Self.shut(evicted)
    }

    /// A live handle for `handle` of the past volume of `key` listing or reading `inode`.
    func register(_ handle: UInt64, of key: Int64, inode: InodeNumber) -> UInt64 {
        state.withLock { s in
            let live = AtView.handleBit | s.nextHandle
            s.nextHandle += 1
            s.handles[live] = PastHandle(key: key, handle: handle, inode: inode)
            s.volumes[key]?.handles += 1
            return live
        }
    }

    /// Forgets a live handle (released); the volume may then be evicted.
    func unregister(_ live: UInt64) {
        let evicted = state.withLock { s -> [PastVolume] in
            guard let past = s.handles.removeValue(forKey: live) else { return [] }
            s.volumes[past.key]?.handles -= 1
            return trim(&s)
        }
        Self.shut(evicted)
    }

    /// Takes out of the cache the least recently used idle volumes beyond `capacity`.
    private func trim(_ s: inout State) -> [PastVolume] {
        var evicted: [PastVolume] = []
        while s.volumes.count > Self.capacity,
              let oldest = s.volumes.values.filter({ $0.running == 0 && $0.handles == 0 }).min(by: { $0.lastUse < $1.lastUse }) {
            evicted.append(remove(oldest.past.key, from: &s))
        }
        return evicted
    }

    private func remove(_ key: Int64, from s: inout State) -> PastVolume {
        let entry = s.volumes.removeValue(forKey: key)!
        s.names = s.names.filter { $0.value != key }
        for (past, id) in s.ids where past.key == key {
            s.ids[past] = nil
            s.inodes[id] = nil
        }
        s.handles = s.handles.filter { $0.value.key != key }
        return entry.past
    }

    /// Closes every past volume and deletes their catalogs (at the live volume's shutdown).
    func closeAll() {
        let all = state.withLock { s -> [PastVolume] in
            s.closed = true
            return s.volumes.keys.map { remove($0, from: &s) }
        }
        Self.shut(all)
    }

    /// Shuts past volumes down: their repositories remove their catalog files.
    private static func shut(_ volumes: [PastVolume]) {
        for past in volumes { try? past.volume.shutdown() }
    }

    /// How many past volumes are open (for tests).
    var count: Int { state.withLock { $0.volumes.count } }
}
