import Foundation
import TestSupport
import Testing

@testable import Messaging

/// The ROUTER envelope split both servers use, on what REQ and DEALER peers send.
@Suite struct RouterEnvelopeTests {
    let identity = Data([0, 1, 2, 3, 4])
    let body = Data(text: #"{"method":"health_check"}"#)

    @Test func reqPeerKeepsItsDelimiterInTheRoute() {
        let (route, rest) = RouterEnvelope.split([identity, Data(), body])
        #expect(route == [identity, Data()])
        #expect(Array(rest) == [body])
    }

    @Test func dealerWithoutDelimiterIsRoutedByItsIdentity() {
        let (route, rest) = RouterEnvelope.split([identity, body])
        #expect(route == [identity])
        #expect(Array(rest) == [body])
    }

    @Test func proxiedPeerKeepsEveryIdentityFrame() {
        let proxy = Data([9, 9])
        let (route, rest) = RouterEnvelope.split([proxy, identity, Data(), body, body])
        #expect(route == [proxy, identity, Data()])
        #expect(rest.count == 2)
    }

    @Test func nothingAfterTheDelimiterIsAnEmptyBody() {
        let (route, rest) = RouterEnvelope.split([identity, Data()])
        #expect(route == [identity, Data()])
        #expect(rest.isEmpty)
    }
}
