import Foundation
import NexusTypes

/// A search as people type it, for `nexusfs search` and the `/.search/QUERY/` folders:
///
///     acme contract                  both words, anywhere (text, name, tags, fields...)
///     "master agreement"             the phrase
///     contract*                      words starting so
///     acme OR globex                 either
///     -draft                         not that word
///     tag:contract status:approved   DMS fields; author:bob, name:report, type:pdf
///     since:2026-03-01 path:team%2Flegal   changed since; below that folder (%2F for / in a folder name)
///     limit:20                       at most that many hits
///
/// Every word is quoted for FTS5, so nothing typed is taken as FTS5 syntax: a query either
/// parses into exactly these conditions or is refused with a message saying what is wrong.
public struct SearchQuery: Sendable, Equatable {
    /// One condition on the text and fields.
    public enum Term: Sendable, Equatable {
        case word(String, prefix: Bool)
        case phrase(String)
    }

    /// Groups of alternatives, all of which must hold: `[[a], [b, c]]` is a AND (b OR c).
    public var required: [[Term]] = []
    public var excluded: [Term] = []
    public var tags: [String] = []
    public var statuses: [String] = []
    public var authors: [String] = []
    public var names: [String] = []
    /// MIME types containing one of these (`type:pdf`).
    public var types: [String] = []
    public var since: FileTime?
    /// Only documents below this folder (a path from the root, without the leading slash).
    public var path: [UInt8]?
    /// At most this many hits (`limit:N`), when given.
    public var limit: Int?

    public init() {}

    public init(parsing text: String, now: Date = Date()) throws {
        var pendingOr = false
        for token in try Self.tokens(text) {
            if token.bare && token.text == "OR" {
                guard !required.isEmpty, !pendingOr else { throw Self.invalid("OR needs a word on each side") }
                pendingOr = true
                continue
            }
            if token.bare, let colon = token.text.firstIndex(of: ":"), colon != token.text.startIndex {
                let field = token.text[..<colon].lowercased()
                var value = String(token.text[token.text.index(after: colon)...])
                if value.isEmpty, let next = token.quotedValue { value = next }
                if ["tag", "status", "author", "name", "type", "since", "path", "limit"].contains(field) {
                    guard !value.isEmpty else { throw Self.invalid("\(field): needs a value") }
                    guard !pendingOr else { throw Self.invalid("OR joins words, not \(field):") }
                    try set(field, value, now: now)
                    continue
                }
            }
            if token.bare && token.text.hasPrefix("-") && token.text.count > 1 {
                excluded.append(try Self.term(String(token.text.dropFirst()), quoted: false))
                continue
            }
            if token.negatedQuote {
                excluded.append(try Self.term(token.text, quoted: true))
                continue
            }
            let term = try Self.term(token.text, quoted: !token.bare)
            if pendingOr {
                required[required.count - 1].append(term)
                pendingOr = false
            } else {
                required.append([term])
            }
        }
        if pendingOr { throw Self.invalid("OR needs a word on each side") }
        guard !required.isEmpty || !tags.isEmpty || !statuses.isEmpty || !authors.isEmpty || !names.isEmpty else {
            throw Self.invalid(excluded.isEmpty && types.isEmpty && since == nil && path == nil
                ? "the query is empty" : "a query needs a word, or a tag:, status:, author: or name: to look for")
        }
    }

    private mutating func set(_ field: String, _ value: String, now: Date) throws {
        switch field {
        case "tag": tags.append(value)
        case "status": statuses.append(value)
        case "author": authors.append(value)
        case "name": names.append(value)
        case "type": types.append(value.lowercased())
        case "limit":
            guard let n = Int(value), n > 0 else { throw Self.invalid("limit:\(value) is not a positive number") }
            limit = n
        case "since":
            guard let date = TimeExpression.parse(value, now: now) else {
                throw Self.invalid("since:\(value) is not a time: use \(TimeExpression.help)")
            }
            since = TimeExpression.fileTime(date)
        default:
            guard let decoded = value.removingPercentEncoding else { throw Self.invalid("path:\(value) has a bad %-escape") }
            let trimmed = decoded.split(separator: "/", omittingEmptySubsequences: true).joined(separator: "/")
            path = trimmed.isEmpty ? nil : Array(trimmed.utf8)
        }
    }

