import Foundation
import Glibc
import Testing

/// Tests/posix-exerciser/exerciser.py, found from this file's path.
private let exerciserScript = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("posix-exerciser").appendingPathComponent("exerciser.py").path

/// Where nexusfs may legitimately differ from the local disk (ext4). Each entry pins what nexusfs must give
/// instead, label by label, so an entry never hides a different (wrong) answer. Keep this list short.
private struct AllowedDifference {
    enum Expected {
        /// The mount's outcome must be one of these (canonical JSON as `canonicalJSON` prints it);
        /// `absent` means the exerciser did not get that far (the label is missing from the step).
        case oneOf([String])
        /// The mount must give what the tmpfs run gave.
        case sameAsTmpfs
    }

    let step: String
    let reason: String
    let labels: [String: Expected]
}

private let absent = "absent"

private let allowedDifferences: [AllowedDifference] = [
    AllowedDifference(
        step: "xattr_large",
        reason: "ext4 without ea_inode keeps an xattr value within one block (ENOSPC above ~4 KB); the VFS limit is 64 KiB, as on tmpfs",
        labels: ["set_64KiB": .sameAsTmpfs, "get_64KiB_equal": .sameAsTmpfs, "list": .sameAsTmpfs]),
    AllowedDifference(
        step: "o_tmpfile",
        reason: "libfuse 3.14 (Debian 12) has no tmpfile operation, so the kernel answers O_TMPFILE on any FUSE mount with EOPNOTSUPP",
        labels: ["open_o_tmpfile": .oneOf(["\"EOPNOTSUPP\""]), "open_o_tmpfile_excl": .oneOf(["\"EOPNOTSUPP\""]),
                 "write": .oneOf([absent]), "fstat": .oneOf([absent]), "listing_before_link": .oneOf([absent]),
                 "link_into_namespace": .oneOf([absent]), "named": .oneOf([absent]), "named_content": .oneOf([absent]),
                 "link_excl_refused": .oneOf([absent]), "listing": .oneOf(["{\"ok\":[]}"])]),
    AllowedDifference(
        step: "renameat2_whiteout",
        reason: "RENAME_WHITEOUT leaves an overlayfs whiteout (a 0:0 character device); only overlayfs upper layers need it, refusing it is fine if nothing moves",
        labels: ["whiteout": .oneOf(["\"EINVAL\"", "\"EPERM\""]),
                 "source_after": .oneOf(["{\"ok\":{\"mode\":\"0644\",\"nlink\":1,\"rdev\":0,\"size\":1,\"type\":\"reg\"}}"]),
                 "target_after": .oneOf(["\"ENOENT\""]), "listing": .oneOf(["{\"ok\":[\"a\"]}"])]),
    AllowedDifference(
        step: "fallocate_ops",
        reason: "content is deduplicated and compressed, so allocated zeros take no space: st_blocks stays below the size (as on compressed ZFS)",
        labels: ["blocks_cover_size": .oneOf(["{\"ok\":false}"])]),
]

/// One line of the exerciser's output.
private struct ExerciserStep {
    let name: String
    /// Labels in order, each with its outcome as canonical JSON.
    let results: [(label: String, outcome: String)]

    func outcome(_ label: String) -> String { results.first { $0.label == label }?.outcome ?? absent }
}

private func canonicalJSON(_ value: Any) -> String {
    guard let data = try? JSONSerialization.data(withJSONObject: value,
                                                 options: [.sortedKeys, .fragmentsAllowed, .withoutEscapingSlashes]) else {
        return "<unprintable \(value)>"
    }
    return String(decoding: data, as: UTF8.self)
}

