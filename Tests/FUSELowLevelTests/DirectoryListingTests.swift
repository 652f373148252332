import FUSELowLevel
import Glibc
import Testing

extension FUSELowLevelTests {
    /// Listings larger than one reply buffer, through readdir and readdirplus.
    @Suite struct DirectoryListingTests {
        enum Mode: String, CaseIterable, Sendable {
            case readdir, readdirplus, kernelChooses
        }

        static let nonUTF8Name: [UInt8] = [0x66, 0xFF, 0xFE, 0x2E, 0x62, 0x69, 0x6E]
        static let longestName = [UInt8](repeating: UInt8(ascii: "L"), count: 255)

        @Test(arguments: Mode.allCases)
        func fiveThousandEntriesAreEachListedOnce(mode: Mode) throws {
            var configuration = MemoryFileSystem.Configuration()
            configuration.readdirplus = mode != .readdir
            configuration.readdirplusAlways = mode == .readdirplus
            let mount = try TestMount(MemoryFileSystem(configuration: configuration))
            defer { mount.tearDown() }
            let directory = mount.path("many")
            #expect(mkdir(directory, 0o755) == 0)

            var expected: Set<[UInt8]> = [Array(".".utf8), Array("..".utf8), Self.nonUTF8Name, Self.longestName]
            for index in 0..<4_998 { expected.insert(Array("entry-\(index)".utf8)) }
            for name in expected where name != Array(".".utf8) && name != Array("..".utf8) {
                let fd = open(Syscalls.path(directory, name), O_CREAT | O_WRONLY, 0o644)
                #expect(fd >= 0, "creating \(name.count)-byte name: errno \(errno)")
                close(fd)
            }

            let listed = try Syscalls.listDirectory(directory)
            #expect(listed.count == 5_002)
            #expect(Set(listed) == expected)
            #expect(Set(listed).count == listed.count, "no name is listed twice")

            let ls = Shell.run("/bin/ls", ["-1fa", directory])
            #expect(ls.status == 0)
            #expect(ls.output.split(separator: "\n").count == 5_002)
            let nonUTF8 = Syscalls.path(directory, Self.nonUTF8Name)
            var st = stat()
            #expect(stat(nonUTF8, &st) == 0 && st.st_mode & S_IFMT == S_IFREG)
        }
    }
}
