import ArgumentParser
import CLinux
import Foundation
import Glibc

/// `grant`, `revoke`, `access`, `comment` and `comments`: requests to a mounted nexusfs made
/// through extended attributes of the path, so the daemon sees who asks (docs/permissions.md).
enum MountedRequest {
    /// `path` as the command line gave it (its bytes: a name need not be UTF-8).
    static func set(_ path: String, _ name: String, _ value: String) throws {
        try set(RawArguments.bytes(of: path), name, value)
    }

    static func set(_ path: [UInt8], _ name: String, _ value: String) throws {
        let bytes = Array(value.utf8)
        let result = withCString(path) { cPath in bytes.withUnsafeBytes { setxattr(cPath, name, $0.baseAddress, $0.count, 0) } }
        if result != 0 { throw failure(errno, shown(path)) }
    }

    static func get(_ path: String, _ name: String) throws -> String {
        try get(RawArguments.bytes(of: path), name)
    }

    static func get(_ path: [UInt8], _ name: String) throws -> String {
        for _ in 0..<4 {
            let size = withCString(path) { getxattr($0, name, nil, 0) }
            if size < 0 { throw failure(errno, shown(path)) }
            var buffer = [UInt8](repeating: 0, count: max(size, 1))
            let got = withCString(path) { getxattr($0, name, &buffer, buffer.count) }
            if got >= 0 { return String(decoding: buffer.prefix(got), as: UTF8.self) }
            if errno != ERANGE { throw failure(errno, shown(path)) }
        }
        throw failure(ERANGE, shown(path))
    }

    /// A computed JSON listing of `path`: printed as it is with `json` (nil returned), else decoded.
    static func listing<T: Decodable>(_ path: String, _ name: String, of type: T.Type, json: Bool) throws -> [T]? {
        let text = try get(path, name)
        if json {
            print(text)
            return nil
        }
        return try JSONDecoder().decode([T].self, from: Data(text.utf8))
    }

    static func failure(_ code: Int32, _ path: String) -> UsageOrFailure {
        switch code {
        case EACCES, EPERM: UsageOrFailure("\(path): \(String(cString: strerror(code))) (your level does not allow this)")
        case ENOTSUP, ENODATA: UsageOrFailure("\(path) is not on a nexusfs mount")
        default: UsageOrFailure("\(path): \(String(cString: strerror(code)))")
        }
    }

    /// `alice`, `1001`, `user:alice`, `group:staff`, `@staff` or `public`, as the daemon's request words.
    static func principal(_ text: String) throws -> String {
        if text == "public" { return "public -" }
        // A number is decimal digits below 2^32 - 1 ((uid_t)-1 names nobody), as setfacl takes it.
        func number(_ name: String) -> UInt32? {
            guard !name.isEmpty, name.utf8.allSatisfy({ (0x30...0x39).contains($0) }), let id = UInt32(name), id != .max else { return nil }
            return id
        }
        func user(_ name: String) -> UInt32? {
            if let uid = number(name) { return uid }
            return name.isEmpty ? nil : getpwnam(name).map { $0.pointee.pw_uid }
        }
        func group(_ name: String) -> UInt32? {
            if let gid = number(name) { return gid }
            return name.isEmpty ? nil : getgrnam(name).map { $0.pointee.gr_gid }
        }
        if text.hasPrefix("user:"), let uid = user(String(text.dropFirst(5))) { return "user \(uid)" }
        if text.hasPrefix("group:"), let gid = group(String(text.dropFirst(6))) { return "group \(gid)" }
        if text.hasPrefix("@"), let gid = group(String(text.dropFirst())) { return "group \(gid)" }
        if !text.contains(":"), let uid = user(text) { return "user \(uid)" }
        if !text.contains(":"), let gid = group(text) { return "group \(gid)" }
        throw ValidationError("\(text) is neither a user, a group nor public")
    }
}

/// An error printed as is, exit 1.
struct UsageOrFailure: Error {
    var message: String
    init(_ message: String) { self.message = message }
}

func reportingRequestErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as UsageOrFailure {
        printError(error.message)
        throw ExitCode(ExitStatus.failure)
    }
}

