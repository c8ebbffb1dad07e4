import Hummingbird

/// Hummingbird's basic request context plus the peer's address, which the record of an action
/// names next to how the actor proved the token.
package struct DashboardContext: RequestContext {
    package var coreContext: CoreRequestContextStorage
    /// The peer's IP address; nil when the channel has none (tests drive the router directly).
    /// Behind a proxy this is the proxy: forwarded headers are not trusted.
    package let clientAddress: String?

    package init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        clientAddress = source.channel.remoteAddress?.ipAddress
    }
}
