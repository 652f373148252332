import CatalogStore
import Logging
import NexusTypes
import RepositoryCore
import Synchronization

/// The DMS rules on top of POSIX (docs/permissions.md, docs/metadata.md): access levels over the
/// POSIX ACLs and grants, workflow status, locks and legal holds, comments, which saves are
/// versions and which files continue a document, and the audit trail.
///
/// The volume calls it inside its own catalog transactions (`guardChange`, `require`,
/// `inheritPermissions`, `recordVersion`, `audit`, the attribute rules), and hands it the DMS
/// requests whole (`grant`, `addComment`, `accessReport`). It reaches the catalog only through
/// `namespace`, and knows nothing of handles or open files.
///
/// Thread-safe. `recentNames` and `refusals` are leaves: nothing else is locked while either is held.
final class Policy: Sendable {
    let namespace: Namespace
    let repository: Repository
    let options: VolumeOptions
    let logger: Logger
    /// Names of documents that just went away, for the next file created under them.
    let recentNames = Mutex(RecentNames())
    /// Refused requests waiting to be audited (see `noteRefusal`).
    let refusals = Mutex(RefusalQueue())

    init(namespace: Namespace, repository: Repository, options: VolumeOptions, logger: Logger) {
        self.namespace = namespace
        self.repository = repository
        self.options = options
        self.logger = logger
    }
}