struct GrantCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grant", abstract: "Give a user, a group or everyone a level on a mounted document or folder.",
        discussion: """
            Levels: none, view, comment, edit, admin, owner (owner transfers ownership). PRINCIPAL is a user \
            (name or uid, or user:NAME), a group (group:NAME or @NAME) or public (view only). A grant on a \
            folder also applies to what is created in it later; --recursive applies it to everything in it now. \
            Needs admin on the path (owner to transfer ownership).
            """)

    @Argument(help: "A document or folder on a nexusfs mount.") var path: String
    @Argument(help: "user, group:NAME, @GROUP or public.") var principal: String
    @Argument(help: "none, view, comment, edit, admin or owner.") var level: String
    @Flag(name: .long, help: "Apply to everything inside a folder too.") var recursive = false

    func validate() throws {
        guard ["none", "view", "comment", "edit", "admin", "owner"].contains(level) else {
            throw ValidationError("unknown level \(level): none, view, comment, edit, admin or owner")
        }
    }

    func run() throws {
        try reportingRequestErrors {
            let request = "\(try MountedRequest.principal(principal)) \(level)" + (recursive ? " recursive" : "")
            try MountedRequest.set(path, "system.nexus.grant", request)
        }
    }
}

struct RevokeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke", abstract: "Take a user's, a group's or everyone's access away (grant ... none).")

    @Argument(help: "A document or folder on a nexusfs mount.") var path: String
    @Argument(help: "user, group:NAME, @GROUP or public.") var principal: String
    @Flag(name: .long, help: "Apply to everything inside a folder too.") var recursive = false

    func run() throws {
        try reportingRequestErrors {
            let request = "\(try MountedRequest.principal(principal)) none" + (recursive ? " recursive" : "")
            try MountedRequest.set(path, "system.nexus.grant", request)
        }
    }
}

struct AccessCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "access", abstract: "Show who has which level on a mounted document or folder, and why.")

    @Argument(help: "A document or folder on a nexusfs mount.") var path: String
    @Flag(name: .long, help: "Print JSON.") var json = false

    struct Grant: Decodable {
        var principal: String
        var kind: String
        var level: String
        var reason: String
    }

    func run() throws {
        try reportingRequestErrors {
            guard let grants = try MountedRequest.listing(path, "user.nexus.grants", of: Grant.self, json: json) else { return }
            let mine = try MountedRequest.get(path, "user.nexus.access")
            print(path)
            for grant in grants {
                let who = grant.kind == "group" ? "group \(grant.principal)" : grant.principal
                print("  " + grant.level.padding(toLength: 8, withPad: " ", startingAt: 0)
                      + who.padding(toLength: max(who.count, 24), withPad: " ", startingAt: 0) + "  " + grant.reason)
            }
            print("your level: \(mine)")
        }
    }
}

struct CommentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "comment", abstract: "Add a comment to a mounted document (comment level and above).")

    @Argument(help: "A document on a nexusfs mount.") var path: String
    @Argument(parsing: .remaining, help: "The comment.") var text: [String]

    func validate() throws {
        if text.joined(separator: " ").trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw ValidationError("the comment is empty")
        }
        guard text.joined(separator: " ").utf8.count <= 4000 else {
            throw ValidationError("a comment is at most 4000 bytes")
        }
    }

    func run() throws {
        try reportingRequestErrors { try MountedRequest.set(path, "system.nexus.comment", text.joined(separator: " ")) }
    }
}

struct CommentsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "comments", abstract: "List a mounted document's comments: time, author, text.")

    @Argument(help: "A document on a nexusfs mount.") var path: String
    @Flag(name: .long, help: "Print JSON.") var json = false

    struct Comment: Decodable {
        var time: String
        var user: String
        var text: String
    }

    func run() throws {
        try reportingRequestErrors {
            guard let comments = try MountedRequest.listing(path, "user.nexus.comments", of: Comment.self, json: json) else { return }
            for comment in comments {
                print("\(comment.time)  \(comment.user): \(comment.text)")
            }
        }
    }
}
