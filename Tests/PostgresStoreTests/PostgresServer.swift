import Foundation
import Glibc

/// A throwaway PostgreSQL 15 cluster (Debian's initdb and pg_ctl) on a loopback port, made for one
/// test in a fresh directory under /var/tmp and destroyed by `destroy()` or when released, so that no
/// server or data directory outlives the test.
///
/// initdb and postgres refuse to run as root, so both run as the `postgres` system user, in a
/// directory it owns; trust authentication, fsync off.
final class PostgresServer {
    /// Why the cluster could not be made or driven.
    struct StartError: Error, CustomStringConvertible {
        var description: String
    }

    static let binaries = "/usr/lib/postgresql/15/bin"

    let port: UInt16
    /// Holds the data directory, the server log and the Unix socket.
    let directory: String
    private var data: String { directory + "/data" }
    private var log: String { directory + "/server.log" }

    /// Makes a cluster and starts it on a free port.
    init() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.binaries + "/initdb") else {
            throw StartError(description: """
                the PostgresStore integration tests need PostgreSQL 15's server (\(Self.binaries)/initdb); \
                install it with: apt-get install postgresql-15
                """)
        }
        guard let account = getpwnam("postgres") else {
            throw StartError(description: "no `postgres` system user (installed with postgresql-15) to run the server as")
        }
        port = try Self.freePort()
        var template = Array("/var/tmp/postgresstore-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw StartError(description: "mkdtemp: \(String(cString: strerror(errno)))") }
        directory = String(cString: made)
        do {
            guard chown(directory, account.pointee.pw_uid, account.pointee.pw_gid) == 0 else {
                throw StartError(description: "chown \(directory): \(String(cString: strerror(errno)))")
            }
            try runAsPostgres(
                "initdb", ["-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"])
            let settings = """
                listen_addresses = '127.0.0.1'
                port = \(port)
                unix_socket_directories = '\(directory)'
                fsync = off
                max_connections = 20
                shared_buffers = 16MB

                """
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: data + "/postgresql.conf"))
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(settings.utf8))
            try handle.close()
            try start()
        } catch {
            destroy()
            throw error
        }
    }

    deinit {
        destroy()
    }

    /// A connection URI for the `postgres` superuser and database; trust authentication ignores the password.
    func url(password: String? = nil) -> String {
        "postgres://postgres\(password.map { ":\($0)" } ?? "")@127.0.0.1:\(port)/postgres"
    }

    func start() throws {
        try runAsPostgres("pg_ctl", ["-D", data, "-l", log, "-w", "-t", "60", "start"])
    }

    /// Stops the server at once, as a crash would; the cluster stays and `start()` brings it back.
    func stop() throws {
        try runAsPostgres("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"])
    }

    /// Stops the server in fast mode (open sessions are ended) and starts it again.
    func restart() throws {
        try runAsPostgres("pg_ctl", ["-D", data, "-l", log, "-m", "fast", "-w", "-t", "60", "restart"])
    }

    /// Stops the server if it runs and removes the directory.
    func destroy() {
        guard FileManager.default.fileExists(atPath: directory) else { return }
        if FileManager.default.fileExists(atPath: data + "/postmaster.pid") { try? stop() }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Runs one of PostgreSQL's programs as the postgres user; throws with its output when it fails.
    ///
    /// posix_spawn and waitpid, not Foundation's Process: Process learns of an exit through a socket
    /// the child inherits, and the server that pg_ctl starts would inherit and keep it. The output
    /// goes to a file for the same reason.
    private func runAsPostgres(_ program: String, _ arguments: [String]) throws {
        let outputPath = directory + "/\(program).out"
        let argv = ["/usr/bin/env", "-C", directory, "/usr/bin/setpriv", "--reuid=postgres", "--regid=postgres", "--clear-groups", "--", Self.binaries + "/" + program]
            + arguments
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let copies = argv.map { strdup($0) }
        defer { copies.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, argv[0], &actions, nil, copies + [nil], environ)
        guard spawned == 0 else { throw StartError(description: "posix_spawn \(argv[0]): \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw StartError(description: "waitpid: \(String(cString: strerror(errno)))") }
        }
        // Exited normally (low 7 bits zero) with status 0.
        guard status & 0x7f == 0, (status >> 8) & 0xff == 0 else {
            let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
            let serverLog = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            throw StartError(description: """
                \(program) \(arguments.joined(separator: " ")) failed (wait status \(status)): \
                \(text)\(serverLog.isEmpty ? "" : "\nserver log:\n\(serverLog)")
                """)
        }
    }

    /// A port that was free a moment ago.
    private static func freePort() throws -> UInt16 {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw StartError(description: "socket: \(String(cString: strerror(errno)))") }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0
            }
        }
        guard bound else { throw StartError(description: "bind: \(String(cString: strerror(errno)))") }
        return UInt16(bigEndian: address.sin_port)
    }
}
