import Glibc
import LocalTree
import NexusTypes
import Testing

@Suite("LocalTreeReader")
struct LocalTreeReaderTests {
    @Test func childrenComeAfterTheirDirectorySortedByNameBytes() throws {
        try withScratchDirectory { root in
            for name in ["b", "a", "B", "a b", "a/z", "a/y", "c"] {
                let full = join(root, bytes(name))
                if name == "a" || name == "c" {
                    try check(mkdir(cString(full), 0o755), "mkdir", full)
                } else {
                    try check(open(cString(full), O_CREAT | O_WRONLY | O_CLOEXEC, 0o644), "create", full).close()
                }
            }
            let high = join(root, [UInt8(ascii: "a"), 0xff])
            try check(open(cString(high), O_CREAT | O_WRONLY | O_CLOEXEC, 0o644), "create", high).close()

            var visited: [String] = []
            try LocalTreeReader(root: root).walk({ entry, _ in visited.append(entry.path.description) },
                                                 onError: { Issue.record("\($0)") })
            #expect(visited == ["/", "/B", "/a", "/a/y", "/a/z", "/a b", "/a\\xff", "/b", "/c"])
        }
    }

    @Test func openGivesIndependentDescriptorsForFilesAndThrowsForOthers() throws {
        try withScratchDirectory { root in
            let file = join(root, bytes("f"))
            let fd = try check(open(cString(file), O_CREAT | O_WRONLY | O_CLOEXEC, 0o644), "create", file)
            try check(write(fd, "abc", 3), "write", file)
            close(fd)
            try check(mkdir(cString(join(root, bytes("d"))), 0o755), "mkdir")

            var contents: [[UInt8]] = []
            var directoryError: LocalTreeError?
            try LocalTreeReader(root: root).walk({ entry, open in
                if entry.path == path("f") {
                    let first = try open()
                    let second = try open()
                    contents.append(try readAll(first))
                    contents.append(try readAll(second))
                    close(first)
                    close(second)
                } else if entry.path == path("d") {
                    do {
                        close(try open())
                        Issue.record("open gave a descriptor for a directory")
                    } catch let error as LocalTreeError {
                        directoryError = error
                    }
                }
            }, onError: { Issue.record("\($0)") })
            #expect(contents == [bytes("abc"), bytes("abc")])
            #expect(directoryError?.errno == EINVAL)
        }
    }

    @Test func entryVanishingDuringTheWalkGoesToOnErrorAndTheWalkGoesOn() throws {
        try withScratchDirectory { root in
            for name in ["a", "b", "c"] {
                let full = join(root, bytes(name))
                try check(open(cString(full), O_CREAT | O_WRONLY | O_CLOEXEC, 0o644), "create", full).close()
            }
            var visited: [String] = []
            var errors: [LocalTreeError] = []
            try LocalTreeReader(root: root).walk({ entry, _ in
                visited.append(entry.path.description)
                if entry.path == path("a") { unlink(cString(join(root, bytes("b")))) }
            }, onError: { errors.append($0) })
            #expect(visited == ["/", "/a", "/c"])
            #expect(errors == [LocalTreeError(path: join(root, bytes("b")), operation: "stat", errno: ENOENT)])
        }
    }

    /// As root every file is readable, so the walk drops this thread's file system uid:
    /// setfsuid is per thread and a synchronous test stays on one thread.
    @Test(.enabled(if: geteuid() == 0, "needs setfsuid"))
    func unreadableEntriesAreReportedAndSkippedWithTheirSubtree() throws {
        try withScratchDirectory { root in
            for (name, mode) in [("open", 0o644), ("secret", 0o000)] as [(String, mode_t)] {
                let full = join(root, bytes(name))
                try check(open(cString(full), O_CREAT | O_WRONLY | O_CLOEXEC, mode), "create", full).close()
            }
            let locked = join(root, bytes("locked"))
            try check(mkdir(cString(locked), 0o700), "mkdir", locked)
            let hidden = join(locked, bytes("hidden"))
            try check(open(cString(hidden), O_CREAT | O_WRONLY | O_CLOEXEC, 0o644), "create", hidden).close()
            try check(chmod(cString(locked), 0o000), "chmod", locked)

            var visited: [String] = []
            var errors: [LocalTreeError] = []
            let reader = try LocalTreeReader(root: root)
            _ = MissingCalls.setfsgid(65534)
            _ = MissingCalls.setfsuid(65534)
            defer {
                _ = MissingCalls.setfsuid(0)
                _ = MissingCalls.setfsgid(0)
            }
            try reader.walk({ entry, open in
                visited.append(entry.path.description)
                if entry.metadata.kind == .regular { close(try open()) }
            }, onError: { errors.append($0) })
            #expect(visited == ["/", "/open"])
            #expect(errors.map(\.description) == [
                "open \(String(decoding: locked, as: UTF8.self)): Permission denied",
                "open \(String(decoding: root, as: UTF8.self))/secret: Permission denied",
            ])
        }
    }

    @Test func rootThatIsMissingOrNotADirectoryThrows() throws {
        try withScratchDirectory { root in
            let file = join(root, bytes("file"))
            try check(open(cString(file), O_CREAT | O_WRONLY | O_CLOEXEC, 0o644), "create", file).close()
            #expect(throws: LocalTreeError(path: file, operation: "open", errno: ENOTDIR)) {
                try LocalTreeReader(root: file)
            }
            let missing = join(root, bytes("missing"))
            #expect(throws: LocalTreeError(path: missing, operation: "open", errno: ENOENT)) {
                try LocalTreeReader(root: missing)
            }
        }
    }
}

extension Int32 {
    /// Closes a descriptor made only to create a file.
    func close() { _ = Glibc.close(self) }
}
