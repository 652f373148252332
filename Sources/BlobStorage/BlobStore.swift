import CryptoCore
import Glibc
import NexusTypes
import Synchronization

/// A pack sealed to disk whose blobs are not yet in the catalog's index.
public struct SealedPack: Sendable {
    public var name: PackName
    public var length: UInt64
    public var entries: [PackEntry]

    public init(name: PackName, length: UInt64, entries: [PackEntry]) {
        self.name = name
        self.length = length
        self.entries = entries
    }
}

/// The repository's content store: blobs, compressed and encrypted, appended
/// into immutable pack files under `REPO/packs/`, which `storage` keeps: the folder itself
/// (the embedded default), or an object store of which the folder is a cache.
///
/// Thread-safe. Lock order: `sealing`, then a lane, then `state`, then `readers`; none is held
/// while calling out of the store. Blobs are encrypted and written into one of a few open packs
/// (lanes, one per core), each under its own lock, so that threads storing at once do not wait
/// for each other; a full pack is sealed (its fsync above all) under `sealing` alone, so that
/// other threads go on adding blobs to the next pack meanwhile.
public final class BlobStore: Sendable {
    /// Packs are sealed once they reach this size.
    public static let targetPackSize: UInt64 = 16 << 20

    public let directory: String
    public let keys: BlobKeys
    public let storage: any PackStorage

    private struct State: ~Copyable {
        /// Blobs written to an open pack or to a pack waiting to be sealed, by id.
        var pending: [BlobID: (writer: PackWriter, entry: PackEntry)] = [:]
        /// Full packs, oldest first, that `sealWaiting` makes durable: sealed into the folder,
        /// then kept by the storage. A pack sealed but not yet kept (the object store did not
        /// answer) stays here, its blobs readable through its writer, until a later flush keeps it.
        var waiting: [PackWriter] = []
        var sealed: [SealedPack] = []
        /// Blobs of `sealed`, until the caller has indexed them.
        var unindexed: [BlobID: (pack: PackName, entry: PackEntry)] = [:]
    }

    private let state = Mutex(State())
    /// The open packs, each with its own lock; a thread takes the first one that is free.
    private let lanes: [Lane]

    private final class Lane: Sendable {
        let writer = Mutex<PackWriter?>(nil)
    }
    /// Held while packs are sealed, so that they are sealed one at a time, in order, and
    /// `flush` returns only when every pack before it is durable.
    private let sealing = Mutex(())
    private let readers = Mutex([PackName: PackReader]())
    /// Held while a pack missing from the folder is fetched from the storage, one at a time.
    private let fetching = Mutex(())

    /// Opens (and creates, when missing) the pack directory of a repository; its packs are kept
    /// by `storage` (by default the directory itself).
    public init(directory: String, keys: BlobKeys, storage: (any PackStorage)? = nil) throws {
        self.directory = directory
        self.keys = keys
        self.storage = storage ?? LocalPackStorage(directory: directory)
        lanes = (0..<max(1, min(4, System.coreCount))).map { _ in Lane() }
        try PackFile.makeDirectory(directory)
        try PackFile.makeDirectory(temporaryDirectory)
    }

    var temporaryDirectory: String { directory + "/tmp" }

    /// Where the pack `name` lives.
    public func path(of name: PackName) -> String {
        directory + "/" + String(name.hex.prefix(2)) + "/" + name.hex
    }

    // MARK: Writing

    /// Whether `id` sits in the open pack or in a sealed pack not yet handed over for indexing.
    public func isPending(_ id: BlobID) -> Bool {
        state.withLock { $0.pending[id] != nil || $0.unindexed[id] != nil }
    }

    /// Appends a blob to the open pack unless it is already there. `payload` is what
    /// the caller stores: compressed (then `compressed` is set) or the plaintext itself.
    /// Returns false when the blob was already pending.
    @discardableResult
    public func add(id: BlobID, kind: BlobKind, rawLength: Int, payload: UnsafeRawBufferPointer, compressed: Bool) throws -> Bool {
        // The first free lane; when all are busy, the one this blob's id picks.
        var result: (added: Bool, full: Bool)?
        for lane in lanes where result == nil {
            result = try lane.writer.withLockIfAvailable { writer in
                try append(id: id, kind: kind, rawLength: rawLength, payload: payload, compressed: compressed, to: &writer)
            }
        }
        let (added, full) = try result ?? lanes[Int(id[0]) % lanes.count].writer.withLock { writer in
            try append(id: id, kind: kind, rawLength: rawLength, payload: payload, compressed: compressed, to: &writer)
        }
        if full { try sealWaiting() }
        return added
    }

