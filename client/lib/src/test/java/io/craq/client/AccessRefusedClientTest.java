package io.craq.client;

import static io.craq.client.FakeEndpoint.chain;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.craq.core.message.ErrorCode;
import io.craq.core.message.Message;
import io.craq.core.message.Message.ErrorReply;
import io.craq.core.message.Message.WriteRequest;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * Refusals for who the client is end a call at once, without retries, as their own exceptions:
 * retrying with the same credentials cannot help, and nothing was done.
 */
class AccessRefusedClientTest extends FakeServersTest {
  private static final byte[] VALUE = "v".getBytes(StandardCharsets.UTF_8);

  private CraqClient client() {
    return fakeClient(
        ClientConfig.defaults(coordinator.address())
            .withCallTimeoutMillis(3_000)
            .withRetryBackoffMillis(1, 5));
  }

  @Test
  void permissionDeniedIsNotRetried() {
    FakeEndpoint head =
        new FakeEndpoint(
            transport,
            m ->
                new ErrorReply(
                    ErrorCode.PERMISSION_DENIED,
                    "user bob (role read) may not write (needs readwrite)",
                    ""));
    nodes.add(head);
    chainRef.set(chain(1, head.member("a")));
    CraqClient client = client();
    PermissionDeniedException denied =
        assertThrows(PermissionDeniedException.class, () -> client.write("k", VALUE));
    assertEquals(ErrorCode.PERMISSION_DENIED, denied.code());
    assertTrue(denied.getMessage().contains("may not write"), denied.getMessage());
    assertEquals(1, head.received(WriteRequest.class).size(), "sent once, not retried");
    assertThrows(PermissionDeniedException.class, () -> client.read("k"));
  }

  @Test
  void unauthenticatedIsNotRetriedAndNamesTheFlags() {
    FakeEndpoint head =
        new FakeEndpoint(
            transport, m -> new ErrorReply(ErrorCode.UNAUTHENTICATED, "authenticate first", ""));
    nodes.add(head);
    chainRef.set(chain(1, head.member("a")));
    NotAuthenticatedException refused =
        assertThrows(NotAuthenticatedException.class, () -> client().write("k", VALUE));
    assertTrue(refused.getMessage().contains("--user"), refused.getMessage());
    assertEquals(1, head.received(WriteRequest.class).size(), "sent once, not retried");
  }

  @Test
  void theTransportsAuthenticationFailureIsRecognised() {
    assertTrue(
        CraqClient.isAuthenticationFailure(
            new io.craq.transport.AuthenticationFailedException("refused")));
    assertTrue(
        !CraqClient.isAuthenticationFailure(new io.craq.transport.TransportException("other")));
    Message ok = new Message.WriteReply("k", 1);
    CraqClient.refuseIfDenied("a", ok); // no exception for an answer
  }
}
