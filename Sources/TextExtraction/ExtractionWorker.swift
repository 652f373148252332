import Glibc

/// The child process's side of the worker protocol (`WorkerFrames`): one answer per request, in order.
public enum ExtractionWorker {
    /// Exit status when input closed between requests.
    public static let finished: Int32 = 0
    /// Exit status for a malformed or cut-off request, or an answer that could not be written.
    public static let protocolError: Int32 = 1

    /// Serves requests on `input`, answers on `output`, until input closes. Returns the exit status
    /// (`finished` or `protocolError`).
    ///
    /// Meant to be the whole life of a dedicated process: it limits the process's address space to
    /// 2 GiB and its core dumps to nothing, ignores SIGPIPE (a vanished client shows as a failed
    /// write), and when serving on 0 and 1 points those at /dev/null and stderr so that stray output
    /// of a C library cannot corrupt the answers.
    public static func serve(input: Int32, output: Int32) -> Int32 {
        limitResources()
        signal(SIGPIPE, SIG_IGN)
        let requests = guardedDescriptor(input, replacement: open("/dev/null", O_RDONLY | O_CLOEXEC))
        let answers = guardedDescriptor(output, replacement: dup(STDERR_FILENO))
        while true {
            switch readRequest(requests) {
            case .endOfInput:
                return finished
            case .malformed:
                return protocolError
            case .request(let name, let fileSize, let content):
                let verdict = TextExtractor.identify(content, totalSize: fileSize, name: name)
                guard PipeIO.write(answers, WorkerFrames.mimeFrame(verdict.mime)) == .done else { return protocolError }
                let result = TextExtractor.text(of: content, totalSize: fileSize, verdict: verdict)
                guard PipeIO.write(answers, WorkerFrames.textFrame(text: result.text, note: result.note)) == .done else {
                    return protocolError
                }
            }
        }
    }

    /// RLIMIT_AS 2 GiB (or the lower hard limit already set) and RLIMIT_CORE 0.
    private static func limitResources() {
        var current = rlimit()
        getrlimit(RLIMIT_AS_VALUE, &current)
        let addressSpace = min(rlim_t(2) << 30, current.rlim_max)
        var limit = rlimit(rlim_cur: addressSpace, rlim_max: addressSpace)
        setrlimit(RLIMIT_AS_VALUE, &limit)
        var noCore = rlimit(rlim_cur: 0, rlim_max: 0)
        setrlimit(RLIMIT_CORE_VALUE, &noCore)
    }

    /// `fd` itself, or when it is stdin or stdout a private duplicate, with `replacement` put in its place.
    private static func guardedDescriptor(_ fd: Int32, replacement: Int32) -> Int32 {
        guard fd == STDIN_FILENO || fd == STDOUT_FILENO else {
            if replacement >= 0 { close(replacement) }
            return fd
        }
        let duplicate = fcntl(fd, F_DUPFD_CLOEXEC, 3)
        guard duplicate >= 0 else {
            if replacement >= 0 { close(replacement) }
            return fd
        }
        if replacement >= 0 {
            dup2(replacement, fd)
            close(replacement)
        }
        return duplicate
    }

    /// One request read from the client.
    private enum Request {
        case endOfInput
        case malformed
        case request(name: [UInt8], fileSize: Int, content: [UInt8])
    }

    /// Reads one request; `.endOfInput` only when input closes before its first byte.
    private static func readRequest(_ fd: Int32) -> Request {
        let (tag, tagOutcome) = PipeIO.read(fd, count: 4)
        if tagOutcome == .closed, tag == [0, 0, 0, 0] { return .endOfInput }
        guard tagOutcome == .done, tag == WorkerFrames.requestTag else { return .malformed }
        let (nameLength, lengthOutcome) = PipeIO.read(fd, count: 4)
        let nameCount = Int(WorkerFrames.integer(nameLength, as: UInt32.self))
        guard lengthOutcome == .done, nameCount <= WorkerFrames.maximumNameBytes else { return .malformed }
        let (name, nameOutcome) = PipeIO.read(fd, count: nameCount)
        let (sizes, sizesOutcome) = PipeIO.read(fd, count: 16)
        guard nameOutcome == .done, sizesOutcome == .done else { return .malformed }
        let fileSize = WorkerFrames.integer(Array(sizes[0..<8]), as: UInt64.self)
        let sent = WorkerFrames.integer(Array(sizes[8..<16]), as: UInt64.self)
        guard sent <= fileSize, sent <= UInt64(max(ExtractionLimits.contentBytes, ExtractionLimits.sniffBytes)),
              fileSize <= UInt64(Int.max) else { return .malformed }
        let (content, contentOutcome) = PipeIO.read(fd, count: Int(sent))
        guard contentOutcome == .done else { return .malformed }
        return .request(name: name, fileSize: Int(fileSize), content: content)
    }
}

/// glibc's RLIMIT_* are enum cases whose Swift type differs from setrlimit's parameter: convert once here.
private let RLIMIT_AS_VALUE = __rlimit_resource_t(RLIMIT_AS.rawValue)
/// See RLIMIT_AS_VALUE.
private let RLIMIT_CORE_VALUE = __rlimit_resource_t(RLIMIT_CORE.rawValue)
