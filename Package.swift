// swift-tools-version: 6.2
import PackageDescription

/// Every Swift target: Swift 6 mode, and imports internal unless marked `public import`,
/// so no C type leaks into public API.
let strict: [SwiftSetting] = [.enableUpcomingFeature("InternalImportsByDefault")]

let package = Package(
    name: "marlise",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "marlise-supervisor", targets: ["marlise-supervisor"]),
        .executable(name: "marlise-session", targets: ["marlise-session"]),
        .executable(name: "marlise-bridge", targets: ["marlise-bridge"]),
        .executable(name: "marlise-host", targets: ["marlise-host"]),
        .executable(name: "marlisectl", targets: ["marlisectl"]),
        .executable(name: "marlise-bench", targets: ["marlise-bench"]),
        .executable(name: "marlise-testchild", targets: ["marlise-testchild"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.5.0"),
    ],
    targets: [
        // C libraries, each reached through one Swift target.
        .systemLibrary(
            name: "CZeroMQ",
            pkgConfig: "libzmq",
            providers: [.apt(["libzmq3-dev"])]
        ),
        .systemLibrary(
            name: "CSystemd",
            pkgConfig: "libsystemd",
            providers: [.apt(["libsystemd-dev"])]
        ),
        .systemLibrary(
            name: "CLilv",
            pkgConfig: "lilv-0",
            providers: [.apt(["liblilv-dev"])]
        ),
        .systemLibrary(
            name: "CSerd",
            pkgConfig: "serd-0",
            providers: [.apt(["libserd-dev"])]
        ),
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        .systemLibrary(name: "CLinux"),
        .systemLibrary(
            name: "CJack",
            pkgConfig: "jack",
            providers: [.apt(["libjack-jackd2-dev"])]
        ),

        // Libraries: everything worth testing lives here.
        .target(name: "Locking", swiftSettings: strict),
        // The system calls every target shares: one EINTR policy, one errno text, one TCP listener.
        .target(
            name: "Posix",
            dependencies: ["CLinux", .product(name: "SystemPackage", package: "swift-system")],
            swiftSettings: strict
        ),
        // mod-host's wire protocol, for every side that speaks it.
        .target(name: "ModHostWire", swiftSettings: strict),
        .target(
            name: "Messaging",
            dependencies: ["CZeroMQ", "Locking", "Posix", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        .target(
            name: "Health",
            dependencies: ["CSystemd", "Locking", "Messaging", "Posix"],
            swiftSettings: strict
        ),
        .target(
            name: "Jack",
            dependencies: ["CJack", "Locking"],
            swiftSettings: strict
        ),
        .target(
            name: "Supervisor",
            dependencies: [
                "Jack", "Health", "Locking", "Messaging", "ModHostWire", "CLinux", "Posix",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "TOMLKit", package: "TOMLKit"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "LV2",
            dependencies: ["CLilv", "CSerd"],
            swiftSettings: strict
        ),
        .target(
            name: "AudioHost",
            dependencies: [
                "Jack", "LV2", "Locking", "ModHostWire", "Posix", .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "Bridge",
            dependencies: [
                "Messaging", "Health", "Jack", "LV2", "Locking", "ModHostWire", "CLinux", "Posix",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "SessionService",
            dependencies: [
                "Messaging", "LV2", "Locking", "Jack", "CZlib", "CLinux", "Posix",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),

        // Thin executables: argument parsing and one call into a library.
        .executableTarget(
            name: "marlise-supervisor",
            dependencies: ["Supervisor", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "marlise-session",
            dependencies: [
                "SessionService", "Health", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "marlise-bridge",
            dependencies: [
                "Bridge", "Health", "Messaging", .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "marlise-host",
            dependencies: ["AudioHost", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "marlisectl",
            dependencies: [
                "Messaging", "Health", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "marlise-bench",
            dependencies: [
                "Messaging", "Supervisor", "SessionService", "Jack", "ModHostWire", "Posix",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),

        // A child process for the supervisor's tests: each option provokes one situation.
        .executableTarget(name: "marlise-testchild", dependencies: ["Posix"], swiftSettings: strict),

        // Tests: one target per library, sharing helpers through TestSupport.
        .target(
            name: "TestSupport",
            dependencies: ["Messaging", "Jack", "Locking", "ModHostWire"],
            path: "Tests/TestSupport",
            swiftSettings: strict
        ),
        .testTarget(name: "LockingTests", dependencies: ["Locking"], swiftSettings: strict),
        .testTarget(name: "PosixTests", dependencies: ["Posix", "CLinux"], swiftSettings: strict),
        .testTarget(name: "ModHostWireTests", dependencies: ["ModHostWire"], swiftSettings: strict),
        .testTarget(
            name: "MessagingTests",
            dependencies: ["Messaging", "Locking", "TestSupport"],
            swiftSettings: strict
        ),
        .testTarget(name: "HealthTests", dependencies: ["Health", "TestSupport"], swiftSettings: strict),
        .testTarget(
            name: "SupervisorTests",
            dependencies: ["Supervisor", "Jack", "Locking", "TestSupport"],
            swiftSettings: strict
        ),
        .testTarget(name: "JackTests", dependencies: ["Jack", "Messaging", "TestSupport"], swiftSettings: strict),
        .testTarget(
            name: "AudioHostTests",
            dependencies: ["AudioHost", "Jack", "LV2", "Messaging", "TestSupport"],
            swiftSettings: strict
        ),
        .testTarget(name: "LV2Tests", dependencies: ["LV2", "Locking", "TestSupport"], swiftSettings: strict),
        .testTarget(
            name: "BridgeTests",
            dependencies: ["Bridge", "Locking", "ModHostWire", "TestSupport"],
            swiftSettings: strict
        ),
        .testTarget(name: "StackTests", dependencies: ["Messaging", "TestSupport"], swiftSettings: strict),
        .testTarget(
            name: "SessionServiceTests",
            dependencies: ["SessionService", "LV2", "Jack", "TestSupport"],
            swiftSettings: strict
        ),
    ]
)
