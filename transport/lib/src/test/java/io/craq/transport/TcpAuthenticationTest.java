package io.craq.transport;

import io.craq.transport.security.Authenticator;
import io.craq.transport.security.Credentials;
import io.craq.transport.security.Security;

/** Authentication over plain TCP. */
class TcpAuthenticationTest extends AuthenticationContractTest {
  @Override
  protected Security serverSecurity(Authenticator authenticator) {
    return Security.NONE.withAuthenticator(authenticator);
  }

  @Override
  protected Security clientSecurity(Credentials credentials) {
    return Security.NONE.withCredentials(credentials);
  }

  @Override
  protected Transport newTransport(TransportConfig config) {
    return new TcpTransport(config);
  }
}
