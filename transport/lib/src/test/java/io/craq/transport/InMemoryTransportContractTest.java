package io.craq.transport;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;

/** The transport contract over the in-memory network, without faults. */
class InMemoryTransportContractTest extends TransportContractTest {
  private static final AtomicInteger NAMES = new AtomicInteger();
  private final InMemoryNetwork network = new InMemoryNetwork(1);

  @AfterEach
  void closeNetwork() {
    network.close();
  }

  @Override
  protected Transport newTransport(TransportConfig config) {
    return new InMemoryTransport(network, config);
  }

  @Override
  protected String freshListenAddress() {
    return "mem-" + NAMES.incrementAndGet() + ":1";
  }

  @Override
  protected String deadAddress() {
    return "nobody:1";
  }
}
