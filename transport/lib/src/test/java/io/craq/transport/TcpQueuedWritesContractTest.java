package io.craq.transport;

/**
 * The transport contract over TCP with every write going through the event loop (no inline writes)
 * and two event loops, so that a connection's two ends and a handler's replies may run on different
 * loop threads: the other code paths of {@link TcpSession}.
 */
class TcpQueuedWritesContractTest extends TcpTransportContractTest {
  @Override
  protected Transport newTransport(TransportConfig config) {
    return new TcpTransport(config.withInlineWrites(false).withIoThreads(2));
  }
}
