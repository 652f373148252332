/// TextExtraction: the MIME type and plain text of a file's bytes, for full-text search, and the
/// child process (`ExtractionWorker`, `ExtractionClient`) that keeps hostile parsers out of the daemon.
/// Its results are `NexusTypes.ExtractedText`.
@_exported import NexusTypes
