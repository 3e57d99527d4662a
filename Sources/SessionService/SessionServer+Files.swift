import Messaging

extension SessionServer {
    /// The user's files by kind, for plugins' file selectors: `file_types` as a list (the web
    /// client) or `types` as comma-separated text (mod-ui's query).
    static func registerUserFiles(_ router: inout RPCRouter, _ files: UserFiles) {
        router.method("list_user_files") { request in
            let types: [String]
            if let list = request.params["file_types"], !list.isNull {
                guard let values = list.arrayValue?.compactMap(\.stringValue), values.count == list.arrayValue?.count
                else { throw RPCError(.invalidParameters, "file_types must be a list of strings") }
                types = values
            } else {
                types = try request.string(oneOf: ["types", "file_types"]).split(separator: ",").map {
                    $0.trimmingCharacters(in: .whitespaces)
                }
            }
            return try files.list(types: types)
        }
    }
}
