package io.craq.transport;

import io.craq.core.Limits;
import io.craq.transport.security.Security;

/**
 * Immutable transport settings with named defaults; units are in the names. Validated on
 * construction ({@link IllegalArgumentException} says which setting is wrong).
 *
 * @param frameBytesMax largest frame (header + body) sent or accepted; a larger announced length
 *     closes the connection before anything is allocated
 * @param valueBytesMax largest value inside a message (write value, version value)
 * @param readDeadlineMillis once the first byte of a frame has arrived, the whole frame must arrive
 *     within this time, else the connection is closed (slow senders are cut off)
 * @param outboundQueueMessagesMax messages queued per connection for writing (requests, one-way
 *     sends and replies together); a full queue rejects with {@link QueueFullException}
 * @param outboundQueueBytesMax encoded bytes queued per connection for writing
 * @param inFlightRequestsMax requests awaiting a reply per connection
 * @param connectTimeoutMillis how long a connection attempt may take
 * @param writeBatchBytesMax bytes per write call when several frames are queued (the size of each
 *     connection's write buffer, capped at 1 MiB)
 * @param inlineWrites when true (the default), a thread other than the connection's event loop
 *     writes its frame itself (non-blocking, what the kernel takes) instead of waking the loop,
 *     which saves a thread hand-off per message; a burst still goes through the loop. When false,
 *     such calls only queue and wake the loop
 * @param ioThreads event-loop threads of a TCP transport, each serving its share of the connections
 *     (reads, handler calls, writes queued by handlers); {@link #IO_THREADS_AUTO} (the default)
 *     takes half the processors, at least 1 and at most 4
 * @param dialTrafficClass the IP traffic class (TOS/DSCP byte, 0-255) of the connections this
 *     transport dials, or {@link #DIAL_TRAFFIC_CLASS_NONE} to leave the system's default. A node
 *     marks its chain traffic (propagations, commits, version queries) this way so that a priority
 *     queue on a saturated link can send it ahead of read replies
 * @param acceptedConnectionsMax connections a server keeps open at once; one more is closed as soon
 *     as it is accepted (each connection costs a descriptor and buffers)
 * @param security TLS, and how connections authenticate: {@link Security#NONE} (the default) is
 *     plain TCP with no authentication
 */
