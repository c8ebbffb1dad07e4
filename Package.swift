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
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.9.0"),
    ],
    targets: [
        .executableTarget(
            name: "orchestrator",
            dependencies: ["OrchestratorCLI"]
        ),
        .target(
            name: "OrchestratorCLI",
            dependencies: [
                "OrchestratorWeb", "Kinds", "Runtime", "History", "Alerts", "Health", "Backups", "Maintenance", "Scheduling", "Queue",
                "Database", "Settings", "Cron", "Support", "PostgresClient", "Alerting", "WALArchive", "AgeEncryption", "Archiving",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The age v1 file format (X25519 recipients, ChaCha20-Poly1305 STREAM) on swift-crypto:
        // backups encrypted here decrypt with the standard `age` tool.
        .target(
            name: "AgeEncryption",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")]
        ),
        // The operator dashboard: HTTP server, pages, /metrics. Reads through the domain modules.
        .target(
            name: "OrchestratorWeb",
            dependencies: [
                "Alerts", "Health", "Backups", "Queue", "Scheduling", "Database", "Settings", "Support", "PostgresClient",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Job kinds: the thin adapter from queue jobs to domain calls, and from domain errors
        // to retry policy.
        .target(
            name: "Kinds",
            dependencies: [
                "Runtime", "History", "Alerts", "Health", "Backups", "Maintenance", "Queue", "Database", "Settings", "Support", "PostgresClient", "Archiving",
                "RemoteFiles",
            ]
        ),
        // The worker: slots, dispatch, outcome recording, heartbeat, reaper, scheduler loop.
        .target(
            name: "Runtime",
            dependencies: [
                "Scheduling", "Backups", "Queue", "Database", "Settings", "Support", "PostgresClient", "BlockingWork", "WALArchive",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Domain modules: each knows its own tables and nothing of the worker.
        .target(
            name: "History",
            dependencies: [
                "Alerts", "Backups", "Maintenance", "Settings", "PostgresClient",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "Alerts",
            dependencies: [
                "Health", "Queue", "Settings", "Cron", "Support", "PostgresClient", "Alerting",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "Health",
            dependencies: [
                "Database", "Settings", "Support", "PostgresClient", "Alerting", "WALArchive",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "Backups",
            dependencies: [
                "Database", "Settings", "Support", "PostgresClient", "Archiving", "WALArchive", "BlockingWork", "RemoteFiles", "AgeEncryption",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // WAL archiving: file names, repository layout, push and get. Runs as postgres from
        // archive_command / restore_command: no database, no main configuration.
        .target(
            name: "WALArchive",
            dependencies: [
                "Archiving", "Support",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "Maintenance",
            dependencies: [
                "Database", "Settings", "PostgresClient",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "Scheduling",
            dependencies: [
                "Queue", "Settings", "Cron", "Support", "PostgresClient",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "Queue",
            dependencies: [
                "Settings", "Support", "PostgresClient",
            ]
        ),
        .target(
            name: "Database",
            dependencies: [
                "Settings", "Support", "PostgresClient", "BlockingWork",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "Settings",
            dependencies: [
                "Cron", "Support", "PostgresClient", "Alerting", "AgeEncryption",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .target(name: "Cron"),
        .target(name: "Support", dependencies: ["BlockingWork"]),
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
                "CurlSupport",
                "CCurl",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Off-site copies of verified backups: SFTP over OpenSSH's ssh (a child process), S3 over libcurl.
        .target(
            name: "RemoteFiles",
            dependencies: [
                "BlockingWork",
                "CurlSupport",
                "Support",
                "CCurl",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // What every libcurl user shares: the one-time initialisation, errors, cancellation.
        .target(name: "CurlSupport", dependencies: ["CCurl"]),
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
            dependencies: ["Alerting", "CurlSupport", "TestSupport", .product(name: "Logging", package: "swift-log")]
        ),
        // Against a real OpenSSH server on loopback (LoopbackSSHServer).
        .testTarget(
            name: "RemoteFilesTests",
            dependencies: ["RemoteFiles", "TestSupport", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // Tests that need no server: `swift test --filter UnitTests` runs in seconds.
        .testTarget(
            name: "UnitTests",
            dependencies: [
                "Kinds", "Runtime", "Alerts", "Health", "Backups", "Maintenance", "Queue", "Settings", "Cron", "Support",
                "WALArchive", "Archiving", "AgeEncryption", "CurlSupport", "TestSupport", .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // Tests against a real PostgreSQL (ORCHESTRATOR_TEST_DATABASE_URL), some through the
        // built `orchestrator` binary, which is therefore a dependency.
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "orchestrator", "Kinds", "Runtime", "History", "Alerts", "Health", "Backups", "Maintenance", "Scheduling",
                "Queue", "Database", "Settings", "Cron", "Support", "PostgresClient", "TestSupport", "Archiving", "Alerting",
                "WALArchive", "BlockingWork", "OrchestratorWeb",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
        .testTarget(
            name: "OrchestratorCLITests",
            dependencies: [
                "OrchestratorCLI", "Kinds", "Settings", "Database", "Support", "PostgresClient", "TestSupport", .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
    ]
)
