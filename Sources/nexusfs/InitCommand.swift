import ArgumentParser
import RepositoryCore

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "init", abstract: "Create an encrypted repository.")

    @OptionGroup var options: RepositoryOptions

    @Option(name: .long, help: ArgumentHelp(
        "Keep the packs in an S3-compatible object store (s3://bucket/prefix, an empty prefix) instead of the repository directory, which then caches them.",
        discussion: "Credentials and endpoint come from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION and AWS_ENDPOINT_URL."))
    var store: String?

    @Argument(help: "The repository directory (must not exist or be empty).")
    var repository: String

    func run() throws {
        LoggingSetup.once
        try reportingErrors {
            let passphrase = try options.passphrase(confirm: true)
            let repo = try Repository.create(at: repository, passphrase: passphrase, store: store,
                                             stateRoot: options.stateRoot, logger: options.logger)
            try repo.close()
            print("created nexusfs repository \(repo.config.id) at \(repository)"
                  + (repo.config.store.map { ", its packs in \($0)" } ?? ""))
        }
    }
}
