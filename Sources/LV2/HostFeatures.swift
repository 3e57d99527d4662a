import CLilv
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The LV2 features a host offers every plugin it instantiates: URID map and unmap, options
/// (sample rate, block lengths), bounded block length and log; and, while one instance is made,
/// that instance's worker (`offerWorker`).
///
/// Everything a plugin may keep a pointer to is allocated here once and freed only when the
/// host (which outlives its instances) drops this.
public final class HostFeatures: @unchecked Sendable {  // `urids` locks; one thread offers workers.
    /// Feature URIs a plugin may require and still be run here.
    public static let supported: Set<String> = [
        "http://lv2plug.in/ns/ext/urid#map", "http://lv2plug.in/ns/ext/urid#unmap",
        "http://lv2plug.in/ns/ext/options#options", "http://lv2plug.in/ns/ext/buf-size#boundedBlockLength",
        "http://lv2plug.in/ns/ext/log#log", "http://lv2plug.in/ns/lv2core#hardRTCapable",
        "http://lv2plug.in/ns/lv2core#inPlaceBroken", "http://lv2plug.in/ns/lv2core#isLive",
        "http://lv2plug.in/ns/ext/worker#schedule", "http://lv2plug.in/ns/ext/state#loadDefaultState",
    ]

    let urids = URIDTable()
    let map: UnsafeMutablePointer<LV2_URID_Map>
    let unmap: UnsafeMutablePointer<LV2_URID_Unmap>
    private let log: UnsafeMutablePointer<LV2_Log_Log>
    private let options: UnsafeMutablePointer<LV2_Options_Option>
    private let optionValues: UnsafeMutablePointer<Int32>
    private let sampleRateValue: UnsafeMutablePointer<Float>
    private let featureStructs: UnsafeMutablePointer<LV2_Feature>
    private let uriStrings: [UnsafeMutablePointer<CChar>]
    /// Where `work:schedule` goes in `features`, after the shared ones.
    private let workerSlot: Int
    /// The null-terminated array handed to `lilv_plugin_instantiate`.
    let features: UnsafeMutablePointer<UnsafePointer<LV2_Feature>?>

    public let sampleRate: Double
    public let maximumBlockLength: Int

