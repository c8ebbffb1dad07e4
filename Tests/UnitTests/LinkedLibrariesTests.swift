import Alerting
import Archiving
import Testing

@Suite struct LinkedLibrariesTests {
    @Test func systemLibrariesLinkAndReportVersions() {
        #expect(ArchiveLibrary.versionDetails.hasPrefix("libarchive"))
        #expect(CurlLibrary.version.hasPrefix("libcurl"))
    }
}
