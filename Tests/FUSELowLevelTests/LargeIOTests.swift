import FUSELowLevel
import Glibc
import Testing

extension FUSELowLevelTests {
    /// Data much larger than one FUSE request survives the round trip byte for byte.
    @Suite struct LargeIOTests {
        @Test func eightMebibytesRoundTrip() throws {
            let fileSystem = MemoryFileSystem()
            let mount = try TestMount(fileSystem)
            defer { mount.tearDown() }
            var generator = SystemRandomNumberGenerator()
            let words = (0..<(1 << 20)).map { _ in generator.next() }
            let data = words.withUnsafeBytes { Array($0) }
            try Syscalls.writeFile(mount.path("big"), data)
            #expect(Syscalls.attributes(mount.path("big")).st.st_size == 8 << 20)
            #expect(fileSystem.state.withLock { $0.largestWrite } == 1 << 20, "the binding asks for 1 MiB writes")
            #expect(try Syscalls.readFile(mount.path("big"), chunk: 8 << 20) == data)
            #expect(try Syscalls.readFile(mount.path("big"), chunk: 65_537) == data)

            let outside = mount.mountpoint + ".copy"
            defer { unlink(outside) }
            #expect(Shell.run("/bin/cp", [mount.path("big"), outside]).status == 0)
            #expect(try Syscalls.readFile(outside) == data)
            #expect(Shell.run("/bin/cp", [outside, mount.path("big-again")]).status == 0)
            #expect(Shell.run("/usr/bin/cmp", [outside, mount.path("big-again")]).status == 0)
        }
    }
}
