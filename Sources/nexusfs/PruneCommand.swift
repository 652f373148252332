import ArgumentParser
import RepositoryCore

struct PruneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune", abstract: "Forget old versions by policy, then free the space they took.",
        discussion: """
            A version is kept when any --keep rule keeps it; each document's newest version and its current \
            content are always kept. Then unreferenced data is removed and packs that are mostly garbage are \
            rewritten. The repository must not be mounted.
            """)

    @OptionGroup var options: RepositoryOptions

    @Argument(help: "The repository directory.")
    var repository: String

    @Option(name: .long, help: "Keep the newest N versions.") var keepLast: Int?
    @Option(name: .long, help: "Keep versions within this long before the newest (e.g. 7d, 12h, 2w, 1y).") var keepWithin: String?
    @Option(name: .long, help: "Keep the newest version of each of the last N hours.") var keepHourly: Int?
    @Option(name: .long, help: "Keep the newest version of each of the last N days.") var keepDaily: Int?
    @Option(name: .long, help: "Keep the newest version of each of the last N weeks.") var keepWeekly: Int?
    @Option(name: .long, help: "Keep the newest version of each of the last N months.") var keepMonthly: Int?
    @Option(name: .long, help: "Keep the newest version of each of the last N years.") var keepYearly: Int?
    @Option(name: .long, help: "Also delete for good what has been in the trash longer than this many days.")
    var trashDays: Double?
    @Flag(name: .long, help: "Only say what would be removed.") var dryRun = false
    @Flag(name: .long, help: "Print the report as JSON.") var json = false

    var policy: PrunePolicy {
        PrunePolicy(keepLast: keepLast, keepWithin: keepWithin.flatMap(PrunePolicy.duration), keepHourly: keepHourly,
                    keepDaily: keepDaily, keepWeekly: keepWeekly, keepMonthly: keepMonthly, keepYearly: keepYearly)
    }

    func validate() throws {
        if let keepWithin, PrunePolicy.duration(keepWithin) == nil {
            throw ValidationError("--keep-within takes a duration such as 7d, 12h, 2w or 1y")
        }
        for value in [keepLast, keepHourly, keepDaily, keepWeekly, keepMonthly, keepYearly].compactMap({ $0 }) where value < 1 {
            throw ValidationError("--keep-* counts must be at least 1")
        }
        guard !policy.isEmpty else { throw ValidationError("prune needs at least one --keep-* rule") }
        if let trashDays, !(0...36_500).contains(trashDays) { throw ValidationError("--trash-days takes a number of days from 0 to 36500") }
    }

    func run() throws {
        LoggingSetup.once
        try reportingErrors {
            let repo = try Repository.open(at: repository, passphrase: try options.passphrase(),
                                           stateRoot: options.stateRoot, logger: options.logger)
            let printer = ProgressPrinter("pruning")
            let report = try repo.prune(policy: policy, trashDays: trashDays, dryRun: dryRun, progress: printer.update)
            printer.finish()
            try repo.close()
            if json { return try printJSON(report) }
            for removal in report.removed {
                print("\(dryRun ? "would remove" : "removed") \(removal.document) version \(removal.version)")
            }
            for purged in report.purgedFromTrash { print("\(dryRun ? "would delete" : "deleted") \(purged) from the trash for good") }
            for held in report.held { print("kept every version of \(held): under legal hold") }
            print("\(report.removed.count) versions \(dryRun ? "would be " : "")removed, \(report.keptVersions) kept")
            if !dryRun {
                print("\(report.packsDeleted) packs deleted, \(report.packsRewritten) rewritten; stored "
                    + "\(ByteCount.format(report.storedBytesBefore)) -> \(ByteCount.format(report.storedBytesAfter))")
            }
        }
    }
}