    /// Appends a blob to a lane's open pack (under the lane's lock); a full pack goes to `waiting`.
    private func append(id: BlobID, kind: BlobKind, rawLength: Int, payload: UnsafeRawBufferPointer, compressed: Bool,
                        to lane: inout PackWriter?) throws -> (added: Bool, full: Bool) {
        if isPending(id) { return (false, false) }
        if lane == nil { lane = try PackWriter(directory: temporaryDirectory, keys: keys) }
        let writer = lane!
        let entry = try writer.add(id: id, kind: kind, compressed: compressed, rawLength: UInt32(rawLength), payload: payload)
        let full = writer.length >= Self.targetPackSize
        if full { lane = nil }
        state.withLock { state in
            state.pending[id] = (writer, entry)
            if full { state.waiting.append(writer) }
        }
        return (true, full)
    }

    /// Compresses where that helps, then adds.
    @discardableResult
    public func add(id: BlobID, kind: BlobKind, plaintext: UnsafeRawBufferPointer, compressor: Compressor) throws -> Bool {
        if isPending(id) { return false }
        if let packed = compressor.compress(plaintext) {
            return try packed.withUnsafeBytes {
                try add(id: id, kind: kind, rawLength: plaintext.count, payload: $0, compressed: true)
            }
        }
        return try add(id: id, kind: kind, rawLength: plaintext.count, payload: plaintext, compressed: false)
    }

    /// Seals the open pack, if it holds anything, making its blobs durable.
    public func flush() throws {
        for lane in lanes {
            lane.writer.withLock { lane in
                guard let writer = lane, writer.blobCount > 0 else { return }
                lane = nil
                state.withLock { $0.waiting.append(writer) }
            }
        }
        try sealWaiting()
    }

    /// Makes every blob added so far durable, then stores one more blob in a pack of its own and
    /// seals that pack at once: for a journal record or a checkpoint, which must never be durable
    /// before the blobs they refer to, whichever lanes those went to. When this throws, the blob
    /// is durable only if its pack was renamed into place (`sealedLast` tells).
    public func addDurably(id: BlobID, kind: BlobKind, plaintext: UnsafeRawBufferPointer, compressor: Compressor) throws {
        try flush()
        let packed = compressor.compress(plaintext)
        try sealing.withLock { _ in
            let writer = try PackWriter(directory: temporaryDirectory, keys: keys)
            let rawLength = UInt32(plaintext.count)
            if let packed {
                try packed.withUnsafeBytes { try writer.add(id: id, kind: kind, compressed: true, rawLength: rawLength, payload: $0) }
            } else {
                try writer.add(id: id, kind: kind, compressed: false, rawLength: rawLength, payload: plaintext)
            }
            try seal(writer)
            do {
                try storage.keep(writer.name, sealedAt: path(of: writer.name))
            } catch {
                // Sealed here but not kept: maybe durable (the store may have it), so handled
                // like a failure after the rename; kept by the next flush.
                state.withLock { $0.waiting.append(writer) }
                var failed = Self.storageError(error, keeping: writer.name)
                failed.afterRename = true
                throw failed
            }
            state.withLock { noteSealed(writer, in: &$0) }
        }
    }

    /// Hands over the packs sealed since the last call, for the caller to index.
    public func takeSealedPacks() -> [SealedPack] {
        state.withLock { state in
            let sealed = state.sealed
            state.sealed = []
            state.unindexed = [:]
            return sealed
        }
    }

    /// Drops the open packs and everything pending in them.
    public func discardOpenPack() {
        for lane in lanes {
            lane.writer.withLock { lane in
                guard let writer = lane else { return }
                writer.abandon()
                lane = nil
                state.withLock { state in state.pending = state.pending.filter { $0.value.writer !== writer } }
            }
        }
    }

