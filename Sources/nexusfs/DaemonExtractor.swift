import VFS

/// The text extractor the daemon and `nexusfs search` index with.
enum DaemonExtractor {
    static func make() -> any ContentExtractor {
        PlainTextExtractor()
    }
}
