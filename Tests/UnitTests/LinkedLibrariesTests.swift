import Archiving
import CurlSupport
import Testing

@Suite struct LinkedLibrariesTests {
    @Test func systemLibrariesLinkAndReportVersions() {
        #expect(ArchiveLibrary.versionDetails.hasPrefix("libarchive"))
        #expect(CurlLibrary.version.hasPrefix("libcurl"))
    }
}
