package io.craq.check;

import java.util.List;
import java.util.Objects;

/**
 * The store's per-key register: a value (or absent) and a version. The version starts at 0 (never
 * written) and grows by one at every write, delete and applied conditional write, as the head
 * assigns it (CRAQ §2.3). Reads, value compare-and-set and version-conditioned writes are checked
 * against it; reported versions are checked when present. {@link OpKind#APPEND} is not supported.
 */
public final class RegisterModel implements Model<RegisterModel.State> {
  /** One key's state. */
  public record State(String value, long version) {
    @Override
    public String toString() {
      return Input.quote(value) + " @v" + version;
    }
  }

  private static final State INITIAL = new State(null, 0);

  private final boolean trackVersions;

  /** A model that tracks versions. */
  public RegisterModel() {
    this(true);
  }

  private RegisterModel(boolean trackVersions) {
    this.trackVersions = trackVersions;
  }

  /**
   * When no operation of the key conditions on a version or reports one, versions cannot make a
   * step illegal: the returned model leaves them at 0, so states that differ only in how many
   * unknown writes took effect become one cache entry (much faster on histories with many of them).
   */
  @Override
  public Model<State> forKey(List<Operation> operations) {
    for (Operation operation : operations) {
      boolean versioned =
          operation.input().kind() == OpKind.WRITE_IF_VERSION
              || (operation.output() != null
                  && operation.output().version() != Output.UNKNOWN_VERSION);
      if (versioned) {
        return this;
      }
    }
    return new RegisterModel(false);
  }

  @Override
  public State init() {
    return INITIAL;
  }

  @Override
  public State step(State state, Input input, Output output) {
    State next = new State(input.value(), state.version() + (trackVersions ? 1 : 0));
    return switch (input.kind()) {
      case READ -> {
        if (output == null) {
          yield state;
        }
        boolean sameValue = Objects.equals(output.value(), state.value());
        yield sameValue && versionMatches(output, state) ? state : null;
      }
      case WRITE, DELETE -> versionMatches(output, next) ? next : null;
      case CAS -> conditional(Objects.equals(input.expected(), state.value()), state, next, output);
      case WRITE_IF_VERSION ->
          conditional(
              state.version() == input.expectedVersion()
                  || (input.expectedVersion() == 0 && state.value() == null),
              state,
              next,
              output);
      case APPEND, INCREMENT ->
          throw new IllegalArgumentException("the register model has no " + input.kind());
    };
  }

  @Override
  public String describe(State state) {
    return trackVersions ? state.toString() : Input.quote(state.value());
  }

  private static State conditional(boolean holds, State state, State next, Output output) {
    if (output == null) {
      // Unknown outcome: it applied exactly when its condition held at its linearization point.
      return holds ? next : state;
    }
    if (output.applied() != holds) {
      return null;
    }
    if (!holds) {
      return state;
    }
    return versionMatches(output, next) ? next : null;
  }

  private static boolean versionMatches(Output output, State state) {
    return output == null
        || output.version() == Output.UNKNOWN_VERSION
        || output.version() == state.version();
  }
}
