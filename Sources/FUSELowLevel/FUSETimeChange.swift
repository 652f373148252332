/// A new access or modification time requested by `setattr` (`utimensat(2)` can ask for "now").
public enum FUSETimeChange: Hashable, Sendable {
    /// The filesystem's current time.
    case now
    case time(FUSETimespec)
}
