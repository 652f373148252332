import Glibc
import LocalTree
import NexusTypes
import Testing

@Suite("LocalTreeWriter")
struct LocalTreeWriterTests {
    static let metadata = LocalMetadata(
        kind: .regular, permissions: 0o644, uid: geteuid(), gid: getegid(),
        accessTime: FileTime(seconds: 1_000, nanoseconds: 1), modificationTime: FileTime(seconds: 2_000, nanoseconds: 2))

    @Test func errorDescriptionShowsOperationEscapedPathAndReason() {
        let error = LocalTreeError(path: bytes("/dest/a") + [0xff] + bytes("b"), operation: "mkdir", errno: EACCES)
        #expect(error.description == "mkdir /dest/a\\xffb: Permission denied")
    }

    @Test func rootIsCreatedWithItsMissingAncestors() throws {
        try withScratchDirectory { scratch in
            let root = join(scratch, bytes("a/b/c"))
            let writer = try LocalTreeWriter(root: root)
            try writer.makeFile(path("f"), metadata: Self.metadata) { _ in }
            try writer.finish()
            var st = stat()
            #expect(lstat(cString(join(root, bytes("f"))), &st) == 0)
        }
    }

    @Test func missingParentIsReportedWithTheFullPath() throws {
        try withScratchDirectory { root in
            let writer = try LocalTreeWriter(root: root)
            #expect(throws: LocalTreeError(path: join(root, bytes("missing")), operation: "open", errno: ENOENT)) {
                try writer.makeFile(path("missing/f"), metadata: Self.metadata) { _ in }
            }
        }
    }

    @Test func existingDirectoryIsReusedAndExistingFileReplaced() throws {
        try withScratchDirectory { root in
            let directory = join(root, bytes("d"))
            let file = join(directory, bytes("f"))
            try check(mkdir(cString(directory), 0o755), "mkdir", directory)
            let fd = try check(open(cString(file), O_CREAT | O_WRONLY | O_CLOEXEC, 0o644), "create", file)
            try check(write(fd, "old and longer", 14), "write", file)
            close(fd)
            try check(MissingCalls.setxattr(cString(file), cString(bytes("user.stale")), "x", 1, 0), "setxattr", file)

            let writer = try LocalTreeWriter(root: root)
            var directoryMetadata = Self.metadata
            directoryMetadata.kind = .directory
            try writer.makeDirectory(path("d"), metadata: directoryMetadata)
            try writer.makeFile(path("d/f"), metadata: Self.metadata, xattrs: [(bytes("user.new"), bytes("1"))]) { out in
                try bytes("new").withUnsafeBytes { try LocalIO.writeFully(fd: out, $0) }
            }
            try writer.finish()

            let tree = try snapshot(root)
            let copied = try #require(tree.entries.first { $0.entry.path == path("d/f") })
            #expect(copied.content == bytes("new"))
            #expect(copied.entry.xattrs.map(\.name) == [bytes("user.new")])
            #expect(copied.entry.metadata.modificationTime == Self.metadata.modificationTime)
        }
    }

    @Test func symlinksInTheDestinationAreNeverFollowed() throws {
        try withScratchDirectory { scratch in
            let root = join(scratch, bytes("root"))
            let outside = join(scratch, bytes("outside"))
            try check(mkdir(cString(root), 0o755), "mkdir", root)
            try check(mkdir(cString(outside), 0o755), "mkdir", outside)
            try check(symlink(cString(outside), cString(join(root, bytes("dir")))), "symlink")
            try check(symlink(cString(join(outside, bytes("file"))), cString(join(root, bytes("file")))), "symlink")

            let writer = try LocalTreeWriter(root: root)
            #expect(throws: LocalTreeError(path: join(root, bytes("file")), operation: "create", errno: ELOOP)) {
                try writer.makeFile(path("file"), metadata: Self.metadata) { _ in }
            }
            #expect(throws: LocalTreeError.self) {
                try writer.makeFile(path("dir/file"), metadata: Self.metadata) { _ in }
            }
            var directoryMetadata = Self.metadata
            directoryMetadata.kind = .directory
            #expect(throws: LocalTreeError.self) {
                try writer.makeDirectory(path("dir"), metadata: directoryMetadata)
            }
            var st = stat()
            #expect(lstat(cString(join(outside, bytes("file"))), &st) == -1 && errno == ENOENT)
        }
    }

    @Test func wrongKindsAndAttributeNamesAreRefused() throws {
        try withScratchDirectory { root in
            let writer = try LocalTreeWriter(root: root)
            #expect(throws: LocalTreeError(path: join(root, bytes("s")), operation: "mknod", errno: EINVAL)) {
                try writer.makeSpecial(path("s"), metadata: Self.metadata)
            }
            #expect(throws: LocalTreeError.self) {
                try writer.makeFile(path("f"), metadata: Self.metadata, xattrs: [(bytes("trusted.x"), [])]) { _ in }
            }
        }
    }
}
