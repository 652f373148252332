import Foundation
import Glibc

/// Where passphrases come from; never echoed, never logged.
enum Passphrase {
    static func obtain(file: String?, environment: String, prompt: String, confirm: Bool) throws -> [UInt8] {
        if let file {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw UsageError("cannot read the password file \(file)")
            }
            let line = data.split(separator: 0x0a, maxSplits: 1, omittingEmptySubsequences: false).first ?? Data()
            var bytes = [UInt8](line)
            if bytes.last == 0x0d { bytes.removeLast() }
            guard !bytes.isEmpty else { throw UsageError("the password file \(file) is empty") }
            return bytes
        }
        if let value = ProcessInfo.processInfo.environment[environment], !value.isEmpty {
            return Array(value.utf8)
        }
        let first = try read(prompt: prompt)
        if confirm {
            guard try read(prompt: "Again: ") == first else { throw UsageError("the passphrases do not match") }
        }
        guard !first.isEmpty else { throw UsageError("an empty passphrase is not allowed") }
        return first
    }

    /// Reads a line from the terminal with echo off.
    private static func read(prompt: String) throws -> [UInt8] {
        let fd = open("/dev/tty", O_RDWR | O_CLOEXEC)
        guard fd >= 0 else {
            throw UsageError("no passphrase given: use --password-file FILE or NEXUSFS_PASSWORD, or run on a terminal")
        }
        defer { close(fd) }
        _ = prompt.withCString { write(fd, $0, strlen($0)) }
        var saved = termios()
        let isTerminal = tcgetattr(fd, &saved) == 0
        if isTerminal {
            var quiet = saved
            quiet.c_lflag &= ~tcflag_t(ECHO)
            tcsetattr(fd, TCSAFLUSH, &quiet)
        }
        defer {
            if isTerminal { tcsetattr(fd, TCSAFLUSH, &saved) }
            _ = write(fd, "\n", 1)
        }
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while Glibc.read(fd, &byte, 1) == 1 && byte != 0x0a { line.append(byte) }
        if line.last == 0x0d { line.removeLast() }
        return line
    }
}

extension Passphrase {
    /// Reads a passphrase handed over through a pipe by the parent `nexusfs mount`.
    static func read(fd: Int32) throws -> [UInt8] {
        var bytes: [UInt8] = []
        var byte: UInt8 = 0
        while Glibc.read(fd, &byte, 1) == 1 { bytes.append(byte) }
        close(fd)
        guard !bytes.isEmpty else { throw UsageError("no passphrase was handed to the mount daemon") }
        return bytes
    }
}
