/// `nexusfs extract-worker`: the text-extraction child process that the daemon starts and talks to over
/// stdin and stdout (hidden: people never run it).
import ArgumentParser
import Foundation
import TextExtraction

/// Serves ExtractionWorker's protocol on stdin/stdout until stdin closes; exits 0 then, 1 on a broken request.
struct ExtractWorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "extract-worker",
        abstract: "Extract text for the search index, for the daemon (not for people).",
        shouldDisplay: false)

    /// Runs the worker and exits with its status.
    func run() throws {
        Foundation.exit(ExtractionWorker.serve(input: STDIN_FILENO, output: STDOUT_FILENO))
    }
}
