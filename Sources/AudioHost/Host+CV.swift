import ModHostWire

/// `cv_map` and `cv_unmap`: a control input driven by a CV signal, through a JACK input port the
/// instance registers under the parameter's symbol.
extension Host {
    func runCV(_ name: String, _ arguments: Arguments) throws(HostFailure) -> ModHostReply? {
        switch name {
        case "cv_map":
            let number = arguments.int(0)
            let symbol = arguments[1]
            let source = arguments[2]
            let found = try instance(number)
            let mode = arguments[5]
            guard mode.count == 1, "=-+b".contains(mode) else {
                throw HostFailure(.invalidOperation, "mode '\(mode)' is not one of = - + b")
            }
            // mod-host's code for a source that is not there.
            guard client.hasPort(source) else { throw HostFailure(.jackValueOutOfRange, "no port \(source)") }
            let range = (Float(arguments.number(3)), Float(arguments.number(4)))
            guard try found.mapCV(symbol, source: source, range: range, sourceRange: Self.cvRange(source, mode)) else {
                throw HostFailure.symbol(symbol)
            }
            cvFollowed[MonitorKey(instance: number, symbol: symbol)] = found.value(symbol)
            return .status(0)
        case "cv_unmap":
            let number = arguments.int(0)
            guard try instance(number).unmapCV(arguments[1]) else { throw HostFailure.symbol(arguments[1]) }
            cvFollowed[MonitorKey(instance: number, symbol: arguments[1])] = nil
            return .status(0)
        default:
            return nil
        }
    }

    /// The source's range for a mode, as mod-host works it out: MOD's CV ports have known ranges,
    /// any other is taken as ±5 V. Unipolar modes (`-`, `+`) and bipolar `b` reshape it; `=`
    /// keeps it.
    static func cvRange(_ source: String, _ mode: String) -> (Float, Float) {
        var known = true
        var range: (Float, Float)
        if source.hasPrefix("mod-spi2jack:") {
            range = (0, source == "mod-spi2jack:exp_pedal" ? 5 : 10)
        } else if source.hasPrefix("mod-jack2spi:") {
            range = (0, 10)
        } else {
            known = false
            range = (-5, 5)
        }
        let width = range.1 - range.0
        switch mode {
        case "-": return known ? (-width, 0) : (-1, 0)
        case "+": return known ? (0, width) : (0, 1)
        case "b":
            if !known { return (-1, 1) }
            return range.0 < 0 && range.1 > 0 ? range : (-width / 2, width / 2)
        default: return range
        }
    }

    /// A CV-driven parameter that moved is reported as `param_set`, as mod-host reports it.
    func pollCV() {
        for (key, last) in cvFollowed {
            guard let found = instances[key.instance] else {
                cvFollowed[key] = nil
                continue
            }
            guard let value = found.value(key.symbol), value != last else { continue }
            cvFollowed[key] = value
            feedback.append("param_set \(key.instance) \(key.symbol) \(format6(value))")
        }
    }
}