    /// Seals the waiting packs, oldest first. A pack that cannot be sealed (a full disk) or kept
    /// (an object store that does not answer) stays waiting, its blobs pending and readable, for
    /// the next flush: staged saves refer to them, and dropping them would let a later commit refer
    /// to blobs in no pack. Only a pack whose seal failed at or after its rename (its writer is
    /// closed) is dropped with its blobs, as before.
    private func sealWaiting() throws {
        try sealing.withLock { _ in
            while let writer = state.withLock({ $0.waiting.first }) {
                var sealedHere = writer.isSealed
                do {
                    if !sealedHere { try seal(writer) }
                    sealedHere = true
                    do {
                        try storage.keep(writer.name, sealedAt: path(of: writer.name))
                    } catch {
                        throw Self.storageError(error, keeping: writer.name)
                    }
                } catch {
                    // A pack renamed into place whose folder sync failed is dropped for the local storage,
                    // as before; for an object store it stays waiting, to be kept by the next flush.
                    if !sealedHere && writer.isClosed && !(writer.isSealed && storage.isRemote) {
                        state.withLock { state in
                            state.waiting.removeFirst()
                            state.pending = state.pending.filter { $0.value.writer !== writer }
                        }
                    }
                    throw error
                }
                state.withLock { state in
                    state.waiting.removeFirst()
                    noteSealed(writer, in: &state)
                }
            }
        }
    }

    /// A sealed pack's blobs are no longer pending but unindexed, until the caller indexes them.
    private func noteSealed(_ writer: PackWriter, in state: inout State) {
        state.sealed.append(SealedPack(name: writer.name, length: writer.length, entries: writer.entries))
        for entry in writer.entries {
            state.unindexed[entry.id] = (writer.name, entry)
            state.pending[entry.id] = nil
        }
    }

    private func seal(_ writer: PackWriter) throws {
        let final = path(of: writer.name)
        let shard = String(final[..<final.lastIndex(of: "/")!])
        if access(shard, F_OK) != 0 {
            // A new shard folder: its entry in packs/ must be durable before a pack in it is.
            try PackFile.makeDirectory(shard)
            try PackFile.syncDirectory(directory)
        }
        try writer.seal(into: final, directory: shard)
    }

    // MARK: Reading

    /// Reads a blob's plaintext from where the index says it is, or, without a
    /// location, from the open pack or a sealed pack not yet indexed.
    public func read(_ id: BlobID, from location: (pack: PackName, entry: PackEntry)?, compressor: Compressor) throws -> [UInt8] {
        let (pack, entry, payload): (PackName?, PackEntry, [UInt8])
        if let location {
            (pack, entry) = location
            payload = try reader(for: location.pack).payload(of: location.entry)
        } else {
            let found: (pack: PackName, entry: PackEntry)? = state.withLock { $0.unindexed[id] }
            if let found {
                (pack, entry) = found
                payload = try reader(for: found.pack).payload(of: found.entry)
            } else {
                pack = nil
                guard let found = state.withLock({ $0.pending[id] }) else {
                    throw BlobStoreError(.notFound, "blob \(id.short) is in no pack")
                }
                let key = try PackFormat.packKey(keys, pack: found.writer.name)
                let opened = try PackReader.open(frame: found.writer.readFrame(found.entry), expected: found.entry,
                                                 pack: found.writer.name, key: key, path: found.writer.temporaryPath)
                (entry, payload) = (found.entry, opened.payload)
            }
        }
        guard entry.compressed else { return payload }
        do {
            return try payload.withUnsafeBytes { try compressor.decompress($0, rawLength: Int(entry.rawLength)) }
        } catch {
            throw BlobStoreError(.corrupt, "blob \(id.short) in pack \(pack?.hex ?? "(open)") does not decompress")
        }
    }

    private func reader(for pack: PackName) throws -> PackReader {
        if let cached = readers.withLock({ $0[pack] }) { return cached }
        let opened = try PackReader(path: try localPath(of: pack), name: pack, keys: keys)
        readers.withLock { cache in
            if cache.count >= 64 { cache.removeAll() }
            cache[pack] = opened
        }
        return opened
    }

    /// Forgets cached readers (after packs were removed).
    public func dropCachedReaders() {
        readers.withLock { $0.removeAll() }
    }

    // MARK: Packs as files

