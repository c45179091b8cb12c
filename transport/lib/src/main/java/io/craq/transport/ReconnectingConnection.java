package io.craq.transport;

import io.craq.core.message.Message;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link Connection} that opens its link lazily and opens a new one when the current one was
 * lost. Subclasses say how to open a link. Thread-safe.
 */
abstract class ReconnectingConnection implements Connection {
  private static final Logger log = LoggerFactory.getLogger(ReconnectingConnection.class);
  private final String address;
  private final MessageCodec codec;
  private final Runnable onClose;
  private volatile Endpoint current;
  private volatile boolean closed;

  ReconnectingConnection(String address, MessageCodec codec, Runnable onClose) {
    this.address = address;
    this.codec = codec;
    this.onClose = onClose;
  }

  /** Starts opening a new link; never blocks on the network. */
  abstract Endpoint open();

  private Endpoint endpoint() {
    Endpoint endpoint = current;
    if (endpoint != null && !endpoint.isClosed() && !closed) {
      return endpoint;
    }
    synchronized (this) {
      if (closed) {
        throw new ConnectionClosedException("connection to " + address + " was closed");
      }
      if (current == null || current.isClosed()) {
        current = open();
      }
      return current;
    }
  }

  @Override
  public CompletableFuture<Message> request(Message request, Duration timeout) {
    Objects.requireNonNull(request, "request");
    Objects.requireNonNull(timeout, "timeout");
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("timeout must be positive: " + timeout);
    }
    try {
      byte[] frame = codec.encodeFrame(Frames.KIND_REQUEST, 0, request);
      return endpoint().request(frame, timeout.toNanos());
    } catch (TransportException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  @Override
  public void send(Message message) {
    Objects.requireNonNull(message, "message");
    byte[] frame = codec.encodeFrame(Frames.KIND_ONE_WAY, 0, message);
    Endpoint endpoint = endpoint();
    try {
      endpoint.send(frame);
    } catch (ConnectFailedException | ConnectionClosedException e) {
      if (closed) {
        throw new ConnectionClosedException("connection to " + address + " was closed");
      }
      // The link was lost or could not be opened: a one-way message is lost with it.
      log.debug("one-way {} to {} lost: {}", message, address, e.getMessage());
    }
  }

  @Override
  public String address() {
    return address;
  }

  @Override
  public void close() {
    Endpoint endpoint;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      endpoint = current;
    }
    if (endpoint != null) {
      endpoint.close(new ConnectionClosedException("closed locally"));
    }
    onClose.run();
  }
}
