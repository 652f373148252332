import Dispatch
import Foundation
import Synchronization

/// Runs real programs against the mount, as a user would.
enum Shell {
    struct Result {
        let status: Int32
        let output: String
        let error: String
    }

    /// Runs `executable` with `arguments` and waits for it; stdout and stderr are captured.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String]) -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe(), error = Pipe()
        process.standardOutput = output
        process.standardError = error
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            return Result(status: -1, output: "", error: "\(error)")
        }
        let errorData = Collected()
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) { [errorHandle = error.fileHandleForReading] in
            let data = errorHandle.readDataToEndOfFile()
            errorData.data.withLock { $0 = data }
        }
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return Result(status: process.terminationStatus,
                      output: String(decoding: outputData, as: UTF8.self),
                      error: String(decoding: errorData.data.withLock { $0 }, as: UTF8.self))
    }

    /// stderr, read on another thread while stdout is read on this one.
    private final class Collected: Sendable {
        let data = Mutex<Data>(Data())
    }

    /// Runs `command` with /bin/sh -c.
    @discardableResult
    static func sh(_ command: String) -> Result {
        run("/bin/sh", ["-c", command])
    }
}
