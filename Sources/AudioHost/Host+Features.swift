import ModHostWire

/// `feature_enable <feature> <value>`, with mod-host's features and values.
extension Host {
    /// Returns the status to answer: JACK's own code for `freewheeling`, as mod-host answers it.
    func enableFeature(_ feature: String, _ value: Int) throws(HostFailure) -> Int {
        switch feature {
        case "processing":
            // mod-host's values: 0/1 off/on, 2 on and feedback ready, -1/-2 off with or without
            // its fade-out, 3 on with a fade-in. There is no fade here: off is off at once.
            switch value {
            case 0, -1, -2:
                shared.pointee.processing.store(false, ordering: .relaxed)
                waitCycle()
            case 1, 3:
                shared.pointee.processing.store(true, ordering: .relaxed)
            case 2:
                shared.pointee.processing.store(true, ordering: .relaxed)
                feedback.clientReady()
            default:
                throw HostFailure(.invalidOperation, "processing takes -2…3, not \(value)")
            }
            return 0
        case "cpu-load":
            reportsCPULoad = value != 0
            feedback.clientReady()
            return 0
        case "freewheeling":
            if value == 2 {
                transport.rolling = true
                client.startTransport()
                reportTransport()
            }
            do {
                try client.setFreewheel(value != 0)
                return 0
            } catch {
                return Int(error.code)
            }
        case "aggregated-midi":
            // mod-host loads JACK's `mod-midi-merger` internal client to feed `midi_in`; where
            // JACK has no such client mod-host answers -202, and so does this host, which never
            // loads one (and, unlike mod-host, leaves the MIDI connections as they were).
            guard value == 0 else {
                throw HostFailure(.jackClientActivation, "no mod-midi-merger internal client")
            }
            return 0
        default:
            throw HostFailure(.invalidOperation, "feature '\(feature)' is not offered")
        }
    }
}
