#if canImport(Glibc)
import Glibc
#endif

/// glibc hands the free memory at the top of its heap back to the kernel as soon as it exceeds
/// 128 KiB. A stream that seals 64 KiB chunks (age encryption: swift-crypto allocates each sealed
/// chunk) then frees and allocates a chunk's worth at the top for every chunk, and each new one
/// faults its pages in afresh: measured as a third of `keys encrypt`'s system time. Keeping up
/// to 4 MiB at the top costs a process only memory it has already used once.
enum MallocTuning {
    static let trimThreshold: Int32 = 4 << 20
    /// `M_TRIM_THRESHOLD` in glibc's <malloc.h>, which Swift's Glibc module does not include.
    private static let trimThresholdOption: Int32 = -1

    static func apply() {
        #if canImport(Glibc)
        // Looked up rather than declared: <malloc.h> is not part of the Glibc module.
        guard let process = dlopen(nil, RTLD_NOW), let symbol = dlsym(process, "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: (@convention(c) (Int32, Int32) -> Int32).self)
        _ = mallopt(trimThresholdOption, trimThreshold)
        #endif
    }
}
