/// A plugin's MOD web interface (`modgui:gui`): where its files are, and the words and looks its
/// icon template is rendered with. Paths are absolute, as the bundle names them (not resolved:
/// whoever opens one checks it against ``resourcesDirectory`` first).
public struct ModGUI: Sendable, Equatable, Codable {
    /// The files a modgui names, on their `modgui:` local names.
    public enum File: String, Sendable, CaseIterable, Codable, CodingKeyRepresentable {
        case iconTemplate, settingsTemplate, stylesheet, javascript, screenshot, thumbnail

        public var isImage: Bool { self == .screenshot || self == .thumbnail }
    }

    /// The literals a modgui's templates show, on their `modgui:` local names.
    public enum Text: String, Sendable, CaseIterable, Codable, CodingKeyRepresentable {
        case brand, label, model, panel, color, knob
    }

    /// A control as the icon template lays it out (`modgui:port`).
    public struct Port: Sendable, Equatable, Codable {
        public var index: Int
        public var symbol: String
        public var name: String

        public init(index: Int, symbol: String, name: String) {
            self.index = index
            self.symbol = symbol
            self.name = name
        }
    }

    /// `modgui:resourcesDirectory`: every file of the interface lives under it.
    public var resourcesDirectory: String
    public var files: [File: String] = [:]
    public var texts: [Text: String] = [:]
    /// Sorted by index.
    public var ports: [Port] = []

    public init(resourcesDirectory: String) {
        self.resourcesDirectory = resourcesDirectory
    }
}
