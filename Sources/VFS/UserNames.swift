import Glibc

/// User and group names for messages and reports; the number when the system has no name.
public enum UserNames {
    public static func name(ofUser uid: UInt32) -> String {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getpwuid_r(uid, &entry, &buffer, buffer.count, &result) == 0, result != nil, let name = entry.pw_name else {
            return "\(uid)"
        }
        return String(cString: name)
    }

    public static func name(ofGroup gid: UInt32) -> String {
        var entry = group()
        var result: UnsafeMutablePointer<group>?
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getgrgid_r(gid, &entry, &buffer, buffer.count, &result) == 0, result != nil, let name = entry.gr_name else {
            return "\(gid)"
        }
        return String(cString: name)
    }
}
