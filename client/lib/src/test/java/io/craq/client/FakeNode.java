package io.craq.client;

import io.craq.core.message.ChainConfig;
import io.craq.core.message.ErrorCode;
import io.craq.core.message.KeyVersion;
import io.craq.core.message.Message;
import io.craq.core.message.Message.ChainReply;
import io.craq.core.message.Message.ChainRequest;
import io.craq.core.message.Message.ErrorReply;
import io.craq.core.message.Message.MapReply;
import io.craq.core.message.Message.MapRequest;
import io.craq.core.message.Message.MultiWriteReply;
import io.craq.core.message.Message.MultiWriteRequest;
import io.craq.core.message.Message.ReadAllReply;
import io.craq.core.message.Message.ReadAllRequest;
import io.craq.core.message.Message.ReadReply;
import io.craq.core.message.Message.ReadRequest;
import io.craq.core.message.Message.WriteReply;
import io.craq.core.message.Message.WriteRequest;
import io.craq.core.message.VersionRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * A one-node "chain" with a map for storage: enough of a node to drive the client end to end
 * (versions per key, deletes as tombstones, conditional and multi-key writes, increments and
 * appends, paged scans). Not CRAQ: there is no replication, every version is committed at once.
 */
public final class FakeNode implements Function<Message, Message> {
  private final TreeMap<String, VersionRecord> data = new TreeMap<>();
  private final Supplier<ChainConfig> chain;

  public FakeNode(Supplier<ChainConfig> chain) {
    this.chain = chain;
  }

  @Override
  public synchronized Message apply(Message message) {
    return switch (message) {
      case ChainRequest ignored -> new ChainReply(chain.get());
      case MapRequest ignored -> new MapReply(FakeEndpoint.singleChainMap(chain.get()));
      case WriteRequest write -> write(write);
      case MultiWriteRequest multi -> multiWrite(multi);
      case Message.IncrementRequest increment -> increment(increment);
      case Message.AppendRequest append -> append(append);
      case ReadRequest read -> {
        VersionRecord record = data.get(read.key());
        if (record == null || record.tombstone()) {
          yield new ReadReply(
              read.key(), false, record == null ? 0 : record.version(), new byte[0], false);
        }
        yield new ReadReply(read.key(), true, record.version(), record.value(), false);
      }
      case ReadAllRequest scan -> scan(scan, key -> true);
      default -> new ErrorReply(ErrorCode.UNSUPPORTED, "fake node: " + message, "");
    };
  }

  /** A page of the keys {@code keys} accepts, after {@code scan.afterKey()}. */
  public synchronized ReadAllReply scan(ReadAllRequest scan, Predicate<String> keys) {
    List<VersionRecord> page = new ArrayList<>();
    boolean more = false;
    for (Map.Entry<String, VersionRecord> e : data.tailMap(scan.afterKey(), false).entrySet()) {
      if (e.getValue().tombstone() || !keys.test(e.getKey())) {
        continue;
      }
      if (page.size() == scan.limit()) {
        more = true;
        break;
      }
      page.add(e.getValue());
    }
    return new ReadAllReply(page, more);
  }

  private Message write(WriteRequest write) {
    ErrorReply refused = refusal(write);
    return refused != null ? refused : new WriteReply(write.key(), apply(write));
  }

  /**
   * All or nothing, as a head applies a multi-key write: every condition is checked first, and the
   * refusal names the key as a node's does ("key K is at version V"). Distinct keys are the
   * client's to ensure; a repeated key is refused as a node refuses it.
   */
  private Message multiWrite(MultiWriteRequest multi) {
    if (multi.writes().stream().map(WriteRequest::key).distinct().count()
        != multi.writes().size()) {
      return new ErrorReply(ErrorCode.INVALID_REQUEST, "a key is repeated", "");
    }
    for (WriteRequest write : multi.writes()) {
      ErrorReply refused = refusal(write);
      if (refused != null) {
        return refused;
      }
    }
    return new MultiWriteReply(
        multi.writes().stream().map(w -> new KeyVersion(w.key(), apply(w))).toList());
  }

  /** The refusal of a conditional write whose condition fails, else null. */
  private ErrorReply refusal(WriteRequest write) {
    long committed = committedVersion(write.key());
    if (write.expectedVersion() != Message.ANY_VERSION && write.expectedVersion() != committed) {
      return new ErrorReply(
          ErrorCode.VERSION_MISMATCH,
          "key " + write.key() + " is at version " + committed,
          Long.toString(committed));
    }
    return null;
  }

  /** The key's committed version, 0 if absent or deleted. */
  public synchronized long committedVersion(String key) {
    VersionRecord old = data.get(key);
    return old == null || old.tombstone() ? 0 : old.version();
  }

  private long apply(WriteRequest write) {
    VersionRecord old = data.get(write.key());
    long version = (old == null ? 0 : old.version()) + 1;
    data.put(
        write.key(),
        new VersionRecord(
            write.key(), version, write.delete(), write.delete() ? new byte[0] : write.value()));
    return version;
  }

  /** As a head increments: absent or deleted counts as 0; Redis's integers and errors. */
  private Message increment(Message.IncrementRequest increment) {
    VersionRecord old = data.get(increment.key());
    long sum;
    try {
      long current = old == null || old.tombstone() ? 0 : io.craq.core.Int64Text.parse(old.value());
      sum = Math.addExact(current, increment.delta());
    } catch (NumberFormatException e) {
      return new ErrorReply(ErrorCode.NOT_AN_INTEGER, io.craq.core.Int64Text.NOT_AN_INTEGER, "");
    } catch (ArithmeticException e) {
      return new ErrorReply(ErrorCode.NOT_AN_INTEGER, io.craq.core.Int64Text.OVERFLOW, "");
    }
    long version =
        apply(
            new WriteRequest(
                increment.key(), io.craq.core.Int64Text.format(sum), false, Message.ANY_VERSION));
    return new Message.UpdateReply(increment.key(), version, sum);
  }

  /** As a head appends: absent or deleted counts as empty. */
  private Message append(Message.AppendRequest append) {
    VersionRecord old = data.get(append.key());
    byte[] current = old == null || old.tombstone() ? new byte[0] : old.value();
    byte[] value = java.util.Arrays.copyOf(current, current.length + append.suffix().length);
    System.arraycopy(append.suffix(), 0, value, current.length, append.suffix().length);
    long version = apply(new WriteRequest(append.key(), value, false, Message.ANY_VERSION));
    return new Message.UpdateReply(append.key(), version, value.length);
  }
}