    /// The path of a sealed pack in the folder, fetched from the storage first when the folder
    /// does not hold it (a cache that never had it, or lost it).
    public func localPath(of pack: PackName) throws -> String {
        let file = path(of: pack)
        guard storage.isRemote, access(file, F_OK) != 0 else { return file }
        try fetching.withLock { _ in
            guard access(file, F_OK) != 0 else { return }
            let shard = String(file[..<file.lastIndex(of: "/")!])
            if access(shard, F_OK) != 0 { try PackFile.makeDirectory(shard) }
            let found: Bool
            do {
                found = try storage.fetch(pack, into: file)
            } catch {
                throw Self.storageError(error, fetching: pack)
            }
            guard found else { throw BlobStoreError(.notFound, "pack \(pack.hex) is not in \(storage.location)") }
        }
        return file
    }

    /// The names of all sealed packs the storage keeps, sorted.
    public func packNames() throws -> [PackName] {
        let names: [PackName]
        do {
            names = try storage.packNames()
        } catch let error as BlobStoreError {
            throw error
        } catch {
            throw BlobStoreError(.unavailable, "cannot list the packs in \(storage.location): \(error)")
        }
        return names.sorted { $0.bytes.lexicographicallyPrecedes($1.bytes) }
    }

    /// Packs sealed into the folder that the storage does not keep: a process that died between
    /// the seal and the upload. Empty for the local storage.
    public func packsNotKept() throws -> [PackName] {
        guard storage.isRemote else { return [] }
        let kept = Set(try packNames())
        return try LocalPackStorage.packFiles(in: directory).filter { !kept.contains($0) }
    }

    /// Keeps a pack sealed into the folder but not in the storage (see `packsNotKept`).
    public func keepSealedPack(_ pack: PackName) throws {
        do {
            try storage.keep(pack, sealedAt: path(of: pack))
        } catch {
            throw Self.storageError(error, keeping: pack)
        }
    }

    /// A failure of the storage as a blob store error naming the pack.
    static func storageError(_ error: any Error, keeping pack: PackName) -> BlobStoreError {
        if let error = error as? BlobStoreError { return error }
        return BlobStoreError(.unavailable, "cannot store pack \(pack.hex) in the pack storage: \(error)")
    }

    static func storageError(_ error: any Error, fetching pack: PackName) -> BlobStoreError {
        if let error = error as? BlobStoreError { return error }
        return BlobStoreError(.unavailable, "cannot fetch pack \(pack.hex) from the pack storage: \(error)")
    }

    /// Files in the pack directory that are not sealed packs (leftovers of a crash).
    public func strayFiles() throws -> [String] {
        try Self.listDirectory(temporaryDirectory).map { temporaryDirectory + "/" + $0 }
    }

    public func tableOfContents(of pack: PackName) throws -> [PackEntry] {
        try reader(for: pack).tableOfContents()
    }

    /// What is wrong with a pack's header, or nil (its blobs read without it).
    public func headerProblem(of pack: PackName) throws -> String? {
        try reader(for: pack).headerProblem()
    }

    public func length(of pack: PackName) throws -> UInt64 {
        try reader(for: pack).fileLength
    }

    /// Reads a blob's stored payload without decompressing, to verify it.
    public func payload(of entry: PackEntry, in pack: PackName) throws -> [UInt8] {
        try reader(for: pack).payload(of: entry)
    }

    /// Walks a pack's frames without its table of contents; returns the error that stopped the walk, if any.
    public func scanFrames(of pack: PackName, _ visit: (PackEntry, [UInt8]) throws -> Void) throws -> BlobStoreError? {
        try PackReader(path: try localPath(of: pack), name: pack, keys: keys).scanFrames(visit)
    }

    /// Deletes a sealed pack from the storage and the folder.
    public func removePack(_ pack: PackName) throws {
        readers.withLock { _ = $0.removeValue(forKey: pack) }
        do {
            try storage.remove(pack)
        } catch let error as BlobStoreError {
            throw error
        } catch {
            throw BlobStoreError(.unavailable, "cannot delete pack \(pack.hex) from \(storage.location): \(error)")
        }
        let file = path(of: pack)
        guard unlink(file) == 0 || errno == ENOENT else { throw BlobStoreError.system("unlink", file) }
    }

    static func listDirectory(_ path: String) throws -> [String] {
        guard let dir = opendir(path) else {
            if errno == ENOENT { return [] }
            throw BlobStoreError.system("opendir", path)
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}

enum System {
    /// Processors this process may run on.
    static let coreCount = max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
}
