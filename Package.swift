// swift-tools-version:6.1
import PackageDescription

let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "GridSync",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "gridsync", targets: ["gridsync"]),
        .executable(name: "gridsync-bench", targets: ["gridsync-bench"]),
        .executable(name: "gridsync-fuzz", targets: ["gridsync-fuzz"]),
        .library(name: "GridSyncCore", targets: ["GridSyncCore"]),
        .library(name: "GridSyncStore", targets: ["GridSyncStore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto", exact: "4.5.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based", exact: "2.0.1"),
        .package(url: "https://github.com/apple/swift-nio", exact: "2.101.3"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/LebJe/TOMLKit", exact: "0.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", exact: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", exact: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio-ssl", exact: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates", exact: "1.21.1"),
        .package(url: "https://github.com/vapor/postgres-nio", exact: "1.33.2"),
        // The dashboard: without the swift-configuration trait (its settings come from ours).
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1", traits: []),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", exact: "2.1.1"),
        .package(url: "https://github.com/apple/swift-http-types", exact: "1.8.0"),
    ],
    targets: [
        // CRDT model, HLC, version vectors, change codec, signing. No I/O.
        .target(
            name: "GridSyncCore",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: strict),
        // SQLite persistence: apply and emit changes, queries, bundles.
        .target(
            name: "GridSyncStore",
            dependencies: [
                "GridSyncCore",
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ],
            swiftSettings: strict),
        // The system zlib (DEFLATE for CHANGES batches); only a header with the init macros as
        // functions. Debian: zlib1g-dev.
        .target(
            name: "CZlib",
            linkerSettings: [.linkedLibrary("z")]),
        // Wire protocol: messages, the sans-IO sync state machine, and the NIO frame codec.
        .target(
            name: "GridSyncWire",
            dependencies: [
                "GridSyncCore", "CZlib",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strict),
        // The daemon: sessions over TCP, listener, dialers, live push.
        .target(
            name: "GridSyncNode",
            dependencies: [
                "GridSyncCore", "GridSyncStore", "GridSyncWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict),
        // The district: centres push clear records into PostgreSQL; the district report.
        .target(
            name: "GridSyncDistrict",
            dependencies: [
                "GridSyncCore", "GridSyncStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        // The centre's dashboard: read-only pages of the store over HTTP(S), server-side templates.
        .target(
            name: "GridSyncDashboard",
            dependencies: [
                "GridSyncCore", "GridSyncStore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        // The command line: every command, output formatting. A library so tests can reach it.
        .target(
            name: "GridSyncCLI",
            dependencies: [
                "GridSyncCore", "GridSyncStore", "GridSyncNode", "GridSyncDistrict", "GridSyncDashboard",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "TOMLKit", package: "TOMLKit"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict),
        .executableTarget(
            name: "gridsync",
            dependencies: ["GridSyncCLI"],
            swiftSettings: strict),
        .executableTarget(
            name: "gridsync-bench",
            dependencies: [
                "GridSyncCore", "GridSyncStore", "GridSyncNode", "GridSyncDistrict", "GridSyncDashboard",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "Benchmarks/gridsync-bench",
            swiftSettings: strict),
        // Mutation fuzzing of every decoder, or libFuzzer with -DGRIDSYNC_LIBFUZZER (docs/FUZZING.md).
        .executableTarget(
            name: "gridsync-fuzz",
            dependencies: [
                "GridSyncCore", "GridSyncStore", "GridSyncWire",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Fuzz/gridsync-fuzz",
            swiftSettings: strict),
        .testTarget(
            name: "GridSyncCoreTests",
            dependencies: [
                "GridSyncCore",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "GridSyncStoreTests",
            dependencies: [
                "GridSyncCore", "GridSyncStore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            resources: [.copy("Fixtures")],
            swiftSettings: strict),
        .testTarget(
            name: "GridSyncWireTests",
            dependencies: [
                "GridSyncCore", "GridSyncWire", "GridSyncStore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "GridSyncDashboardTests",
            dependencies: [
                "GridSyncCore", "GridSyncStore", "GridSyncDashboard",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "GridSyncCLITests",
            dependencies: [
                "GridSyncCLI", "gridsync", "GridSyncWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
    ]
)
