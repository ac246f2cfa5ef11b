import NIOCore

extension MQTTSession {
    /// AUTH from a connected client: re-authentication (MQTT 5.0 §4.12.1). Only with the
    /// method CONNECT used; 0x19 starts an exchange, 0x18 continues one, anything else (or an
    /// AUTH without enhanced authentication) is a Protocol Error.
    mutating func receiveAuth(_ auth: MQTTAuth, into out: inout MQTTSessionActions) {
        guard version == .v5, let method = authenticationMethod, auth.properties.authenticationMethod == method else {
            close(.protocolError, publishWill: true, into: &out)
            return
        }
        switch auth.reasonCode {
        case .reAuthenticate where !reauthenticating:
            reauthenticating = true
            out.append(.authenticate(auth))
        case .continueAuthentication where reauthenticating:
            out.append(.authenticate(auth))
        default:
            close(.protocolError, publishWill: true, into: &out)
        }
    }

    /// The authenticator's answer during re-authentication.
    mutating func answerReauthentication(_ step: MQTTReauthenticationStep, into out: inout MQTTSessionActions) {
        var properties = MQTTProperties()
        properties.authenticationMethod = authenticationMethod
        switch step {
        case .continue(let data):
            properties.authenticationData = data
            out.send(.auth(MQTTAuth(reasonCode: .continueAuthentication, properties: properties)))
        case .success(let data):
            reauthenticating = false
            properties.authenticationData = data
            out.send(.auth(MQTTAuth(reasonCode: .success, properties: properties)))
        case .failure(let code):
            reauthenticating = false
            close(code.isAllowed(in: .disconnect) && code.isFailure ? code : .notAuthorized, publishWill: true, into: &out)
        }
    }
}
