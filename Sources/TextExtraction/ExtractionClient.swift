import Glibc
import Synchronization

/// The daemon's side of the worker protocol: runs `nexusfs extract-worker` (or any executable that
/// serves `ExtractionWorker`'s protocol), sends it files one at a time, and replaces it when it dies
/// or overruns the timeout.
///
/// SIGPIPE: the client never changes the process's SIGPIPE disposition. Each write to the worker blocks
/// SIGPIPE on the writing thread and consumes the signal it raised, so a dead worker shows as a
/// closed pipe (the daemon under libfuse ignores SIGPIPE anyway; tests and other callers may not).
public final class ExtractionClient: Sendable {
    /// The worker's executable.
    private let executable: String
    /// Its arguments (not including argv[0]).
    private let arguments: [String]
    /// How long one request may take, from sending the file to reading the text.
    private let timeout: Duration
    /// The running worker, if any. Held for a whole request: that is what serializes requests.
    /// A leaf lock: nothing else is locked while it is held.
    private let worker = Mutex<WorkerSlot>(WorkerSlot())

    /// The running worker, or nil until the next request starts one.
    private struct WorkerSlot: ~Copyable, @unchecked Sendable {
        /// The process; only touched under the lock.
        var process: WorkerProcess?
    }

    /// Runs `executable` with `arguments` (the daemon passes its own binary and ["extract-worker"]) lazily on first use.
    public init(executable: String, arguments: [String], timeout: Duration = .seconds(30)) {
        self.executable = executable
        self.arguments = arguments
        self.timeout = timeout
    }

    deinit {
        close()
    }

    /// The MIME type and text of `content`, a file named `name`, extracted by the worker. Thread-safe;
    /// requests are served one at a time. When the worker dies or overruns the timeout, it is killed
    /// and the result is the worker's MIME verdict (or "application/octet-stream" if it died before
    /// giving one) with no text and the note "extractor crashed" or "timed out"; the next request
    /// starts a new worker. When the worker cannot even be started the note says why. Never throws.
    public func extract(_ content: [UInt8], name: [UInt8]) -> ExtractedText {
        worker.withLock { slot -> ExtractedText in
            if slot.process == nil {
                switch WorkerProcess.spawn(executable: executable, arguments: arguments) {
                case .success(let process):
                    slot.process = process
                case .failure(let error):
                    return ExtractedText(mime: MagicVerdict.unknown.mime, text: "",
                                         note: "extractor could not start: \(executable): \(error.message)")
                }
            }
            guard let process = slot.process else { return ExtractedText(mime: MagicVerdict.unknown.mime, text: "") }
            let exchange = Self.exchange(content, name: name, with: process, until: .now + timeout)
            switch exchange {
            case .answered(let result):
                return result
            case .failed(let mime, let outcome):
                process.kill()
                slot.process = nil
                let note = outcome == .timedOut ? "timed out" : "extractor crashed"
                return ExtractedText(mime: mime ?? MagicVerdict.unknown.mime, text: "", note: note)
            }
        }
    }

    /// Ends the worker, if one runs: closes its stdin and waits for it to exit (killing it after 5 s).
    /// A later `extract` starts a new one.
    public func close() {
        worker.withLock { slot in
            slot.process?.finish()
            slot.process = nil
        }
    }

    /// How one request went.
    private enum Exchange {
        /// The worker answered.
        case answered(ExtractedText)
        /// The worker failed; its MIME verdict if it gave one, and how the transfer ended.
        case failed(mime: String?, PipeIO.Outcome)
    }

    /// Sends one request and reads its two answer frames, all before `deadline`.
    private static func exchange(_ content: [UInt8], name: [UInt8], with process: WorkerProcess,
                                 until deadline: ContinuousClock.Instant) -> Exchange {
        let sent = content.count > ExtractionLimits.contentBytes
            ? content[..<ExtractionLimits.sniffBytes] : content[...]
        let request = WorkerFrames.request(name: Array(name.prefix(WorkerFrames.maximumNameBytes)),
                                           fileSize: content.count, content: sent)
        let written = PipeIO.write(process.requests, request, until: deadline)
        guard written == .done else { return .failed(mime: nil, written) }

        let (mimeHeader, mimeHeaderOutcome) = PipeIO.read(process.answers, count: 8, until: deadline)
        guard mimeHeaderOutcome == .done else { return .failed(mime: nil, mimeHeaderOutcome) }
        let mimeCount = Int(WorkerFrames.integer(Array(mimeHeader[4...]), as: UInt32.self))
        guard Array(mimeHeader[..<4]) == WorkerFrames.mimeTag, mimeCount <= WorkerFrames.maximumLabelBytes else {
            return .failed(mime: nil, .failed(EPROTO))
        }
        let (mimeBytes, mimeOutcome) = PipeIO.read(process.answers, count: mimeCount, until: deadline)
        guard mimeOutcome == .done else { return .failed(mime: nil, mimeOutcome) }
        let mime = String(decoding: mimeBytes, as: UTF8.self)

        let (textHeader, textHeaderOutcome) = PipeIO.read(process.answers, count: 12, until: deadline)
        guard textHeaderOutcome == .done else { return .failed(mime: mime, textHeaderOutcome) }
        let textCount = WorkerFrames.integer(Array(textHeader[4...]), as: UInt64.self)
        guard Array(textHeader[..<4]) == WorkerFrames.textTag, textCount <= UInt64(ExtractionLimits.textBytes) else {
            return .failed(mime: mime, .failed(EPROTO))
        }
        let (textBytes, textOutcome) = PipeIO.read(process.answers, count: Int(textCount) + 5, until: deadline)
        guard textOutcome == .done else { return .failed(mime: mime, textOutcome) }
        let hasNote = textBytes[Int(textCount)]
        let noteCount = Int(WorkerFrames.integer(Array(textBytes[(Int(textCount) + 1)...]), as: UInt32.self))
        guard hasNote <= 1, noteCount <= WorkerFrames.maximumLabelBytes else { return .failed(mime: mime, .failed(EPROTO)) }
        let (noteBytes, noteOutcome) = PipeIO.read(process.answers, count: noteCount, until: deadline)
        guard noteOutcome == .done else { return .failed(mime: mime, noteOutcome) }
        let text = String(decoding: textBytes[..<Int(textCount)], as: UTF8.self)
        let note = hasNote == 1 ? String(decoding: noteBytes, as: UTF8.self) : nil
        return .answered(ExtractedText(mime: mime, text: text, note: note))
    }
}
