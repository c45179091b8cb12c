package io.craq.core.message;

import java.util.List;
import java.util.Objects;

/**
 * A chain configuration: the members head first, numbered by an epoch that grows with every change
 * (CRAQ §2.5). Immutable.
 */
public record ChainConfig(long epoch, List<Member> members) {
  /** Epoch 0 with no members: what a process knows before it has heard of any chain. */
  public static final ChainConfig EMPTY = new ChainConfig(0, List.of());

  public ChainConfig {
    Objects.requireNonNull(members, "members");
    members = List.copyOf(members);
    if (epoch < 0) {
      throw new IllegalArgumentException("epoch must be >= 0: " + epoch);
    }
  }

  /** Position of {@code nodeId} (0 = head), or -1 if it is not a member. */
  public int indexOf(String nodeId) {
    for (int i = 0; i < members.size(); i++) {
      if (members.get(i).id().equals(nodeId)) {
        return i;
      }
    }
    return -1;
  }

  public boolean contains(String nodeId) {
    return indexOf(nodeId) >= 0;
  }

  public Member head() {
    return members.isEmpty() ? null : members.get(0);
  }

  public Member tail() {
    return members.isEmpty() ? null : members.get(members.size() - 1);
  }

  /** The member after {@code nodeId}, or null if it is the tail or not a member. */
  public Member successorOf(String nodeId) {
    int i = indexOf(nodeId);
    return i < 0 || i + 1 >= members.size() ? null : members.get(i + 1);
  }

  /** The member before {@code nodeId}, or null if it is the head or not a member. */
  public Member predecessorOf(String nodeId) {
    int i = indexOf(nodeId);
    return i <= 0 ? null : members.get(i - 1);
  }

  public Member member(String nodeId) {
    int i = indexOf(nodeId);
    return i < 0 ? null : members.get(i);
  }

  public int size() {
    return members.size();
  }
}
