import ArgumentParser
import Foundation

/// Ends a role command whose service is not part of this build with a clear message.
func refuseUnbuiltRole(_ role: String, issue: String) throws -> Never {
    FileHandle.standardError.write(Data(
        "tributary \(role): the \(role) role is not available in this build yet (\(issue)); run `tributary standalone`\n".utf8
    ))
    throw ExitCode(2)
}