    public init(sampleRate: Double, maximumBlockLength: Int) {
        self.sampleRate = sampleRate
        self.maximumBlockLength = maximumBlockLength
        let table = Unmanaged.passUnretained(urids).toOpaque()
        map = .allocate(capacity: 1)
        map.initialize(
            to: LV2_URID_Map(
                handle: table,
                map: { handle, uri in
                    guard let handle, let uri else { return 0 }
                    return Unmanaged<URIDTable>.fromOpaque(handle).takeUnretainedValue().map(String(cString: uri))
                }
            )
        )
        unmap = .allocate(capacity: 1)
        unmap.initialize(
            to: LV2_URID_Unmap(
                handle: table,
                unmap: { handle, urid in
                    guard let handle else { return nil }
                    return Unmanaged<URIDTable>.fromOpaque(handle).takeUnretainedValue().unmap(urid)
                }
            )
        )
        // Plugins may log from `run`, on the audio thread: formatted on the stack, written as is.
        log = marlise_log_new { _, type, format, arguments in
            guard let format, let arguments else { return 0 }
            return withUnsafeTemporaryAllocation(of: CChar.self, capacity: 512) { text in
                guard let base = text.baseAddress else { return 0 }
                let count = vsnprintf(base, text.count, format, arguments)
                var length = min(Int(max(count, 0)), text.count - 1)
                while length > 0 && base[length - 1] == 10 { length -= 1 }  // our own newline follows
                _ = write(2, "lv2: ", 5)
                _ = write(2, base, length)
                _ = write(2, "\n", 1)
                return count
            }
        }

        let intType = urids.map("http://lv2plug.in/ns/ext/atom#Int")
        let floatType = urids.map("http://lv2plug.in/ns/ext/atom#Float")
        optionValues = .allocate(capacity: 4)
        optionValues.initialize(repeating: Int32(maximumBlockLength), count: 4)
        optionValues[0] = 0  // minimum block length: JACK may run short cycles
        optionValues[3] = 8192  // sequence size: the atom buffers' capacity
        sampleRateValue = .allocate(capacity: 1)
        sampleRateValue.initialize(to: Float(sampleRate))
        let keys = [
            "http://lv2plug.in/ns/ext/buf-size#minBlockLength", "http://lv2plug.in/ns/ext/buf-size#maxBlockLength",
            "http://lv2plug.in/ns/ext/buf-size#nominalBlockLength", "http://lv2plug.in/ns/ext/buf-size#sequenceSize",
        ]
        options = .allocate(capacity: keys.count + 2)
        for (index, key) in keys.enumerated() {
            options[index] = LV2_Options_Option(
                context: LV2_OPTIONS_INSTANCE,
                subject: 0,
                key: urids.map(key),
                size: 4,
                type: intType,
                value: UnsafeRawPointer(optionValues + index)
            )
        }
        options[keys.count] = LV2_Options_Option(
            context: LV2_OPTIONS_INSTANCE,
            subject: 0,
            key: urids.map("http://lv2plug.in/ns/lv2core#sampleRate"),
            size: 4,
            type: floatType,
            value: UnsafeRawPointer(sampleRateValue)
        )
        options[keys.count + 1] = LV2_Options_Option(
            context: LV2_OPTIONS_INSTANCE,
            subject: 0,
            key: 0,
            size: 0,
            type: 0,
            value: nil
        )

        let offered: [(String, UnsafeMutableRawPointer?)] = [
            ("http://lv2plug.in/ns/ext/urid#map", UnsafeMutableRawPointer(map)),
            ("http://lv2plug.in/ns/ext/urid#unmap", UnsafeMutableRawPointer(unmap)),
            ("http://lv2plug.in/ns/ext/options#options", UnsafeMutableRawPointer(options)),
            ("http://lv2plug.in/ns/ext/buf-size#boundedBlockLength", nil),
            ("http://lv2plug.in/ns/ext/log#log", UnsafeMutableRawPointer(log)),
            ("http://lv2plug.in/ns/ext/worker#schedule", nil),
        ]
        uriStrings = offered.map { strdup($0.0)! }
        featureStructs = .allocate(capacity: offered.count)
        features = .allocate(capacity: offered.count + 1)
        for index in offered.indices {
            featureStructs[index] = LV2_Feature(URI: uriStrings[index], data: offered[index].1)
            features[index] = UnsafePointer(featureStructs + index)
        }
        features[offered.count] = nil
        workerSlot = offered.count - 1
        features[workerSlot] = nil  // offered only while an instance is made
    }

    /// Offers `schedule` as `work:schedule` to the plugins instantiated until it is withdrawn
    /// (nil). A worker belongs to one instance, so the host offers it around that instance's
    /// instantiation only (instances are made one at a time); elsewhere, such as restoring
    /// state, no worker is offered and plugins do their work at once.
    public func offerWorker(_ schedule: UnsafeMutableRawPointer?) {
        featureStructs[workerSlot].data = schedule
        features[workerSlot] = schedule == nil ? nil : UnsafePointer(featureStructs + workerSlot)
    }

    deinit {
        map.deallocate()
        unmap.deallocate()
        free(log)
        options.deallocate()
        optionValues.deallocate()
        sampleRateValue.deallocate()
        featureStructs.deallocate()
        features.deallocate()
        for string in uriStrings { free(string) }
    }

    /// The URID of `uri`, mapping it if new.
    public func urid(_ uri: String) -> UInt32 { urids.map(uri) }

    /// The URI of `urid`, if it was mapped.
    public func uri(_ urid: UInt32) -> String? { urids.unmap(urid).map { String(cString: $0) } }

    /// The features of `required` this host lacks.
    public static func missing(from required: [String]) -> [String] {
        required.filter { !supported.contains($0) }
    }
}

/// URIs and their numbers, both ways; plugins may map from any thread.
final class URIDTable: @unchecked Sendable {  // `lock` guards both tables.
    private let lock = NSLock()
    private var numbers: [String: UInt32] = [:]
    /// Kept for the life of the table: unmap hands out these pointers.
    private var strings: [UnsafeMutablePointer<CChar>] = []

    deinit { for string in strings { free(string) } }

    func map(_ uri: String) -> UInt32 {
        lock.withLock {
            if let number = numbers[uri] { return number }
            strings.append(strdup(uri))
            let number = UInt32(strings.count)
            numbers[uri] = number
            return number
        }
    }

    func unmap(_ urid: UInt32) -> UnsafePointer<CChar>? {
        lock.withLock {
            guard urid >= 1, Int(urid) <= strings.count else { return nil }
            return UnsafePointer(strings[Int(urid) - 1])
        }
    }
}
