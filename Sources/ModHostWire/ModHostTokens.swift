/// How mod-host's parser cuts a command line into tokens: marlise-host parses with it, and tests
/// check with it that what ``ModHostCommand`` writes reads back as written.
public enum ModHostTokens {
    /// Splits a command (its NUL removed). Trailing whitespace is trimmed; single spaces separate
    /// tokens; `"…"` groups spaces into one token and the quotes are dropped.
    ///
    /// Two spaces, or `""`, make an empty token, as in mod-host: an argument like any other, which
    /// the command table then counts. An empty name (a leading space) is `not found`; an unclosed
    /// quote is `invalid argument`.
    public static func split(_ line: String) throws(ModHostParserError) -> [String] {
        // Trimmed scalar by scalar, as mod-host trims bytes: "\r\n" is one Character, which no
        // comparison with "\r" or "\n" would match.
        var scalars = Substring(line).unicodeScalars
        while let last = scalars.last, last == " " || last == "\t" || last == "\r" || last == "\n" {
            scalars.removeLast()
        }
        let text = Substring(scalars)
        var tokens: [String] = []
        var current = ""
        var quoted = false
        for character in text {
            if character == "\"" {
                quoted.toggle()
            } else if character == " " && !quoted {
                tokens.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        guard !quoted else { throw .invalidArgument }
        tokens.append(current)
        if tokens.first?.isEmpty ?? true { throw .notFound }
        return tokens
    }
}
