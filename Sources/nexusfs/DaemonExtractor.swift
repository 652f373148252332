import TextExtraction
import VFS

/// The text extractor the daemon and `nexusfs search` index with: this binary's own
/// `extract-worker`, one child process started on first use (see `ExtractionClient`).
enum DaemonExtractor {
    static func make() -> any ContentExtractor {
        // /proc/self/exe still names this binary when a package upgrade has replaced the file.
        WorkerExtractor(client: ExtractionClient(executable: "/proc/self/exe", arguments: ["extract-worker"]))
    }
}

/// `ContentExtractor` over the extraction worker.
struct WorkerExtractor: ContentExtractor {
    let client: ExtractionClient

    func extract(_ content: [UInt8], name: [UInt8]) -> ExtractedText {
        client.extract(content, name: name)
    }
}
