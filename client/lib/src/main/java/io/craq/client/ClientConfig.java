package io.craq.client;

import io.craq.core.Limits;
import io.craq.transport.Addresses;
import io.craq.transport.security.Security;
import java.util.List;

/**
 * Immutable client settings with named defaults; units are in the names. Validated on construction
 * ({@link IllegalArgumentException} says which setting is wrong).
 *
 * @param coordinatorAddresses the coordinators, each {@code host:port} ({@code :port} dials
 *     loopback), at least one and none twice; with several, requests meant for the coordinator go
 *     to the one that leads (see {@link CraqClient})
 * @param callTimeoutMillis total time one call may take, retries included; a write still waiting
 *     for its reply when it runs out is ambiguous
 * @param readAttemptTimeoutMillis longest wait for one read attempt (the last attempt gets what is
 *     left of the call), so one stuck node does not use up the whole call
 * @param readAttemptsMax attempts per read (and per page of a scan), each possibly at another node
 * @param writeAttemptsMax attempts per write; only attempts refused with a definite error (or never
 *     sent) are repeated
 * @param retryBackoffMillis pause before the second attempt; doubles per attempt up to {@code
 *     retryBackoffMillisMax}
 * @param retryBackoffMillisMax longest pause between attempts
 * @param writeViaCoordinator send writes to the coordinator, which forwards them to the head (as
 *     go-craq's client does), instead of straight to the head
 * @param valueBytesMax largest value the client sends (checked before sending)
 * @param readAllPageKeys keys asked for per page by {@link CraqClient#readAll}
 * @param security TLS and the credentials presented on every connection ({@link Security#NONE} by
 *     default: plain TCP, none); never printed
 */
