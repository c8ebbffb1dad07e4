import Hummingbird

extension HTTPFields.Element.Name {
    /// Not among swift-http-types' predefined names.
    static let referrerPolicy = Self("Referrer-Policy")!
    static let xFrameOptions = Self("X-Frame-Options")!
    static let secFetchSite = Self("Sec-Fetch-Site")!
}
