package enum OrchestratorVersion { package static let current = "0.1.0" }
