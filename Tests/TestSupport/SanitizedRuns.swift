public import Foundation

/// How many times slower than normal this test run is allowed to be: `MARLISE_TEST_SLOWDOWN`, 1 when
/// unset. `scripts/sanitize.sh` sets it, because code built with a sanitizer runs 5-20× slower.
///
/// It stretches only the tests' own bounds, the ones that say "this happened quickly" (a reply
/// within 3 s, an exit noticed within 2 s); the product's timeouts are never scaled.
public let slowdown: Int = {
    guard let text = ProcessInfo.processInfo.environment["MARLISE_TEST_SLOWDOWN"], let value = Int(text), value > 0
    else { return 1 }
    return value
}()

extension Duration {
    /// This bound, stretched by ``slowdown``.
    public var scaled: Duration { self * slowdown }
}

/// The sanitizer this run was built with, as `scripts/sanitize.sh` says in `MARLISE_TEST_SANITIZER`
/// (`address`, `thread`), or `nil`: for the few checks a sanitizer's own workings defeat, such as
/// resident memory under AddressSanitizer's quarantine.
public let sanitizer: String? = ProcessInfo.processInfo.environment["MARLISE_TEST_SANITIZER"]
