import FUSELowLevel
import Glibc
import Testing

extension FUSELowLevelTests {
    /// Kernel caches kept by the open options and entry timeouts, and dropped by notifications.
    @Suite struct CacheInvalidationTests {
        @Test func keepCacheServesOldDataUntilTheInodeIsInvalidated() throws {
            var configuration = MemoryFileSystem.Configuration()
            configuration.keepCache = true
            configuration.attributeTimeout = 60
            configuration.entryTimeout = 60
            let fileSystem = MemoryFileSystem(configuration: configuration)
            let mount = try TestMount(fileSystem)
            defer { mount.tearDown() }
            let file = mount.path("cached")
            try Syscalls.writeFile(file, Array("aaaa".utf8))
            #expect(try Syscalls.readFile(file) == Array("aaaa".utf8))

            fileSystem.replaceContent(of: "cached", with: Array("bbbb".utf8))
            #expect(try Syscalls.readFile(file) == Array("aaaa".utf8), "keep_cache kept the pages across opens")

            mount.session.invalidateInode(UInt64(Syscalls.attributes(file).st.st_ino))
            #expect(try Syscalls.readFile(file) == Array("bbbb".utf8))
            mount.session.invalidateInode(999_999)
        }

        @Test func aCachedAbsenceLastsUntilTheEntryIsInvalidated() throws {
            var configuration = MemoryFileSystem.Configuration()
            configuration.negativeTimeout = 60
            let fileSystem = MemoryFileSystem(configuration: configuration)
            let mount = try TestMount(fileSystem)
            defer { mount.tearDown() }
            #expect(Syscalls.attributes(mount.path("later")).errno == ENOENT)

            fileSystem.addFile("later")
            #expect(Syscalls.attributes(mount.path("later")).errno == ENOENT, "the negative entry is cached")

            mount.session.invalidateEntry(parent: 1, name: Array("later".utf8))
            #expect(Syscalls.attributes(mount.path("later")).errno == 0)
        }
    }
}
