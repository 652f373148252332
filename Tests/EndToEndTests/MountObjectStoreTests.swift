import Foundation
import Glibc
import ObjectStore
import TestServers
import Testing

/// A repository whose packs are kept in an S3-compatible object store (moto's server on
/// loopback), driven through the mount with ordinary programs.
@Suite("Mount: packs in an object store", .serialized, .enabled(if: runningAsRoot, "mounting needs root"))
struct MountObjectStoreTests {
    /// A tree of small documents and one large file (more than one pack, uploaded in parts).
    static func makeSource(at source: String) throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: source + "/notes/2026", withIntermediateDirectories: true)
        for k in 0..<40 {
            try Data(compressibleText(300 + k * 97, seed: k)).write(to: URL(fileURLWithPath: source + "/notes/2026/n\(k).txt"))
        }
        try Data("first draft\n".utf8).write(to: URL(fileURLWithPath: source + "/report.txt"))
        try Data(randomBytes(40 << 20)).write(to: URL(fileURLWithPath: source + "/scan.bin"))
    }

    /// The pack objects in the store and the pack files in the repository's cache, as XX/NAME.
    static func packs(in moto: MotoServer, bucket: String, prefix: String, repository: String) throws -> (stored: Set<String>, cached: Set<String>) {
        let client = try S3Client(configuration: moto.configuration(bucket: bucket, keyPrefix: prefix))
        defer { try? client.shutdown() }
        let stored = Set(try client.list(prefix: "packs/").map { String($0.key.dropFirst("packs/".count)) })
        let folder = repository + "/packs"
        var cached = Set<String>()
        for shard in try FileManager.default.contentsOfDirectory(atPath: folder) where shard.count == 2 {
            for file in try FileManager.default.contentsOfDirectory(atPath: folder + "/" + shard) { cached.insert(shard + "/" + file) }
        }
        return (stored, cached)
    }

    /// Empties the pack cache and removes the live catalog, as on a machine that never had them.
    static func forgetLocalState(of mount: MountedRepository) throws {
        let folder = mount.repo + "/packs"
        for shard in try FileManager.default.contentsOfDirectory(atPath: folder) where shard.count == 2 {
            try FileManager.default.removeItem(atPath: folder + "/" + shard)
        }
        try FileManager.default.removeItem(atPath: mount.workspace.state)
    }

    /// Mounts as a host that never had the repository's cache or catalog would, after recover.
    static func mountCold(_ mount: MountedRepository) throws {
        try forgetLocalState(of: mount)
        try mount.workspace.succeed("recover", mount.repo)
        try mount.mount()
    }

    /// Unmounts and requires `check --read-data` to pass.
    static func unmountAndCheck(_ mount: MountedRepository, sourceLocation: SourceLocation = #_sourceLocation) throws {
        if mount.isMounted { try mount.unmount(sourceLocation: sourceLocation) }
        let check = try mount.workspace.nexusfs("check", "--read-data", mount.repo)
        #expect(check.exitedWith0, "\(check)", sourceLocation: sourceLocation)
    }

    @Test("cp -a into a mount whose packs are in S3: every pack is uploaded, and with the cache and the catalog gone, recover and a mount give back the tree and its history; check passes")
    func coldCacheRoundTrip() throws {
        let moto = try MotoServer()
        try moto.createBucket("docs")
        let mount = try MountedRepository("s3", initArguments: ["--store", "s3://docs/team"], environment: moto.environment)
        let source = mount.workspace.path("source")
        try Self.makeSource(at: source)
        try mustRun("/bin/cp", ["-a", source, mount.path("docs")])
        try mount.remount()
        try Data("second draft\n".utf8).write(to: URL(fileURLWithPath: source + "/report.txt"))
        try mustRun("/bin/cp", ["-p", source + "/report.txt", mount.path("docs/report.txt")])
        try mount.unmount()

        let (stored, cached) = try Self.packs(in: moto, bucket: "docs", prefix: "team/", repository: mount.repo)
        #expect(!stored.isEmpty && cached.isSubset(of: stored), "packs only in the cache: \(cached.subtracting(stored))")
        let client = try S3Client(configuration: moto.configuration(bucket: "docs", keyPrefix: "team/"))
        defer { try? client.shutdown() }
        #expect(try client.get("config") != nil, "no config in the store")
        #expect(try client.list(prefix: "keys/").count == 1, "the key file is not in the store")
        #expect(try client.get("lock") == nil, "the lease outlived the unmount")
        // Nothing in the store is plaintext: the report's words appear in no object.
        for key in stored {
            let bytes = try #require(try client.get("packs/" + key))
            #expect(bytes.firstRange(of: Array("second draft".utf8)) == nil, "pack \(key) holds plaintext")
        }

        try Self.mountCold(mount)
        try expectIdenticalTrees(source, mount.path("docs"))
        let versions = try FileManager.default.contentsOfDirectory(atPath: mount.path("docs/.versions/report.txt")).sorted()
        #expect(versions == ["report.00001.txt", "report.00002.txt"])
        #expect(try String(contentsOfFile: mount.path("docs/.versions/report.txt/report.00001.txt"), encoding: .utf8) == "first draft\n")
        try Self.unmountAndCheck(mount)
    }

    @Test("the object store stopped during writes: fsync fails with EIO within the timeout and the log names the store; cached reads go on; when it returns, the next commit stores everything, and a cold mount has it all")
    func storeStoppedAndBack() throws {
        let moto = try MotoServer()
        try moto.createBucket("docs")
        var environment = moto.environment
        environment["NEXUSFS_STORE_TIMEOUT"] = "3"
        let mount = try MountedRepository("s3-down", initArguments: ["--store", "s3://docs"], environment: environment)
        let before = mount.path("before.txt")
        try Data(compressibleText(50_000, seed: 1)).write(to: URL(fileURLWithPath: before))
        try mount.remount()
        #expect(FileManager.default.contents(atPath: before).map([UInt8].init) == compressibleText(50_000, seed: 1))

        moto.pause()
        defer { moto.resume() }
        let during = mount.path("during.txt")
        let writer = try run("/usr/bin/python3", ["-c", """
            import os, sys, time
            fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT, 0o644)
            os.write(fd, b"x" * 300000)
            start = time.monotonic()
            try:
                os.fsync(fd)
                print("fsync succeeded")
            except OSError as e:
                print("fsync failed", e.errno, round(time.monotonic() - start))
            os.close(fd)
            """, during], timeoutSeconds: 120)
        #expect(writer.out.hasPrefix("fsync failed \(EIO)"), "\(writer)")
        let logs = try FileManager.default.contentsOfDirectory(atPath: mount.workspace.state)
            .map { mount.workspace.state + "/" + $0 + "/mount.log" }.filter { FileManager.default.fileExists(atPath: $0) }
        let log = try logs.map { try String(contentsOfFile: $0, encoding: .utf8) }.joined()
        #expect(log.contains("s3://docs") && log.contains("127.0.0.1:\(moto.port)"), "the mount's log does not name the store: \(log.suffix(2000))")
        // What was read before comes from the cache.
        #expect(FileManager.default.contents(atPath: before).map([UInt8].init) == compressibleText(50_000, seed: 1))

        moto.resume()
        let retried = try run("/usr/bin/python3", ["-c", "import os, sys; fd = os.open(sys.argv[1], os.O_RDWR); os.fsync(fd)", during])
        #expect(retried.exitedWith0, "fsync once the store is back: \(retried)")
        try mount.unmount()

        try Self.mountCold(mount)
        #expect(FileManager.default.contents(atPath: during).map([UInt8].init) == [UInt8](repeating: UInt8(ascii: "x"), count: 300_000))
        #expect(FileManager.default.contents(atPath: before).map([UInt8].init) == compressibleText(50_000, seed: 1))
        try Self.unmountAndCheck(mount)
    }

    @Test("init refuses a prefix that holds objects, a missing bucket and missing credentials, each with a message that says so, and creates nothing")
    func initRefusals() throws {
        let moto = try MotoServer()
        try moto.createBucket("docs")
        let ws = try Workspace("s3-init")
        defer { ws.cleanup() }
        ws.environment = moto.environment
        try ws.succeed("init", "--store", "s3://docs/a", ws.path("first"))

        let taken = try ws.nexusfs("init", "--store", "s3://docs/a", ws.path("second"))
        #expect(!taken.exitedWith0 && taken.err.contains("already holds objects"), "\(taken)")
        let missing = try ws.nexusfs("init", "--store", "s3://nosuchbucket", ws.path("third"))
        #expect(!missing.exitedWith0 && missing.err.contains("nosuchbucket"), "\(missing)")
        ws.environment = ["AWS_ENDPOINT_URL": moto.endpoint]
        let anonymous = try ws.nexusfs(["init", "--store", "s3://docs/b", ws.path("fourth")],
                                       extraEnvironment: ["AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""])
        #expect(!anonymous.exitedWith0 && anonymous.err.contains("AWS_ACCESS_KEY_ID"), "\(anonymous)")
        for name in ["second", "third", "fourth"] {
            #expect(!FileManager.default.fileExists(atPath: ws.path(name)), "\(name) was created")
        }
    }

    @Test("two hosts on one store: the second is refused while the first holds the lease, naming it; after kill -9 of the first, attach --take-over gives the second every fsynced file, and the first is then refused")
    func leaseAndTakeOver() throws {
        let moto = try MotoServer()
        try moto.createBucket("docs")
        let first = try MountedRepository("s3-host-a", initArguments: ["--store", "s3://docs/shared"], environment: moto.environment)
        let synced = try run("/usr/bin/python3", ["-c", """
            import os, sys
            fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT, 0o644)
            os.write(fd, b"kept\\n" * 1000)
            os.fsync(fd)
            os.close(fd)
            """, first.path("synced.txt")])
        try #require(synced.exitedWith0, "\(synced)")

        // The lease names the first folder to passphrase holders only: encrypted in the store.
        let client = try S3Client(configuration: moto.configuration(bucket: "docs", keyPrefix: "shared/"))
        defer { try? client.shutdown() }
        let lease = try #require(try client.get("lock"), "no lease in the store while mounted")
        #expect(lease.firstRange(of: Array(first.repo.utf8)) == nil && lease.firstRange(of: Array("mounted".utf8)) == nil,
                "the lease is plaintext")

        let second = try Workspace("s3-host-b")
        defer { second.cleanup() }
        second.environment = moto.environment
        let refused = try second.nexusfs("attach", "s3://docs/shared", second.repo)
        #expect(!refused.exitedWith0 && refused.err.contains("by host") && refused.err.contains(first.repo), "\(refused)")
        #expect(!FileManager.default.fileExists(atPath: second.repo), "a refused attach left a folder")

        kill(try first.requireDaemonPID(), SIGKILL)
        _ = try run("/bin/fusermount3", ["-u", "-z", first.mountpoint])
        let stillRefused = try second.nexusfs("attach", "s3://docs/shared", second.repo)
        #expect(!stillRefused.exitedWith0 && stillRefused.err.contains("--take-over"), "\(stillRefused)")
        try second.succeed("attach", "--take-over", "s3://docs/shared", second.repo)

        let mountpoint = second.path("mnt")
        try FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: true)
        try second.succeed("mount", second.repo, mountpoint)
        defer { _ = try? second.nexusfs("umount", mountpoint) }
        #expect(FileManager.default.contents(atPath: mountpoint + "/synced.txt") == Data(String(repeating: "kept\n", count: 1000).utf8))
        try second.succeed("umount", mountpoint)
        try second.succeed("mount", second.repo, mountpoint)

        let back = try first.workspace.nexusfs("mount", first.repo, first.mountpoint)
        #expect(!back.exitedWith0 && back.err.contains(second.repo), "the first host mounted while the second holds the lease: \(back)")
    }

    @Test("migrate an embedded repository into S3 and back: check --read-data passes each time, a cold cache gives back the tree, and after moving back the mount needs no store")
    func migrateBothWays() throws {
        let moto = try MotoServer()
        try moto.createBucket("docs")
        let mount = try MountedRepository("s3-migrate", environment: moto.environment)
        let source = mount.workspace.path("source")
        try Self.makeSource(at: source)
        try mustRun("/bin/cp", ["-a", source, mount.path("docs")])
        try mount.unmount()

        try mount.workspace.succeed("migrate", "--store", "s3://docs/moved", mount.repo)
        try Self.unmountAndCheck(mount)
        try Self.mountCold(mount)
        try expectIdenticalTrees(source, mount.path("docs"))
        try mount.unmount()

        try Self.forgetLocalState(of: mount)
        try mount.workspace.succeed("recover", mount.repo)
        try mount.workspace.succeed("migrate", "--local", mount.repo)
        moto.stop()
        try Self.unmountAndCheck(mount)
        try mount.mount()
        try expectIdenticalTrees(source, mount.path("docs"))
    }
}
