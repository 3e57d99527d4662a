import Foundation
import Messaging
import TestSupport
import Testing

/// Where mod-host's answers to commands we already knew differed from ours: the transport
/// instance 9995, special symbols, output ports, counts, ranges and features.
@Suite(.timeLimit(.minutes(5))) struct AudioHostParameterTests {
    @Test func answersLikeModHost() async throws {
        try await withJackServer { server in
            let host = try await RunningHost(server: server.name)
            let client = try await host.connect()
            let limiter = "http://plugin.org.uk/swh-plugins/fastLookaheadLimiter"
            let exchanges: [(String, String)] = [
                // 9995 is mod-host's transport instance.
                ("add \(amp) 9995", "resp -2"),
                ("param_get 9995 :bpm", "resp 0 120.0000"),
                ("param_get 9995 :bpb", "resp 0 4.0000"),
                ("param_get 9995 :rolling", "resp 0 0.0000"),
                ("param_get 9995 gain", "resp -103"),
                ("set_bpm 90", "resp 0"),
                ("param_get 9995 :bpm", "resp 0 90.0000"),
                ("param_set 9995 :bpm 140", "resp 0"),
                ("param_get 9995 :bpm", "resp 0 140.0000"),
                ("param_set 9995 :bpm 1000", "resp 0"),
                ("param_get 9995 :bpm", "resp 0 300.0000"),
                ("param_set 9995 :bpb 3", "resp 0"),
                ("param_get 9995 :bpb", "resp 0 3.0000"),
                ("param_set 9995 nosuch 1", "resp -103"),
                ("bypass 9995 1", "resp 0"),
                ("param_get 9995 :bypass", "resp 0 1.0000"),
                // set_bpm 20…300 and set_bpb 1…16, as mod-host.
                ("set_bpm 19.9", "resp -207"),
                ("set_bpm 300.5", "resp -207"),
                ("set_bpm 20", "resp 0"),
                ("set_bpb 0.5", "resp -207"),
                ("set_bpb 17", "resp -207"),
                ("set_bpb 16", "resp 0"),
                // :bypass and :presets.
                ("add \(amp) 0", "resp 0"),
                ("param_get 0 :bypass", "resp 0 0.0000"),
                ("param_set 0 :bypass 1", "resp 0"),
                ("param_get 0 :bypass", "resp 0 1.0000"),
                ("bypass 0 0", "resp 0"),
                ("param_get 0 :bypass", "resp 0 0.0000"),
                ("param_set 0 :bypass 7", "resp 0"),
                ("param_get 0 :bypass", "resp 0 1.0000"),
                ("param_set 0 :presets 0.5", "resp 0"),
                ("param_get 0 :presets", "resp 0 0.5000"),
                ("param_get 0 :nosuch", "resp -103"),
                ("param_get 0 \"\"", "resp -103"),
                // An output control port is not a parameter.
                ("add \(limiter) 1", "resp 1"),
                ("param_get 1 attenuation", "resp -103"),
                ("param_set 1 attenuation 1", "resp -103"),
                ("monitor_output_off 1 attenuation", "resp 1"),
                ("monitor_output 1 attenuation", "resp 1"),
                ("monitor_output 1 attenuation", "resp 1"),
                ("monitor_output_off 1 attenuation", "resp 1"),
                ("monitor_output 77 attenuation", "resp 0"),
                ("monitor_output_off 77 attenuation", "resp 0"),
                ("monitor_output_off 1 nosuch", "resp 0"),
                // params_flush skips unknown symbols; counts are checked.
                ("params_flush 0 0 2 nosuch 1 gain 2", "resp 0"),
                ("param_get 0 gain", "resp 0 2.0000"),
                ("params_flush 0 0 0", "resp 0"),
                ("params_flush 77 0 0", "resp -3"),
                ("params_flush 0 0 2 gain 1", "resp -302"),
                ("params_flush 0 0", "few arguments"),
                // multi_param_set: a zero or wrong count is -302; one instance answers for itself.
                ("multi_param_set gain 3 0", "resp -302"),
                ("multi_param_set gain 3 2 0", "resp -302"),
                ("multi_param_set gain 3 1 0 1", "resp -302"),
                ("multi_param_set gain 3 1 77", "resp -3"),
                ("multi_param_set nosuch 3 1 0", "resp -103"),
                ("multi_param_set gain 3 2 0 77", "resp 0"),
                ("param_get 0 gain", "resp 0 3.0000"),
                ("multi_param_set gain 3", "few arguments"),
                // feature_enable knows mod-host's features and values.
                ("feature_enable cpu-load 1", "resp 0"),
                ("feature_enable cpu-load 0", "resp 0"),
                // JACK's own answer, passed on as mod-host does: not freewheeling already is -1.
                ("feature_enable freewheeling 0", "resp -1"),
                ("feature_enable aggregated-midi 0", "resp 0"),
                ("feature_enable aggregated-midi 1", "resp -202"),
                ("feature_enable processing -1", "resp 0"),
                ("feature_enable processing 3", "resp 0"),
                ("feature_enable processing 2", "resp 0"),
                ("feature_enable processing 4", "resp -902"),
                ("feature_enable processing -3", "resp -902"),
                ("feature_enable nosuch 1", "resp -902"),
                // preset_save of a missing instance is -1 in mod-host.
                ("preset_save 77 Label /tmp file.ttl", "resp -1"),
                // An empty quoted argument counts.
                ("preset_show \"\"", ""),
                ("remove \"\"", "invalid argument"),
                ("preset_show \"\" x", "many arguments"),
            ]
            for (command, expected) in exchanges {
                let reply = try await client.ask(command)
                #expect(reply == expected, "\(command): \(reply)")
            }
            try await host.process.stop(SIGTERM)
        }
    }

    /// A plugin with an `lv2:enabled` port is told it is bypassed through that port. The bundle is
    /// not on `LV2_PATH`: `bundle_add` brings it in and `bundle_remove` takes it away again.
    @Test func enabledPortFollowsBypassAndBundlesComeAndGo() async throws {
        let lv2Folder = FileManager.default.temporaryDirectory.appendingPathComponent("marlise-lv2-empty-\(getpid())")
        let bundleFolder = FileManager.default.temporaryDirectory.appendingPathComponent("marlise-bundle-\(getpid())")
        let bundle = bundleFolder.appendingPathComponent("amp-enabled.lv2")
        try FileManager.default.createDirectory(at: lv2Folder, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: bundle, withIntermediateDirectories: true)
        defer {
            try? FileManager.default.removeItem(at: lv2Folder)
            try? FileManager.default.removeItem(at: bundleFolder)
        }
        try """
        @prefix lv2: <http://lv2plug.in/ns/lv2core#> .
        @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
        <\(amp)> a lv2:Plugin ;
            lv2:binary <file:///usr/lib/lv2/amp-swh.lv2/plugin-linux.so> ;
            rdfs:seeAlso <plugin.ttl> .
        """.write(to: bundle.appendingPathComponent("manifest.ttl"), atomically: true, encoding: .utf8)
        // swh amp with its gain port standing in for an lv2:enabled port.
        try """
        @prefix lv2: <http://lv2plug.in/ns/lv2core#> .
        @prefix doap: <http://usefulinc.com/ns/doap#> .
        <\(amp)> a lv2:Plugin ;
            doap:name "Amp with an enabled port" ;
            lv2:port [ a lv2:InputPort , lv2:ControlPort ; lv2:index 0 ; lv2:symbol "gain" ; lv2:name "Gain" ;
                       lv2:designation lv2:enabled ; lv2:minimum -70 ; lv2:maximum 70 ; lv2:default 0 ] ,
                     [ a lv2:InputPort , lv2:AudioPort ; lv2:index 1 ; lv2:symbol "input" ; lv2:name "In" ] ,
                     [ a lv2:OutputPort , lv2:AudioPort ; lv2:index 2 ; lv2:symbol "output" ; lv2:name "Out" ] .
        """.write(to: bundle.appendingPathComponent("plugin.ttl"), atomically: true, encoding: .utf8)
        try await withJackServer { server in
            let host = try await RunningHost(server: server.name, environment: ["LV2_PATH": lv2Folder.path])
            let client = try await host.connect()
            let exchanges: [(String, String)] = [
                ("add \(amp) 0", "resp -101"),
                ("bundle_add /nonexistent/folder.lv2", "resp 0"),
                ("bundle_add \(bundle.path)", "resp 0"),
                ("add \(amp) 0", "resp 0"),
                ("param_get 0 gain", "resp 0 1.0000"),
                ("bypass 0 1", "resp 0"),
                ("param_get 0 gain", "resp 0 0.0000"),
                ("param_get 0 :bypass", "resp 0 1.0000"),
                ("param_set 0 :bypass 0", "resp 0"),
                ("param_get 0 gain", "resp 0 1.0000"),
                ("multi_bypass 1 1 0", "resp 0"),
                ("param_get 0 gain", "resp 0 0.0000"),
                ("bundle_remove \(bundle.path) \"\"", "resp 0"),
                ("add \(amp) 1", "resp -101"),
                ("bundle_remove /nonexistent/folder.lv2 \"\"", "resp 0"),
                ("bundle_remove \(bundle.path)", "few arguments"),
            ]
            for (command, expected) in exchanges {
                let reply = try await client.ask(command)
                #expect(reply == expected, "\(command): \(reply)")
            }
            try await host.process.stop(SIGTERM)
        }
    }
}
