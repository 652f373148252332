import ArgumentParser
import RepositoryCore

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "init", abstract: "Create an encrypted repository.")

    @OptionGroup var options: RepositoryOptions

    @Argument(help: "The repository directory (must not exist or be empty).")
    var repository: String

    func run() throws {
        LoggingSetup.once
        try reportingErrors {
            let passphrase = try options.passphrase(confirm: true)
            let repo = try Repository.create(at: repository, passphrase: passphrase, stateRoot: options.stateRoot,
                                             logger: options.logger)
            try repo.close()
            print("created nexusfs repository \(repo.config.id) at \(repository)")
        }
    }
}
