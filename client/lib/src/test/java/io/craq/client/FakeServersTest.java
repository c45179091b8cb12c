package io.craq.client;

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

  @AfterEach
  public void stopFakeServers() {
    nodes.forEach(FakeEndpoint::close);
    coordinator.close();
    transport.close();
  }
}
