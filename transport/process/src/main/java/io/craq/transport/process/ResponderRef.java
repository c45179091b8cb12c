package io.craq.transport.process;

import io.craq.core.Effects.ClientRef;
import io.craq.transport.Responder;
import java.util.Objects;

/** A client request's way back, handed to the state machine as its opaque {@link ClientRef}. */
public record ResponderRef(Responder responder) implements ClientRef {
  public ResponderRef {
    Objects.requireNonNull(responder, "responder");
  }
}
