package io.craq.client;

import io.craq.core.chain.KeySlots;
import io.craq.core.message.ChainConfig;
import io.craq.core.message.ChainMap;
import io.craq.transport.TcpTransport;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Timeout;

/**
 * The fixture of the client's tests and of the craq tool's (through this module's test-jar): a fake
 * coordinator on 127.0.0.1 answering with {@link #mapRef} when it is set, else with a map of the
 * one chain {@link #chainRef}, and the fake nodes a test adds to {@link #nodes}; all closed after
 * each test.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
public abstract class FakeServersTest {
  protected TcpTransport transport;
  protected final AtomicReference<ChainConfig> chainRef = new AtomicReference<>(ChainConfig.EMPTY);

  /** The map of a cluster of several chains; null: the one chain of {@link #chainRef}. */
  protected final AtomicReference<ChainMap> mapRef = new AtomicReference<>();

  protected FakeEndpoint coordinator;
  protected final List<FakeEndpoint> nodes = new ArrayList<>();
  private final List<CraqClient> clients = new ArrayList<>();

  @BeforeEach
  public void startFakeServers() {
    transport = new TcpTransport();
    coordinator = FakeEndpoint.mapCoordinator(transport, this::currentMap);
  }

  /** What the fake coordinator answers now. */
  protected ChainMap currentMap() {
    ChainMap map = mapRef.get();
    return map != null ? map : FakeEndpoint.singleChainMap(chainRef.get());
  }

  /** A client of the fake coordinator with a 3 s deadline and short backoffs, closed after. */
  protected CraqClient fakeClient() {
    return fakeClient(ClientConfig.defaults(coordinator.address()));
  }

  /** As {@link #fakeClient()}, with the other settings of {@code config}. */
  protected CraqClient fakeClient(ClientConfig config) {
    CraqClient client =
        new CraqClient(config.withCallTimeoutMillis(3_000).withRetryBackoffMillis(1, 5), transport);
    clients.add(client);
    return client;
  }

  /** The first key {@code prefix}N (N = 0, 1, ...) of chain {@code chain} of {@code chains}. */
  public static String keyOfChain(int chain, int chains, String prefix) {
    for (int i = 0; ; i++) {
      if (KeySlots.chainOf(prefix + i, chains) == chain) {
        return prefix + i;
      }
    }
  }

  @AfterEach
  public void stopFakeServers() {
    clients.forEach(CraqClient::close);
    nodes.forEach(FakeEndpoint::close);
    coordinator.close();
    transport.close();
  }
}
