import FUSELowLevel
import CLinux
import Glibc
import Testing

extension FUSELowLevelTests {
    /// Extended attributes, including the size protocol of getxattr and listxattr.
    @Suite struct ExtendedAttributeTests {
        @Test func attributesAreSetListedReadAndRemoved() throws {
            let mount = try TestMount(MemoryFileSystem())
            defer { mount.tearDown() }
            let file = mount.path("tagged")
            try Syscalls.writeFile(file, [])
            #expect(Shell.run("/usr/bin/setfattr", ["-n", "user.colour", "-v", "blue", file]).status == 0)
            #expect(Shell.run("/usr/bin/setfattr", ["-n", "user.shape", "-v", "round", file]).status == 0)
            #expect(Shell.run("/usr/bin/getfattr", ["-n", "user.colour", "--only-values", file]).output == "blue")
            let dump = Shell.run("/usr/bin/getfattr", ["-d", file]).output
            #expect(dump.contains("user.colour=\"blue\"") && dump.contains("user.shape=\"round\""))

            #expect(Syscalls.errnoOf { setxattr(file, "user.colour", "red", 3, Int32(XATTR_CREATE)) } == EEXIST)
            #expect(Syscalls.errnoOf { setxattr(file, "user.none", "x", 1, Int32(XATTR_REPLACE)) } == ENODATA)
            #expect(Shell.run("/usr/bin/setfattr", ["-x", "user.shape", file]).status == 0)
            #expect(Syscalls.errnoOf { removexattr(file, "user.shape") } == ENODATA)
            #expect(!Shell.run("/usr/bin/getfattr", ["-d", file]).output.contains("user.shape"))
        }

        @Test func sizeQueriesAndSmallBuffers() throws {
            let mount = try TestMount(MemoryFileSystem())
            defer { mount.tearDown() }
            let file = mount.path("sized")
            try Syscalls.writeFile(file, [])
            #expect(setxattr(file, "user.k", "value", 5, 0) == 0)

            #expect(getxattr(file, "user.missing", nil, 0) == -1 && errno == ENODATA)
            #expect(getxattr(file, "user.k", nil, 0) == 5)
            var small = [UInt8](repeating: 0, count: 2)
            #expect(getxattr(file, "user.k", &small, 2) == -1 && errno == ERANGE)
            var exact = [UInt8](repeating: 0, count: 5)
            #expect(getxattr(file, "user.k", &exact, 5) == 5)
            #expect(exact == Array("value".utf8))

            #expect(setxattr(file, "user.second", "", 0, 0) == 0)
            let listLength = listxattr(file, nil, 0)
            try #require(listLength == ("user.k\0user.second\0" as String).utf8.count)
            var tooSmall = [CChar](repeating: 0, count: 4)
            #expect(listxattr(file, &tooSmall, 4) == -1 && errno == ERANGE)
            var names = [CChar](repeating: 0, count: listLength)
            #expect(listxattr(file, &names, listLength) == listLength)
            #expect(names.split(separator: 0).map { String(decoding: $0.map(UInt8.init), as: UTF8.self) }
                == ["user.k", "user.second"])
            #expect(getxattr(file, "user.second", nil, 0) == 0, "an empty value has length 0")
        }
    }
}
