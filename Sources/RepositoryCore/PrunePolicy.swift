import CatalogStore
import Foundation
import NexusTypes

/// Which versions of each document to keep, in restic's `forget` vocabulary. A version
/// is kept when any rule keeps it; the newest version and the document's current
/// content are always kept.
public struct PrunePolicy: Sendable, Codable {
    public var keepLast: Int?
    /// Seconds before the newest version within which every version is kept.
    public var keepWithin: Double?
    public var keepHourly: Int?
    public var keepDaily: Int?
    public var keepWeekly: Int?
    public var keepMonthly: Int?
    public var keepYearly: Int?

    public init(keepLast: Int? = nil, keepWithin: Double? = nil, keepHourly: Int? = nil, keepDaily: Int? = nil,
                keepWeekly: Int? = nil, keepMonthly: Int? = nil, keepYearly: Int? = nil) {
        self.keepLast = keepLast
        self.keepWithin = keepWithin
        self.keepHourly = keepHourly
        self.keepDaily = keepDaily
        self.keepWeekly = keepWeekly
        self.keepMonthly = keepMonthly
        self.keepYearly = keepYearly
    }

    public var isEmpty: Bool {
        keepLast == nil && keepWithin == nil && keepHourly == nil && keepDaily == nil && keepWeekly == nil
            && keepMonthly == nil && keepYearly == nil
    }

    /// Parses `7d`, `12h`, `30m`, `2w`, `1y`, `90s`, or combinations such as `1d12h`.
    public static func duration(_ text: String) -> Double? {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604_800, "y": 31_536_000]
        var total = 0.0
        var number = ""
        for c in text {
            if c.isNumber { number.append(c); continue }
            guard let unit = units[c], let value = Double(number) else { return nil }
            total += value * unit
            number = ""
        }
        return number.isEmpty && total > 0 ? total : nil
    }

    /// The versions to keep of one document, given newest first.
    func kept(_ versions: [VersionRecord], current: ManifestID?) -> Set<VersionNumber> {
        guard let newest = versions.first else { return [] }
        var keep: Set<VersionNumber> = [newest.number]
        for v in versions where v.manifest == current { keep.insert(v.number) }
        if let n = keepLast { for v in versions.prefix(n) { keep.insert(v.number) } }
        if let within = keepWithin {
            let limit = Double(newest.time.seconds) - within
            for v in versions where Double(v.time.seconds) >= limit { keep.insert(v.number) }
        }
        let calendar: Calendar = {
            var c = Calendar(identifier: .iso8601)
            c.timeZone = TimeZone(identifier: "UTC")!
            return c
        }()
        func bucketed(_ count: Int?, _ key: (Date) -> [Int]) {
            guard let count, count > 0 else { return }
            var last: [Int]?
            var taken = 0
            for v in versions {
                let bucket = key(Date(timeIntervalSince1970: Double(v.time.seconds)))
                if bucket != last {
                    keep.insert(v.number)
                    last = bucket
                    taken += 1
                    if taken == count { return }
                }
            }
        }
        bucketed(keepHourly) { let c = calendar.dateComponents([.year, .month, .day, .hour], from: $0); return [c.year!, c.month!, c.day!, c.hour!] }
        bucketed(keepDaily) { let c = calendar.dateComponents([.year, .month, .day], from: $0); return [c.year!, c.month!, c.day!] }
        bucketed(keepWeekly) { let c = calendar.dateComponents([.yearForWeekOfYear, .weekOfYear], from: $0); return [c.yearForWeekOfYear!, c.weekOfYear!] }
        bucketed(keepMonthly) { let c = calendar.dateComponents([.year, .month], from: $0); return [c.year!, c.month!] }
        bucketed(keepYearly) { [calendar.component(.year, from: $0)] }
        return keep
    }
}
