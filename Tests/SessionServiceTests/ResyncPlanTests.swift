import Testing

@testable import SessionService

/// What a re-sync does in each of the crashes it answers, decided with no bridge.
@Suite struct ResyncPlanTests {
    static let amp = "http://plugin.org.uk/swh-plugins/amp"
    static let drive = "http://drobilla.net/plugins/mda/Overdrive"

    static var plugins: [PluginInstance] {
        [
            PluginInstance(instanceID: "b", uri: drive, name: "", hostNumber: 2),
            PluginInstance(instanceID: "a", uri: amp, name: "", hostNumber: 0),
            PluginInstance(instanceID: "c", uri: amp, name: "", hostNumber: 1),
        ]
    }

    @Test func aHostThatLostEverythingGetsEachPluginInNumberOrder() {
        let plan = ResyncPlan(plugins: Self.plugins, hosted: [:])
        #expect(plan.unload.isEmpty)
        #expect(plan.steps == [.load(instanceID: "a"), .load(instanceID: "c"), .load(instanceID: "b")])
    }

    @Test func aRestartedSessionAdoptsWhatTheHostStillPlays() {
        let plan = ResyncPlan(
            plugins: Self.plugins,
            hosted: [0: ("plugin_0_aa", Self.amp), 1: ("plugin_1_bb", Self.amp), 2: ("plugin_2_cc", Self.drive)]
        )
        #expect(plan.unload.isEmpty)
        #expect(
            plan.steps == [
                .adopt(instanceID: "a", bridgeID: "plugin_0_aa"), .adopt(instanceID: "c", bridgeID: "plugin_1_bb"),
                .adopt(instanceID: "b", bridgeID: "plugin_2_cc"),
            ]
        )
    }

    @Test func strangersAndWrongPluginsAreUnloaded() {
        let plan = ResyncPlan(
            plugins: Self.plugins,
            hosted: [0: ("plugin_0_aa", Self.amp), 1: ("plugin_1_xx", Self.drive), 7: ("plugin_7_zz", Self.amp)]
        )
        #expect(plan.unload == ["plugin_1_xx", "plugin_7_zz"])
        #expect(
            plan.steps == [
                .adopt(instanceID: "a", bridgeID: "plugin_0_aa"), .load(instanceID: "c"), .load(instanceID: "b"),
            ]
        )
    }

    @Test func withoutReconcilingEverythingIsLoaded() {
        let plan = ResyncPlan(plugins: Self.plugins, hosted: nil)
        #expect(plan.unload.isEmpty)
        #expect(plan.steps == [.load(instanceID: "a"), .load(instanceID: "c"), .load(instanceID: "b")])
    }
}
