import ModHostWire

/// The `multi_*` commands: one command for many instances, as mod-ui sends when it loads a
/// pedalboard. As in mod-host, a list of one answers like the single command; a longer list skips
/// instances that fail or do not exist and answers 0. A zero count is `-302`, as in mod-host; so
/// is a count that does not match the list, which mod-host would read past.
extension Host {
    func runBatch(_ name: String, _ arguments: Arguments) throws(HostFailure) -> ModHostReply? {
        switch name {
        case "multi_add", "multi_preload":
            let count = try batchCount(arguments, at: 0, itemWidth: 2, trailing: 0)
            let activate = name == "multi_add"
            let items = (0..<count).map { (uri: arguments[1 + 2 * $0], number: Int(arguments[2 + 2 * $0])) }
            if count == 1 {
                guard let number = items[0].number else { throw HostFailure.countMismatch }
                return .status(try add(uri: items[0].uri, number: number, activate: activate))
            }
            for item in items {
                guard let number = item.number else { continue }
                _ = try? add(uri: item.uri, number: number, activate: activate)
            }
        case "multi_remove":
            let numbers = try instanceList(arguments, countAt: 0)
            try forEach(numbers) { number throws(HostFailure) in try remove(number) }
        case "multi_activate":
            let numbers = try instanceList(arguments, countAt: 1)
            let active = arguments.int(0) != 0
            try forEach(numbers) { number throws(HostFailure) in try activate(number, active) }
        case "multi_bypass":
            // mod-host has no single-instance form here: unknown instances are always skipped.
            let numbers = try instanceList(arguments, countAt: 1)
            let bypassed = arguments.int(0) != 0
            for number in numbers { try? bypass(number, bypassed) }
        case "multi_param_set":
            let numbers = try instanceList(arguments, countAt: 2)
            let symbol = arguments[0]
            let value = arguments.number(1)
            try forEach(numbers) { number throws(HostFailure) in try setParameter(number, symbol, value) }
        case "multi_params_flush", "multi_pre_run":
            let count = try arguments.checkedInt(1)
            guard count > 0, arguments.count >= 3 + count else { throw HostFailure.countMismatch }
            var numbers: [Int] = []
            for index in 0..<count { numbers.append(try arguments.checkedInt(2 + index)) }
            let values = try arguments.pairs(from: 2 + count)
            try flush(numbers, values, preRun: name == "multi_pre_run")
        default:
            return nil
        }
        return .status(0)
    }

    /// `<count> <id>…` at `countAt`, to the end of the arguments exactly.
    private func instanceList(_ arguments: Arguments, countAt index: Int) throws(HostFailure) -> [Int] {
        let count = try batchCount(arguments, at: index, itemWidth: 1, trailing: 0)
        var numbers: [Int] = []
        for item in 0..<count { numbers.append(try arguments.checkedInt(index + 1 + item)) }
        return numbers
    }

    /// The count at `index`, checked against the arguments that follow it.
    private func batchCount(
        _ arguments: Arguments,
        at index: Int,
        itemWidth: Int,
        trailing: Int
    ) throws(HostFailure) -> Int {
        let count = try arguments.checkedInt(index)
        guard count > 0, arguments.count == index + 1 + itemWidth * count + trailing else {
            throw HostFailure.countMismatch
        }
        return count
    }

    /// One instance answers for itself; several are done as far as they can be.
    private func forEach(_ numbers: [Int], _ body: (Int) throws(HostFailure) -> Void) throws(HostFailure) {
        if numbers.count == 1 {
            try body(numbers[0])
            return
        }
        for number in numbers { try? body(number) }
    }
}
