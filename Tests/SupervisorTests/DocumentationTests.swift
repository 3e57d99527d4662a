import Foundation
import Supervisor
import Testing

/// The repository's own documentation: every link it makes resolves inside the repository, and the
/// systemd install it gives puts every program the unit's supervisor runs where the unit looks.
@Suite(.timeLimit(.minutes(1))) struct DocumentationTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// README.md and every Markdown file under docs/.
    static func documents() throws -> [URL] {
        let docs = root.appendingPathComponent("docs")
        let walker = FileManager.default.enumerator(at: docs, includingPropertiesForKeys: nil)
        let found = (walker?.allObjects as? [URL] ?? []).filter { $0.pathExtension == "md" }
        return [root.appendingPathComponent("README.md")] + found.sorted { $0.path < $1.path }
    }

    /// The targets of inline links `[text](target)` that are not web addresses.
    static func localLinks(in text: String) -> [String] {
        var links: [String] = []
        var rest = Substring(text)
        while let open = rest.range(of: "](") {
            rest = rest[open.upperBound...]
            guard let close = rest.firstIndex(of: ")") else { break }
            let target = String(rest[..<close])
            if !target.contains("://"), !target.hasPrefix("mailto:") { links.append(target) }
        }
        return links
    }

    /// GitHub's anchor for a heading: lower case, spaces to hyphens, punctuation dropped.
    static func anchor(ofHeading heading: String) -> String {
        String(
            heading.lowercased().compactMap { character -> Character? in
                if character == " " { return "-" }
                if character.isLetter || character.isNumber || character == "-" || character == "_" { return character }
                return nil
            }
        )
    }

    static func anchors(in text: String) -> Set<String> {
        Set(
            text.split(separator: "\n").filter { $0.hasPrefix("#") }.map { line in
                anchor(ofHeading: line.drop { $0 == "#" }.trimmingCharacters(in: .whitespaces))
            }
        )
    }

    @Test func everyLinkResolvesInsideTheRepository() throws {
        let documents = try Self.documents()
        #expect(documents.count >= 6, "README and the docs/ guides")
        for document in documents {
            let text = try String(contentsOf: document, encoding: .utf8)
            // Our working notes live beside the repository, not in it: a clone never has them.
            let outside = ["protocols", "notes"].map { "shared/" + $0 }
            #expect(!outside.contains { text.contains($0) }, "\(document.lastPathComponent)")
            for link in Self.localLinks(in: text) {
                let parts = link.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)
                let file =
                    parts[0].isEmpty
                    ? document : document.deletingLastPathComponent().appendingPathComponent(String(parts[0]))
                let resolved = file.standardizedFileURL.path
                #expect(resolved.hasPrefix(Self.root.standardizedFileURL.path), "\(link) leaves the repository")
                #expect(FileManager.default.fileExists(atPath: resolved), "\(document.lastPathComponent): \(link)")
                if parts.count == 2, FileManager.default.fileExists(atPath: resolved), resolved.hasSuffix(".md") {
                    let target = try String(contentsOfFile: resolved, encoding: .utf8)
                    #expect(
                        Self.anchors(in: target).contains(String(parts[1])),
                        "\(document.lastPathComponent): no heading for \(link)"
                    )
                }
            }
        }
    }

    @Test func anchorsAreGitHubs() {
        #expect(Self.anchor(ofHeading: "The bridge's variables") == "the-bridges-variables")
        #expect(Self.anchor(ofHeading: "What runs") == "what-runs")
    }

    @Test func theSystemdInstallInstallsEveryProgramTheSupervisorRuns() throws {
        let guide = try String(
            contentsOf: Self.root.appendingPathComponent("docs/operator-guide.md"),
            encoding: .utf8
        )
        let install = try #require(
            guide.split(separator: "\n").first { $0.contains("install .build/release/") },
            "the guide's install line"
        )
        let folder = "/opt/marlise/bin"
        // On a box without mod-host, which is where the install is for.
        let stack = SupervisorConfiguration.defaultStack(environment: ["PATH": "/nonexistent"], ownExecutables: folder)
        let ours = stack.services.map(\.executable).filter { $0.hasPrefix(folder + "/") }
        #expect(ours.count == 3, "host, bridge and session are ours: \(ours)")
        for program in ours + [folder + "/marlise-supervisor", folder + "/marlisectl"] {
            let name = (program as NSString).lastPathComponent
            #expect(install.contains(name), "the install line leaves out \(name)")
        }
    }
}
