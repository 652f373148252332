internal import CPoppler

/// Text of PDF documents through poppler-glib, page by page, at most `ExtractionLimits.pdfPages` pages.
enum PDFText {
    /// Appends the text of the PDF `content` to `buffer`; returns true when pages were left unread.
    static func extract(_ content: [UInt8], into buffer: inout TextBuffer) throws(ExtractionFailure) -> Bool {
        // g_bytes_new copies: the document may outlive nothing of ours.
        let bytes = content.withUnsafeBytes { g_bytes_new($0.baseAddress, gsize($0.count)) }
        defer { g_bytes_unref(bytes) }
        var error: UnsafeMutablePointer<GError>?
        guard let document = poppler_document_new_from_bytes(bytes, nil, &error) else {
            throw failure(from: error)
        }
        defer { nx_poppler_unref_document(document) }
        let pageCount = Int(poppler_document_get_n_pages(document))
        for index in 0..<min(pageCount, ExtractionLimits.pdfPages) where !buffer.isCut {
            guard let page = poppler_document_get_page(document, Int32(index)) else { continue }
            defer { nx_poppler_unref_page(page) }
            guard let text = poppler_page_get_text(page) else { continue }
            defer { g_free(text) }
            buffer.append(String(cString: text))
            buffer.endLine()
        }
        return pageCount > ExtractionLimits.pdfPages
    }

    /// The failure for poppler's error (freed here): encrypted, or damaged with poppler's message.
    private static func failure(from error: UnsafeMutablePointer<GError>?) -> ExtractionFailure {
        guard let error else { return .damagedPDF("") }
        defer { g_error_free(error) }
        if error.pointee.domain == poppler_error_quark(), error.pointee.code == Int32(POPPLER_ERROR_ENCRYPTED.rawValue) {
            return .encryptedPDF
        }
        return .damagedPDF(error.pointee.message.map { String(cString: $0) } ?? "")
    }
}