public record TransportConfig(
    int frameBytesMax,
    int valueBytesMax,
    long readDeadlineMillis,
    int outboundQueueMessagesMax,
    long outboundQueueBytesMax,
    int inFlightRequestsMax,
    long connectTimeoutMillis,
    int writeBatchBytesMax,
    boolean inlineWrites,
    int ioThreads,
    int acceptedConnectionsMax,
    int dialTrafficClass,
    Security security) {

  /** 2 MiB + 64 KiB: a 1 MiB value fits with room for the key and headers. */
  public static final int FRAME_BYTES_MAX_DEFAULT = (2 << 20) + (64 << 10);

  public static final long READ_DEADLINE_MILLIS_DEFAULT = 10_000;
  public static final int OUTBOUND_QUEUE_MESSAGES_MAX_DEFAULT = 4096;
  public static final long OUTBOUND_QUEUE_BYTES_MAX_DEFAULT = 64L << 20;
  public static final int IN_FLIGHT_REQUESTS_MAX_DEFAULT = 16_384;
  public static final long CONNECT_TIMEOUT_MILLIS_DEFAULT = 3_000;
  public static final int WRITE_BATCH_BYTES_MAX_DEFAULT = 64 << 10;
  public static final int ACCEPTED_CONNECTIONS_MAX_DEFAULT = 512;

  /** {@link #ioThreads}: chosen from the processor count, see {@link #effectiveIoThreads()}. */
  public static final int IO_THREADS_AUTO = 0;

  /** No traffic class is set on dialed connections (the default). */
  public static final int DIAL_TRAFFIC_CLASS_NONE = -1;

  /** IPTOS_LOWDELAY: Linux's default priomap puts it in the first band of a prio qdisc. */
  public static final int TRAFFIC_CLASS_LOW_DELAY = 0x10;

  /** The defaults. */
  public static final TransportConfig DEFAULT =
      new TransportConfig(
          FRAME_BYTES_MAX_DEFAULT,
          Limits.VALUE_BYTES_MAX_DEFAULT,
          READ_DEADLINE_MILLIS_DEFAULT,
          OUTBOUND_QUEUE_MESSAGES_MAX_DEFAULT,
          OUTBOUND_QUEUE_BYTES_MAX_DEFAULT,
          IN_FLIGHT_REQUESTS_MAX_DEFAULT,
          CONNECT_TIMEOUT_MILLIS_DEFAULT,
          WRITE_BATCH_BYTES_MAX_DEFAULT,
          true,
          IO_THREADS_AUTO,
          ACCEPTED_CONNECTIONS_MAX_DEFAULT,
          DIAL_TRAFFIC_CLASS_NONE,
          Security.NONE);

  public TransportConfig {
    require(
        frameBytesMax >= Frames.HEADER_BYTES, "frameBytesMax must be >= " + Frames.HEADER_BYTES);
    require(valueBytesMax >= 0, "valueBytesMax must be >= 0");
    require(valueBytesMax <= frameBytesMax, "valueBytesMax must be <= frameBytesMax");
    require(readDeadlineMillis > 0, "readDeadlineMillis must be > 0");
    require(outboundQueueMessagesMax > 0, "outboundQueueMessagesMax must be > 0");
    require(
        outboundQueueBytesMax >= frameBytesMax, "outboundQueueBytesMax must be >= frameBytesMax");
    require(inFlightRequestsMax > 0, "inFlightRequestsMax must be > 0");
    require(connectTimeoutMillis > 0, "connectTimeoutMillis must be > 0");
    require(writeBatchBytesMax > 0, "writeBatchBytesMax must be > 0");
    require(ioThreads >= 0 && ioThreads <= 256, "ioThreads must be 0 (auto) .. 256");
    require(acceptedConnectionsMax > 0, "acceptedConnectionsMax must be > 0");
    require(
        dialTrafficClass >= -1 && dialTrafficClass <= 255,
        "dialTrafficClass must be -1 (none) or 0..255");
    require(security != null, "security must not be null (Security.NONE for none)");
  }

  private static void require(boolean condition, String message) {
    if (!condition) {
      throw new IllegalArgumentException("transport config: " + message);
    }
  }

  /** The event-loop threads a TCP transport starts: {@link #ioThreads}, or the automatic choice. */
  public int effectiveIoThreads() {
    if (ioThreads != IO_THREADS_AUTO) {
      return ioThreads;
    }
    return Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors() / 2));
  }

  public TransportConfig withFrameBytesMax(int value) {
    return new TransportConfig(
        value,
        Math.min(valueBytesMax, value),
        readDeadlineMillis,
        outboundQueueMessagesMax,
        Math.max(outboundQueueBytesMax, value),
        inFlightRequestsMax,
        connectTimeoutMillis,
        writeBatchBytesMax,
        inlineWrites,
        ioThreads,
        acceptedConnectionsMax,
        dialTrafficClass,
        security);
  }

  public TransportConfig withValueBytesMax(int value) {
    return new TransportConfig(
        frameBytesMax,
        value,
        readDeadlineMillis,
        outboundQueueMessagesMax,
        outboundQueueBytesMax,
        inFlightRequestsMax,
        connectTimeoutMillis,
        writeBatchBytesMax,
        inlineWrites,
        ioThreads,
        acceptedConnectionsMax,
        dialTrafficClass,
        security);
  }

  public TransportConfig withReadDeadlineMillis(long value) {
    return new TransportConfig(
        frameBytesMax,
        valueBytesMax,
        value,
        outboundQueueMessagesMax,
        outboundQueueBytesMax,
        inFlightRequestsMax,
        connectTimeoutMillis,
        writeBatchBytesMax,
        inlineWrites,
        ioThreads,
        acceptedConnectionsMax,
        dialTrafficClass,
        security);
  }

  public TransportConfig withOutboundQueueMessagesMax(int value) {
    return new TransportConfig(
        frameBytesMax,
        valueBytesMax,
        readDeadlineMillis,
        value,
        outboundQueueBytesMax,
        inFlightRequestsMax,
        connectTimeoutMillis,
        writeBatchBytesMax,
        inlineWrites,
        ioThreads,
        acceptedConnectionsMax,
        dialTrafficClass,
        security);
  }

  public TransportConfig withOutboundQueueBytesMax(long value) {
    return new TransportConfig(
        frameBytesMax,
        valueBytesMax,
        readDeadlineMillis,
        outboundQueueMessagesMax,
        value,
        inFlightRequestsMax,
        connectTimeoutMillis,
        writeBatchBytesMax,
        inlineWrites,
        ioThreads,
        acceptedConnectionsMax,
        dialTrafficClass,
        security);
  }

  public TransportConfig withInFlightRequestsMax(int value) {
    return new TransportConfig(
        frameBytesMax,
        valueBytesMax,
        readDeadlineMillis,
        outboundQueueMessagesMax,
        outboundQueueBytesMax,
        value,
        connectTimeoutMillis,
        writeBatchBytesMax,
        inlineWrites,
        ioThreads,
        acceptedConnectionsMax,
        dialTrafficClass,
        security);
  }

  public TransportConfig withConnectTimeoutMillis(long value) {
    return new TransportConfig(
        frameBytesMax,
        valueBytesMax,
        readDeadlineMillis,
        outboundQueueMessagesMax,
        outboundQueueBytesMax,
        inFlightRequestsMax,
        value,
        writeBatchBytesMax,
        inlineWrites,
        ioThreads,
        acceptedConnectionsMax,
        dialTrafficClass,
        security);
  }

  public TransportConfig withWriteBatchBytesMax(int value) {
    return new TransportConfig(
        frameBytesMax,
        valueBytesMax,
        readDeadlineMillis,
        outboundQueueMessagesMax,
        outboundQueueBytesMax,
        inFlightRequestsMax,
        connectTimeoutMillis,
        value,
        inlineWrites,
        ioThreads,
        acceptedConnectionsMax,
        dialTrafficClass,
        security);
  }

  public TransportConfig withInlineWrites(boolean value) {
    return new TransportConfig(
        frameBytesMax,
        valueBytesMax,
        readDeadlineMillis,
        outboundQueueMessagesMax,
        outboundQueueBytesMax,
        inFlightRequestsMax,
        connectTimeoutMillis,
        writeBatchBytesMax,
        value,
        ioThreads,
        acceptedConnectionsMax,
        dialTrafficClass,
        security);
  }

  public TransportConfig withIoThreads(int value) {
    return new TransportConfig(
        frameBytesMax,
        valueBytesMax,
        readDeadlineMillis,
        outboundQueueMessagesMax,
        outboundQueueBytesMax,
        inFlightRequestsMax,
        connectTimeoutMillis,
        writeBatchBytesMax,
        inlineWrites,
        value,
        acceptedConnectionsMax,
        dialTrafficClass,
        security);
  }

  public TransportConfig withAcceptedConnectionsMax(int value) {
    return new TransportConfig(
        frameBytesMax,
        valueBytesMax,
        readDeadlineMillis,
        outboundQueueMessagesMax,
        outboundQueueBytesMax,
        inFlightRequestsMax,
        connectTimeoutMillis,
        writeBatchBytesMax,
        inlineWrites,
        ioThreads,
        value,
        dialTrafficClass,
        security);
  }

  public TransportConfig withDialTrafficClass(int value) {
    return new TransportConfig(
        frameBytesMax,
        valueBytesMax,
        readDeadlineMillis,
        outboundQueueMessagesMax,
        outboundQueueBytesMax,
        inFlightRequestsMax,
        connectTimeoutMillis,
        writeBatchBytesMax,
        inlineWrites,
        ioThreads,
        acceptedConnectionsMax,
        value,
        security);
  }

  public TransportConfig withSecurity(Security value) {
    return new TransportConfig(
        frameBytesMax,
        valueBytesMax,
        readDeadlineMillis,
        outboundQueueMessagesMax,
        outboundQueueBytesMax,
        inFlightRequestsMax,
        connectTimeoutMillis,
        writeBatchBytesMax,
        inlineWrites,
        ioThreads,
        acceptedConnectionsMax,
        dialTrafficClass,
        value);
  }
}
