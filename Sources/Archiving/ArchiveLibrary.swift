import CArchive

/// Facts about the linked libarchive; the streaming writer and reader build on this module.
public enum ArchiveLibrary {
    /// Version string reported by the linked libarchive, e.g. "libarchive 3.6.2 zlib/1.2.13 ...".
    public static var versionDetails: String {
        guard let details = archive_version_details() else { return "libarchive (unknown version)" }
        return String(cString: details)
    }
}
