import Support

/// A kind's argument, declared once: the spec (name, range, default, meaning) that enqueue checks
/// and `orchestrator kinds` prints, and the Swift type a kind reads it as, its default applied.
///
///     static let lockTimeoutMs = JobArgument.integer("lock_timeout_ms", 1...600_000, default: 5000, "...")
///     lockTimeoutMs = try values[Self.lockTimeoutMs]   // an Int64, 5000 when not given
package struct JobArgument<Value: Sendable>: Sendable {
    package let spec: ArgumentSpec
    /// From a value that passed `spec.check`, or nil when the job does not give it.
    let read: @Sendable (JSONValue?) -> Value
}

extension JobArgument where Value == Int64 {
    package static func integer(_ name: String, _ range: ClosedRange<Int64>, default value: Int64, _ summary: String) -> Self {
        Self(spec: ArgumentSpec(name, .integer(range), default: .int(value), summary)) { $0?.intValue ?? value }
    }
}

extension JobArgument where Value == Bool {
    package static func boolean(_ name: String, default value: Bool, _ summary: String) -> Self {
        Self(spec: ArgumentSpec(name, .boolean, default: .bool(value), summary)) { $0?.boolValue ?? value }
    }
}

extension JobArgument where Value == String? {
    /// Text without a default: nil when not given.
    package static func text(_ name: String, maxBytes: Int, _ summary: String) -> Self {
        Self(spec: ArgumentSpec(name, .text(maxBytes: maxBytes), summary)) { $0?.stringValue }
    }
}

extension JobArgument where Value == String {
    /// One of `choices`; `value` when not given.
    package static func choice(_ name: String, _ choices: [String], default value: String, _ summary: String) -> Self {
        Self(spec: ArgumentSpec(name, .choice(choices), default: .string(value), summary)) { $0?.stringValue ?? value }
    }
}
