import Foundation
import NexusTypes

/// Times as users write them on the command line (`mount -o at=`, `export --at`, `audit --since`):
/// ISO 8601 (`2026-11-27T10:00:00Z`, `2026-11-27T10:00:00+01:00`, fractional seconds allowed;
/// `2026-11-27T10:00` or `2026-11-27 10:00:00` without a zone and a bare date `2026-11-27` are UTC),
/// `N seconds|minutes|hours|days|weeks ago` (also s, min, h, d, w), `now`, `yesterday` (24 hours ago)
/// and `@SECONDS` since 1970. Also `.versions/NAME/@TIME` on a mount.
public enum TimeExpression {
    public static let help = "an ISO 8601 time (2026-11-27T10:00:00Z; a date or a time without zone is UTC), "
        + "'N minutes|hours|days|weeks ago', 'yesterday', 'now' or @SECONDS"

    /// Times a FileTime holds in nanoseconds: 1678 to 2261.
    static let range = -9_200_000_000.0...9_200_000_000.0

    public static func parse(_ text: String, now: Date = Date()) -> Date? {
        guard let date = parseUnbounded(text, now: now), range.contains(date.timeIntervalSince1970) else { return nil }
        return date
    }

    private static func parseUnbounded(_ text: String, now: Date) -> Date? {
        let text = text.trimmingCharacters(in: .whitespaces)
        switch text.lowercased() {
        case "now": return now
        case "yesterday": return now.addingTimeInterval(-86_400)
        default: break
        }
        if text.hasPrefix("@"), let seconds = Double(text.dropFirst()), seconds.isFinite, range.contains(seconds) {
            return Date(timeIntervalSince1970: seconds)
        }
        if let ago = relative(text.lowercased(), now: now) { return ago }
        let iso = ISO8601DateFormatter()
        for options: ISO8601DateFormatter.Options in [[.withInternetDateTime, .withFractionalSeconds], [.withInternetDateTime]] {
            iso.formatOptions = options
            if let date = iso.date(from: text) { return date }
        }
        // A bare date only: with .withFullDate the formatter also takes "2026-11-27T10:00" (and
        // "2026-11-27T25:00:00Z") as that day's midnight, ignoring the rest.
        iso.formatOptions = [.withFullDate]
        if text.utf8.count == 10, let date = iso.date(from: text) { return date }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        for format in ["yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: text) { return date }
        }
        return nil
    }

    /// `3 days ago`, `90s ago`, `1 week ago`.
    private static func relative(_ text: String, now: Date) -> Date? {
        guard text.hasSuffix(" ago") else { return nil }
        let amount = text.dropLast(4).trimmingCharacters(in: .whitespaces)
        guard let split = amount.firstIndex(where: { !$0.isNumber && $0 != "." }),
              let count = Double(amount[..<split]), count >= 0, count.isFinite else { return nil }
        let unit = amount[split...].trimmingCharacters(in: .whitespaces)
        let seconds: Double
        switch unit {
        case "s", "sec", "secs", "second", "seconds": seconds = 1
        case "m", "min", "mins", "minute", "minutes": seconds = 60
        case "h", "hour", "hours": seconds = 3_600
        case "d", "day", "days": seconds = 86_400
        case "w", "week", "weeks": seconds = 604_800
        default: return nil
        }
        let back = count * seconds
        guard back.isFinite, back < 2e10 else { return nil }
        return now.addingTimeInterval(-back)
    }

    public static func fileTime(_ date: Date) -> FileTime {
        let seconds = min(max(date.timeIntervalSince1970, range.lowerBound), range.upperBound).rounded(.down)
        return FileTime(seconds: Int64(seconds), nanoseconds: Int64(((date.timeIntervalSince1970 - seconds) * 1e9).rounded()))
    }
}
