/// A filesystem answer the binding cannot send (a read longer than asked, a name with a NUL, ...).
/// Thrown inside the trampoline, so the request is answered with EIO and the message logged.
struct BindingError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
