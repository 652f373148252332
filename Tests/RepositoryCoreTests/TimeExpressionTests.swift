import Foundation
import NexusTypes
import RepositoryCore
import Testing

@Suite("Times as the command line and .versions/NAME/@TIME take them")
struct TimeExpressionTests {
    let now = Date(timeIntervalSince1970: 1_796_305_542.5)

    @Test("ISO 8601 with a zone, with fractions, without a zone (UTC), a bare date (midnight UTC)")
    func absolute() {
        #expect(TimeExpression.parse("2026-11-27T10:00:00Z", now: now) == Date(timeIntervalSince1970: 1_795_773_600))
        #expect(TimeExpression.parse("2026-11-27T11:00:00+01:00", now: now) == Date(timeIntervalSince1970: 1_795_773_600))
        #expect(TimeExpression.parse("2026-11-27T10:00:00.25Z", now: now) == Date(timeIntervalSince1970: 1_795_773_600.25))
        #expect(TimeExpression.parse("2026-11-27T10:00", now: now) == Date(timeIntervalSince1970: 1_795_773_600))
        #expect(TimeExpression.parse("2026-11-27 10:00:00", now: now) == Date(timeIntervalSince1970: 1_795_773_600))
        #expect(TimeExpression.parse("2026-11-27", now: now) == Date(timeIntervalSince1970: 1_795_737_600))
        #expect(TimeExpression.parse("@1795773600.5", now: now) == Date(timeIntervalSince1970: 1_795_773_600.5))
    }

    @Test("relative times count back from now")
    func relative() {
        #expect(TimeExpression.parse("now", now: now) == now)
        #expect(TimeExpression.parse("yesterday", now: now) == now.addingTimeInterval(-86_400))
        #expect(TimeExpression.parse("3 days ago", now: now) == now.addingTimeInterval(-3 * 86_400))
        #expect(TimeExpression.parse("90s ago", now: now) == now.addingTimeInterval(-90))
        #expect(TimeExpression.parse("1 week ago", now: now) == now.addingTimeInterval(-604_800))
        #expect(TimeExpression.parse("2 hours ago", now: now) == now.addingTimeInterval(-7_200))
        #expect(TimeExpression.parse("1.5 min ago", now: now) == now.addingTimeInterval(-90))
    }

    @Test("anything else is no time", arguments: ["", "soon", "3 days", "ago", "-3 days ago", "3 fortnights ago", "@", "@x",
                                                  "2026-13-01", "27/11/2026", "2026-11-27T25:00:00Z", "@nan",
                                                  "@1e19", "@-1e19", "200000000000000 days ago", "1e300 weeks ago", "9999-01-01"])
    func garbage(_ text: String) {
        #expect(TimeExpression.parse(text, now: now) == nil, "\(text)")
    }

    @Test("a FileTime keeps the fraction to the nanosecond")
    func fileTime() {
        let time = TimeExpression.fileTime(Date(timeIntervalSince1970: 1_795_773_600.25))
        #expect(time.seconds == 1_795_773_600 && time.nanoseconds == 250_000_000)
        #expect(time.iso8601 == "2026-11-27T10:00:00Z")
    }
}
