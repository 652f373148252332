import FUSELowLevel
import Glibc

/// A filesystem of one empty root directory that implements only what the protocol requires, to
/// show what the defaults answer.
final class MinimalFileSystem: FUSEFileSystem {
    func lookup(_ ctx: FUSERequestContext, parent: UInt64, name: [UInt8]) throws -> FUSEEntry {
        throw FUSEError.noSuchFileOrDirectory
    }

    func getattr(_ ctx: FUSERequestContext, ino: UInt64, handle: UInt64?) throws -> (FUSEAttributes, timeout: Double) {
        guard ino == 1 else { throw FUSEError.noSuchFileOrDirectory }
        return (FUSEAttributes(ino: 1, mode: S_IFDIR | 0o755, nlink: 2), 1)
    }
}
