import Dispatch
import Synchronization

/// `body` applied to every element of `items` on every core; the results in order, or the first
/// error in order. One element runs on the calling thread alone.
func concurrentMap<Element: Sendable, Result: Sendable>(_ items: [Element],
                                                        _ body: @Sendable (Element) throws -> Result) throws -> [Result] {
    guard items.count > 1 else { return try items.map(body) }
    let results = Mutex([Swift.Result<Result, any Error>?](repeating: nil, count: items.count))
    DispatchQueue.concurrentPerform(iterations: items.count) { i in
        let result = Swift.Result { try body(items[i]) }
        results.withLock { $0[i] = result }
    }
    return try results.withLock { $0 }.map { try $0!.get() }
}
