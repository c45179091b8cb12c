package io.craq.transport;

import io.craq.transport.security.Authenticator;
import io.craq.transport.security.Credentials;
import io.craq.transport.security.Security;

/**
 * Authentication over TLS: the client presents a client-CA certificate that the authenticator does
 * not take, so it counts as no certificate and the password decides.
 */
class NettyTlsAuthenticationTest extends AuthenticationContractTest {
  @Override
  protected Security serverSecurity(Authenticator authenticator) {
    return Security.NONE.withTls(TestPki.get().member()).withAuthenticator(authenticator);
  }

  @Override
  protected Security clientSecurity(Credentials credentials) {
    TestPki pki = TestPki.get();
    return Security.NONE.withTls(pki.settings(pki.alice)).withCredentials(credentials);
  }

  @Override
  protected Transport newTransport(TransportConfig config) {
    return Transports.open(config);
  }
}
