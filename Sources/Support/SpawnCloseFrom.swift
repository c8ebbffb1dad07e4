import Foundation

/// `posix_spawn_file_actions_addclosefrom_np` (glibc 2.34 and later): closes every descriptor from
/// `lowest` up in the child, atomically with the spawn. Swift's Glibc module does not export it,
/// so it is looked up once at run time.
package enum SpawnCloseFrom {
    private typealias Function = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

    private static let function: Function? = {
        // A null handle is RTLD_DEFAULT on glibc: search the process's global symbols.
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: Function.self)
    }()

    /// Adds the action; false when this C library lacks it (the child then inherits descriptors
    /// not marked close-on-exec, as with plain `posix_spawn`).
    package static func add(to actions: inout posix_spawn_file_actions_t, lowest: Int32) -> Bool {
        guard let function else { return false }
        return function(&actions, lowest) == 0
    }

    package static var isAvailable: Bool { function != nil }
}