private func parseExerciser(_ output: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> [ExerciserStep] {
    try output.split(separator: "\n").map { line in
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                                  "not a JSON object: \(line)", sourceLocation: sourceLocation)
        let name = try #require(object["step"] as? String, "no step name: \(line)", sourceLocation: sourceLocation)
        let pairs = try #require(object["results"] as? [[Any]], "no results: \(line)", sourceLocation: sourceLocation)
        return ExerciserStep(name: name, results: try pairs.map { pair in
            try #require(pair.count == 2, "not a [label, outcome] pair in \(line)", sourceLocation: sourceLocation)
            return (label: try #require(pair[0] as? String, sourceLocation: sourceLocation), outcome: canonicalJSON(pair[1]))
        })
    }
}

/// Mount points in /proc/mounts under `root`.
private func mountsUnder(_ root: String) -> [String] {
    guard let text = try? String(contentsOfFile: "/proc/mounts", encoding: .utf8) else { return [] }
    return text.split(separator: "\n").compactMap { line in
        let fields = line.split(separator: " ")
        guard fields.count > 1 else { return nil }
        let point = String(fields[1]).replacingOccurrences(of: "\\040", with: " ")
        return point.hasPrefix(root + "/") ? point : nil
    }
}

@Suite("POSIX exerciser: nexusfs against the local disk", .serialized,
       .enabled(if: runningAsRoot && FileManager.default.fileExists(atPath: "/dev/fuse"), "mounting needs root and /dev/fuse"))
struct PosixExerciserTests {
    /// Runs the exerciser in `directory`; requires exit 0 and returns its steps.
    private func exercise(_ directory: String, on name: String) throws -> [ExerciserStep] {
        let result = try run("/usr/bin/env", ["python3", exerciserScript, directory], timeoutSeconds: 900)
        try #require(result.exitedWith0, "the exerciser crashed on \(name): \(result)")
        return try parseExerciser(result.out)
    }

    @Test("every step of exerciser.py gives on a nexusfs mount what it gives on ext4 (allowed differences listed with reasons)")
    func mountBehavesLikeLocalDisk() throws {
        try #require(FileManager.default.fileExists(atPath: exerciserScript), "\(exerciserScript) is missing")
        // allow_other: the access_errors step runs its calls as uid 65534, as on ext4.
        let mount = try MountedRepository("posix", options: ["commit=1", "allow_other"])
        let ws = mount.workspace
        try ws.openToTestUsers()
        defer {
            if mount.isMounted { _ = try? mount.unmount() }
            if MountedRepository.isFUSEMount(mount.mountpoint) {
                _ = try? run("/bin/fusermount3", ["-u", "-z", mount.mountpoint], timeoutSeconds: 30)
            }
            ws.cleanup()
            let left = mountsUnder(ws.root)
            #expect(left.isEmpty, "still mounted after the test: \(left)")
        }
        let local = ws.path("local")
        let tmpfs = ws.path("tmpfs")
        try FileManager.default.createDirectory(atPath: local, withIntermediateDirectories: true)
        try ws.mountTmpfs(at: tmpfs, size: "1g")
        let onMount = mount.path("exercise")
        try FileManager.default.createDirectory(atPath: onMount, withIntermediateDirectories: true)

        let expected = try exercise(local, on: "the local disk (\(local))")
        let reference = try exercise(tmpfs, on: "tmpfs")
        let actual = try exercise(onMount, on: "the nexusfs mount")

        // The exerciser's own health: it ran every step on the local disk without tripping over itself.
        try #require(expected.count >= 50, "only \(expected.count) steps ran on the local disk")
        let selfFailures = expected.flatMap { step in
            step.results.filter { $0.label == "step aborted" || $0.outcome.hasPrefix("\"exception:") }
                .map { "\(step.name) / \($0.label): \($0.outcome)" }
        }
        #expect(selfFailures.isEmpty, "the exerciser fails on the local disk itself:\n\(selfFailures.joined(separator: "\n"))")

        // An allow-list entry names steps and labels that exist, or it is stale.
        for entry in allowedDifferences {
            let step = expected.first { $0.name == entry.step }
            let stale = entry.labels.keys.filter { label in step?.results.contains { $0.label == label } != true }
            #expect(stale.isEmpty, "allow-list entry \(entry.step) names labels the exerciser does not print: \(stale.sorted())")
        }

        let tmpfsSteps = Dictionary(reference.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let mountSteps = Dictionary(actual.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var differing: [String] = []
        for step in expected {
            guard let got = mountSteps[step.name] else {
                Issue.record("step \(step.name) is missing from the nexusfs run")
                differing.append(step.name)
                continue
            }
            let allowed = allowedDifferences.first { $0.step == step.name }
            let tmpfsStep = tmpfsSteps[step.name]
            var labels = step.results.map(\.label)
            labels += got.results.map(\.label).filter { !labels.contains($0) }
            var lines: [String] = []
            for label in labels {
                let want = step.outcome(label), have = got.outcome(label)
                let tmpfsHas = tmpfsStep?.outcome(label) ?? absent
                if let rule = allowed?.labels[label] {
                    let accepted: [String]
                    switch rule {
                    case .oneOf(let outcomes): accepted = outcomes
                    case .sameAsTmpfs: accepted = [tmpfsHas]
                    }
                    if accepted.contains(have) || have == want { continue }
                    lines.append("  \(label): nexusfs \(have), but the allow-list expects \(accepted.joined(separator: " or "))"
                                 + " (local disk: \(want); allowed because \(allowed!.reason))")
                    continue
                }
                guard want != have else { continue }
                let note = tmpfsHas == want ? "" : tmpfsHas == have ? " (tmpfs agrees with nexusfs)" : " (tmpfs: \(tmpfsHas))"
                lines.append("  \(label): local disk \(want), nexusfs \(have)\(note)")
            }
            if !lines.isEmpty {
                differing.append(step.name)
                Issue.record("step \(step.name) differs on nexusfs:\n\(lines.joined(separator: "\n"))")
            }
        }
        let unknown = actual.map(\.name).filter { name in !expected.contains { $0.name == name } }
        #expect(unknown.isEmpty, "steps only the nexusfs run printed: \(unknown)")
        #expect(differing.isEmpty, "\(differing.count) of \(expected.count) steps differ: \(differing.joined(separator: ", "))")
        // Everything the exerciser did is saved at unmount, and the daemon goes away.
        try mount.unmount()
    }
}
