import FUSELowLevel
import Glibc
import Testing

extension FUSELowLevelTests {
    /// Files, links and directories driven with shell tools and system calls.
    @Suite struct FileOperationTests {
        @Test func filesAreCreatedWrittenRenamedAndRemovedWithShellTools() throws {
            let mount = try TestMount(MemoryFileSystem())
            defer { mount.tearDown() }
            let file = mount.path("notes.txt")
            #expect(Shell.sh("echo hello > '\(file)' && echo world >> '\(file)'").status == 0)
            #expect(Shell.run("/bin/cat", [file]).output == "hello\nworld\n")
            #expect(Syscalls.attributes(file).st.st_size == 12)

            #expect(Shell.run("/bin/mv", [file, mount.path("renamed.txt")]).status == 0)
            #expect(Syscalls.attributes(file).errno == ENOENT)
            #expect(Shell.run("/bin/cat", [mount.path("renamed.txt")]).output == "hello\nworld\n")

            #expect(Shell.run("/bin/ln", ["-s", "renamed.txt", mount.path("soft")]).status == 0)
            #expect(Shell.run("/bin/readlink", [mount.path("soft")]).output == "renamed.txt\n")
            #expect(Shell.run("/bin/cat", [mount.path("soft")]).output == "hello\nworld\n")
            #expect(Shell.run("/bin/ln", [mount.path("renamed.txt"), mount.path("hard")]).status == 0)
            #expect(Syscalls.attributes(mount.path("hard")).st.st_nlink == 2)

            #expect(Shell.run("/bin/rm", [mount.path("renamed.txt")]).status == 0)
            let listing = Shell.run("/bin/ls", ["-la", mount.path("")])
            #expect(listing.status == 0)
            #expect(listing.output.contains(" soft -> renamed.txt"))
            #expect(listing.output.contains(" hard\n"))
            #expect(Shell.run("/bin/ls", ["-1", mount.path("")]).output == "hard\nsoft\n")
            #expect(Syscalls.attributes(mount.path("hard")).st.st_nlink == 1)

            #expect(Shell.run("/usr/bin/truncate", ["-s", "3", mount.path("hard")]).status == 0)
            #expect(Shell.run("/bin/cat", [mount.path("hard")]).output == "hel")
            #expect(Shell.run("/bin/chmod", ["640", mount.path("hard")]).status == 0)
            #expect(Syscalls.attributes(mount.path("hard")).st.st_mode & 0o7777 == 0o640)
            #expect(Shell.run("/usr/bin/touch", ["-m", "-d", "@1000000000", mount.path("hard")]).status == 0)
            #expect(Syscalls.attributes(mount.path("hard")).st.st_mtim.tv_sec == 1_000_000_000)
            #expect(Shell.run("/usr/bin/stat", ["-c", "%s %F", mount.path("hard")]).output == "3 regular file\n")
        }

        @Test func reopeningWithOTruncDropsTheOldContent() throws {
            let mount = try TestMount(MemoryFileSystem())
            defer { mount.tearDown() }
            try Syscalls.writeFile(mount.path("f"), Array("a much longer first version".utf8))
            try Syscalls.writeFile(mount.path("f"), Array("short".utf8))
            #expect(try Syscalls.readFile(mount.path("f")) == Array("short".utf8))
        }

        @Test func directoriesAreMadeMovedAndRemoved() throws {
            let mount = try TestMount(MemoryFileSystem())
            defer { mount.tearDown() }
            #expect(Shell.run("/bin/mkdir", ["-p", mount.path("a/b/c")]).status == 0)
            #expect(Shell.sh("echo x > '\(mount.path("a/b/c/file"))'").status == 0)
            #expect(Shell.run("/bin/ls", ["-la", mount.path("a")]).output.contains(" b\n"))
            #expect(Syscalls.attributes(mount.path("a/b")).st.st_mode & S_IFMT == S_IFDIR)

            #expect(Shell.run("/bin/mkdir", [mount.path("d")]).status == 0)
            #expect(Shell.run("/bin/mv", [mount.path("a/b"), mount.path("d/")]).status == 0)
            #expect(Shell.run("/bin/cat", [mount.path("d/b/c/file")]).output == "x\n")
            #expect(Syscalls.attributes(mount.path("a/b")).errno == ENOENT)

            #expect(Syscalls.errnoOf { rmdir(mount.path("d")) } == ENOTEMPTY)
            #expect(Shell.run("/bin/rm", ["-r", mount.path("d")]).status == 0)
            #expect(Shell.run("/bin/rmdir", [mount.path("a")]).status == 0)
            #expect(try Syscalls.listDirectory(mount.path("")).sorted { $0.lexicographicallyPrecedes($1) }
                == [Array(".".utf8), Array("..".utf8)])
        }
    }
}