    /// The FTS5 expression for these conditions.
    public var expression: String {
        var parts: [String] = required.map { group in
            let alternatives = group.map(Self.fts)
            return alternatives.count == 1 ? alternatives[0] : "(" + alternatives.joined(separator: " OR ") + ")"
        }
        parts += tags.map { "tags : " + Self.quote($0) }
        parts += statuses.map { "status : " + Self.quote($0) }
        parts += authors.map { "author : " + Self.quote($0) }
        parts += names.map { "name : " + Self.quote($0) }
        var expression = parts.joined(separator: " AND ")
        for term in excluded { expression += " NOT " + Self.fts(term) }
        return expression
    }

    /// Whether a document's fields hold exactly what the field conditions name (FTS5 matches
    /// their words; `tag:big` must not take a document tagged `big deal`).
    public func fieldsMatch(tags documentTags: [String], status: String, mime: String) -> Bool {
        let lowered = Set(documentTags.map { $0.lowercased() })
        return tags.allSatisfy { lowered.contains($0.lowercased()) }
            && statuses.allSatisfy { $0.caseInsensitiveCompare(status) == .orderedSame }
            && (types.isEmpty || types.contains { mime.lowercased().contains($0) })
    }

    private static func fts(_ term: Term) -> String {
        switch term {
        case .word(let word, let prefix): quote(word) + (prefix ? "*" : "")
        case .phrase(let phrase): quote(phrase)
        }
    }

    private static func quote(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    private static func term(_ text: String, quoted: Bool) throws -> Term {
        if quoted { return .phrase(text) }
        if text.hasSuffix("*") {
            let stem = String(text.dropLast())
            guard stem.contains(where: { $0.isLetter || $0.isNumber }) else { throw invalid("\(text): a prefix needs letters before the *") }
            return .word(stem, prefix: true)
        }
        guard text.contains(where: { $0.isLetter || $0.isNumber }) else { throw invalid("\(text) has no letters or digits to look for") }
        return .word(text, prefix: false)
    }

    private struct Token {
        var text: String
        /// Not in quotes.
        var bare: Bool
        /// `-"phrase"`.
        var negatedQuote = false
        /// `field:"value"`: the quoted part.
        var quotedValue: String?
    }

    private static func tokens(_ text: String) throws -> [Token] {
        var tokens: [Token] = []
        var characters = Array(text)[...]
        while let first = characters.first {
            if first.isWhitespace {
                characters = characters.dropFirst()
                continue
            }
            let negated = first == "-" && characters.dropFirst().first == "\""
            if first == "\"" || negated {
                characters = characters.dropFirst(negated ? 2 : 1)
                guard let end = characters.firstIndex(of: "\"") else { throw invalid("a quote is not closed") }
                let phrase = String(characters[..<end])
                characters = characters[characters.index(after: end)...]
                guard phrase.contains(where: { $0.isLetter || $0.isNumber }) else { throw invalid("an empty phrase") }
                tokens.append(Token(text: phrase, bare: false, negatedQuote: negated))
                continue
            }
            let end = characters.firstIndex(where: \.isWhitespace) ?? characters.endIndex
            var word = String(characters[..<end])
            characters = characters[end...]
            var quotedValue: String?
            if let colon = word.firstIndex(of: ":"), word[word.index(after: colon)...].first == "\"" {
                // field:"two words": the value runs to the closing quote.
                var value = String(word[word.index(colon, offsetBy: 2)...])
                if let close = value.firstIndex(of: "\"") {
                    value = String(value[..<close])
                } else {
                    guard let close = characters.firstIndex(of: "\"") else { throw invalid("a quote is not closed") }
                    value += String(characters[..<close])
                    characters = characters[characters.index(after: close)...]
                }
                word = String(word[...colon])
                quotedValue = value
            }
            tokens.append(Token(text: word, bare: true, quotedValue: quotedValue))
        }
        return tokens
    }

    private static func invalid(_ message: String) -> RepositoryError {
        RepositoryError(.invalidArgument, "bad search query: \(message)")
    }
}
