import Foundation
import Messaging
import TestSupport
import Testing

/// mod-host's protocol as a real mod-host answers it, against a running marlise-host.
@Suite(.timeLimit(.minutes(10))) struct AudioHostProtocolTests {
    @Test func answersEveryCommandWithModHostsCodes() async throws {
        try await withJackServer { server in
            let host = try await RunningHost(server: server.name)
            let client = try await host.connect()
            let leslie = "http://drobilla.net/plugins/mda/Leslie"
            let limiter = "http://plugin.org.uk/swh-plugins/fastLookaheadLimiter"
            let exchanges: [(String, String)] = [
                ("add \(amp) 0", "resp 0"),
                ("add \(amp) 0", "resp -2"),
                ("add http://example.org/nope 5", "resp -101"),
                ("add \(amp) 9999", "resp 9999"),
                ("add \(amp) 10000", "resp -1"),
                ("add \(amp) -5", "resp -1"),
                ("param_set 0 gain 6.5", "resp 0"),
                ("param_get 0 gain", "resp 0 6.5000"),
                ("param_set 0 gain 1000", "resp 0"),
                ("param_get 0 gain", "resp 0 70.0000"),
                ("param_set 0 nosuch 1", "resp -103"),
                ("param_get 0 nosuch", "resp -103"),
                ("param_get 77 gain", "resp -3"),
                ("param_set 77 gain 1", "resp -3"),
                ("param_get 10000 gain", "resp -1"),
                ("bypass 0 1", "resp 0"),
                ("bypass 77 1", "resp -3"),
                ("activate 0 1", "resp 0"),
                ("multi_param_set gain 1.5 2 0 9999", "resp 0"),
                ("param_get 9999 gain", "resp 0 1.5000"),
                ("params_flush 0 0 2 gain 3 gain 4", "resp 0"),
                ("param_get 0 gain", "resp 0 4.0000"),
                ("params_flush 0 0 3 gain 3", "resp -302"),
                ("connect system:capture_1 effect_0:input", "resp 0"),
                ("connect system:capture_1 effect_0:input", "resp 0"),
                ("connect system:capture_1 effect_0:nosuch", "resp -205"),
                ("disconnect system:capture_1 effect_0:input", "resp 0"),
                ("disconnect system:capture_1 effect_0:input", "resp -206"),
                ("disconnect_all effect_0:input", "resp 0"),
                ("disconnect_all nosuch:port", "resp -206"),
                ("add \"\(leslie)\" 2", "resp 2"),
                ("preset_load 2 http://drobilla.net/plugins/mda/presets#Leslie-slow", "resp 0"),
                ("param_get 2 hi_depth", "resp 0 0.7500"),
                ("preset_load 2 http://example.org/nopreset", "resp -105"),
                ("preset_load 77 http://drobilla.net/plugins/mda/presets#Leslie-slow", "resp -3"),
                ("preset_show http://example.org/nopreset", ""),
                ("add \(limiter) 3", "resp 3"),
                ("monitor_output 3 attenuation", "resp 1"),
                ("monitor_output 3 nosuch", "resp 0"),
                ("monitor_output_off 3 attenuation", "resp 1"),
                ("transport 1 4 120", "resp 0"),
                ("set_bpm 100", "resp 0"),
                ("set_bpb 3", "resp 0"),
                ("set_bpm 0", "resp -207"),
                ("feature_enable processing 0", "resp 0"),
                ("feature_enable processing 1", "resp 0"),
                ("feature_enable bogus 1", "resp -902"),
                ("output_data_ready", "resp 0"),
                ("wait_audio_cycle", "resp 0"),
                ("foo bar", "not found"),
                ("CPU_LOAD", "not found"),
                (" cpu_load", "not found"),
                ("", "not found"),
                ("help", "resp -902"),
                ("param_set 0", "few arguments"),
                ("cpu_load 1 2", "many arguments"),
                ("remove 0 1", "many arguments"),
                ("param_set  0 gain 1", "many arguments"),
                ("param_set x gain 2", "invalid argument"),
                ("param_set 0 gain abc", "invalid argument"),
                ("param_set 0 gain nan", "invalid argument"),
                ("remove 77", "resp -3"),
                ("remove 99999", "resp -1"),
                ("remove 1", "resp -3"),
                ("remove 0", "resp 0"),
                ("remove 0", "resp -3"),
                ("remove -1", "resp 0"),
                ("param_get 9999 gain", "resp -3"),
            ]
            for (command, expected) in exchanges {
                let reply = try await client.ask(command)
                #expect(reply == expected, "\(command)")
            }
            let load = try await client.ask("cpu_load")
            #expect(load.hasPrefix("resp 0 ") && Double(load.dropFirst(7)) != nil, "cpu_load: \(load)")
            #expect(try await client.ask("max_cpu_load").hasPrefix("resp 0 "))
            try await host.process.stop(SIGTERM)
        }
    }

    @Test func savesShowsAndReloadsAPreset() async throws {
        try await withJackServer { server in
            let host = try await RunningHost(server: server.name)
            let client = try await host.connect()
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("preset-\(getpid()).lv2")
            defer { try? FileManager.default.removeItem(at: folder) }
            #expect(try await client.ask("add \(amp) 0") == "resp 0")
            #expect(try await client.ask("param_set 0 gain 12") == "resp 0")
            #expect(try await client.ask("preset_save 0 \"Loud\" \(folder.path) loud.ttl") == "resp 0")
            let uri = folder.appendingPathComponent("loud.ttl").absoluteString
            let shown = try await client.ask("preset_show \(uri)")
            #expect(shown.contains("Loud") && shown.contains("gain"), "preset_show: \(shown)")
            #expect(try await client.ask("param_set 0 gain -3") == "resp 0")
            #expect(try await client.ask("preset_load 0 \(uri)") == "resp 0")
            #expect(try await client.ask("param_get 0 gain") == "resp 0 12.0000")
            let shownShipped = try await client.ask("preset_show http://drobilla.net/plugins/mda/presets#Leslie-slow")
            #expect(shownShipped.contains("lv2:appliesTo <http://drobilla.net/plugins/mda/Leslie>"))
            try await host.process.stop(SIGTERM)
        }
    }

    @Test func readsAByteStreamNotRecvBoundaries() async throws {
        try await withJackServer { server in
            let host = try await RunningHost(server: server.name)
            let client = try await host.connect()
            #expect(try await client.ask("add \(amp) 0") == "resp 0")
            // One command split over two writes is still one command.
            try client.write(Array("param_g".utf8))
            try await Task.sleep(for: .milliseconds(50))
            try client.write(Array("et 0 gain".utf8) + [0])
            #expect(try await onThread { try client.message() } == "resp 0 0.0000")
            // Two commands in one write get two replies, in order.
            try client.write(Array("cpu_load\0param_get 0 gain\0".utf8))
            let first = try await onThread { try client.message() }
            let second = try await onThread { try client.message() }
            #expect(first?.hasPrefix("resp 0 ") == true)
            #expect(second == "resp 0 0.0000")
            // A 3 kB command is read whole.
            let long = "param_set 0 " + String(repeating: "x", count: 3000) + " 1"
            #expect(try await client.ask(long) == "resp -103")
            try await host.process.stop(SIGTERM)
        }
    }

    /// A value set is what the next `param_get` answers, even when the set lands while a cycle runs:
    /// the audio thread used to republish every control input at the end of its cycle, so a set
    /// made after the cycle had taken its inputs was overwritten with the old value until the next
    /// cycle (seen first under the sanitizers, whose slower cycles widen that window).
    @Test func aValueSetIsReadBackAtOnceEvenMidCycle() async throws {
        try await withJackServer { server in
            let host = try await RunningHost(server: server.name)
            let client = try await host.connect()
            #expect(try await client.ask("add \(amp) 0") == "resp 0")
            let stale = try await onThread {
                var stale: [String] = []
                for step in 0..<5000 {
                    let value = step % 2 == 0 ? "3.0000" : "-3.0000"
                    guard try client.call("param_set 0 gain \(value)") == "resp 0" else { return ["set refused"] }
                    let read = try client.call("param_get 0 gain")
                    if read != "resp 0 \(value)" { stale.append("step \(step): \(read)") }
                }
                return stale
            }
            #expect(stale.isEmpty, "\(stale.count) stale reads, first \(stale.prefix(3))")
            try await host.process.stop(SIGTERM)
        }
    }

    @Test func servesSeveralClientsAndSurvivesOnesThatVanish() async throws {
        try await withJackServer { server in
            let host = try await RunningHost(server: server.name)
            let first = try await host.connect()
            let second = try await host.connect()
            #expect(try await first.ask("add \(amp) 0") == "resp 0")
            #expect(try await second.ask("param_set 0 gain 3") == "resp 0")
            #expect(try await first.ask("param_get 0 gain") == "resp 0 3.0000")
            // A client gone mid-command: its half command is never run.
            let vanishing = try await host.connect()
            try vanishing.write(Array("param_set 0 gain 9".utf8))
            vanishing.shut()
            try await Task.sleep(for: .milliseconds(100))
            #expect(try await first.ask("param_get 0 gain") == "resp 0 3.0000")
            let late = try await host.connect()
            #expect(try await late.ask("cpu_load").hasPrefix("resp 0 "))
            try await host.process.stop(SIGTERM)
        }
    }

    @Test func feedbackFlowControlAndAReaderThatLeaves() async throws {
        try await withJackServer { server in
            let host = try await RunningHost(server: server.name)
            let client = try await host.connect()
            let feedback = try await host.connectFeedback()
            try await Task.sleep(for: .milliseconds(50))
            #expect(try await client.ask("transport 1 4 120") == "resp 0")
            #expect(try await onThread { try feedback.message() } == "transport 1 4.000000 120.000000")
            #expect(try await onThread { try feedback.message() } == "data_finish")
            // Nothing more until output_data_ready.
            #expect(try await client.ask("set_bpm 90") == "resp 0")
            #expect(try await onThread { try feedback.message() } == nil)
            #expect(try await client.ask("output_data_ready") == "resp 0")
            #expect(try await onThread { try feedback.message() } == "transport 1 4.000000 90.000000")
            #expect(try await onThread { try feedback.message() } == "data_finish")

            // The feedback reader leaves alone: mod-host would spin at 100 % CPU; we keep serving.
            feedback.shut()
            for tempo in 100..<110 {
                #expect(try await client.ask("set_bpm \(tempo)") == "resp 0")
                #expect(try await client.ask("output_data_ready") == "resp 0")
            }
            let busy = try cpuSeconds(host.process.pid)
            try await Task.sleep(for: .seconds(1))
            let used = try cpuSeconds(host.process.pid) - busy
            #expect(used < 0.3, "host used \(used) s of CPU in 1 s with no feedback reader")
            #expect(try await client.ask("add \(amp) 0") == "resp 0")
            try await host.process.stop(SIGTERM)
        }
    }

    @Test func refusesAPluginNeedingAFeatureItLacks() async throws {
        // A folder of its own on LV2_PATH: lilv takes every folder in a path entry for a bundle.
        let lv2Folder = FileManager.default.temporaryDirectory.appendingPathComponent("marlise-lv2-\(getpid())")
        let bundle = lv2Folder.appendingPathComponent("needs-instance-access.lv2")
        try FileManager.default.createDirectory(at: bundle, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: lv2Folder) }
        try """
        @prefix lv2: <http://lv2plug.in/ns/lv2core#> .
        @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
        <urn:marlise:test:needs-instance-access> a lv2:Plugin ;
            lv2:binary <file:///usr/lib/lv2/amp-swh.lv2/plugin-linux.so> ;
            rdfs:seeAlso <plugin.ttl> .
        """.write(to: bundle.appendingPathComponent("manifest.ttl"), atomically: true, encoding: .utf8)
        try """
        @prefix lv2: <http://lv2plug.in/ns/lv2core#> .
        @prefix doap: <http://usefulinc.com/ns/doap#> .
        <urn:marlise:test:needs-instance-access> a lv2:Plugin ;
            doap:name "Needs instance access" ;
            lv2:requiredFeature <http://lv2plug.in/ns/ext/instance-access> ;
            lv2:port [ a lv2:AudioPort , lv2:InputPort ; lv2:index 0 ; lv2:symbol "in" ; lv2:name "In" ] .
        """.write(to: bundle.appendingPathComponent("plugin.ttl"), atomically: true, encoding: .utf8)
        try await withJackServer { server in
            let path = "\(lv2Folder.path):/usr/lib/lv2"
            let host = try await RunningHost(server: server.name, environment: ["LV2_PATH": path])
            let client = try await host.connect()
            #expect(try await client.ask("add urn:marlise:test:needs-instance-access 0") == "resp -102")
            #expect(try await client.ask("add \(amp) 0") == "resp 0")
            try await host.process.stop(SIGTERM)
            #expect(host.logText.contains("instance-access"))
        }
    }

    @Test func quitEndsTheHostCleanly() async throws {
        try await withJackServer { server in
            let host = try await RunningHost(server: server.name)
            let client = try await host.connect()
            #expect(try await client.ask("add \(amp) 0") == "resp 0")
            #expect(try await client.ask("quit") == "resp 0")
            await onThread { host.process.process.waitUntilExit() }
            #expect(host.process.process.terminationStatus == 0)
        }
    }
}

/// User plus system CPU time of a process, from /proc.
func cpuSeconds(_ pid: Int32) throws -> Double {
    let stat = try #require(readTextFile(atPath: "/proc/\(pid)/stat"))
    let fields = stat[stat.index(after: stat.lastIndex(of: ")")!)...].split(separator: " ")
    let ticks = (Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0)
    return ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
}
