package io.craq.core.message;

import java.util.Objects;

/** One node of a chain: a stable id and the address others dial ({@code host:port}). */
public record Member(String id, String address) {
  public Member {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(address, "address");
  }
}
