package io.craq.coordinator;

import io.craq.core.Effects.ClientRef;
import io.craq.transport.Responder;
import java.util.Objects;

/** A client request's way back, handed to the state machine as its opaque {@link ClientRef}. */
record ResponderRef(Responder responder) implements ClientRef {
  ResponderRef {
    Objects.requireNonNull(responder, "responder");
  }
}
