import ArgumentParser
import NexusTypes
import RepositoryCore

/// `-o` options of `nexusfs mount`: nexusfs's own, and the rest for libfuse.
struct MountOptions {
    var passwordFile: String?
    var stateDir: String?
    var commitInterval = 1.0
    var versionInterval = 0.0
    var trashDays = 30.0
    var readOnly = false
    /// `noindex`: the search index is not kept current while mounted (changes stay queued for
    /// the next mount that indexes, or `nexusfs search` on the repository).
    var indexing = true
    /// `at=TIME`: the tree as it was then, read-only (the text as given, and the time).
    var at: (text: String, time: FileTime)?
    /// Options passed on to libfuse / the kernel, as `-o` words.
    var fuse: [String] = []

    /// Parses comma-separated `-o` groups (mount.fuse3 passes one, users may pass several).
    init(_ groups: [String]) throws {
        for word in groups.flatMap({ $0.split(separator: ",").map(String.init) }) where !word.isEmpty {
            let parts = word.split(separator: "=", maxSplits: 1).map(String.init)
            let key = parts[0]
            let value = parts.count > 1 ? parts[1] : nil
            switch key {
            case "password_file": passwordFile = try Self.required(key, value)
            case "state_dir": stateDir = try Self.required(key, value)
            case "commit":
                guard let seconds = Double(try Self.required(key, value)), seconds > 0, seconds <= 3600 else {
                    throw ValidationError("-o commit takes a number of seconds between 0 and 3600")
                }
                commitInterval = seconds
            case "version_interval":
                guard let seconds = Double(try Self.required(key, value)), seconds >= 0, seconds <= 86400 else {
                    throw ValidationError("-o version_interval takes a number of seconds between 0 and 86400")
                }
                versionInterval = seconds
            case "at":
                let text = try Self.required(key, value)
                guard let date = TimeExpression.parse(text) else { throw ValidationError("-o at=\(text) is not \(TimeExpression.help)") }
                at = (text, TimeExpression.fileTime(date))
            case "trash_days":
                guard let days = Double(try Self.required(key, value)), days >= 0, days <= 36_500 else {
                    throw ValidationError("-o trash_days takes a number of days between 0 (no trash) and 36500")
                }
                trashDays = days
            case "ro":
                readOnly = true
                fuse.append(word)
            case "rw":
                readOnly = false
            case "noindex":
                indexing = false
            case "index":
                indexing = true
            // mount(8) passes these; FUSE mounts always behave so, or the kernel refuses them.
            case "dev", "nodev", "suid", "nosuid", "exec", "noexec", "auto", "noauto", "user", "nouser", "users",
                 "_netdev", "nofail", "defaults", "async", "atime", "noatime", "relatime", "x-systemd.automount":
                continue
            default:
                fuse.append(word)
            }
        }
        if at != nil {
            // The past cannot be changed: an at= mount is read-only whatever else was asked.
            readOnly = true
            if !fuse.contains("ro") { fuse.append("ro") }
        }
        if !fuse.contains("default_permissions") { fuse.append("default_permissions") }
    }

    private static func required(_ key: String, _ value: String?) throws -> String {
        guard let value, !value.isEmpty else { throw ValidationError("-o \(key) needs a value (\(key)=...)") }
        return value
    }
}
