public enum OrchestratorVersion { public static let current = "0.1.0" }
