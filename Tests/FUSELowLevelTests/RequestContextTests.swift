import FUSELowLevel
import Glibc
import Testing

extension FUSELowLevelTests {
    /// The credentials a filesystem sees for each request.
    @Suite struct RequestContextTests {
        @Test func theCallersCredentialsAndGroupsAreSeen() throws {
            let fileSystem = MemoryFileSystem()
            let mount = try TestMount(fileSystem)
            defer { mount.tearDown() }
            let fd = open(mount.path("mine"), O_CREAT | O_WRONLY, 0o644)
            #expect(fd >= 0)
            close(fd)
            let (context, groups) = fileSystem.state.withLock { state in
                (state.createContexts[Array("mine".utf8)], state.createGroups[Array("mine".utf8)])
            }
            let ctx = try #require(context)
            #expect(ctx.uid == getuid() && ctx.gid == getgid())
            #expect(ctx.pid == Syscalls.threadID())
            var ours = [gid_t](repeating: 0, count: Int(getgroups(0, nil)))
            _ = getgroups(Int32(ours.count), &ours)
            #expect(groups.map(Set.init) == Set(ours))
            #expect(ctx.supplementaryGroups() == nil, "the request is gone once its operation returned")
        }

        @Test func anotherUsersRequestCarriesItsIds() throws {
            let fileSystem = MemoryFileSystem()
            let mount = try TestMount(fileSystem)
            defer { mount.tearDown() }
            let result = Shell.run("/usr/bin/setpriv", [
                "--reuid=65534", "--regid=65534", "--clear-groups",
                "/bin/sh", "-c", "umask 027 && touch '\(mount.path("theirs"))'",
            ])
            #expect(result.status == 0, "\(result.error)")
            let (context, groups) = fileSystem.state.withLock { state in
                (state.createContexts[Array("theirs".utf8)], state.createGroups[Array("theirs".utf8)])
            }
            let ctx = try #require(context)
            #expect(ctx.uid == 65534 && ctx.gid == 65534)
            #expect(ctx.umask == 0o027)
            #expect(groups == [])
            let st = Syscalls.attributes(mount.path("theirs")).st
            #expect(st.st_uid == 65534 && st.st_mode & 0o777 == 0o640)
        }
    }
}
