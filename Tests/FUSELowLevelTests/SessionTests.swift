import FUSELowLevel
import Glibc
import Testing

extension FUSELowLevelTests {
    /// Mounting, serving, the ways `run` ends, and what a session leaves behind.
    @Suite struct SessionTests {
        @Test func servesUntilUnmountedFromOutsideThenReleasesTheFileSystem() throws {
            // Signal dispositions are process-wide: check them only while no other session is mounted
            // in this process (other test targets may mount concurrently).
            let aloneBefore = Syscalls.fuseDescriptors().isEmpty
            let events = MemoryFileSystem.Events()
            var fileSystem: MemoryFileSystem? = MemoryFileSystem(events: events)
            weak let weakFileSystem = fileSystem
            var deviceDescriptor: Int32 = -1
            do {
                let mount = try TestMount(fileSystem!)
                defer { mount.tearDown() }
                fileSystem = nil
                // The session's reference alone keeps the filesystem alive while it serves.
                #expect(weakFileSystem != nil)
                try Syscalls.writeFile(mount.path("hello"), Array("hi there".utf8))
                #expect(Shell.run("/bin/cat", [mount.path("hello")]).output == "hi there")
                #expect(events.initialized.load(ordering: .relaxed) == 1)
                #expect(events.destroyed.load(ordering: .relaxed) == 0)
                deviceDescriptor = mount.session.fd
                #expect(Syscalls.fuseDescriptors().contains(deviceDescriptor))
                if aloneBefore { #expect(Self.signalHandler(SIGTERM) != 0, "libfuse's handler is installed") }
                #expect(Shell.run("/usr/bin/fusermount3", ["-u", mount.mountpoint]).status == 0)
                #expect(mount.waitForRun(seconds: 10), "run() returns once the filesystem is unmounted")
                #expect(mount.runError.error.withLock { $0 == nil })
            }
            #expect(weakFileSystem == nil, "dropping the session releases the filesystem")
            #expect(events.destroyed.load(ordering: .relaxed) == 1)
            #expect(!Syscalls.fuseDescriptors().contains(deviceDescriptor), "/dev/fuse is closed")
            if aloneBefore && Syscalls.fuseDescriptors().isEmpty {
                #expect(Self.signalHandler(SIGTERM) == 0, "the signal handlers are removed after run")
            }
            #expect(Mounts.leftovers().isEmpty)
        }

        @Test func droppingASessionThatNeverRanUnmountsIt() throws {
            var template = Array("/var/tmp/fuselowlevel-XXXXXX".utf8CString)
            let directory = String(cString: try #require(mkdtemp(&template)))
            defer { rmdir(directory) }
            let events = MemoryFileSystem.Events()
            weak var weakFileSystem: MemoryFileSystem?
            do {
                let fileSystem = MemoryFileSystem(events: events)
                weakFileSystem = fileSystem
                let session = try FUSESession(fileSystem: fileSystem, mountpoint: directory)
                #expect(Mounts.isMounted(directory))
                #expect(session.isMounted)
            }
            #expect(!Mounts.isMounted(directory))
            #expect(weakFileSystem == nil)
            #expect(events.initialized.load(ordering: .relaxed) == 0)
            #expect(events.destroyed.load(ordering: .relaxed) == 0, "destroy only follows initialize")
        }

        @Test func exitEndsRunAndLeavesTheFilesystemMounted() throws {
            let mount = try TestMount(MemoryFileSystem())
            defer { mount.tearDown() }
            #expect(Syscalls.attributes(mount.path("")).errno == 0)
            mount.session.exit()
            #expect(mount.waitForRun(seconds: 10), "exit() ends an idle loop without waiting for a request")
            #expect(Mounts.isMounted(mount.mountpoint))
            #expect(mount.session.isMounted)
            mount.session.unmount()
            #expect(!Mounts.isMounted(mount.mountpoint))
            #expect(mount.session.fd == -1)
            mount.session.unmount()
            #expect(throws: FUSESessionError.self) { try mount.session.run() }
        }

        @Test func unmountFromAnotherThreadEndsRunAndUnmounts() throws {
            let mount = try TestMount(MemoryFileSystem())
            defer { mount.tearDown() }
            #expect(Syscalls.attributes(mount.path("")).errno == 0)
            mount.session.unmount()
            #expect(mount.waitForRun(seconds: 10))
            #expect(!Mounts.isMounted(mount.mountpoint))
            #expect(!mount.session.isMounted)
        }

        @Test func aMissingMountpointIsAClearError() throws {
            let error = try #require(throws: FUSESessionError.self) {
                try FUSESession(fileSystem: MemoryFileSystem(), mountpoint: "/var/tmp/fuselowlevel-no-such-directory")
            }
            #expect(error.code == .mountpointMissing)
            #expect(error.description.contains("/var/tmp/fuselowlevel-no-such-directory"))
        }

        @Test func aFileAsMountpointIsAClearError() throws {
            let error = try #require(throws: FUSESessionError.self) {
                try FUSESession(fileSystem: MemoryFileSystem(), mountpoint: "/etc/hostname")
            }
            #expect(error.code == .notADirectory)
        }

        @Test func anUnknownOptionIsRejectedWithoutMounting() throws {
            var template = Array("/var/tmp/fuselowlevel-XXXXXX".utf8CString)
            let directory = String(cString: try #require(mkdtemp(&template)))
            defer { rmdir(directory) }
            let error = try #require(throws: FUSESessionError.self) {
                try FUSESession(fileSystem: MemoryFileSystem(), mountpoint: directory, options: ["no_such_option"])
            }
            #expect(error.code == .invalidOptions)
            #expect(!Mounts.isMounted(directory))
        }

        @Test func optionsWithCommasReachTheKernel() throws {
            let mount = try TestMount(MemoryFileSystem(), options: ["fsname=memfs,with,commas", "ro"])
            defer { mount.tearDown() }
            let line = try #require(Mounts.table().first { $0.contains(mount.mountpoint) })
            #expect(line.hasPrefix("memfs,with,commas "))
            #expect(line.contains(" ro,") || line.contains(" ro "))
            #expect(Syscalls.errnoOf { open(mount.path("x"), O_CREAT | O_WRONLY, 0o644) } == EROFS)
        }

        /// The address of the handler for `signal` (0 for SIG_DFL).
        static func signalHandler(_ signal: Int32) -> Int {
            var action = sigaction()
            sigaction(signal, nil, &action)
            return unsafeBitCast(action.__sigaction_handler.sa_handler, to: Int.self)
        }
    }
}
