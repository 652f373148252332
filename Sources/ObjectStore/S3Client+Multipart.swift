import Glibc

// Uploading a file: one PUT below the part size, a multipart upload from there on.
extension S3Client {
    /// Uploads the file at `path` as `key`, reading it one part at a time (never whole): a single PUT
    /// when it is smaller than `configuration.partSize`, else CreateMultipartUpload, UploadPart per
    /// part and CompleteMultipartUpload, with AbortMultipartUpload when a step fails.
    public func putFile(_ key: String, path: String) throws {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw Self.systemError("open", path) }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw Self.systemError("stat", path) }
        let size = Int(status.st_size)
        let partSize = configuration.partSize
        if size < partSize {
            try put(key, bytes: Self.read(descriptor, path, offset: 0, count: size))
            return
        }
        let uploadID = try createMultipartUpload(key)
        do {
            var etags: [String] = []
            var offset = 0
            while offset < size {
                let bytes = try Self.read(descriptor, path, offset: offset, count: min(partSize, size - offset))
                etags.append(try uploadPart(key, uploadID: uploadID, number: etags.count + 1, bytes: bytes))
                offset += bytes.count
            }
            try completeMultipartUpload(key, uploadID: uploadID, etags: etags)
        } catch let error as ObjectStoreError {
            // With the store unreachable an abort would only spend another retry budget; the
            // parts stay until a lifecycle rule or a later abort removes them.
            if error.code != .unreachable {
                do {
                    _ = try send(S3Request(.DELETE, key: key, query: [("uploadId", uploadID)], accepting: [404]))
                } catch {
                    logger.warning("abort of a failed multipart upload failed", metadata: ["key": "\(key)", "error": "\(error)"])
                }
            }
            throw error
        }
    }

    private func createMultipartUpload(_ key: String) throws -> String {
        let request = S3Request(.POST, key: key, query: [("uploads", "")])
        let response = try send(request)
        guard let xml = S3XML(response.body), let uploadID = xml.fields["UploadId"], !uploadID.isEmpty else {
            throw failure(.badResponse, response, request, "no UploadId")
        }
        return uploadID
    }

    /// Sends one part and returns its ETag.
    private func uploadPart(_ key: String, uploadID: String, number: Int, bytes: [UInt8]) throws -> String {
        let request = S3Request(
            .PUT, key: key, query: [("partNumber", "\(number)"), ("uploadId", uploadID)], body: bytes)
        let response = try send(request)
        guard let etag = response.headers.first(name: "etag"), !etag.isEmpty else {
            throw failure(.badResponse, response, request, "no ETag for part \(number)")
        }
        return etag
    }

    private func completeMultipartUpload(_ key: String, uploadID: String, etags: [String]) throws {
        let parts = etags.enumerated().map { index, etag in
            "<Part><PartNumber>\(index + 1)</PartNumber><ETag>\(S3XML.escape(etag))</ETag></Part>"
        }
        let body = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
            + parts.joined() + "</CompleteMultipartUpload>"
        var request = S3Request(.POST, key: key, query: [("uploadId", uploadID)], body: Array(body.utf8))
        request.mayEmbedError = true
        _ = try send(request)
    }

    /// Exactly `count` bytes from `offset`; a short read means the file shrank while being uploaded.
    static func read(_ descriptor: Int32, _ path: String, offset: Int, count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let got = bytes.withUnsafeMutableBytes {
                pread(descriptor, $0.baseAddress! + filled, count - filled, off_t(offset + filled))
            }
            if got < 0, errno == EINTR { continue }
            guard got >= 0 else { throw systemError("read", path) }
            guard got > 0 else { throw ObjectStoreError(.io, "read \(path): the file shrank while being uploaded") }
            filled += got
        }
        return bytes
    }
}
