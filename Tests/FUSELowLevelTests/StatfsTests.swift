import FUSELowLevel
import Glibc
import Testing

extension FUSELowLevelTests {
    /// Filesystem statistics as statvfs and df see them.
    @Suite struct StatfsTests {
        @Test func statisticsReachStatvfsAndDf() throws {
            let mount = try TestMount(MemoryFileSystem())
            defer { mount.tearDown() }
            var st = statvfs()
            #expect(statvfs(mount.mountpoint, &st) == 0)
            #expect(st.f_bsize == 4096 && st.f_frsize == 4096)
            #expect(st.f_blocks == 1_000_000 && st.f_bfree == 250_000 && st.f_bavail == 200_000)
            #expect(st.f_files == 500_000 && st.f_ffree == 400_000)
            #expect(st.f_namemax == 255)

            let df = Shell.run("/usr/bin/df", ["-B4096", "--output=source,size,used,avail,itotal", mount.mountpoint])
            #expect(df.status == 0)
            let row = df.output.split(separator: "\n").last.map { $0.split(separator: " ").map(String.init) }
            #expect(row == ["fuselowlevel-test", "1000000", "750000", "200000", "500000"])
        }
    }
}
