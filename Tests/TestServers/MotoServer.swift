import Foundation
import Glibc
import ObjectStore

/// A moto S3 server (`python3 -m moto.server`) on a loopback port, started for one test and
/// killed by `stop()` or when released, so that no process outlives the test.
public final class MotoServer: @unchecked Sendable {
    /// Why the server could not be started.
    public struct StartError: Error, CustomStringConvertible {
        public var description: String
    }

    public let port: UInt16
    private let process: Process
    private let log: String

    /// Starts moto on `port` (a free one when nil) and waits until it accepts connections.
    public init(port: UInt16? = nil) throws {
        try Self.requireMoto()
        self.port = try port ?? Self.freePort()
        log = NSTemporaryDirectory() + "moto-\(self.port)-\(getpid()).log"
        guard FileManager.default.createFile(atPath: log, contents: nil) else {
            throw StartError(description: "cannot create \(log)")
        }
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-m", "moto.server", "-H", "127.0.0.1", "-p", "\(self.port)"]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle(forWritingAtPath: log)
        try process.run()
        let giveUp = ContinuousClock.now + .seconds(60)
        while !Self.accepts(port: self.port) {
            guard process.isRunning else {
                let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
                throw StartError(description: "moto server exited with status \(process.terminationStatus): \(output)")
            }
            guard ContinuousClock.now < giveUp else {
                stop()
                throw StartError(description: "moto server did not listen on 127.0.0.1:\(self.port) within 60 s")
            }
            usleep(50_000)
        }
    }

    deinit {
        stop()
        unlink(log)
    }

    public var endpoint: String { "http://127.0.0.1:\(port)" }

    /// The variables that point an AWS client (and nexusfs) at this server with moto's accepted
    /// dummy credentials.
    public var environment: [String: String] {
        ["AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1",
         "AWS_ENDPOINT_URL": endpoint]
    }

    /// Creates `bucket` on this server.
    public func createBucket(_ bucket: String) throws {
        let client = try S3Client(configuration: configuration(bucket: bucket))
        defer { try? client.shutdown() }
        try client.createBucket()
    }

    /// Stops the server (SIGSTOP) without losing what it holds: connections to it hang, as to a
    /// store that does not answer, until `resume()`.
    public func pause() {
        if process.isRunning { kill(process.processIdentifier, SIGSTOP) }
    }

    public func resume() {
        if process.isRunning { kill(process.processIdentifier, SIGCONT) }
    }

    /// A path-style configuration for `bucket` on this server with moto's accepted dummy credentials.
    public func configuration(bucket: String, keyPrefix: String = "") -> S3Configuration {
        S3Configuration(
            endpoint: endpoint, region: "us-east-1", accessKey: "testing", secretKey: "testing", bucket: bucket,
            keyPrefix: keyPrefix)
    }

    /// Kills the server (moto keeps everything in memory, so nothing is lost that a test needs).
    public func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        kill(process.processIdentifier, SIGCONT)
        process.waitUntilExit()
    }

    /// Turns on moto's request authentication after creating an IAM user allowed everything, and
    /// returns that user's access key and secret; requests signed otherwise are refused from then on.
    public func enableAuthentication() throws -> (accessKey: String, secretKey: String) {
        let script = """
            import boto3, json, sys, urllib.request
            iam = boto3.client("iam", endpoint_url=sys.argv[1], region_name="us-east-1",
                               aws_access_key_id="setup", aws_secret_access_key="setup")
            iam.create_user(UserName="tester")
            iam.put_user_policy(UserName="tester", PolicyName="all", PolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
            key = iam.create_access_key(UserName="tester")["AccessKey"]
            urllib.request.urlopen(urllib.request.Request(sys.argv[1] + "/moto-api/reset-auth", data=b"0", method="POST",
                                                   headers={"Content-Type": "application/octet-stream"}))
            print(key["AccessKeyId"], key["SecretAccessKey"])
            """
        let output = try Self.run(["python3", "-c", script, endpoint])
        let words = output.text.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        guard output.status == 0, words.count == 2 else {
            throw StartError(description: "setting up moto authentication failed: \(output.text)")
        }
        return (words[0], words[1])
    }

    /// Fails with instructions when python3 cannot import moto's server.
    private static func requireMoto() throws {
        let probe = try run(["python3", "-c", "import moto.server"])
        guard probe.status == 0 else {
            throw StartError(description: """
                the ObjectStore integration tests need moto's S3 server, but `python3 -c 'import moto.server'` \
                failed (\(probe.text.trimmingCharacters(in: .whitespacesAndNewlines))); \
                install it with: pip install 'moto[server]'
                """)
        }
    }

    /// Runs a command through /usr/bin/env and returns its exit status and output (stdout and stderr).
    private static func run(_ arguments: [String]) throws -> (status: Int32, text: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// A port that was free a moment ago.
    private static func freePort() throws -> UInt16 {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw StartError(description: "socket: \(String(cString: strerror(errno)))") }
        defer { close(socket) }
        var address = loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0
            }
        }
        guard bound else { throw StartError(description: "bind: \(String(cString: strerror(errno)))") }
        return UInt16(bigEndian: address.sin_port)
    }

    /// Whether something accepts TCP connections on 127.0.0.1:`port`.
    private static func accepts(port: UInt16) -> Bool {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { return false }
        defer { close(socket) }
        var address = loopback(port: port)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    private static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }
}
