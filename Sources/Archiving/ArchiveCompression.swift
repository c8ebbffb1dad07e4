import CArchive

/// Compression of a tar stream. zstd is the default: fast at a good ratio.
public enum ArchiveCompression: String, Sendable, CaseIterable, Codable {
    case zstd
    case gzip
    case none

    /// File name suffix after `.tar`.
    public var fileExtension: String {
        switch self {
        case .zstd: return ".tar.zst"
        case .gzip: return ".tar.gz"
        case .none: return ".tar"
        }
    }

    func apply(to archive: OpaquePointer) -> Int32 {
        switch self {
        case .zstd: return archive_write_add_filter_zstd(archive)
        case .gzip: return archive_write_add_filter_gzip(archive)
        case .none: return archive_write_add_filter_none(archive)
        }
    }
}
