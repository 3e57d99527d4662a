import Foundation
import Messaging
import TestSupport
import Testing

/// Batch and graph commands, and the command history: `preload`/`pre_run`, the `multi_*` forms,
/// `connect_safe`, `disconnect_safe`, `connect_matching`, `save` and `load`.
@Suite(.timeLimit(.minutes(5))) struct AudioHostBatchTests {
    @Test func batchesAnswerLikeModHost() async throws {
        try await withJackServer { server in
            let host = try await RunningHost(server: server.name)
            let client = try await host.connect()
            let exchanges: [(String, String)] = [
                ("preload \(amp) 0", "resp 0"),
                ("preload \(amp) 0", "resp -2"),
                ("preload \(amp) 10000", "resp -1"),
                ("pre_run 0 0 1 gain 3", "resp 0"),
                ("param_get 0 gain", "resp 0 3.0000"),
                ("pre_run 77 0 0", "resp -3"),
                ("pre_run 0 0 2 gain 1", "resp -302"),
                ("activate 0 1", "resp 0"),
                ("pre_run 0 0 0", "resp -902"),
                ("activate 0 0", "resp 0"),
                ("activate 77 1", "resp -3"),
                ("multi_preload 2 \(amp) 1 \(amp) 2", "resp 0"),
                ("multi_activate 1 2 1 2", "resp 0"),
                ("multi_add 1 \(amp) 3", "resp 3"),
                ("multi_add 1 \(amp) 3", "resp -2"),
                ("multi_add 2 \(amp) 4 http://example.org/nope 5", "resp 0"),
                ("param_get 4 gain", "resp 0 0.0000"),
                ("param_get 5 gain", "resp -3"),
                ("multi_add 0", "resp -302"),
                ("multi_add 2 \(amp) 6", "resp -302"),
                ("multi_add", "few arguments"),
                ("multi_bypass 1 2 1 77", "resp 0"),
                ("param_get 1 :bypass", "resp 0 1.0000"),
                ("multi_bypass 1 0", "resp -302"),
                ("multi_param_set gain 2 2 1 2", "resp 0"),
                ("param_get 2 gain", "resp 0 2.0000"),
                ("multi_params_flush 0 2 1 2 2 gain 4 nosuch 1", "resp 0"),
                ("param_get 1 gain", "resp 0 4.0000"),
                ("multi_params_flush 0 1 77 0", "resp -3"),
                ("multi_params_flush 0 2 1 2 1 gain", "resp -302"),
                ("multi_params_flush 0 1", "few arguments"),
                ("multi_pre_run 0 1 1 0", "resp -902"),
                ("multi_pre_run 0 1 0 1 gain 5", "resp 0"),
                ("param_get 0 gain", "resp 0 5.0000"),
                ("multi_activate 1 0", "resp -302"),
                ("multi_activate 1", "few arguments"),
                ("multi_remove 2 1 77", "resp 0"),
                ("param_get 1 gain", "resp -3"),
                ("multi_remove 1 77", "resp -3"),
                ("multi_remove 1 x", "resp -302"),
                ("multi_remove 0", "resp -302"),
            ]
            for (command, expected) in exchanges {
                let reply = try await client.ask(command)
                #expect(reply == expected, "\(command): \(reply)")
            }
            try await host.process.stop(SIGTERM)
        }
    }

    @Test func graphCommandsCheckTheirPorts() async throws {
        try await withJackServer { server in
            let host = try await RunningHost(server: server.name)
            let client = try await host.connect()
            let exchanges: [(String, String)] = [
                ("add \(amp) 0", "resp 0"),
                ("add \(amp) 1", "resp 1"),
                ("connect_safe system:capture_1 effect_0:input", "resp 0"),
                ("connect_safe system:capture_1 nosuch:port", "resp -205"),
                ("connect_matching effect_0:input effect_1:input", "resp 0"),
                ("connect_matching nosuch:port effect_1:input", "resp -205"),
                ("disconnect system:capture_1 effect_1:input", "resp 0"),
                ("disconnect_safe system:capture_1 effect_0:input", "resp 0"),
                ("disconnect_safe system:capture_1 effect_0:input", "resp -205"),
                ("disconnect_safe nosuch:port effect_0:input", "resp -205"),
                ("connect_safe system:capture_1", "few arguments"),
            ]
            for (command, expected) in exchanges {
                let reply = try await client.ask(command)
                #expect(reply == expected, "\(command): \(reply)")
            }
            try await host.process.stop(SIGTERM)
        }
    }

    /// Plugins here keep no state of their own (no `state:interface`): the project folder is
    /// made, and nothing else happens, as in mod-host.
    @Test func savesAndLoadsPluginState() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("marlise-state-\(getpid())")
        defer { try? FileManager.default.removeItem(at: folder) }
        try await withJackServer { server in
            let host = try await RunningHost(server: server.name)
            let client = try await host.connect()
            let exchanges: [(String, String)] = [
                ("add \(amp) 0", "resp 0"),
                ("state_save \(folder.path)", "resp 0"),
                ("state_save \(folder.path)", "resp 0"),
                ("state_save /nonexistent/folder/project", "resp -902"),
                ("state_load \(folder.path)", "resp 0"),
                ("state_load /nonexistent/folder", "resp 0"),
                ("state_load", "few arguments"),
                ("state_save a b", "many arguments"),
            ]
            for (command, expected) in exchanges {
                let reply = try await client.ask(command)
                #expect(reply == expected, "\(command): \(reply)")
            }
            var isFolder: ObjCBool = false
            #expect(FileManager.default.fileExists(atPath: folder.path, isDirectory: &isFolder) && isFolder.boolValue)
            try await host.process.stop(SIGTERM)
        }
    }

    @Test func savesAndLoadsTheCommandHistory() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("marlise-history-\(getpid()).txt")
        defer { try? FileManager.default.removeItem(at: file) }
        try await withJackServer { server in
            let host = try await RunningHost(server: server.name)
            let client = try await host.connect()
            #expect(try await client.ask("add \(amp) 0") == "resp 0")
            #expect(try await client.ask("param_set 0 gain 6") == "resp 0")
            #expect(try await client.ask("save \(file.path)") == "resp 0")
            let saved = try String(contentsOf: file, encoding: .utf8)
            #expect(saved == "add \(amp) 0\nparam_set 0 gain 6\n")
            #expect(try await client.ask("remove -1") == "resp 0")
            #expect(try await client.ask("load \(file.path)") == "resp 0")
            #expect(try await client.ask("param_get 0 gain") == "resp 0 6.0000")
            #expect(try await client.ask("load /nonexistent/history") == "error: can't open the file")
            #expect(try await client.ask("save /nonexistent/folder/history") == "resp -902")
            #expect(try await client.ask("save") == "few arguments")
            try await host.process.stop(SIGTERM)
        }
    }
}
