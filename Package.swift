// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "orchestrator",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "orchestrator", targets: ["orchestrator"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.0"),
    ],
    targets: [
        .executableTarget(
            name: "orchestrator",
            dependencies: ["OrchestratorCLI"]
        ),
        .target(
            name: "OrchestratorCLI",
            dependencies: [
                "OrchestratorCore",
                "PostgresClient",
                "Alerting",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "OrchestratorCore",
            dependencies: [
                "BlockingWork",
                "PostgresClient",
                "Archiving",
                "Alerting",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .target(
            name: "PostgresClient",
            dependencies: [
                "BlockingWork",
                "CLibPQ",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(name: "Archiving", dependencies: ["BlockingWork", "CArchive"]),
        .target(
            name: "Alerting",
            dependencies: [
                "BlockingWork",
                "CCurl",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Threads for blocking work (see BlockingExecutor); below every other target.
        .target(name: "BlockingWork"),
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        .systemLibrary(
            name: "CArchive",
            pkgConfig: "libarchive",
            providers: [.apt(["libarchive-dev"])]
        ),
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        .target(
            name: "TestSupport",
            dependencies: ["PostgresClient", "Archiving"],
            path: "Tests/TestSupport"
        ),
        .testTarget(
            name: "BlockingWorkTests",
            dependencies: ["BlockingWork"]
        ),
        .testTarget(
            name: "PostgresClientTests",
            dependencies: ["PostgresClient", "TestSupport"]
        ),
        .testTarget(
            name: "ArchivingTests",
            dependencies: ["Archiving", "TestSupport"]
        ),
        .testTarget(
            name: "AlertingTests",
            dependencies: ["Alerting", "TestSupport", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "OrchestratorCoreTests",
            dependencies: ["OrchestratorCore", "PostgresClient", "TestSupport", "Archiving", "Alerting", "BlockingWork"]
        ),
        .testTarget(
            name: "OrchestratorCLITests",
            dependencies: ["OrchestratorCLI", "OrchestratorCore", "PostgresClient", "TestSupport", .product(name: "Logging", package: "swift-log")]
        ),
    ]
)
