/// MIME types by file-name extension, for when libmagic has only "application/octet-stream" to say.
enum FileExtension {
    /// The types this module can extract, by lower-case extension.
    private static let types: [String: String] = [
        "txt": "text/plain", "md": "text/markdown", "csv": "text/csv", "json": "application/json",
        "xml": "application/xml", "html": "text/html", "htm": "text/html", "pdf": "application/pdf",
        "odt": "application/vnd.oasis.opendocument.text", "ods": "application/vnd.oasis.opendocument.spreadsheet",
        "odp": "application/vnd.oasis.opendocument.presentation",
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ]

    /// The type for the extension of `name` (bytes of a file name or path), if it is one of ours.
    static func mime(forName name: [UInt8]) -> String? {
        let base = name.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).last ?? []
        guard let dot = base.lastIndex(of: UInt8(ascii: ".")), dot > base.startIndex else { return nil }
        let suffix = base[base.index(after: dot)...]
        guard suffix.count <= 8, suffix.allSatisfy({ $0 < 0x80 }) else { return nil }
        return types[String(decoding: suffix, as: UTF8.self).lowercased()]
    }
}
