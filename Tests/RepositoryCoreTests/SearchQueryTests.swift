import Foundation
import RepositoryCore
import Testing

/// How typed queries become FTS5 expressions and field conditions.
@Suite("Search queries")
struct SearchQueryTests {
    func expression(_ text: String) throws -> String { try SearchQuery(parsing: text).expression }

    @Test("words, phrases, prefixes, OR and exclusions are quoted into FTS5")
    func expressions() throws {
        #expect(try expression("acme contract") == "\"acme\" AND \"contract\"")
        #expect(try expression("\"master agreement\" acme*") == "\"master agreement\" AND \"acme\"*")
        #expect(try expression("acme OR globex invoice") == "(\"acme\" OR \"globex\") AND \"invoice\"")
        #expect(try expression("march -draft -\"old copy\"") == "\"march\" NOT \"draft\" NOT \"old copy\"")
        #expect(try expression("NEAR(a") == "\"NEAR(a\"")
        #expect(try expression("tag:contract status:\"in review\" author:bob name:report")
            == "tags : \"contract\" AND status : \"in review\" AND author : \"bob\" AND name : \"report\"")
    }

    @Test("fields that filter outside FTS5: since, path, type, limit")
    func fields() throws {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let query = try SearchQuery(parsing: "acme since:\"3 days ago\" path:\"team%2Flegal%20docs\" type:PDF limit:5", now: now)
        let since = try #require(query.since)
        #expect(since.seconds == Int64(1_800_000_000 - 3 * 86_400), "\(since)")
        #expect(query.path == Array("team/legal docs".utf8))
        #expect(query.types == ["pdf"])
        #expect(query.limit == 5)
        #expect(query.fieldsMatch(tags: [], status: "", mime: "application/pdf"))
        #expect(!query.fieldsMatch(tags: [], status: "", mime: "text/plain"))
        let tagged = try SearchQuery(parsing: "tag:Contract status:approved")
        #expect(tagged.fieldsMatch(tags: ["contract", "acme"], status: "Approved", mime: ""))
        #expect(!tagged.fieldsMatch(tags: ["contract deal"], status: "approved", mime: ""))
    }

    @Test("what cannot be a query is refused with a reason")
    func refused() {
        for text in ["", "   ", "-draft", "OR acme", "acme OR", "acme OR OR b", "\"open", "tag:", "since:never", "limit:0",
                     "limit:x", "type:pdf", "path:a", "*", "\"  \"", "--"] {
            #expect(throws: RepositoryError.self, "\(text)") { try SearchQuery(parsing: text) }
        }
    }
}
