import AsyncHTTPClient
import Glibc
import NIOCore
import NIOHTTP1
import Synchronization

/// Receives one HTTP response for the client: the head, and the body either in memory or, for a
/// 2xx answer when a file is given, written to that file from offset 0.
///
/// File writes happen on the event loop thread. The loop belongs to this client alone and serves
/// callers that are blocked waiting for it, so a page-cache write there delays nobody else.
final class ResponseCollector: HTTPClientResponseDelegate {
    /// What arrived.
    struct Response: Sendable {
        var status: UInt
        var headers: HTTPHeaders
        /// The body, unless it went to the file.
        var body: [UInt8]
        /// Body bytes received, in memory or in the file.
        var received: UInt64
    }

    private let sink: (descriptor: Int32, path: String)?
    private let state = Mutex(Response(status: 0, headers: HTTPHeaders(), body: [], received: 0))

    init(sink: (descriptor: Int32, path: String)?) {
        self.sink = sink
    }

    func didReceiveHead(task: HTTPClient.Task<Response>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        state.withLock {
            $0.status = head.status.code
            $0.headers = head.headers
        }
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didReceiveBodyPart(task: HTTPClient.Task<Response>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        do {
            try state.withLock { response throws(ObjectStoreError) in
                if let sink, (200..<300).contains(response.status) {
                    try Self.write(buffer, to: sink, at: response.received)
                } else {
                    response.body.append(contentsOf: buffer.readableBytesView)
                }
                response.received += UInt64(buffer.readableBytes)
            }
        } catch {
            return task.eventLoop.makeFailedFuture(error)
        }
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didFinishRequest(task: HTTPClient.Task<Response>) throws -> Response {
        state.withLock { $0 }
    }

    private static func write(
        _ buffer: ByteBuffer, to sink: (descriptor: Int32, path: String), at offset: UInt64
    ) throws(ObjectStoreError) {
        var written = 0
        let failure: Int32? = buffer.withUnsafeReadableBytes { bytes in
            while written < bytes.count {
                let count = pwrite(sink.descriptor, bytes.baseAddress! + written, bytes.count - written, off_t(offset) + off_t(written))
                if count < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                written += count
            }
            return nil
        }
        if let failure {
            throw ObjectStoreError(.io, "write \(sink.path): \(String(cString: strerror(failure)))")
        }
    }
}
