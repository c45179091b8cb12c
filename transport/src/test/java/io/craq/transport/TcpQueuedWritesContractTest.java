package io.craq.transport;

/**
 * The transport contract over TCP with every write going through the writer thread (no inline
 * writes) and virtual threads: the other code path of {@link TcpSession}.
 */
class TcpQueuedWritesContractTest extends TcpTransportContractTest {
  @Override
  protected Transport newTransport(TransportConfig config) {
    return new TcpTransport(config.withInlineWrites(false).withVirtualThreads(true));
  }
}
