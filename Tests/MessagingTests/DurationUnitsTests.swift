import Messaging
import Testing

/// Durations as people read them, and in the units system calls take.
@Suite struct DurationUnitsTests {
    @Test(arguments: [
        (Duration.zero, "0 ms"),
        (.milliseconds(120), "120 ms"),
        (.milliseconds(700), "700 ms"),
        (.microseconds(999_400), "999 ms"),
        (.microseconds(999_500), "1 s"),
        (.seconds(1), "1 s"),
        (.milliseconds(4252), "4.25 s"),
        (.nanoseconds(4_252_533_856), "4.25 s"),
        (.milliseconds(4500), "4.50 s"),
        (.milliseconds(10_050), "10.05 s"),
        (.milliseconds(59_996), "60 s"),
        (.seconds(60), "60 s"),
        (.seconds(86400), "86400 s"),
        (.milliseconds(-250), "-250 ms"),
        (.milliseconds(-1500), "-1.50 s"),
    ])
    func readable(duration: Duration, text: String) {
        #expect(duration.readable == text)
    }

    @Test func milliseconds() {
        #expect(Duration.microseconds(1500).milliseconds() == 1)
        #expect(Duration.microseconds(1500).milliseconds(rounding: .up) == 2)
        #expect(Duration.microseconds(1499).milliseconds(rounding: .toNearestOrAwayFromZero) == 1)
        #expect(Duration.microseconds(1500).milliseconds(rounding: .toNearestOrAwayFromZero) == 2)
        #expect(Duration.seconds(3).milliseconds(rounding: .up) == 3000)
        #expect(Duration.microseconds(-1500).milliseconds() == -1)
        #expect(Duration.microseconds(-1500).milliseconds(rounding: .down) == -2)
        #expect(Duration.seconds(Int64.max).milliseconds() == .max)
        #expect(Duration.seconds(Int64.min).milliseconds() == .min)
    }

    @Test func seconds() {
        #expect(Duration.milliseconds(1500).inSeconds == 1.5)
        #expect(Duration.nanoseconds(250).inSeconds == 250e-9)
    }
}
