import AsyncHTTPClient
import Backoff
import Glibc
import NIOCore
import NIOHTTP1

// Sending one request: addressing, signing, checking the answer, and retrying transient failures.
extension S3Client {
    /// Statuses that mean "try again later".
    static let retryableStatuses: Set<UInt> = [429, 500, 502, 503, 504]
    /// S3 error codes that mean the same whatever the status.
    static let retryableCodes: Set<String> = ["SlowDown", "RequestTimeout", "InternalError", "ServiceUnavailable", "Throttling"]

    /// Sends `request` until it succeeds, fails for good, or the retry budget is spent.
    ///
    /// Returns a 2xx response whose body length matches its Content-Length, or one whose status the
    /// request accepts. Throws `.unreachable` when the budget runs out, and the matching code for a
    /// final answer (403 `.denied`, 404 `.notFound`, other 4xx `.badResponse`).
    func send(_ request: S3Request) throws -> ResponseCollector.Response {
        let clock = ContinuousClock()
        let giveUp = clock.now + configuration.retryFor
        let payloadHash = SigV4.payloadHash(request.body ?? [])
        var attempts = 0
        while true {
            attempts += 1
            let cause: String
            do {
                let response = try attempt(request, payloadHash: payloadHash)
                if (200..<300).contains(response.status) {
                    if let problem = bodyProblem(response, request) {
                        cause = problem
                    } else if request.mayEmbedError, let error = S3XML.error(in: response.body) {
                        guard Self.retryableCodes.contains(error.code) else {
                            throw failure(.badResponse, response, request)
                        }
                        cause = "\(error.code): \(error.message)"
                    } else {
                        return response
                    }
                } else if request.accepting.contains(response.status) {
                    return response
                } else if Self.retryableStatuses.contains(response.status)
                    || Self.retryableCodes.contains(S3XML.error(in: response.body)?.code ?? "")
                {
                    cause = "HTTP \(response.status)" + (S3XML.error(in: response.body).map { " \($0.code): \($0.message)" } ?? "")
                } else {
                    let code: ObjectStoreError.Code = switch response.status {
                    case 403: .denied
                    case 404: .notFound
                    default: .badResponse
                    }
                    throw failure(code, response, request)
                }
            } catch let error as ObjectStoreError {
                throw error
            } catch {
                cause = "\(error)"
            }
            let delay = Backoff.delay(afterAttempt: attempts)
            guard clock.now + delay < giveUp else {
                throw ObjectStoreError(
                    .unreachable,
                    "\(describe(request)): no answer within \(configuration.retryFor) (\(attempts) attempts); last: \(cause)")
            }
            logger.notice("retrying", metadata: ["request": "\(describe(request))", "attempt": "\(attempts)", "cause": "\(cause)"])
            Backoff.sleep(delay)
        }
    }

    /// One signed exchange; throws what the HTTP client throws, or the collector's `.io` error.
    private func attempt(_ request: S3Request, payloadHash: String) throws -> ResponseCollector.Response {
        var path = configuration.addressing == .path ? "/\(configuration.bucket)" : ""
        if let key = request.key { path += "/\(configuration.keyPrefix)\(key)" }
        if path.isEmpty { path = "/" }
        let signed = signer.signedHeaders(
            method: request.method.rawValue, path: path, query: request.query,
            headers: [("Host", host)] + request.headers, payloadHash: payloadHash,
            secondsSinceEpoch: Int(time(nil)))
        let query = SigV4.canonicalQuery(request.query)
        let url = baseURL + SigV4.canonicalPath(path) + (query.isEmpty ? "" : "?\(query)")
        let httpRequest: HTTPClient.Request
        do {
            httpRequest = try HTTPClient.Request(
                url: url, method: request.method, headers: HTTPHeaders(signed.map { ($0.name, $0.value) }),
                body: request.body.map { .bytes($0) })
        } catch {
            throw ObjectStoreError(.invalidConfiguration, "\(describe(request)): cannot build a request", underlying: error)
        }
        if let sink = request.sink, ftruncate(sink.descriptor, 0) != 0 {
            throw ObjectStoreError(.io, "truncate \(sink.path): \(String(cString: strerror(errno)))")
        }
        return try http.execute(request: httpRequest, delegate: ResponseCollector(sink: request.sink), logger: logger)
            .futureResult.wait()
    }

    /// Why a 2xx body cannot be trusted (shorter or longer than its Content-Length), or nil.
    private func bodyProblem(_ response: ResponseCollector.Response, _ request: S3Request) -> String? {
        guard request.method != .HEAD, let header = response.headers.first(name: "content-length") else { return nil }
        guard let expected = UInt64(header) else { return "Content-Length \(header) is not a number" }
        return expected == response.received ? nil : "body of \(response.received) bytes, Content-Length \(expected)"
    }

    /// An error for a final answer, with S3's Code and Message from the body when there is one.
    func failure(
        _ code: ObjectStoreError.Code, _ response: ResponseCollector.Response, _ request: S3Request, _ detail: String? = nil
    ) -> ObjectStoreError {
        var message = "\(describe(request)): HTTP \(response.status)"
        if let error = S3XML.error(in: response.body) { message += " \(error.code): \(error.message)" }
        if let detail { message += " (\(detail))" }
        return ObjectStoreError(code, message)
    }

    /// `GET s3://bucket/prefix/key at https://endpoint`, for messages; never credentials.
    func describe(_ request: S3Request) -> String {
        "\(request.method.rawValue) s3://\(configuration.bucket)/\(configuration.keyPrefix)\(request.key ?? "") at \(configuration.endpoint)"
    }
}
