import CatalogStore
import Foundation
import NexusTypes
import RepositoryCore

/// The audit trail: an entry per change inside its transaction, refusals queued for the committer.
extension Policy {
    // MARK: Audit

    /// Appends an audit entry for a change inside the change's own transaction.
    func audit(_ action: String, caller: Caller, node: NodeRecord?, path: RepositoryPath? = nil, detail: String? = nil,
               before: String? = nil, after: String? = nil, outcome: AuditOutcome = .done, in w: CatalogWriter) throws {
        let where_ = try path ?? node.flatMap { try w.reader.path(of: $0.inode) }
        let event = AuditEvent(time: .now, uid: caller.uid, action: Self.auditSafe(detail.map { "\(action) \($0)" } ?? action),
                               inode: node?.inode, path: where_?.bytes ?? [], before: before.map(Self.auditSafe),
                               after: after.map(Self.auditSafe), outcome: outcome)
        _ = try repository.appendAudit(event, in: w)
    }

    /// Records a refused request; written by the committer (the request's own transaction is
    /// rolled back, and a refusal may come from inside a read).
    func noteRefusal(_ action: String, caller: Caller, node: NodeRecord?, path: RepositoryPath?, reason: String) {
        guard !options.readOnly else { return }
        let event = AuditEvent(time: .now, uid: caller.uid, action: Self.auditSafe(action), inode: node?.inode,
                               path: path?.bytes ?? [], before: nil, after: Self.auditSafe(reason), outcome: .refused)
        refusals.withLock { queue in
            // A flood of refused requests (anyone may ask) is counted, not kept one by one: at most
            // `refusalsPerSecond` a second are logged individually.
            let now = ContinuousClock.now
            if queue.windowStart.duration(to: now) >= .seconds(1) {
                queue.windowStart = now
                queue.inWindow = 0
            }
            queue.inWindow += 1
            if queue.inWindow <= Self.refusalsPerSecond { queue.events.append(event) } else { queue.dropped += 1 }
        }
    }

    /// Audit text never holds NUL or other control characters (SQLite text would cut or keep them
    /// differently from how they were hashed): they become `\u{..}` escapes.
    static func auditSafe(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) else { return text }
        return String(text.unicodeScalars.map { scalar in
            scalar.value < 0x20 || scalar.value == 0x7f ? "\\u{\(String(scalar.value, radix: 16))}" : String(scalar)
        }.joined())
    }

    /// `noteRefusal` for a request made outside any catalog access.
    func auditRefusal(_ action: String, caller: Caller, inode: InodeNumber, reason: String) {
        let found = try? namespace.read { reader in (try reader.node(inode), try reader.path(of: inode)) }
        noteRefusal(action, caller: caller, node: found?.0, path: found?.1, reason: reason)
    }

    static func modeText(_ node: NodeRecord) -> String {
        "mode " + String(node.permissions, radix: 8)
    }

    static let refusalsPerSecond = 100

    struct RefusalQueue {
        var events: [AuditEvent] = []
        var dropped = 0
        var windowStart = ContinuousClock.now
        var inWindow = 0
    }

    /// Stages the refusals noted since the last call.
    func stageRefusals() {
        let (events, dropped) = refusals.withLock { queue in
            defer {
                queue.events = []
                queue.dropped = 0
            }
            return (queue.events, queue.dropped)
        }
        guard !events.isEmpty || dropped > 0 else { return }
        do {
            try namespace.stage { w in
                // Logged when written (within the committer's tick of the refusal), so times keep their order.
                let now = FileTime.now
                for var event in events {
                    event.time = now
                    _ = try repository.appendAudit(event, in: w)
                }
                if dropped > 0 {
                    _ = try repository.appendAudit(AuditEvent(time: now, uid: 0, action: "refusals not logged", path: [],
                                                              after: "\(dropped) more refused requests", outcome: .refused), in: w)
                }
            }
        } catch {
            logger.warning("could not audit \(events.count) refused requests: \(error)")
        }
    }
}