public record ClientConfig(
    List<String> coordinatorAddresses,
    long callTimeoutMillis,
    long readAttemptTimeoutMillis,
    int readAttemptsMax,
    int writeAttemptsMax,
    long retryBackoffMillis,
    long retryBackoffMillisMax,
    boolean writeViaCoordinator,
    int valueBytesMax,
    int readAllPageKeys,
    Security security) {

  public static final String COORDINATOR_ADDRESS_DEFAULT = ":1234";
  public static final long CALL_TIMEOUT_MILLIS_DEFAULT = 5_000;
  public static final long READ_ATTEMPT_TIMEOUT_MILLIS_DEFAULT = 2_000;
  public static final int READ_ATTEMPTS_MAX_DEFAULT = 5;
  public static final int WRITE_ATTEMPTS_MAX_DEFAULT = 5;
  public static final long RETRY_BACKOFF_MILLIS_DEFAULT = 20;
  public static final long RETRY_BACKOFF_MILLIS_MAX_DEFAULT = 500;
  public static final int READ_ALL_PAGE_KEYS_DEFAULT = 256;

  public ClientConfig {
    coordinatorAddresses = Addresses.checkList(coordinatorAddresses, "coordinator");
    require(callTimeoutMillis > 0, "callTimeoutMillis must be > 0");
    require(readAttemptTimeoutMillis > 0, "readAttemptTimeoutMillis must be > 0");
    require(readAttemptsMax > 0, "readAttemptsMax must be > 0");
    require(writeAttemptsMax > 0, "writeAttemptsMax must be > 0");
    require(retryBackoffMillis >= 0, "retryBackoffMillis must be >= 0");
    require(
        retryBackoffMillisMax >= retryBackoffMillis,
        "retryBackoffMillisMax must be >= retryBackoffMillis");
    require(valueBytesMax >= 0, "valueBytesMax must be >= 0");
    require(readAllPageKeys > 0, "readAllPageKeys must be > 0");
    require(security != null, "security must not be null (Security.NONE for none)");
  }

  /**
   * The defaults, with the coordinator at {@code coordinatorAddresses}: one address, or several
   * separated by commas.
   *
   * @throws IllegalArgumentException naming the first malformed address
   */
  public static ClientConfig defaults(String coordinatorAddresses) {
    return defaults(parseCoordinatorAddresses(coordinatorAddresses));
  }

  /** The defaults, with the coordinators at {@code coordinatorAddresses}. */
  public static ClientConfig defaults(List<String> coordinatorAddresses) {
    return new ClientConfig(
        coordinatorAddresses,
        CALL_TIMEOUT_MILLIS_DEFAULT,
        READ_ATTEMPT_TIMEOUT_MILLIS_DEFAULT,
        READ_ATTEMPTS_MAX_DEFAULT,
        WRITE_ATTEMPTS_MAX_DEFAULT,
        RETRY_BACKOFF_MILLIS_DEFAULT,
        RETRY_BACKOFF_MILLIS_MAX_DEFAULT,
        false,
        Limits.VALUE_BYTES_MAX_DEFAULT,
        READ_ALL_PAGE_KEYS_DEFAULT,
        Security.NONE);
  }

  /** The coordinators as one comma-separated string, as {@code -c} takes them. */
  public String coordinatorAddress() {
    return String.join(",", coordinatorAddresses);
  }

  /**
   * Splits {@code A[,B...]} into addresses and checks each one; blanks around the commas are
   * ignored.
   *
   * @throws IllegalArgumentException saying which entry is wrong (malformed, empty, repeated)
   */
  public static List<String> parseCoordinatorAddresses(String list) {
    return Addresses.parseList(list, "coordinator");
  }

  private static void require(boolean condition, String message) {
    if (!condition) {
      throw new IllegalArgumentException("client config: " + message);
    }
  }

  public ClientConfig withCoordinatorAddresses(List<String> value) {
    return new ClientConfig(
        value,
        callTimeoutMillis,
        readAttemptTimeoutMillis,
        readAttemptsMax,
        writeAttemptsMax,
        retryBackoffMillis,
        retryBackoffMillisMax,
        writeViaCoordinator,
        valueBytesMax,
        readAllPageKeys,
        security);
  }

  public ClientConfig withCallTimeoutMillis(long value) {
    return new ClientConfig(
        coordinatorAddresses,
        value,
        readAttemptTimeoutMillis,
        readAttemptsMax,
        writeAttemptsMax,
        retryBackoffMillis,
        retryBackoffMillisMax,
        writeViaCoordinator,
        valueBytesMax,
        readAllPageKeys,
        security);
  }

  public ClientConfig withReadAttemptTimeoutMillis(long value) {
    return new ClientConfig(
        coordinatorAddresses,
        callTimeoutMillis,
        value,
        readAttemptsMax,
        writeAttemptsMax,
        retryBackoffMillis,
        retryBackoffMillisMax,
        writeViaCoordinator,
        valueBytesMax,
        readAllPageKeys,
        security);
  }

  public ClientConfig withReadAttemptsMax(int value) {
    return new ClientConfig(
        coordinatorAddresses,
        callTimeoutMillis,
        readAttemptTimeoutMillis,
        value,
        writeAttemptsMax,
        retryBackoffMillis,
        retryBackoffMillisMax,
        writeViaCoordinator,
        valueBytesMax,
        readAllPageKeys,
        security);
  }

  public ClientConfig withWriteAttemptsMax(int value) {
    return new ClientConfig(
        coordinatorAddresses,
        callTimeoutMillis,
        readAttemptTimeoutMillis,
        readAttemptsMax,
        value,
        retryBackoffMillis,
        retryBackoffMillisMax,
        writeViaCoordinator,
        valueBytesMax,
        readAllPageKeys,
        security);
  }

  public ClientConfig withRetryBackoffMillis(long value, long valueMax) {
    return new ClientConfig(
        coordinatorAddresses,
        callTimeoutMillis,
        readAttemptTimeoutMillis,
        readAttemptsMax,
        writeAttemptsMax,
        value,
        valueMax,
        writeViaCoordinator,
        valueBytesMax,
        readAllPageKeys,
        security);
  }

  public ClientConfig withWriteViaCoordinator(boolean value) {
    return new ClientConfig(
        coordinatorAddresses,
        callTimeoutMillis,
        readAttemptTimeoutMillis,
        readAttemptsMax,
        writeAttemptsMax,
        retryBackoffMillis,
        retryBackoffMillisMax,
        value,
        valueBytesMax,
        readAllPageKeys,
        security);
  }

  public ClientConfig withValueBytesMax(int value) {
    return new ClientConfig(
        coordinatorAddresses,
        callTimeoutMillis,
        readAttemptTimeoutMillis,
        readAttemptsMax,
        writeAttemptsMax,
        retryBackoffMillis,
        retryBackoffMillisMax,
        writeViaCoordinator,
        value,
        readAllPageKeys,
        security);
  }

  /**
   * TLS and the credentials the client presents on every connection ({@link Security#NONE}: plain
   * TCP, no credentials). Its authenticator is not used: a client listens nowhere.
   */
  public ClientConfig withSecurity(Security value) {
    return new ClientConfig(
        coordinatorAddresses,
        callTimeoutMillis,
        readAttemptTimeoutMillis,
        readAttemptsMax,
        writeAttemptsMax,
        retryBackoffMillis,
        retryBackoffMillisMax,
        writeViaCoordinator,
        valueBytesMax,
        readAllPageKeys,
        value);
  }

  public ClientConfig withReadAllPageKeys(int value) {
    return new ClientConfig(
        coordinatorAddresses,
        callTimeoutMillis,
        readAttemptTimeoutMillis,
        readAttemptsMax,
        writeAttemptsMax,
        retryBackoffMillis,
        retryBackoffMillisMax,
        writeViaCoordinator,
        valueBytesMax,
        value,
        security);
  }
}
